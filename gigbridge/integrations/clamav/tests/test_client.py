"""The clamd client against a real clamd (the session's, and one with tiny limits), and against
fake servers for the answers a healthy clamd never gives."""

from __future__ import annotations

import datetime as dt
import pickle
import socket
import threading

import pytest

from gigbridge.integrations.clamav import daemon
from gigbridge.integrations.clamav.client import (
    Clamd,
    ScanResult,
    from_settings,
    parse_address,
    parse_reply,
    parse_version,
)
from gigbridge.integrations.clamav.errors import ClamdError, ClamdUnavailable
from gigbridge.jobs.errors import PermanentError, RetryableError

EICAR_SIGNATURE = f"{daemon.SIGNATURE_NAME}.UNOFFICIAL"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def small_clamd(tmp_path_factory):
    """A clamd refusing streams over 2 MiB and alerting on files over 512 KiB: the two ways a
    file is too large."""
    running = daemon.start(
        tmp_path_factory.mktemp("small-clamd"),
        daemon.Limits(stream_max_length="2M", max_file_size="512K", max_scan_size="512K"),
    )
    yield Clamd(running.address, timeout=30)
    running.stop()


@pytest.fixture
def scanner(clamd_address):
    return Clamd(clamd_address, timeout=30)


def test_ping_and_version_of_a_real_clamd(scanner):
    assert scanner.ping() is True
    version = scanner.version()
    assert version.engine.startswith("ClamAV 1.")
    # The embedded test signatures are not a versioned (freshclam) database.
    assert version.database is None and version.database_date is None
    assert version.text == version.engine


def test_clean_bytes_are_clean(scanner):
    assert scanner.scan_stream([b"hello ", b"world"]) == ScanResult("clean")
    assert scanner.scan_stream([]) == ScanResult("clean")  # an empty file


def test_eicar_is_infected_even_split_across_chunks(scanner):
    sample = daemon.eicar()
    result = scanner.scan_stream([sample[:10], sample[10:30], sample[30:]])
    assert result == ScanResult("infected", EICAR_SIGNATURE)
    assert not result.clean


def test_a_session_fed_chunk_by_chunk(scanner):
    with scanner.session() as scan:
        for _ in range(3):
            scan.feed(b"\0" * MIB)
        assert not scan.done
        assert scan.finish() == ScanResult("clean")
    assert scan.sent == 3 * MIB


def test_a_stream_over_the_stream_limit_is_too_large_never_clean(small_clamd):
    with small_clamd.session() as scan:
        for _ in range(6):  # 6 MiB against a 2 MiB limit: clamd answers and closes early
            scan.feed(b"a" * MIB)
        assert scan.done  # later chunks were not sent, and feeding on is harmless
        scan.feed(b"more")
        result = scan.finish()
    assert result == ScanResult("too_large", "INSTREAM size limit exceeded")
    assert scan.sent < 6 * MIB
    assert small_clamd.scan_stream(b"b" * MIB for _ in range(5)).status == "too_large"


def test_a_file_over_max_file_size_alerts_and_is_too_large(small_clamd):
    # Under the stream limit but over MaxFileSize: AlertExceedsMax makes clamd say so.
    result = small_clamd.scan_stream([b"c" * MIB])
    assert result.status == "too_large"
    assert result.signature.startswith("Heuristics.Limits.Exceeded")


def test_a_missing_socket_is_unavailable(tmp_path):
    scanner = Clamd(f"unix://{tmp_path}/none.sock", timeout=5)
    assert scanner.ping() is False
    with pytest.raises(ClamdUnavailable) as caught:
        scanner.scan_stream([b"x"])
    assert str(caught.value).startswith(f"clamd unix://{tmp_path}/none.sock INSTREAM: ")
    assert isinstance(caught.value, RetryableError)


def test_a_refused_tcp_port_is_unavailable():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]  # bound, never listening: connections are refused
        with pytest.raises(ClamdUnavailable, match="refused"):
            Clamd(f"tcp://127.0.0.1:{port}", timeout=5).version()


def _fake_clamd(tmp_path, answer: bytes | None):
    """A one-connection server on a Unix socket: reads the command, answers ``answer`` (None:
    says nothing and keeps the connection open until the test ends)."""
    path = tmp_path / "fake.sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen(1)
    release = threading.Event()

    def serve():
        conn, _ = server.accept()
        with conn:
            conn.recv(64)
            if answer is None:
                release.wait(10)
            else:
                conn.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"unix://{path}", server, release


@pytest.mark.parametrize(
    "answer,message",
    [
        (b"stream: what is this\0", "unexpected answer 'stream: what is this'"),
        (b"Can't allocate memory ERROR\0", 'clamd answered "Can\'t allocate memory ERROR"'),
    ],
)
def test_answers_it_does_not_understand_are_permanent_errors(tmp_path, answer, message):
    address, server, _ = _fake_clamd(tmp_path, answer)
    with server, pytest.raises(ClamdError) as caught:
        Clamd(address, timeout=5).scan_stream([b"x"])
    assert message in str(caught.value)
    assert isinstance(caught.value, PermanentError)


def test_a_silent_clamd_times_out_as_unavailable(tmp_path):
    address, server, release = _fake_clamd(tmp_path, None)
    with server, pytest.raises(ClamdUnavailable, match="no answer within 0.2 s"):
        Clamd(address, timeout=0.2).version()
    release.set()


def test_a_connection_closed_without_an_answer_is_unavailable(tmp_path):
    address, server, _ = _fake_clamd(tmp_path, b"")
    with server, pytest.raises(ClamdUnavailable, match="closed without an answer"):
        Clamd(address, timeout=5).version()


def test_replies_and_versions_parse():
    assert parse_reply("a", "stream: OK") == ScanResult("clean")
    assert parse_reply("a", "stream: Win.Test.EICAR_HDB-1 FOUND") == ScanResult(
        "infected", "Win.Test.EICAR_HDB-1"
    )
    version = parse_version("a", "ClamAV 1.4.6/27000/Thu Dec  3 08:25:02 2026")
    assert version.engine == "ClamAV 1.4.6"
    assert version.database == 27000
    assert version.database_date == dt.datetime(2026, 12, 3, 8, 25, 2, tzinfo=dt.UTC)
    with pytest.raises(ClamdError, match="VERSION: unexpected answer 'ClamAV 1/x/y'"):
        parse_version("a", "ClamAV 1/x/y")


@pytest.mark.parametrize(
    "address",
    ["", "clamd.sock", "unix://relative.sock", "tcp://127.0.0.1", "tcp://:3310", "http://x:1"],
)
def test_bad_addresses_are_refused_clearly(address):
    with pytest.raises(ValueError, match="expected unix:///absolute/path.sock or tcp://host:port"):
        parse_address(address)


def test_from_settings(settings):
    settings.CLAMAV = {"address": "", "timeout": 10, "chunk_bytes": MIB}
    assert from_settings() is None
    settings.CLAMAV = {"address": "tcp://127.0.0.1:3310", "timeout": 10, "chunk_bytes": MIB}
    scanner = from_settings()
    assert scanner.address == "tcp://127.0.0.1:3310" and scanner.timeout == 10


def test_errors_pickle_with_their_message():
    sent = pickle.dumps(ClamdUnavailable("unix:///x.sock", "PING", "refused"))
    error = pickle.loads(sent)  # noqa: S301 - our own bytes, as the outbox stores errors
    assert str(error) == "clamd unix:///x.sock PING: refused"
    assert isinstance(error, RetryableError)
