"""Recording and revoking agreements signed elsewhere, and what compliance makes of them."""

import datetime as dt

import pytest

from gigbridge import clock
from gigbridge.audit.models import AuditEvent
from gigbridge.domainerrors import InvalidTransition, NotAllowed, RuleViolation
from gigbridge.people import actions
from gigbridge.people import queries as people_queries
from gigbridge.people.models import Agreement, Person
from gigbridge.program import actions as program

pytestmark = pytest.mark.django_db


def fields_of(exc) -> set[str]:
    return {p.field for p in exc.value.problems}


def record(user, **overrides):
    data = {
        "email": "new.freelancer@free.example",
        "name": "NDA",
        "signed_on": clock.today(),
        "evidence_url": "https://docs.example/nda-signed.pdf",
        "display_name": "New Freelancer",
    }
    return actions.record_agreement(user, **{**data, **overrides})


def test_legal_records_an_agreement_for_a_freelancer_gigbridge_did_not_know(people):
    agreement = record(people["lena"], expires_on=clock.today() + dt.timedelta(days=365))
    person = Person.objects.get(email="new.freelancer@free.example")
    assert person.kind == Person.Kind.FREELANCER and person.display_name == "New Freelancer"
    assert agreement.recorded_by == people["lena"] and agreement.recorded_at is not None
    event = AuditEvent.objects.get(action="agreement.recorded")
    assert event.actor == "lena" and event.after["name"] == "NDA"
    assert event.after["person"] == "new.freelancer@free.example"


@pytest.mark.parametrize("who", ["lena", "hank", "ada"])
def test_legal_hr_and_program_admins_may_record(people, who):
    assert record(people[who]).pk


@pytest.mark.parametrize("who", ["rita", "paula", "fiona", "audrey"])
def test_others_may_not_record(people, who):
    with pytest.raises(NotAllowed):
        record(people[who])
    assert not Agreement.objects.filter(person__email="new.freelancer@free.example").exists()


def test_only_agreements_the_policy_names_in_bounds_and_not_signed_in_the_future(people):
    with pytest.raises(RuleViolation) as exc:
        record(
            people["lena"],
            name="Employment contract",
            signed_on=clock.today() + dt.timedelta(days=1),
            evidence_url="javascript:alert(1)",
            email="not an email",
        )
    assert fields_of(exc) == {"name", "signed_on", "evidence_url", "email"}
    with pytest.raises(RuleViolation) as exc:
        record(people["lena"], expires_on=clock.today() - dt.timedelta(days=1))
    assert fields_of(exc) == {"expires_on"}
    assert not AuditEvent.objects.filter(action="agreement.recorded").exists()


def test_recording_again_replaces_the_agreement_in_force_and_keeps_the_old_row(people):
    first = record(people["lena"])
    second = record(people["hank"], signed_on=clock.today() - dt.timedelta(days=2))
    first.refresh_from_db()
    assert first.revoked_at is not None and first.revoke_reason == "replaced by a newer record"
    assert second.revoked_at is None
    event = AuditEvent.objects.filter(action="agreement.recorded").order_by("-seq").first()
    assert event.before["signed_on"] == str(clock.today())


def test_revoke_needs_a_reason_and_happens_once(people):
    agreement = record(people["lena"])
    with pytest.raises(RuleViolation) as exc:
        actions.revoke_agreement(people["lena"], agreement, "  ")
    assert fields_of(exc) == {"reason"}
    with pytest.raises(NotAllowed):
        actions.revoke_agreement(people["rita"], agreement, "wrong person")
    actions.revoke_agreement(people["hank"], agreement, "signed by the wrong entity")
    agreement.refresh_from_db()
    assert agreement.revoke_reason == "signed by the wrong entity"
    assert agreement.revoked_by_label == "hank"
    assert AuditEvent.objects.get(action="agreement.revoked").after["reason"] == (
        "signed by the wrong entity"
    )
    with pytest.raises(InvalidTransition):
        actions.revoke_agreement(people["hank"], agreement, "again")


def test_compliance_counts_revoked_and_expired_agreements_as_missing(people):
    _, policy = program.current()
    today = clock.today()
    record(people["lena"], name="NDA", expires_on=today + dt.timedelta(days=10))
    msa = record(people["lena"], name="MSA")
    person = Person.objects.get(email="new.freelancer@free.example")
    assert people_queries.missing_agreements(person, policy, today) == []
    # The NDA has expired by a start 11 days from now.
    assert people_queries.missing_agreements(person, policy, today + dt.timedelta(days=11)) == [
        "NDA"
    ]
    actions.revoke_agreement(people["lena"], msa, "withdrawn by the freelancer")
    assert people_queries.missing_agreements(person, policy, today) == ["MSA"]
    states = {
        r["name"]: r["state"]
        for r in actions.agreement_status(person, ["NDA", "MSA"], today + dt.timedelta(days=11))
    }
    assert states == {"NDA": "expired", "MSA": "revoked"}


def test_loading_the_demo_again_keeps_a_revocation(people):
    from gigbridge.people import demo

    freya = Person.objects.get(email="freya@freelancers.example")
    nda = freya.agreements.get(name="NDA")
    actions.revoke_agreement(people["lena"], nda, "expired paper copy")
    record(people["lena"], email=freya.email)  # signed again
    demo.load("a-password-for-tests")
    assert freya.agreements.filter(name="NDA").count() == 2
    assert freya.agreements.filter(name="NDA", revoked_at__isnull=True).count() == 1
