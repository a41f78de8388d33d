"""API authentication: personal bearer tokens, or the browser session (with CSRF)."""

from ninja.security import HttpBearer, django_auth

from gigbridge.people.actions import user_for_token


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


AUTH = [BearerToken(), django_auth]
