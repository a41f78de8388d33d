"""Click-through signing through a mailed, single-use, expiring link."""

import datetime as dt
import hashlib
import re

import pytest
from django.core import mail
from django.test import Client

from gigbridge import clock
from gigbridge.audit.models import AuditEvent
from gigbridge.domainerrors import NotAllowed, RuleViolation
from gigbridge.engagements.tests.test_approvals import deliver_mail
from gigbridge.people import actions, signing
from gigbridge.people import queries as people_queries
from gigbridge.people.models import Agreement, Person
from gigbridge.program import actions as program

pytestmark = pytest.mark.django_db
EMAIL = "sol@freelancers.example"


def mailed_token() -> str:
    deliver_mail()
    message = next(m for m in mail.outbox if m.to == [EMAIL])
    assert "Please sign: NDA, MSA" in message.subject
    return re.search(r"/s/([^/\s]+)/", message.body).group(1)


def send(user):
    return actions.send_for_signature(user, email=EMAIL, display_name="Sol Ortega")


def test_the_freelancer_signs_through_the_mailed_link(people, frozen_now):
    link = send(people["rita"])  # a hiring manager may send
    assert link.names == ["NDA", "MSA"]
    assert AuditEvent.objects.get(action="agreement.sent_for_signature").actor == "rita"
    token = mailed_token()
    visitor = Client(REMOTE_ADDR="203.0.113.7")  # no account
    page = visitor.get(f"/s/{token}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Sol Ortega" in text and "NDA" in text and "MSA" in text
    statement = "I accept the NDA of"
    assert statement in text  # the example policy names no document: a statement is shown
    assert visitor.get(f"/s/{token}/").status_code == 200  # opening does not use it up
    refused = visitor.post(f"/s/{token}/", {"typed_name": "  ", "accept": "yes"})
    assert refused.status_code == 422 and "type your full name" in refused.content.decode()
    done = visitor.post(f"/s/{token}/", {"typed_name": "Sol  Ortega", "accept": "yes"})
    assert done.status_code == 200 and "You signed NDA and MSA" in done.content.decode()
    person = Person.objects.get(email=EMAIL)
    nda = person.agreements.get(name="NDA")
    assert nda.source == Agreement.Source.CLICK_THROUGH and nda.signer_name == "Sol Ortega"
    assert nda.signer_ip == "203.0.113.7" and nda.signed_at == frozen_now.now()
    assert len(nda.document_sha256) == 64
    events = AuditEvent.objects.filter(action="agreement.signed")
    assert events.count() == 2 and {e.actor for e in events} == {EMAIL}
    assert events.first().after["document_sha256"] == nda.document_sha256
    _, policy = program.current()
    assert people_queries.missing_agreements(person, policy, clock.today()) == []
    # Used: a clear page, nothing more is signed.
    again = visitor.post(f"/s/{token}/", {"typed_name": "Sol Ortega", "accept": "yes"})
    assert again.status_code == 400 and "already used" in again.content.decode()
    assert events.count() == 2


def test_an_expired_link_is_refused(people, frozen_now):
    link = send(people["lena"])
    token = mailed_token()
    frozen_now(days=7, seconds=1)  # the example policy's default: 7 days
    page = Client().get(f"/s/{token}/")
    assert page.status_code == 400 and "expired on" in page.content.decode()
    with pytest.raises(signing.LinkError):
        actions.sign_agreements(link, typed_name="Sol", ip=None)
    assert not Agreement.objects.filter(person__email=EMAIL).exists()


def test_a_forged_or_altered_link_is_refused(people):
    send(people["lena"])
    token = mailed_token()
    for bad in [token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "made-up", token + "x"]:
        page = Client().post(f"/s/{bad}/", {"typed_name": "Sol Ortega", "accept": "yes"})
        assert page.status_code == 400 and "not valid" in page.content.decode()
    forged = signing.token_for("a-nonce-that-was-never-sent")
    assert "not valid" in Client().get(f"/s/{forged}/").content.decode()
    assert not Agreement.objects.filter(person__email=EMAIL).exists()


def test_a_document_in_the_data_folder_is_shown_and_fingerprinted(people, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    (tmp_path / "agreements").mkdir()
    (tmp_path / "agreements" / "nda.md").write_text("Keep it secret.\n")
    text = program.current()[0].source_text.replace(
        "  required_agreements: [NDA, MSA]\n",
        "  required_agreements: [NDA, MSA]\n  agreements:\n"
        "    NDA: {document: agreements/nda.md}\n"
        "    MSA: {document: 'https://legal.example/msa-v2.pdf', valid_days: 730}\n",
    )
    program.activate_policy(text, "program.yaml", actor="tests")
    send(people["lena"])
    token = mailed_token()
    page = Client().get(f"/s/{token}/").content.decode()
    assert "Keep it secret." in page and "https://legal.example/msa-v2.pdf" in page
    Client().post(f"/s/{token}/", {"typed_name": "Sol Ortega", "accept": "yes"})
    nda = Agreement.objects.get(person__email=EMAIL, name="NDA")
    msa = Agreement.objects.get(person__email=EMAIL, name="MSA")
    assert nda.document_sha256 == hashlib.sha256(b"Keep it secret.\n").hexdigest()
    assert msa.document_sha256 == hashlib.sha256(b"https://legal.example/msa-v2.pdf").hexdigest()
    assert msa.expires_on == clock.today() + dt.timedelta(days=730)


def test_who_may_send_and_what(people):
    with pytest.raises(NotAllowed):
        send(people["paula"])
    with pytest.raises(RuleViolation) as exc:
        actions.send_for_signature(people["lena"], email=EMAIL, names=["Offer"])
    assert {p.field for p in exc.value.problems} == {"names"}
    # Freya (demo freelancer) has both: nothing to send.
    with pytest.raises(RuleViolation):
        actions.send_for_signature(people["lena"], email="freya@freelancers.example")
    only_msa = actions.send_for_signature(people["lena"], email=EMAIL, names=["MSA"])
    assert only_msa.names == ["MSA"]


def test_send_from_the_agreements_page_and_the_api(people, api):
    client = Client()
    client.force_login(people["hank"])
    response = client.post(
        "/agreements/send/", {"email": EMAIL, "display_name": "Sol Ortega"}, follow=True
    )
    assert "will get a mail with a link to sign NDA, MSA" in response.content.decode()
    answer = api("ada").post(
        "/api/v1/agreements/send", {"email": EMAIL, "names": ["NDA"]}, "application/json"
    )
    assert answer.status_code == 202 and answer.json()["names"] == ["NDA"]
    assert (
        api("paula")
        .post("/api/v1/agreements/send", {"email": EMAIL}, "application/json")
        .status_code
        == 403
    )
