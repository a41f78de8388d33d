"""The sandbox's own certificate authority and its loopback server certificate.

Clients trust ``ca.pem`` explicitly (httpx: ``verify=ssl_context_from(ca_path)``, MSAL:
``verify=str(ca_path)``), so TLS verification stays on everywhere: the code paths the product
runs against the sandbox are the ones it runs against Microsoft.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gigbridge.locks import locked

from .paths import write_private

CA_DAYS = 3650
SERVER_DAYS = 365
RENEW_BEFORE = dt.timedelta(days=30)
# Graph is served as 127.0.0.1 and SharePoint's side of files (upload and download URLs) as
# localhost (settings.SANDBOX_FILES_URL): the certificate must name both.
SERVER_NAMES = ["localhost"]
SERVER_IPS = [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]


@dataclass(frozen=True)
class Paths:
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path

    @classmethod
    def in_dir(cls, folder: Path) -> Paths:
        return cls(
            folder / "ca.pem", folder / "ca.key", folder / "server.pem", folder / "server.key"
        )


def ssl_context_from(ca_path: Path | str) -> ssl.SSLContext:
    """A client context that trusts exactly the sandbox CA (hostname checks stay on)."""
    return ssl.create_default_context(cafile=str(ca_path))


def ensure(folder: Path, now: dt.datetime | None = None) -> Paths:
    """Create the CA and server certificate once; renew what is missing, expiring or stale.

    ``now`` is for tests that need to see a renewal without waiting a year.
    """
    now = now or dt.datetime.now(dt.UTC)
    paths = Paths.in_dir(folder)
    # Two processes (``run`` and ``info``) may start together: only one may mint a CA.
    with locked(folder / ".ca.lock"):
        ca_cert, ca_key = _load(paths.ca_cert, paths.ca_key)
        if ca_cert is None or _expiring(ca_cert, now):
            ca_cert, ca_key = _make_ca(now)
            _save(paths.ca_cert, paths.ca_key, ca_cert, ca_key)
        server_cert, _ = _load(paths.server_cert, paths.server_key)
        if (
            server_cert is None
            or _expiring(server_cert, now)
            or not _signed_by(server_cert, ca_cert)
            or not _names_all(server_cert)
        ):
            server_cert, server_key = _make_server(ca_cert, ca_key, now)
            _save(paths.server_cert, paths.server_key, server_cert, server_key)
    return paths


def _load(cert_path: Path, key_path: Path):
    if not (cert_path.exists() and key_path.exists()):
        return None, None
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    return cert, key


def _save(cert_path: Path, key_path: Path, cert: x509.Certificate, key) -> None:
    # Key first: a crash in between leaves a cert without its key, which _load treats as
    # missing, never a cert paired with the wrong key.
    write_private(
        key_path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _expiring(cert: x509.Certificate, now: dt.datetime) -> bool:
    return cert.not_valid_after_utc - now < RENEW_BEFORE


def _signed_by(cert: x509.Certificate, ca_cert: x509.Certificate) -> bool:
    if cert.issuer != ca_cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _names_all(cert: x509.Certificate) -> bool:
    """Whether ``cert`` covers every name and address the server answers on (a certificate
    made before a name was added is replaced)."""
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return set(SERVER_NAMES) <= set(names.get_values_for_type(x509.DNSName)) and set(
        SERVER_IPS
    ) <= set(names.get_values_for_type(x509.IPAddress))


def _make_ca(now: dt.datetime):
    key = ec.generate_private_key(ec.SECP256R1())
    # A random suffix keeps two installations' CAs apart in a trust store they share.
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Gigbridge sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Gigbridge sandbox CA {secrets.token_hex(4)}"),
        ]
    )
    cert = (
        _builder(name, name, key.public_key(), now, CA_DAYS)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _make_server(ca_cert: x509.Certificate, ca_key, now: dt.datetime):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    names = [x509.DNSName(n) for n in SERVER_NAMES] + [x509.IPAddress(ip) for ip in SERVER_IPS]
    cert = (
        _builder(subject, ca_cert.subject, key.public_key(), now, SERVER_DAYS)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def _builder(subject, issuer, public_key, now: dt.datetime, days: int) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        # Backdated a little so a client whose clock lags slightly still accepts it.
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _key_usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )
