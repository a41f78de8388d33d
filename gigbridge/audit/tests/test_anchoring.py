"""The audit chain is anchored outside the database: keyed hashes and signed checkpoints.

Each way of tampering with the trail below is caught by `gigbridge audit verify`, which exits 1
naming what is wrong. The attacker of most rows has the database but not the audit key; the
checkpoint rows are about the file outside the database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import io
import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction

from gigbridge import clock
from gigbridge.audit import checkpoints
from gigbridge.audit.actions import UNKEYED, compute_hash, record, verify
from gigbridge.audit.keys import mac
from gigbridge.audit.models import AuditEvent, AuditHead

START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
OTHER_KEY = "k" * 48  # a key the attacker made up


def _write_events(n: int) -> None:
    for i in range(n):
        with transaction.atomic():
            record(user=None, action="test.event", object_type="thing", object_id=i, after={"i": i})


def _checkpoint(minutes: int) -> None:
    clock.set_now(START + dt.timedelta(minutes=minutes))
    checkpoints.write()


@pytest.fixture
def trail(db):
    """Eight events and three checkpoints: after 3 events (09:00), 5 (10:00) and 8 (11:00)."""
    _write_events(3)
    _checkpoint(0)
    _write_events(2)
    _checkpoint(60)
    _write_events(3)
    _checkpoint(120)


def run_verify() -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("audit", "verify", stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def move_tip_to(seq: int) -> None:
    event = AuditEvent.objects.get(seq=seq)
    AuditHead.objects.filter(id=1).update(seq=seq, hash=event.hash)


def rehash_from(seq: int, *, key: str | None, version: int) -> None:
    """Rewrite events from ``seq`` on as someone without the audit key would: with the unkeyed
    hash (version 1) or a key of their own, every link consistent, the tip moved along."""
    prev = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else "0" * 64
    for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        event.prev_hash, event.hash_version = prev, version
        new = compute_hash(event, key)
        sql(
            "UPDATE audit_auditevent SET prev_hash = %s, hash = %s, hash_version = %s "
            "WHERE seq = %s",
            [prev, new, version, event.seq],
        )
        prev = new
    AuditHead.objects.filter(id=1).update(hash=prev)


def checkpoint_file():
    return checkpoints.default_file()


def lines() -> list[str]:
    return checkpoint_file().read_text().splitlines()


def rewrite_lines(new: list[str]) -> None:
    checkpoint_file().write_text("".join(f"{line}\n" for line in new))


# -- the tamperings ---------------------------------------------------------------------------


def edit_a_field():
    sql("UPDATE audit_auditevent SET after = %s WHERE seq = 4", ['{"i": 99}'])


def delete_a_middle_row():
    sql("DELETE FROM audit_auditevent WHERE seq = 4")


def reorder_two_events():
    sql("UPDATE audit_auditevent SET seq = -1 WHERE seq = 2")
    sql("UPDATE audit_auditevent SET seq = 2 WHERE seq = 3")
    sql("UPDATE audit_auditevent SET seq = 3 WHERE seq = -1")


def insert_an_event():
    forged = AuditEvent(
        seq=9,
        created_at=clock.now(),
        actor="mallory",
        action="test.event",
        object_type="thing",
        object_id="9",
        after={"i": 9},
        rule="",
        prev_hash=AuditEvent.objects.get(seq=8).hash,
        hash_version=2,
    )
    forged.hash = compute_hash(forged, OTHER_KEY)
    forged.save(force_insert=True)
    move_tip_to(9)


def truncate_the_end():
    sql("DELETE FROM audit_auditevent WHERE seq > 6")


def truncate_and_move_the_tip_back():
    truncate_the_end()
    move_tip_to(6)


def recompute_hashes_without_the_key():
    sql("UPDATE audit_auditevent SET after = %s WHERE seq = 7", ['{"i": 99}'])
    rehash_from(7, key=None, version=UNKEYED)


def recompute_hashes_with_a_guessed_key():
    sql("UPDATE audit_auditevent SET after = %s WHERE seq = 7", ['{"i": 99}'])
    rehash_from(7, key=OTHER_KEY, version=2)


def pass_everything_off_as_written_before_keying():
    sql("UPDATE audit_auditevent SET after = %s WHERE seq = 2", ['{"i": 99}'])
    rehash_from(1, key=None, version=UNKEYED)
    AuditHead.objects.filter(id=1).update(legacy_seq=8, legacy_seal="f" * 64)


def edit_the_checkpoint_file():
    rewrite_lines([line.replace('"events":8', '"events":6') for line in lines()])


def delete_the_checkpoint_file():
    checkpoint_file().unlink()


def drop_the_last_checkpoint():
    rewrite_lines(lines()[:-1])


def drop_a_middle_checkpoint():
    kept = lines()
    rewrite_lines([kept[0], kept[2]])


def re_sign_the_checkpoints_with_another_key():
    forged, prev = [], checkpoints.GENESIS
    for line in lines():
        checkpoint = checkpoints.Checkpoint.parse(line.replace('"events":8', '"events":6'))
        unsigned = checkpoints.replace(checkpoint, prev=prev, mac="")
        signed = checkpoints.replace(
            unsigned, mac=mac(OTHER_KEY, "audit-checkpoint", unsigned.message())
        )
        forged.append(signed.line())
        prev = signed.mac
    rewrite_lines(forged)


def truncate_the_chain_and_the_checkpoint_file():
    truncate_and_move_the_tip_back()
    drop_the_last_checkpoint()


TAMPERINGS = [
    (edit_a_field, "audit event #4: its content does not match its hash"),
    (delete_a_middle_row, "audit event #4: event #4 is missing (next stored is #5)"),
    (reorder_two_events, "audit event #2: its prev_hash does not match"),
    (insert_an_event, "audit event #9: its content does not match its hash"),
    (truncate_the_end, "the chain ends at event 6 but checkpoint of 2026-12-01T11:00Z recorded 8"),
    (
        truncate_and_move_the_tip_back,
        "the chain ends at event 6 but checkpoint of 2026-12-01T11:00Z recorded 8 events",
    ),
    (recompute_hashes_without_the_key, "audit event #7: it carries an unkeyed hash"),
    (recompute_hashes_with_a_guessed_key, "audit event #7: its content does not match its hash"),
    (
        pass_everything_off_as_written_before_keying,
        "audit event #8: the seal over the events written before hashes became keyed",
    ),
    (edit_the_checkpoint_file, "checkpoint of 2026-12-01T11:00Z does not match its signature"),
    (delete_the_checkpoint_file, "is missing, but 3 checkpoints were written (the last on"),
    (drop_the_last_checkpoint, "ends at checkpoint #2 but checkpoint #3 was written on"),
    (drop_a_middle_checkpoint, "checkpoint #3 does not follow checkpoint #1"),
    (re_sign_the_checkpoints_with_another_key, "does not match its signature"),
    (
        truncate_the_chain_and_the_checkpoint_file,
        "ends at checkpoint #2 but checkpoint #3 was written on 2026-12-01T11:00Z",
    ),
]


def test_the_untouched_trail_verifies_against_every_checkpoint(trail):
    code, out, err = run_verify()
    assert code == 0, err
    assert "intact (8 events); 3 checkpoints agree" in out


@pytest.mark.parametrize(
    ("tamper", "reported"), TAMPERINGS, ids=[t.__name__ for t, _ in TAMPERINGS]
)
def test_each_tampering_is_reported(trail, tamper, reported):
    tamper()
    code, _, err = run_verify()
    assert code == 1
    assert reported in err, err


def test_the_end_cut_off_and_the_tip_moved_back_leaves_a_valid_chain_but_not_checkpoints(trail):
    """What the defect was: the chain alone still verifies; only the checkpoints tell."""
    truncate_and_move_the_tip_back()
    from gigbridge.audit.actions import walk_chain

    walk = walk_chain(set())
    assert walk.broken_seq is None and walk.checked == 6
    result = verify()
    assert not result.ok and result.broken_seq is None
    assert result.problems == [
        "the chain ends at event 6 but checkpoint of 2026-12-01T11:00Z recorded 8 events"
    ]


def test_checkpoints_kept_from_the_auditors_mails_are_checked_too(trail, tmp_path):
    kept = tmp_path / "from-mail.jsonl"
    kept.write_text(lines()[-1] + "\n")  # only the newest, as one mail carried it
    truncate_and_move_the_tip_back()
    delete_the_checkpoint_file()  # and the server's own copy gone with it
    from gigbridge.audit.models import AuditCheckpoint

    AuditCheckpoint.objects.all().delete()  # someone with the database cleans up after
    assert run_verify()[0] == 0  # what is left on the server agrees with itself
    result = verify(checkpoint_file=kept)
    assert result.problems == [
        "the chain ends at event 6 but checkpoint of 2026-12-01T11:00Z recorded 8 events"
    ]


# -- the chain written before the key --------------------------------------------------------


def test_events_written_before_the_key_verify_under_their_old_hash_once_sealed(db):
    """Migration 0002 on an existing trail: old events keep the unkeyed hash, sealed."""
    prev = "0" * 64
    for seq in (1, 2, 3):  # as the code before the key wrote them
        event = AuditEvent(
            seq=seq,
            created_at=START,
            actor="system",
            action="old.event",
            object_type="thing",
            object_id=str(seq),
            after={"seq": seq},
            prev_hash=prev,
            hash_version=UNKEYED,
        )
        body = json.dumps(
            {
                "seq": seq,
                "created_at": START.isoformat(),
                "actor_user": None,
                "actor": "system",
                "action": "old.event",
                "object_type": "thing",
                "object_id": str(seq),
                "before": None,
                "after": {"seq": seq},
                "policy_version": None,
                "rule": "",
                "prev_hash": prev,
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        event.hash = hashlib.sha256(body.encode()).hexdigest()  # the old formula, verbatim
        event.save(force_insert=True)
        prev = event.hash
    AuditHead.objects.create(id=1, seq=3, hash=prev)
    assert not verify().ok  # unsealed unkeyed events are not trusted

    migration = importlib.import_module(
        "gigbridge.audit.migrations.0002_keyed_hashes_and_checkpoints"
    )
    from django.apps import apps

    migration.seal_unkeyed_events(apps, None)
    _write_events(2)  # new ones: keyed, chained on to the old ones

    assert list(AuditEvent.objects.values_list("hash_version", flat=True)) == [1, 1, 1, 2, 2]
    assert verify().ok
    sql("UPDATE audit_auditevent SET actor = 'mallory' WHERE seq = 2")
    rehash_from(2, key=None, version=UNKEYED)  # the whole chain redone without the key
    result = verify()
    assert not result.ok and result.broken_seq == 3 and "seal" in result.reason


# -- writing checkpoints ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # a tick closes old connections, as in production
def test_the_scheduler_writes_a_checkpoint_when_due_and_only_then():
    from gigbridge.jobs.scheduler import tick

    clock.set_now(START)
    assert tick()["gigbridge.audit.checkpoints.checkpoint_due"] is None  # nothing to anchor
    _write_events(2)
    assert tick()["gigbridge.audit.checkpoints.checkpoint_due"] == 1
    assert checkpoints.checkpoint_due() is None  # another scheduler, same tick
    _write_events(1)
    clock.set_now(START + dt.timedelta(minutes=59))
    assert checkpoints.checkpoint_due() is None  # not an hour yet
    clock.set_now(START + dt.timedelta(minutes=60))
    assert checkpoints.checkpoint_due() == 2
    clock.set_now(START + dt.timedelta(hours=5))
    assert checkpoints.checkpoint_due() is None  # the chain did not move since
    assert [json.loads(line)["events"] for line in lines()] == [2, 3]


def test_the_checkpoint_file_and_its_folder_are_private(db):
    _write_events(1)
    checkpoints.write()
    assert checkpoint_file().stat().st_mode & 0o777 == 0o600
    assert checkpoint_file().parent.stat().st_mode & 0o777 == 0o700


def test_checkpoints_are_mailed_to_the_auditors_when_asked(people, settings, mailoutbox):
    from gigbridge.jobs.models import OutboxJob
    from gigbridge.notifications.tasks import send_mail_job

    settings.GIGBRIDGE_AUDIT_CHECKPOINT_MAIL = True
    _write_events(1)
    written = checkpoints.write()
    jobs = OutboxJob.objects.filter(kind="mail.send", payload__template="audit_checkpoint")
    assert [job.payload["user_id"] for job in jobs] == [people["audrey"].pk]
    send_mail_job(jobs.get().payload)
    assert mailoutbox[-1].to == ["audrey@contoso.example"]
    assert written.line() in mailoutbox[-1].body
    assert settings.GIGBRIDGE_AUDIT_KEY not in mailoutbox[-1].body


# -- the key ----------------------------------------------------------------------------------


def test_the_key_is_generated_once_private_or_read_from_a_file(tmp_path, monkeypatch):
    from gigbridge.audit.keys import audit_key
    from gigbridge.config import ConfigError

    monkeypatch.delenv("GIGBRIDGE_AUDIT_KEY", raising=False)
    monkeypatch.delenv("GIGBRIDGE_AUDIT_KEY_FILE", raising=False)
    generated = audit_key(tmp_path)
    assert len(generated) >= 32 and audit_key(tmp_path) == generated
    assert (tmp_path / "audit_key").stat().st_mode & 0o777 == 0o600

    secret = tmp_path / "from-the-secret-store"
    secret.write_text("s" * 40 + "\n")
    monkeypatch.setenv("GIGBRIDGE_AUDIT_KEY_FILE", str(secret))
    assert audit_key(tmp_path) == "s" * 40
    secret.write_text("short")
    with pytest.raises(ConfigError, match="at least 32"):
        audit_key(tmp_path)


# -- through the real command, as an operator runs it -----------------------------------------


@pytest.mark.django_db(transaction=True)
def test_cli_checkpoint_then_a_cut_trail_fails_verify(subprocess_env):
    _write_events(4)

    def gigbridge(*args):
        return subprocess.run(
            [sys.executable, "-m", "gigbridge.cli", "audit", *args],
            capture_output=True,
            text=True,
            env=subprocess_env,
            check=False,
            timeout=120,
        )

    folder = str(settings.GIGBRIDGE_AUDIT_CHECKPOINT_DIR)
    assert os.environ["GIGBRIDGE_AUDIT_CHECKPOINT_DIR"] == folder  # the child writes there too
    written = gigbridge("checkpoint")
    assert written.returncode == 0, written.stderr
    assert "checkpoint #1 of" in written.stdout and "4 events" in written.stdout
    assert gigbridge("verify").returncode == 0
    sql("DELETE FROM audit_auditevent WHERE seq > 2")
    move_tip_to(2)
    broken = gigbridge("verify")
    assert broken.returncode == 1
    assert "BROKEN: the chain ends at event 2 but checkpoint of" in broken.stderr
    assert "recorded 4 events" in broken.stderr
    assert settings.GIGBRIDGE_AUDIT_KEY not in broken.stderr + broken.stdout


def test_a_checkpoint_file_that_cannot_be_read_is_reported_not_a_crash(trail, tmp_path):
    result = verify(checkpoint_file=tmp_path)  # a folder, not a file
    assert not result.ok
    assert result.problems == [f"the checkpoint file {tmp_path} cannot be read: Is a directory"]
    assert verify(checkpoint_file=tmp_path / "none.jsonl").problems == [
        f"the checkpoint file {tmp_path / 'none.jsonl'} is missing"
    ]


def test_the_api_and_the_page_list_every_problem_not_only_the_first(trail, people, client):
    """An edited middle row and a checkpoint file cut short are two problems: both are shown."""
    edit_a_field()
    drop_the_last_checkpoint()
    result = verify()
    assert len(result.problems) >= 2
    client.force_login(people["audrey"])
    answer = client.get("/api/v1/audit/verify").json()
    assert answer["ok"] is False and answer["problems"] == result.problems
    assert answer["checkpoints"] == result.checkpoints
    page = client.get("/audit/?verify=1").content.decode()
    assert f"{len(result.problems)} problems found" in page
    for problem in result.problems:
        assert f"<li>{problem}</li>" in page.replace("&#x27;", "'")
