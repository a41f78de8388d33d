"""The one pagination of every API list: ``limit`` and ``offset`` within bounds.

ninja's LimitOffsetPagination takes any integer, and an offset past 2**63 overflows the
database driver (a 500); here the bounds live in ``gigbridge.limits`` and break as a 422
naming the parameter.
"""

from __future__ import annotations

from ninja import Schema
from ninja.pagination import LimitOffsetPagination

from gigbridge.limits import PAGE_LIMIT_MAX, PageLimit, PageOffset


class Pagination(LimitOffsetPagination):
    class Input(Schema):
        limit: PageLimit = PAGE_LIMIT_MAX
        offset: PageOffset = 0

    def __init__(self, **kwargs):
        super().__init__(max_limit=PAGE_LIMIT_MAX, **kwargs)
