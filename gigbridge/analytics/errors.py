"""Errors of the analytics app."""

from __future__ import annotations


class BadFilter(ValueError):
    """A dashboard filter that cannot be used: ``field`` names the parameter, ``message`` why."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
