"""The HTTP client every integration builds, and one attempt of a call through it.

    http = new_client(user_agent="Gigbridge (msgraph)", verify=ca_path_or_true, timeout=30)
    caller = Caller(http, service="graph", logger=log, limiter=bucket)
    response = caller.attempt("GET", url, label="GET /users",
                              log_fields=lambda r: [("request-id", r and r.headers.get(...))],
                              headers={...})

``attempt`` takes the rate limiter's tokens, sends once, and writes one INFO line:
``{service} {label} {status} {ms}ms key=value ...``. The label and fields are the caller's:
a method and a path without its query string, an operation name, request ids; never headers,
tokens, query strings or bodies (every value goes through ``classify.clean`` as well). A request
that got no answer raises ``TransportFailure`` (classified) after its line was logged.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable, Iterable
from os import PathLike
from typing import Any

import httpx

from .classify import TransportFailure, clean

# httpx logs every request at INFO with its full URL: the query string (an e-mail address in a
# $filter) and an upload URL's own credential (tempauth=...). ``Caller`` logs each call itself,
# safely, so httpx's line is held back unless someone configured that logger on purpose.
if logging.getLogger("httpx").level == logging.NOTSET:
    logging.getLogger("httpx").setLevel(logging.WARNING)

LogFields = Callable[[httpx.Response | None], Iterable[tuple[str, Any]]]


def tls_setting(verify: bool | str | PathLike | None) -> bool | ssl.SSLContext:
    """What httpx should trust: True (the system's CAs) or a context trusting exactly the CA
    bundle at ``verify``. Turning verification off is refused."""
    if verify is False or verify is None:
        raise ValueError("TLS verification cannot be turned off: pass a CA bundle path")
    if verify is True:
        return True
    # httpx deprecates a CA path for verify: hand it a context that trusts exactly that CA.
    return ssl.create_default_context(cafile=str(verify))


def new_client(
    *,
    user_agent: str,
    verify: bool | str | PathLike,
    timeout: float = 30,
    transport: httpx.BaseTransport | None = None,
    accept: str = "application/json",
) -> httpx.Client:
    """An ``httpx.Client`` that verifies TLS and never follows redirects (a redirect could carry
    the bearer token to another host)."""
    if transport is not None:  # tests: the transport answers, nothing is verified or trusted
        if verify is False or verify is None:
            raise ValueError("TLS verification cannot be turned off: pass a CA bundle path")
        tls: bool | ssl.SSLContext = True
    else:
        tls = tls_setting(verify)
    return httpx.Client(
        timeout=httpx.Timeout(timeout),
        verify=tls,
        transport=transport,
        follow_redirects=False,
        headers={"User-Agent": user_agent, "Accept": accept},
    )


class Caller:
    """One integration's way out: its HTTP client, rate limiter and log."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        service: str,
        logger: logging.Logger,
        limiter: Any = None,
        timer: Callable[[], float] = time.perf_counter,
    ):
        self.http = http
        self.service = service
        self.log = logger
        self.limiter = limiter
        self._timer = timer

    def acquire(self, cost: float = 1) -> None:
        """Take ``cost`` tokens (at most the bucket's burst: a bigger cost could never fit)."""
        if self.limiter is None:
            return
        burst = getattr(self.limiter, "burst", None)
        self.limiter.acquire(min(cost, burst) if burst else cost)

    def attempt(
        self,
        method: str,
        url: str,
        *,
        label: str,
        log_fields: LogFields = lambda response: (),
        cost: float = 1,
        **request: Any,
    ) -> httpx.Response:
        """Send once (see the module docstring); -> the response, whatever its status."""
        self.acquire(cost)
        started = self._timer()
        try:
            response = self.http.request(method, url, **request)
        except httpx.TransportError as exc:
            failure = TransportFailure.from_httpx(exc)
            status = "timeout" if failure.code == "timeout" else "error"
            self.record(label, status, started, log_fields(None))
            raise failure from None
        self.record(label, response.status_code, started, log_fields(response))
        return response

    def record(
        self, label: str, status: Any, started: float, fields: Iterable[tuple[str, Any]]
    ) -> None:
        """The call's one log line: ``{service} {label} {status} {ms}ms key=value ...``."""
        elapsed_ms = (self._timer() - started) * 1000
        line = f"{self.service} {clean(label)} {status} {elapsed_ms:.0f}ms"
        for key, value in fields:
            line += f" {key}={clean(value) if value not in (None, '') else '-'}"
        self.log.info("%s", line)


class CallerClient:
    """What every outbound client exposes of its ``Caller``: the rate limiter (tests and
    benchmarks set ``client.limiter = None``), the pooled ``httpx.Client``, closing, and use as
    a context manager."""

    _caller: Caller

    @property
    def limiter(self) -> Any:
        """The rate limiter each attempt takes a token from (None: unlimited)."""
        return self._caller.limiter

    @limiter.setter
    def limiter(self, value: Any) -> None:
        self._caller.limiter = value

    @property
    def http(self) -> httpx.Client:
        """The pooled ``httpx.Client`` every attempt goes through."""
        return self._caller.http

    def close(self) -> None:
        self._caller.http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
