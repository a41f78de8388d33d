"""App-only Entra ID tokens for Microsoft Graph, through MSAL (client credentials flow).

    tokens = TokenProvider(tenant_id, client_id, "client-secret")
    tokens = TokenProvider(tenant_id, client_id, {"private_key": PEM, "thumbprint": "A1B2..."})
    tokens = TokenProvider(tenant_id, client_id, secret,
                           authority_host="127.0.0.1:8443/entra",   # the sandbox's Entra ID
                           verify="/data/sandbox/ca.pem")           # trust the sandbox's own CA
    tokens.token()  # -> "eyJ..." for https://graph.microsoft.com/.default, cached by MSAL

The authority is ``https://{authority_host}/{tenant_id}``. MSAL insists on https and starts by
fetching ``{authority}/v2.0/.well-known/openid-configuration``; for a host Microsoft does not
know (the sandbox) it is told not to ask Microsoft's instance discovery endpoint about it
(``instance_discovery=False``) nor to validate the authority against Microsoft's list
(``validate_authority=False``). TLS is always verified: ``verify`` is True (the system's CAs)
or the path of a CA bundle, never False.

MSAL keeps the token in its in-memory cache and hands out a new one before the old expires (it
treats a token with under five minutes left as expired, and refreshes long-lived ones at half
life). The app object is built on first use, so a sandbox or network that is not up yet is a
retryable failure of that call, not of start-up.

Failures: ``PermanentGraphError`` for a configuration that cannot work (invalid_client,
unauthorized_client, an unknown tenant, a TLS verification failure); ``RetryableGraphError`` for
the network, timeouts and Entra ID's own 5xx / temporarily_unavailable. Messages carry the
AADSTS code and correlation id, never a secret or a token.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from os import PathLike
from typing import Any

import msal
import requests
from msal.authority import WELL_KNOWN_AUTHORITY_HOSTS
from msal.exceptions import MsalServiceError

from gigbridge.integrations.outbound.classify import RETRYABLE_OAUTH_ERRORS

from .errors import GraphError, PermanentGraphError, RetryableGraphError

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
MICROSOFT_AUTHORITY_HOST = "login.microsoftonline.com"
# For error messages only: MSAL reads the real token endpoint from the discovery document.
TOKEN_PATH = "/oauth2/v2.0/token"  # noqa: S105 - a path, not a secret


class TokenProvider:
    """Cached app-only access tokens for one app registration in one tenant."""

    def __init__(
        self,
        tenant_id: str,
        client_id: str,
        credential: str | Mapping[str, Any],
        *,
        authority_host: str = MICROSOFT_AUTHORITY_HOST,
        verify: bool | str | PathLike = True,
        scope: str = GRAPH_SCOPE,
        timeout: float = 30,
        http_client: Any = None,
        token_cache: msal.TokenCache | None = None,
    ):
        if verify is False or verify is None:
            raise ValueError("TLS verification cannot be turned off: pass a CA bundle path")
        if not tenant_id or "/" in tenant_id:
            raise ValueError(f"not a tenant id or domain: {tenant_id!r}")
        if not client_id:
            raise ValueError("client_id is required")
        if isinstance(credential, Mapping):
            if not credential.get("private_key") or not (
                credential.get("thumbprint") or credential.get("public_certificate")
            ):
                raise ValueError(
                    "a certificate credential needs private_key and thumbprint "
                    "(or public_certificate)"
                )
        elif not credential:
            raise ValueError("a client secret or a certificate credential is required")
        host = authority_host.strip().removeprefix("https://").strip("/")
        if "://" in host or not host:
            raise ValueError(
                f"authority_host must be a host (https is implied): {authority_host!r}"
            )
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.authority = f"https://{host}/{tenant_id}"
        self.scope = scope
        self._credential = credential
        self._verify = str(verify) if isinstance(verify, PathLike) else verify
        self._timeout = timeout
        self._http_client = http_client
        self._token_cache = token_cache
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never the credential
        return f"<TokenProvider {self.authority} client {self.client_id}>"

    @property
    def is_microsoft_authority(self) -> bool:
        host = self.authority.removeprefix("https://").split("/", 1)[0].lower()
        return host in WELL_KNOWN_AUTHORITY_HOSTS

    def app_options(self) -> dict[str, Any]:
        """The keyword arguments given to ``msal.ConfidentialClientApplication``."""
        options: dict[str, Any] = {
            "client_credential": self._credential,
            "authority": self.authority,
            "timeout": self._timeout,
            "app_name": "gigbridge",
        }
        if self._http_client is not None:
            options["http_client"] = self._http_client
        else:
            options["verify"] = self._verify
        if self._token_cache is not None:
            options["token_cache"] = self._token_cache
        if not self.is_microsoft_authority:
            # Not a Microsoft cloud (the sandbox): do not ask login.microsoftonline.com about it.
            options["instance_discovery"] = False
            options["validate_authority"] = False
        return options

    def _get_app(self) -> msal.ConfidentialClientApplication:
        with self._lock:
            if self._app is None:
                # Builds the authority: fetches the OpenID configuration over the network.
                self._app = self._guard(
                    lambda: msal.ConfidentialClientApplication(self.client_id, **self.app_options())
                )
            return self._app

    def _guard(self, call):
        """Run an MSAL call, turning its exceptions into typed Graph errors."""
        try:
            return call()
        except requests.exceptions.SSLError as exc:
            raise self._error(PermanentGraphError, "tls_error", type(exc).__name__) from None
        except (requests.exceptions.RequestException, MsalServiceError) as exc:
            # Network, timeouts, Entra ID 5xx (MSAL raises MsalServiceError for those).
            raise self._error(RetryableGraphError, "network_error", type(exc).__name__) from None
        except ValueError as exc:
            # MSAL's ValueError: the authority's discovery document is missing (unknown tenant)
            # or malformed, or the credential cannot be used (a bad private key).
            raise self._error(
                PermanentGraphError, "invalid_authority_or_credential", _first_line(exc)
            ) from None

    def _error(self, cls, code, message, request_id=None) -> GraphError:
        return cls(None, code, message, request_id, "POST", TOKEN_PATH)

    def token(self) -> str:
        """A valid access token for ``scope`` (from MSAL's cache when it has one)."""
        app = self._get_app()
        result = self._guard(lambda: app.acquire_token_for_client(scopes=[self.scope]))
        if result and "access_token" in result:
            return result["access_token"]
        result = result or {}
        error = str(result.get("error") or "no_token")
        codes = result.get("error_codes") or []
        description = _first_line(result.get("error_description") or "")
        if codes and not description.startswith("AADSTS"):
            description = f"AADSTS{codes[0]} {description}".strip()
        cls = RetryableGraphError if error in RETRYABLE_OAUTH_ERRORS else PermanentGraphError
        raise self._error(cls, error, description, result.get("correlation_id"))


def _first_line(value: Any) -> str:
    text = str(value).strip()
    return text.splitlines()[0] if text else ""
