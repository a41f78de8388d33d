"""The audit chain detects any change, deletion or insertion of stored events."""

import subprocess
import sys

import pytest
from django.db import connection, transaction

from gigbridge.audit.actions import record, verify
from gigbridge.audit.models import AuditEvent


def _write_events(n: int) -> None:
    for i in range(n):
        with transaction.atomic():
            record(
                user=None,
                action="test.event",
                object_type="thing",
                object_id=i,
                after={"i": i, "amount": "1.50"},
            )


@pytest.mark.django_db
def test_an_untouched_chain_verifies():
    _write_events(5)
    result = verify()
    assert result.ok and result.checked == 5


@pytest.mark.django_db
def test_a_changed_event_is_named_as_the_first_break():
    _write_events(5)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET after = %s WHERE seq = 3", ['{"i": 99}'])
    result = verify()
    assert not result.ok
    assert result.broken_seq == 3
    assert "changed" in result.reason


@pytest.mark.django_db
def test_a_deleted_event_breaks_the_chain():
    _write_events(5)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = 2")
    result = verify()
    assert not result.ok and result.broken_seq == 2


@pytest.mark.django_db
def test_dropping_the_newest_event_is_noticed_through_the_tip():
    _write_events(3)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = 3")
    result = verify()
    assert not result.ok and "tip" in result.reason


@pytest.mark.django_db
def test_events_are_append_only_through_the_orm():
    _write_events(1)
    event = AuditEvent.objects.get()
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()


@pytest.mark.django_db(transaction=True)
def test_recording_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match="inside the action's transaction"):
        record(user=None, action="x", object_type="t", object_id=1)


@pytest.mark.django_db(transaction=True)
def test_cli_verify_exits_nonzero_naming_the_broken_event(subprocess_env):
    _write_events(3)
    env = subprocess_env
    ok = subprocess.run(
        [sys.executable, "-m", "gigbridge.cli", "audit", "verify"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "intact (3 events)" in ok.stdout
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET actor = 'mallory' WHERE seq = 2")
    broken = subprocess.run(
        [sys.executable, "-m", "gigbridge.cli", "audit", "verify"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert broken.returncode == 1
    assert "audit event #2" in broken.stderr
