"""The agreements API: record, list, revoke; who may; errors name the field."""

import pytest

from gigbridge import clock
from gigbridge.people import queries as people_queries
from gigbridge.people.models import Person
from gigbridge.program import actions as program

pytestmark = pytest.mark.django_db


def body(**overrides):
    return {
        "email": "Nia@Free.example",
        "name": "NDA",
        "signed_on": str(clock.today()),
        "evidence_url": "https://docs.example/nia-nda.pdf",
        "display_name": "Nia Lance",
        **overrides,
    }


def test_legal_records_lists_and_revokes_through_the_api(api):
    lena = api("lena")
    response = lena.post("/api/v1/agreements", body(), content_type="application/json")
    assert response.status_code == 201, response.content
    made = response.json()
    assert made["email"] == "nia@free.example" and made["state"] == "signed"
    assert made["recorded_by"] == "lena" and made["person_name"] == "Nia Lance"
    lena.post("/api/v1/agreements", body(name="MSA"), content_type="application/json")
    person = Person.objects.get(email="nia@free.example")
    _, policy = program.current()
    assert people_queries.missing_agreements(person, policy, clock.today()) == []

    listed = api("audrey").get("/api/v1/agreements?email=nia@free.example").json()
    assert {a["name"] for a in listed["items"]} == {"NDA", "MSA"}

    revoked = api("hank").post(
        f"/api/v1/agreements/{made['id']}/revoke",
        {"reason": "signed for another company"},
        content_type="application/json",
    )
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert people_queries.missing_agreements(person, policy, clock.today()) == ["NDA"]
    again = api("hank").post(
        f"/api/v1/agreements/{made['id']}/revoke",
        {"reason": "again"},
        content_type="application/json",
    )
    assert again.status_code == 409
    everything = lena.get("/api/v1/agreements?email=nia@free.example&include_revoked=true")
    assert everything.json()["count"] == 2


def test_errors_name_the_field_and_others_are_refused(api):
    lena = api("lena")
    response = lena.post(
        "/api/v1/agreements", body(name="Offer letter"), content_type="application/json"
    )
    assert response.status_code == 422
    assert response["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "name"
    response = lena.post(
        "/api/v1/agreements", body(evidence_url="ftp://x"), content_type="application/json"
    )
    assert response.status_code == 422 and "evidence_url" in response.content.decode()
    rita = api("rita")
    assert (
        rita.post("/api/v1/agreements", body(), content_type="application/json").status_code == 403
    )
    assert rita.get("/api/v1/agreements").status_code == 403
    assert (
        lena.post(
            "/api/v1/agreements/999999/revoke", {"reason": "x"}, content_type="application/json"
        ).status_code
        == 404
    )
