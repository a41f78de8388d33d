"""Serving a file at a set pace (the ``files.download_bytes_per_second`` dial). No Django here,
so tests running with the product's settings can check the pacing with a fake clock."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

MAX_PIECE = 1024 * 1024


def paced(
    path: Path,
    rate: int,
    *,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> Iterator[bytes]:
    """The file's bytes at about ``rate`` bytes a second: pieces of a quarter second's worth
    (at most 1 MiB), each sent no earlier than its share of the time. Real time on purpose:
    this is the network's pace, not the tenant's clock."""
    if rate < 1:
        raise ValueError(f"rate must be at least 1 byte a second, not {rate!r}")
    piece = max(1, min(MAX_PIECE, rate // 4))
    started, sent = monotonic(), 0
    with open(path, "rb") as handle:
        while data := handle.read(piece):
            wait = started + sent / rate - monotonic()
            if wait > 0:
                sleep(wait)
            yield data
            sent += len(data)
