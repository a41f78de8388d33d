"""What ``gigbridge.clock.now()`` costs per call, with and without following the sandbox's
world clock (``gigbridge.worldclock``), in one process, no database.

Cases, each timed over ``--calls`` calls (fewer for the slow ones), best of ``--repeat`` rounds
(timeit's rule: the minimum is the run least disturbed by other work on the machine); the
rounds interleave the cases, so a busy moment does not fall on one case only:

- ``wall``: not following (a real deployment; tests pin the shift the same way);
- ``world``: following a world clock file, the cached offset (the usual call: the file is looked
  at once a second, ``CHECK_EVERY``);
- ``world, file looked at every call``: ``check_every=0``, one ``stat`` a call, to show what
  the cache saves;
- ``Follower.offset() alone``: what following adds to a call, at most;
- ``look, file unchanged`` / ``look, file changed``: one look at the file (the once-a-second
  cost), without and with reading and parsing it.

Usage: ``python bench/clock_now.py [--calls 200000] [--repeat 5]``; prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gigbridge.settings")
os.environ.pop("GIGBRIDGE_WORLD_CLOCK_FILE", None)


def per_call_ns(function, calls: int, repeat: int) -> float:
    return min(timeit.repeat(function, number=calls, repeat=repeat)) / calls * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("GIGBRIDGE_DATA_DIR", tempfile.mkdtemp(prefix="clock-bench-"))

    import django

    django.setup()
    from gigbridge import clock, worldclock

    folder = Path(tempfile.mkdtemp(prefix="world-clock-"))
    path = folder / worldclock.FILE_NAME
    path.write_bytes(worldclock.render(86400.0))
    cached = clock.follow(path)
    assert cached is not None and abs(clock.offset_seconds() - 86400) < 1
    every_call = worldclock.Follower(path, check_every=0)
    follower = worldclock.Follower(path)
    follower.look()
    sizes = iter(range(10**9))

    def changed():
        follower._signature = next(sizes)  # as if the file had changed: stat, read, parse
        follower.look()

    def following(world):
        def setup():
            clock._world = world  # the follower the next calls use (None: not following)

        return setup

    cases = [
        ("wall (not following)", following(None), clock.now, args.calls),
        ("world (cached offset)", following(cached), clock.now, args.calls),
        ("world, file looked at every call", following(every_call), clock.now, args.calls // 10),
        ("Follower.offset() alone, cached", following(None), cached.offset, args.calls),
        ("look, file unchanged (stat)", following(None), follower.look, args.calls // 10),
        ("look, file changed (stat, read, parse)", following(None), changed, args.calls // 50),
    ]
    best = {name: float("inf") for name, *_ in cases}
    # Round by round, case by case: background load on the machine hits every case alike.
    for _ in range(args.repeat):
        for name, setup, function, calls in cases:
            setup()
            best[name] = min(best[name], per_call_ns(function, calls, 1))
    rows = [(name, best[name]) for name, *_ in cases]
    clock.follow(None)
    print(f"Python {sys.version.split()[0]}, {args.calls:,} calls, best of {args.repeat}\n")
    print("| case | ns per call |\n| --- | ---: |")
    for name, ns in rows:
        print(f"| {name} | {ns:,.0f} |")


if __name__ == "__main__":
    main()
