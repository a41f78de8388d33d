"""The shared retry policy on an injected clock: nothing really sleeps."""

from __future__ import annotations

import email.utils

import pytest

from gigbridge.integrations.outbound.retry import (
    MAX_RETRY_AFTER,
    Retrier,
    RetryPolicy,
    parse_retry_after,
)

NOW = 1_800_000_000.0


class Failed(Exception):
    def __init__(self, status: int | None, retry_after: float | None = None):
        super().__init__(f"failed with {status}")
        self.status = status
        self.retry_after = retry_after


class Other(Exception):
    status = 503


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        assert seconds >= 0
        self.append(seconds)


def retrier(sleeps: Sleeps, rng: float = 1.0, **policy) -> Retrier:
    return Retrier(RetryPolicy(**policy), sleep=sleeps, now=lambda: NOW, rng=lambda: rng)


def scripted(*outcomes):
    """attempt_once that raises or returns each outcome in turn and records the attempts."""
    seen: list[int] = []

    def attempt_once(attempt: int):
        seen.append(attempt)
        outcome = outcomes[len(seen) - 1]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    attempt_once.seen = seen
    return attempt_once


# -- Retry-After -----------------------------------------------------------------------------------


def test_retry_after_in_seconds():
    assert parse_retry_after("120") == 120
    assert parse_retry_after(" 0 ") == 0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after("-5") == 0  # never a negative wait


def test_retry_after_as_an_http_date_is_counted_from_the_injected_clock():
    assert parse_retry_after(email.utils.formatdate(NOW + 7, usegmt=True), lambda: NOW) == 7
    assert parse_retry_after(email.utils.formatdate(NOW - 60, usegmt=True), lambda: NOW) == 0
    # An obsolete date form without a zone is read as GMT, as RFC 9110 says.
    assert parse_retry_after("Sun, 06 Nov 1994 08:49:37", lambda: 784111777.0 - 3) == 3


def test_unreadable_retry_after_is_none():
    for value in (None, "", "soon", "nan", "Mon, 99 Foo 2026"):
        assert parse_retry_after(value, lambda: NOW) is None


def test_retry_after_is_capped():
    assert parse_retry_after("99999999", lambda: NOW) == MAX_RETRY_AFTER
    years_ahead = email.utils.formatdate(NOW + 10 * 365 * 86400, usegmt=True)
    assert parse_retry_after(years_ahead, lambda: NOW) == MAX_RETRY_AFTER
    assert parse_retry_after("600", lambda: NOW, cap=120) == 120
    sleeps = Sleeps()
    assert retrier(sleeps, retry_after_cap=30).retry_after("600") == 30


# -- backoff ---------------------------------------------------------------------------------------


def test_backoff_doubles_with_jitter_in_the_upper_half_and_is_capped():
    low, high = retrier(Sleeps(), rng=0.0), retrier(Sleeps(), rng=1.0)
    assert [high.backoff(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert [low.backoff(n) for n in (1, 2, 3, 4)] == [0.25, 0.5, 1.0, 2.0]
    assert high.backoff(30) == 30 and low.backoff(30) == 15  # the cap bounds the ceiling
    assert retrier(Sleeps(), backoff_cap=5).backoff(10) == 5


def test_policy_refuses_nonsense():
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError):
        RetryPolicy(backoff_base=0)
    with pytest.raises(ValueError):
        RetryPolicy(backoff_base=10, backoff_cap=1)


# -- the loop --------------------------------------------------------------------------------------


def test_retries_honour_retry_after_else_back_off():
    sleeps = Sleeps()
    attempt = scripted(Failed(429, retry_after=7), Failed(503), Failed(None), "ok")
    assert retrier(sleeps).run(attempt, idempotent=True, retryable=Failed) == "ok"
    assert attempt.seen == [1, 2, 3, 4]
    assert sleeps == [7, 1.0, 2.0]  # Retry-After, then backoff for retries 2 and 3


def test_gives_up_after_max_retries():
    sleeps = Sleeps()
    attempt = scripted(*[Failed(503)] * 5)
    with pytest.raises(Failed):
        retrier(sleeps, max_retries=2).run(attempt, idempotent=True, retryable=Failed)
    assert attempt.seen == [1, 2, 3]  # the first attempt and two retries
    assert len(sleeps) == 2


def test_never_sleeps_past_max_wait_and_keeps_retry_after_for_the_outbox():
    sleeps = Sleeps()
    attempt = scripted(Failed(429, 40), Failed(429, 40))
    with pytest.raises(Failed) as caught:
        retrier(sleeps, max_wait=60).run(attempt, idempotent=True, retryable=Failed)
    assert sleeps == [40]  # 40 + 40 would exceed 60
    assert caught.value.retry_after == 40


def test_statuses_outside_the_policy_and_other_errors_are_not_retried():
    sleeps = Sleeps()
    only_throttles = retrier(sleeps, statuses=frozenset({429}))
    with pytest.raises(Failed):
        only_throttles.run(scripted(Failed(500)), idempotent=True, retryable=Failed)
    with pytest.raises(Other):
        only_throttles.run(scripted(Other()), idempotent=True, retryable=Failed)
    assert sleeps == []


def test_a_request_that_is_not_idempotent_is_never_sent_twice():
    sleeps = Sleeps()
    attempt = scripted(Failed(None), "sent twice")
    with pytest.raises(Failed):
        retrier(sleeps).run(attempt, idempotent=False, retryable=Failed)
    assert attempt.seen == [1] and sleeps == []


def test_budget_for_loops_of_their_own():
    sleeps = Sleeps()
    budget = retrier(sleeps, max_wait=10).budget()
    assert budget.wait(1, None) and budget.wait(2, 8)
    assert not budget.wait(3, 2)  # 0.5 + 8 + 2 > 10: no sleep
    assert sleeps == [0.5, 8] and budget.waited == 8.5
