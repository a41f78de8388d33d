"""The sandbox's Teams: a Bot Connector emulator (``/botframework/``), the Teams view (``/teams/``).

- ``keys``: the Bot Framework's signing key, its OpenID metadata and JWKS.
- ``connector``: Bot Connector REST v3 under ``/botframework/teams/v3/`` for the bot's calls.
- ``delivery``: activities Teams sends to the bot's messaging endpoint, with a signed JWT.
- ``graphmessages``: Graph's ``chatMessage`` view of the channel threads (``/v1.0/teams/...``).
- ``viewer``: ``/teams/``, where a person of the tenant reads and acts.
"""
