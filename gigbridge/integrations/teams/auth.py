"""The bot's own app-only tokens for the Bot Connector (MSAL client credentials).

    tokens = BotTokenProvider(tenant_id, app_id, password,
                              authority_host="127.0.0.1:8443/entra", verify="/data/ca.pem")
    tokens.token()   # -> "eyJ..." for https://api.botframework.com/.default, cached by MSAL

The SDK's ``MsalAuth`` builds MSAL without ``instance_discovery=False``, so it cannot use an
authority Microsoft does not know (the sandbox's Entra ID). This is the Graph token provider's
logic (``msgraph.auth.TokenProvider``: instance discovery off for a non-Microsoft authority,
TLS always verified, the app built on first use) with the Bot Framework's scope and Teams'
error types, so a failing bot token reads "Teams POST /oauth2/v2.0/token -> ...", not Graph.

For a single-tenant bot (the default for new Azure Bots) the tenant is the bot's own; a legacy
multi-tenant bot uses the ``botframework.com`` tenant.
"""

from __future__ import annotations

from gigbridge.integrations.msgraph.auth import TOKEN_PATH, TokenProvider
from gigbridge.jobs.errors import RetryableError

from .errors import PermanentTeamsError, RetryableTeamsError, TeamsError

BOT_SCOPE = "https://api.botframework.com/.default"
MULTI_TENANT = "botframework.com"


class BotTokenProvider(TokenProvider):
    """Cached tokens for the Bot Connector; failures are ``TeamsError``s."""

    def __init__(self, tenant_id: str | None, app_id: str, password: str, **options):
        options.setdefault("scope", BOT_SCOPE)
        super().__init__(tenant_id or MULTI_TENANT, app_id, password, **options)

    def __repr__(self) -> str:  # never the credential
        return f"<BotTokenProvider {self.authority} app {self.client_id}>"

    def _error(self, cls, code, message, request_id=None) -> TeamsError:
        teams_cls = RetryableTeamsError if issubclass(cls, RetryableError) else PermanentTeamsError
        if request_id:
            message = f"{message} (correlation id {request_id})"
        return teams_cls(None, code, message, "POST", TOKEN_PATH)
