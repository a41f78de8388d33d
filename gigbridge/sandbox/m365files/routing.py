"""Routes with a regular expression of their own, for Graph's path addressing.

``dispatch.route`` matches one segment per ``{name}``; ``/drives/{d}/root:/a/b/c:/children``
spans several, so those handlers register a pattern here, in the same table (``$batch`` and
throttling treat them like every other route).
"""

from __future__ import annotations

import re

from ..graph import dispatch


def regex_route(method: str, pattern: str, *, permissions: tuple[str, ...], params: int):
    """Register ``handler`` for ``method`` on the regex ``pattern`` (named groups are passed
    as keyword arguments). ``params``: its rank among matching routes (lower wins)."""
    regex = re.compile(pattern, re.IGNORECASE)

    def register(handler: dispatch.Handler) -> dispatch.Handler:
        dispatch._ROUTES.append(  # noqa: SLF001 - the dispatcher's own table, shared on purpose
            dispatch.Route(
                method=method,
                pattern=pattern,
                regex=regex,
                handler=handler,
                permissions=permissions,
                gated=True,
                params=params,
            )
        )
        return handler

    return register
