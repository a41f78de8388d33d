"""The Graph emulator's dials as plain data: validation, environment variables, fault draws.

No Django here, so tests (which run with the product's settings) can import it to predict
what a seeded sandbox will do.

The shape is what ``GET /_sandbox/control`` answers and ``POST`` takes (any subset of it):

    {"throttle": {"rate": 20.0, "burst": 20},           # tokens a second per app; null: off
     "faults": {"error_rate": 0.1, "latency_ms": 50,    # share of 503s, delay per request
                "seed": 1, "retry_after": 1},           # seed: reproducible 503s; Retry-After
     "teams": {"provisioning_seconds": 0},              # POST /teams -> ready after this
     "invitations": {"blocked_domains": ["blocked.example"]},
     "files": {"download_bytes_per_second": null,       # downloadUrl pace; null: full speed
               "lose_notifications": 0}}                # the next n change notifications lost

``"throttle": null`` turns throttling off. A rate without a burst gets a burst of one second's
worth of tokens.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from typing import Any

DEFAULTS: dict[str, dict[str, Any]] = {
    "throttle": {"rate": None, "burst": None},
    "faults": {"error_rate": 0.0, "latency_ms": 0, "seed": None, "retry_after": 1},
    "teams": {"provisioning_seconds": 0.0},
    "invitations": {"blocked_domains": ["blocked.example"]},
    "files": {"download_bytes_per_second": None, "lose_notifications": 0},
}
MAX_DOWNLOAD_RATE = 10 * 1024**3  # bytes a second
MAX_LOST_NOTIFICATIONS = 1000

ENV_PREFIX = "GIGBRIDGE_SANDBOX_GRAPH_"
# environment variable (after the prefix) -> (section, key)
ENV_VARS = {
    "THROTTLE_RATE": ("throttle", "rate"),
    "THROTTLE_BURST": ("throttle", "burst"),
    "ERROR_RATE": ("faults", "error_rate"),
    "LATENCY_MS": ("faults", "latency_ms"),
    "FAULT_SEED": ("faults", "seed"),
    "FAULT_RETRY_AFTER": ("faults", "retry_after"),
    "TEAM_PROVISIONING_SECONDS": ("teams", "provisioning_seconds"),
    "BLOCKED_DOMAINS": ("invitations", "blocked_domains"),
    "DOWNLOAD_BYTES_PER_SECOND": ("files", "download_bytes_per_second"),
    "LOSE_NOTIFICATIONS": ("files", "lose_notifications"),
}


class DialError(ValueError):
    """A dial setting that cannot be used; the message names it."""


def _number(name: str, value: Any, low: float, high: float, *, whole: bool = False):
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DialError(f"{name} must be a number, not {value!r}")
    if whole and value != int(value):
        raise DialError(f"{name} must be a whole number, not {value!r}")
    if not (low <= value <= high) or math.isnan(value):
        raise DialError(f"{name} must be between {low:g} and {high:g}, not {value!r}")
    return int(value) if whole else float(value)


def merge(current: Mapping[str, Any], update: Any) -> dict[str, dict[str, Any]]:
    """``current`` with ``update`` applied, checked; raises DialError."""
    if not isinstance(update, Mapping):
        raise DialError("the body must be a JSON object")
    unknown = set(update) - set(DEFAULTS)
    if unknown:
        raise DialError(f"unknown section(s): {', '.join(sorted(unknown))}")
    result = {section: dict(current.get(section, DEFAULTS[section])) for section in DEFAULTS}
    for section, values in update.items():
        if values is None and section == "throttle":
            result["throttle"] = {"rate": None, "burst": None}
            continue
        if not isinstance(values, Mapping):
            raise DialError(f"{section} must be an object")
        extra = set(values) - set(DEFAULTS[section])
        if extra:
            raise DialError(f"unknown setting(s) in {section}: {', '.join(sorted(extra))}")
        result[section].update(values)
    return check(result)


def check(dials: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    throttle = dials["throttle"]
    rate, burst = throttle["rate"], throttle["burst"]
    if rate is None:
        throttle["burst"] = None
    else:
        rate = _number("throttle.rate", rate, 0.001, 1_000_000)
        if burst is None:
            burst = max(1, math.ceil(rate))
        throttle.update(rate=rate, burst=_number("throttle.burst", burst, 1, 1_000_000, whole=True))
    faults = dials["faults"]
    faults["error_rate"] = _number("faults.error_rate", faults["error_rate"], 0, 1)
    faults["latency_ms"] = _number("faults.latency_ms", faults["latency_ms"], 0, 60_000, whole=True)
    faults["retry_after"] = _number(
        "faults.retry_after", faults["retry_after"], 0, 3600, whole=True
    )
    if faults["seed"] is not None:
        faults["seed"] = _number("faults.seed", faults["seed"], -(2**63), 2**63 - 1, whole=True)
    teams = dials["teams"]
    teams["provisioning_seconds"] = _number(
        "teams.provisioning_seconds", teams["provisioning_seconds"], 0, 3600
    )
    domains = dials["invitations"]["blocked_domains"]
    if not isinstance(domains, list) or not all(isinstance(d, str) and d for d in domains):
        raise DialError("invitations.blocked_domains must be a list of domain names")
    dials["invitations"]["blocked_domains"] = sorted({d.strip().lower() for d in domains})
    files = dials["files"]
    if files["download_bytes_per_second"] is not None:
        files["download_bytes_per_second"] = _number(
            "files.download_bytes_per_second",
            files["download_bytes_per_second"],
            1,
            MAX_DOWNLOAD_RATE,
            whole=True,
        )
    files["lose_notifications"] = _number(
        "files.lose_notifications", files["lose_notifications"], 0, MAX_LOST_NOTIFICATIONS,
        whole=True,
    )
    return dials


def from_env(read: Callable[[str], str | None]) -> dict[str, dict[str, Any]]:
    """The update that ``GIGBRIDGE_SANDBOX_GRAPH_*`` variables ask for (``read`` is config.env).

    Only variables that are set appear, so the stored dials keep everything else.
    """
    update: dict[str, dict[str, Any]] = {}
    for suffix, (section, key) in ENV_VARS.items():
        name = ENV_PREFIX + suffix
        raw = read(name)
        if raw is None:
            continue
        raw = raw.strip()
        value: Any
        if key == "blocked_domains":
            value = [part for part in (p.strip() for p in raw.split(",")) if part]
        elif raw.lower() in {"off", "none", "null"}:
            value = None
        else:
            try:
                value = float(raw) if "." in raw or "e" in raw.lower() else int(raw)
            except ValueError:
                raise DialError(f"{name}={raw!r} is not a number") from None
        update.setdefault(section, {})[key] = value
    return update


def draw_fails(seed: int | None, counter: int, error_rate: float) -> bool:
    """Whether the ``counter``-th request since the dials were set gets a 503.

    With a seed the answer depends only on (seed, counter), in any process: a test can replay it.
    """
    if error_rate <= 0:
        return False
    if error_rate >= 1:
        return True
    source = random.Random(f"{seed}:{counter}") if seed is not None else random
    return source.random() < error_rate


def retry_after(tokens: float, rate: float) -> int:
    """Whole seconds until a bucket holding ``tokens`` has one token again (at least 1)."""
    return max(1, math.ceil((1 - tokens) / rate))
