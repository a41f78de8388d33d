"""Entra ID (Microsoft identity platform v2.0) emulator: discovery, authorize, token, keys."""
