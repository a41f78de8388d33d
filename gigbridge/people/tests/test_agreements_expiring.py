"""The engagement page (and the API's engagement) flags each required agreement of the
freelancer that expires before the contract ends, with the next step for those allowed."""

import datetime as dt
import re

import pytest

from gigbridge import clock
from gigbridge.engagements import actions as engagement_actions
from gigbridge.people import actions
from gigbridge.people.expiring import expiring_during

from .test_agreement_expiry import EMAIL, contracted

pytestmark = pytest.mark.django_db


def section(page: str) -> str:
    found = re.search(r'<div[^>]*id="agreements-expiring".*?</div>', page, re.S)
    return found.group(0) if found else ""


def test_an_agreement_expiring_before_the_contract_end_is_flagged(client, people, frozen_now):
    engagement = contracted(people, nda_days=50)  # the contract ends on day 74
    expires = clock.today() + dt.timedelta(days=50)
    assert [a.name for a in expiring_during(engagement)] == ["NDA"]  # the MSA does not expire

    client.force_login(people["rita"])  # the hiring manager: may send, may not record
    flagged = section(client.get(f"/engagements/{engagement.pk}/").content.decode())
    assert "Agreements expiring during this engagement" in flagged
    assert f"NDA of Ana Silva expires on {expires.isoformat()}" in flagged
    assert f"runs until {engagement.contract_end.isoformat()}" in flagged
    assert "Send NDA for signature again" in flagged
    assert 'name="names" value="NDA"' in flagged and f'value="{EMAIL}"' in flagged
    assert "Record a renewed agreement" not in flagged

    client.force_login(people["ada"])  # a program admin may do both
    flagged = section(client.get(f"/engagements/{engagement.pk}/").content.decode())
    assert "Send NDA for signature again" in flagged
    assert "/agreements/?email=ana%40freelance.example&amp;name=NDA#record" in flagged

    # The next step works from there: the link goes out with the NDA to sign again.
    client.force_login(people["rita"])
    sent = client.post(
        "/agreements/send/",
        {"email": EMAIL, "names": ["NDA"], "next": f"/engagements/{engagement.pk}/"},
    )
    assert sent.status_code == 302 and sent["Location"] == f"/engagements/{engagement.pk}/"
    assert engagement.freelancer.signing_links.get().names == ["NDA"]

    frozen_now(days=51)  # expired during the engagement: still flagged, in the past tense
    flagged = section(client.get(f"/engagements/{engagement.pk}/").content.decode())
    assert f"NDA of Ana Silva expired on {expires.isoformat()}" in flagged


def test_the_api_engagement_lists_them(api, people):
    engagement = contracted(people, nda_days=50)
    body = api("rita").get(f"/api/v1/engagements/{engagement.pk}").json()
    [nda] = body["agreements_expiring"]
    assert nda["name"] == "NDA"
    assert nda["expires_on"] == (clock.today() + dt.timedelta(days=50)).isoformat()
    listed = api("rita").get("/api/v1/engagements").json()["items"]
    assert "agreements_expiring" not in listed[0]  # the detail only: one query per engagement


def test_nothing_is_flagged_when_it_outlives_the_contract_is_renewed_or_the_contract_is_over(
    client, people
):
    engagement = contracted(people, nda_days=74)  # in force on the contract's last day
    assert expiring_during(engagement) == []
    client.force_login(people["ada"])
    assert section(client.get(f"/engagements/{engagement.pk}/").content.decode()) == ""

    engagement = contracted_for_another(people, nda_days=20)
    assert [a.name for a in expiring_during(engagement)] == ["NDA"]
    actions.record_agreement(  # renewed: the newer record replaces the expiring one
        people["lena"], email="bo@freelance.example", name="NDA", signed_on=clock.today()
    )
    assert expiring_during(engagement) == []

    engagement = contracted_for_another(people, nda_days=20, email="cy@freelance.example")
    engagement_actions.transition_engagement(people["ada"], engagement, "cancelled", "stopped")
    engagement.refresh_from_db()
    assert expiring_during(engagement) == []


def contracted_for_another(people, nda_days: int, email: str = "bo@freelance.example"):
    from gigbridge.sourcing import actions as marketplace
    from gigbridge.sourcing.tests.test_marketplace import approved_engagement, proposal

    engagement = approved_engagement(people)
    today = clock.today()
    actions.record_agreement(
        people["lena"],
        email=email,
        name="NDA",
        signed_on=today,
        expires_on=today + dt.timedelta(days=nda_days),
    )
    actions.record_agreement(people["lena"], email=email, name="MSA", signed_on=today)
    marketplace.pick(people["rita"], proposal(engagement, upwork_id=email, email=email))
    engagement.refresh_from_db()
    return engagement
