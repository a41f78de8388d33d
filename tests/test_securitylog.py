"""The security log: one line per refusal, rate limited per actor and in total."""

import datetime as dt
import logging

from gigbridge import securitylog

START = dt.datetime(2026, 3, 7, 23, 30, tzinfo=dt.UTC)


def limited(caplog, **limits):
    now = [START]
    log = securitylog.RateLimitedLog(
        logging.getLogger("gigbridge.security.test"), now=lambda: now[0], **limits
    )
    caplog.set_level(logging.WARNING, logger="gigbridge.security.test")
    return log, now


def lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "gigbridge.security.test"]


def test_a_flood_from_one_actor_is_cut_to_the_limit_then_one_suppressed_line(caplog):
    log, now = limited(caplog, per_key=3, total=100)
    written = [log.emit("mallory", f"refused {i}") for i in range(1000)]
    assert written.count(True) == 3 and lines(caplog) == ["refused 0", "refused 1", "refused 2"]
    assert log.emit("alice", "refused alice")  # others are not silenced by mallory
    now[0] += dt.timedelta(seconds=59)
    assert not log.emit("mallory", "still within the minute")
    now[0] += dt.timedelta(seconds=1)
    assert log.emit("mallory", "next minute")
    assert lines(caplog)[-2:] == [
        "suppressed 998 more refusals of actor=mallory in the minute from "
        "2026-03-07T23:30:00+00:00",
        "next minute",
    ]


def test_many_actors_together_are_held_to_the_total(caplog):
    log, now = limited(caplog, per_key=5, total=10)
    for i in range(50):
        log.emit(f"user{i}", f"refused {i}")
    assert len(lines(caplog)) == 10
    now[0] += dt.timedelta(minutes=1)
    log.emit("late", "refused late")
    assert "suppressed 40 more refusals of all actors" in lines(caplog)[-2]


def test_a_line_names_who_what_which_object_and_cannot_forge_lines(people, caplog):
    caplog.set_level(logging.WARNING, logger="gigbridge.security")
    securitylog.refused(
        people["rita"], "GET /x\nrefused actor=ada", "approvalstep:7", status=404, reason="no"
    )
    (line,) = [r.getMessage() for r in caplog.records if r.name == "gigbridge.security"]
    assert line == (
        'refused actor=rita action="GET /x?refused actor=ada" object=approvalstep:7 '
        "status=404 reason=no"
    )
    assert "\n" not in line
