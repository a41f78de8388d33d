"""How a client (the product's integrations, tests) talks to the sandbox with TLS verified.

- httpx: ``httpx.Client(verify=ssl_context_from(ca_path))``.
- MSAL: ``ConfidentialClientApplication(..., **msal_options(ca_path))``.

Why not MSAL's ``verify=ca_path`` alone: MSAL hands it to a ``requests.Session``, and requests
lets ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` in the environment replace a session's
``verify`` (psf/requests#4726; still open as #3829). Many containers and distributions set
those; then the sandbox CA is silently dropped and every call fails verification. A session
that does not read the environment keeps the CA (and never sends loopback traffic through an
``HTTPS_PROXY``).
"""

from __future__ import annotations

from pathlib import Path

from .ca import ssl_context_from

__all__ = ["msal_options", "requests_session", "ssl_context_from"]


def requests_session(ca_path: Path | str):
    import requests  # MSAL's own HTTP library; only needed by callers that use MSAL

    session = requests.Session()
    session.trust_env = False
    session.verify = str(ca_path)
    return session


def msal_options(ca_path: Path | str) -> dict:
    """Keyword arguments for an MSAL client application pointed at the sandbox authority.

    ``instance_discovery=False``: for a host it does not know, MSAL would otherwise ask
    ``login.microsoftonline.com/common/discovery/instance`` about it (a call that leaves the
    machine and can only fail for a loopback authority). With it off, MSAL fetches only
    ``{authority}/v2.0/.well-known/openid-configuration``, which the sandbox serves.
    """
    return {"http_client": requests_session(ca_path), "instance_discovery": False}
