"""Where compliance refuses for a missing agreement, the page says which and offers the next
step: the hiring manager sends it for signature; the freelancer signs; the pick goes through."""

import re

import pytest
from django.core import mail
from django.test import Client

from gigbridge.engagements.models import Engagement
from gigbridge.engagements.tests.test_approvals import deliver_mail
from gigbridge.sourcing.tests.test_marketplace import approved_engagement, proposal

pytestmark = pytest.mark.django_db
EMAIL = "ana@freelance.example"


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_refused_pick_names_the_agreements_and_sending_them_unblocks_it(people):
    engagement = approved_engagement(people)
    p = proposal(engagement, email=EMAIL)
    rita = client_of(people["rita"])
    page = rita.get(f"/engagements/{engagement.pk}/").content.decode()
    assert "Ana has not signed NDA, MSA" in page
    assert "Send NDA, MSA for signature" in page
    assert "Record a signed agreement" not in page  # rita may send, not record

    refused = rita.post(
        f"/engagements/{engagement.pk}/proposals/{p.pk}/pick/", {"amount": "1000"}
    ).content.decode()
    assert "has not signed NDA, MSA" in refused and "Send NDA, MSA for signature" in refused

    sent = rita.post(
        "/agreements/send/",
        {
            "email": EMAIL,
            "display_name": "Ana",
            "names": ["NDA", "MSA"],
            "next": f"/engagements/{engagement.pk}/",
        },
    )
    assert sent.status_code == 302 and sent["Location"] == f"/engagements/{engagement.pk}/"
    deliver_mail()
    message = next(m for m in mail.outbox if m.to == [EMAIL])
    token = re.search(r"/s/([^/\s]+)/", message.body).group(1)
    signed = Client().post(f"/s/{token}/", {"typed_name": "Ana Silva", "accept": "yes"})
    assert "You signed NDA and MSA" in signed.content.decode()

    page = rita.get(f"/engagements/{engagement.pk}/").content.decode()
    # Only the timeline still tells of the refused offer; the proposals no longer say it.
    assert "has not signed" not in page[: page.index('class="timeline"')]
    picked = rita.post(f"/engagements/{engagement.pk}/proposals/{p.pk}/pick/", {"amount": "1000"})
    assert picked.status_code == 302
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.OFFERED


def test_legal_is_offered_to_record_it(people):
    engagement = approved_engagement(people)
    proposal(engagement, email=EMAIL)
    # Legal sees the engagement only as an overseer would; a program admin may do both.
    page = client_of(people["ada"]).get(f"/engagements/{engagement.pk}/").content.decode()
    assert "Record a signed agreement" in page and "Send NDA, MSA for signature" in page


def test_a_refused_contracted_transition_offers_recording_the_revoked_agreement(people):
    from gigbridge import clock
    from gigbridge.people import actions
    from gigbridge.sourcing import actions as marketplace

    engagement = approved_engagement(people)
    p = proposal(engagement, email=EMAIL)
    for name in ("NDA", "MSA"):
        actions.record_agreement(people["lena"], email=EMAIL, name=name, signed_on=clock.today())
    marketplace.pick(people["rita"], p)
    nda = people["lena"].agreements_recorded.get(name="NDA")
    actions.revoke_agreement(people["lena"], nda, "signed for a different entity")
    ada = client_of(people["ada"])
    response = ada.post(
        f"/engagements/{engagement.pk}/transition/",
        {"state": "contracted", "reason": "signed on paper"},
        follow=True,
    )
    page = response.content.decode()
    assert "has not signed NDA" in page  # the refusal
    assert f"{EMAIL} has not signed NDA (required before a contract" in page  # the panel
    assert "Record a signed agreement" in page and "Send NDA for signature" in page
    engagement.refresh_from_db()
    assert engagement.state == Engagement.State.OFFERED


def test_approvers_of_a_direct_hire_see_the_freelancers_agreements(people, api):
    import json

    from conftest import request_payload
    from gigbridge import clock
    from gigbridge.engagements.models import ApprovalStep
    from gigbridge.people import actions

    rita = api("rita")
    body = request_payload(sourcing="direct", freelancer_email=EMAIL, freelancer_country="PT")
    made = rita.post("/api/v1/requests", json.dumps(body), "application/json").json()
    assert rita.post(f"/api/v1/requests/{made['id']}/submit").status_code == 200
    actions.record_agreement(people["hank"], email=EMAIL, name="NDA", signed_on=clock.today())
    step = ApprovalStep.objects.get(request_id=made["id"], state=ApprovalStep.State.PENDING)
    page = client_of(step.assignee).get(f"/approvals/{step.pk}/").content.decode()
    assert '<span id="freelancer-agreements">NDA <span class="badge signed">signed' in page
    assert 'MSA <span class="badge missing">missing' in page
    assert "has not signed MSA" in page
