"""An OS file lock for start-up steps two processes may run at once on one machine.

``gigbridge sandbox run`` and ``gigbridge sandbox info`` started together (what any script
does), or two ``gigbridge init``: each would migrate the same database, and the second
``CREATE TABLE`` fails. Under the lock the second waits, then finds the work done. The kernel
drops the lock when its holder exits, however it exits, so a crash never leaves it stuck.
No Django here: the sandbox's runner uses it before Django is set up.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def locked(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path`` (created 0600, left in place) for the block."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock
