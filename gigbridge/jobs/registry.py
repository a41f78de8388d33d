"""Handlers for outbox job kinds. Each app registers its own in its ``tasks`` module."""

from __future__ import annotations

from collections.abc import Callable

Handler = Callable[[dict], None]
_handlers: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        if kind in _handlers and _handlers[kind] is not func:
            raise RuntimeError(f"two handlers registered for outbox job kind {kind!r}")
        _handlers[kind] = func
        return func

    return register


def get(kind: str) -> Handler:
    try:
        return _handlers[kind]
    except KeyError:
        raise LookupError(f"no handler registered for outbox job kind {kind!r}") from None


def kinds() -> list[str]:
    return sorted(_handlers)
