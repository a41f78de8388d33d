"""Upwork connector: OAuth2 (Authlib) and GraphQL (httpx) behind one client.

- ``client.UpworkClient.execute``: the one choke point for every GraphQL call.
- ``operations``: the documents Gigbridge sends and typed wrappers around them.
- ``auth``: authorize/callback, token refresh under a row lock, client credentials.
- ``connection``: ``configured()``, ``client(org_id)``, ``health()`` from settings.
- ``models.UpworkConnection``: per-organization tokens, encrypted at rest, and state.

See docs/upwork.md.
"""
