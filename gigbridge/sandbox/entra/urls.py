from django.urls import path

from . import authorize, discovery, token

urlpatterns = [
    path(
        "<str:tenant>/v2.0/.well-known/openid-configuration",
        discovery.openid_configuration,
        name="openid-configuration",
    ),
    path("<str:tenant>/discovery/v2.0/keys", discovery.keys, name="jwks"),
    path("<str:tenant>/oauth2/v2.0/authorize", authorize.authorize, name="authorize"),
    path("<str:tenant>/oauth2/v2.0/token", token.token, name="token"),
    path("<str:tenant>/oauth2/v2.0/logout", authorize.logout, name="logout"),
    path("oidc/userinfo", discovery.userinfo, name="userinfo"),
]
