"""An agreement that expires during an engagement alerts legal and the hiring manager ahead of
time (policy: compliance.agreement_expiry_alert_days), once per agreement and engagement."""

import datetime as dt

import pytest
from django.core import mail

from gigbridge import clock
from gigbridge.audit.describe import describe
from gigbridge.audit.models import AuditEvent
from gigbridge.engagements import actions as engagement_actions
from gigbridge.engagements.tests.test_approvals import deliver_mail
from gigbridge.jobs import scheduler
from gigbridge.people import actions
from gigbridge.people.models import AgreementExpiryAlert, Role, RoleAssignment
from gigbridge.sourcing import actions as marketplace
from gigbridge.sourcing.tests.test_marketplace import approved_engagement, proposal

pytestmark = pytest.mark.django_db
EMAIL = "ana@freelance.example"
JOB = "gigbridge.people.actions.send_agreement_expiry_alerts"


def contracted(people, nda_days: int):
    """A contracted engagement (start in 14 days, end in 74) whose freelancer's NDA expires
    ``nda_days`` from today; the MSA does not expire."""
    engagement = approved_engagement(people)
    p = proposal(engagement, email=EMAIL)
    today = clock.today()
    actions.record_agreement(
        people["lena"],
        email=EMAIL,
        name="NDA",
        signed_on=today,
        expires_on=today + dt.timedelta(days=nda_days),
        display_name="Ana Silva",
    )
    actions.record_agreement(people["lena"], email=EMAIL, name="MSA", signed_on=today)
    marketplace.pick(people["rita"], p)
    engagement_actions.transition_engagement(
        people["ada"], engagement, "contracted", reason="signed on paper"
    )
    engagement.refresh_from_db()
    assert engagement.contract_end == today + dt.timedelta(days=74)
    return engagement


def alerts():
    return AuditEvent.objects.filter(action="agreement.expiry_alert")


def test_alert_once_inside_the_window_not_before(people, frozen_now):
    engagement = contracted(people, nda_days=50)
    expires = clock.today() + dt.timedelta(days=50)
    assert actions.send_agreement_expiry_alerts() == []  # 50 days ahead: outside 30 days
    frozen_now(days=19)  # 31 days ahead
    assert actions.send_agreement_expiry_alerts() == []
    frozen_now(days=1)  # 30 days ahead: inside
    sent = actions.send_agreement_expiry_alerts()
    assert len(sent) == 1 and sent[0].endswith(f"@{engagement.reference}")
    # A second run (a restart, a second scheduler) sends nothing more.
    frozen_now(days=5)
    assert actions.send_agreement_expiry_alerts() == []
    assert alerts().count() == 1 and AgreementExpiryAlert.objects.count() == 1

    event = alerts().get()
    assert event.after["name"] == "NDA" and event.after["person"] == EMAIL
    assert event.after["expires_on"] == str(expires)
    text = describe(event).text
    assert "the NDA of" in text and str(expires) in text and engagement.reference in text

    legal = {
        a.user.email for a in RoleAssignment.objects.filter(role=Role.LEGAL, user__is_active=True)
    }
    assert legal and set(event.after["recipients"]) == legal | {people["rita"].email}
    deliver_mail()
    messages = [m for m in mail.outbox if "expires" in m.subject]
    assert {m.to[0] for m in messages} == legal | {people["rita"].email}
    body = messages[0].body
    assert "NDA of Ana Silva expires" in messages[0].subject
    assert str(expires) in body and engagement.reference in body
    assert f"/engagements/{engagement.pk}/" in body
    assert "/agreements/?email=ana%40freelance.example&name=NDA#send" in body
    assert "send the NDA for signature" in body


def test_no_alert_for_an_agreement_that_outlives_the_engagement(people, frozen_now):
    contracted(people, nda_days=80)  # the contract ends on day 74
    frozen_now(days=60)
    assert actions.send_agreement_expiry_alerts() == []
    assert not alerts().exists()


def test_no_alert_for_a_replaced_or_revoked_agreement(people, frozen_now):
    contracted(people, nda_days=40)
    # Legal records a newer NDA that outlives the engagement: it replaces the expiring one.
    actions.record_agreement(
        people["lena"],
        email=EMAIL,
        name="NDA",
        signed_on=clock.today(),
        expires_on=clock.today() + dt.timedelta(days=400),
    )
    frozen_now(days=20)
    assert actions.send_agreement_expiry_alerts() == []
    assert not alerts().exists()


def test_no_alert_for_a_revoked_agreement(people, frozen_now):
    from gigbridge.people.models import Agreement

    contracted(people, nda_days=40)
    nda = Agreement.objects.get(person__email=EMAIL, name="NDA", revoked_at__isnull=True)
    actions.revoke_agreement(people["lena"], nda, "signed for a different entity")
    frozen_now(days=20)
    assert actions.send_agreement_expiry_alerts() == []
    assert not alerts().exists()


def test_window_follows_the_policy(people, frozen_now, tmp_path):
    from conftest import EXAMPLE_POLICY
    from gigbridge.program import actions as program

    contracted(people, nda_days=50)
    assert actions.send_agreement_expiry_alerts() == []  # 30 days by default
    text = EXAMPLE_POLICY.read_text().replace(
        "agreement_expiry_alert_days: 30", "agreement_expiry_alert_days: 60"
    )
    (tmp_path / "program.yaml").write_text(text)
    program.activate_policy_file(tmp_path / "program.yaml", actor="tests")
    assert len(actions.send_agreement_expiry_alerts()) == 1


def test_the_scheduler_runs_it_every_tick(people, frozen_now, monkeypatch):
    assert JOB in scheduler.PERIODIC
    # The test's database connection must stay open across the tick.
    monkeypatch.setattr(scheduler, "close_old_connections", lambda: None)
    contracted(people, nda_days=20)
    results = scheduler.tick()
    assert len(results[JOB]) == 1
    assert scheduler.tick()[JOB] == []
