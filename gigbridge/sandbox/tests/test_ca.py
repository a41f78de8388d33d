"""The sandbox CA and server certificate, made in a temporary folder (no server needed)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import stat

from cryptography import x509

from gigbridge.config import read_or_create
from gigbridge.sandbox import ca


def _cert(path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_creates_ca_and_server_certificate_once(tmp_path):
    paths = ca.ensure(tmp_path)
    first = {p: p.read_bytes() for p in (paths.ca_cert, paths.ca_key, paths.server_cert)}

    assert ca.ensure(tmp_path) == paths
    assert {p: p.read_bytes() for p in first} == first
    for key in (paths.ca_key, paths.server_key):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_server_certificate_names_loopback_and_is_signed_by_the_ca(tmp_path):
    paths = ca.ensure(tmp_path)
    authority, server = _cert(paths.ca_cert), _cert(paths.server_cert)

    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    server.verify_directly_issued_by(authority)
    assert authority.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert not server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_server_certificate_is_renewed_within_30_days_of_expiry(tmp_path):
    paths = ca.ensure(tmp_path)
    ca_before, server_before = paths.ca_cert.read_bytes(), _cert(paths.server_cert)
    expiry = server_before.not_valid_after_utc

    ca.ensure(tmp_path, now=expiry - dt.timedelta(days=31))
    assert _cert(paths.server_cert).serial_number == server_before.serial_number

    ca.ensure(tmp_path, now=expiry - dt.timedelta(days=29))
    renewed = _cert(paths.server_cert)
    assert renewed.serial_number != server_before.serial_number
    assert renewed.not_valid_after_utc > expiry
    assert paths.ca_cert.read_bytes() == ca_before  # clients keep trusting the same CA


def test_a_server_certificate_missing_a_name_is_replaced(tmp_path, monkeypatch):
    paths = ca.ensure(tmp_path)
    monkeypatch.setattr(ca, "SERVER_NAMES", [])  # as made before "localhost" was needed
    paths.server_cert.unlink()
    ca.ensure(tmp_path)
    old = _cert(paths.server_cert)
    monkeypatch.undo()

    ca.ensure(tmp_path)

    renewed = _cert(paths.server_cert)
    assert renewed.serial_number != old.serial_number
    names = renewed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    ca.ensure(tmp_path)
    assert _cert(paths.server_cert).serial_number == renewed.serial_number  # once


def test_a_new_ca_gets_a_new_server_certificate(tmp_path):
    paths = ca.ensure(tmp_path)
    paths.ca_cert.unlink()

    ca.ensure(tmp_path)

    _cert(paths.server_cert).verify_directly_issued_by(_cert(paths.ca_cert))


def test_generated_secrets_are_private_and_stable(tmp_path):
    target = tmp_path / "value.secret"

    assert read_or_create(target, lambda: "first") == "first"
    assert read_or_create(target, lambda: "second") == "first"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["value.secret"]  # no temporary files left
