"""API authentication: personal bearer tokens, or the browser session (with CSRF)."""

from ninja.security import HttpBearer, django_auth

from gigbridge.people.actions import user_for_token
from gigbridge.web import signin


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        # Wrong tokens count against the caller's address like wrong passwords: a locked
        # address gets 429 problem+json (with Retry-After) before any token is looked up.
        signin.check(request)
        user = user_for_token(token)
        if user is not None:
            request.user = user
        else:
            signin.failed(request, "token")
        return user


AUTH = [BearerToken(), django_auth]
