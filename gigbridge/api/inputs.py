"""The base of every request body: a field the API does not know is refused, not ignored.

A misspelt optional field (``{"amout": "500.00"}`` for a milestone approval) used to be dropped
silently, so the call did what the defaults say (pay the whole milestone); now it is a 422
naming the field."""

from __future__ import annotations

from ninja import Schema
from pydantic import ConfigDict


class InputSchema(Schema):
    model_config = ConfigDict(extra="forbid")
