"""A body declared larger than the largest upload is refused before it is read or parsed, for
anyone (the permission check comes after parsing), as a page or as problem+json."""

import pytest

from gigbridge.web.bodysize import BODY_MAX

pytestmark = pytest.mark.django_db


def test_an_oversized_evidence_upload_is_refused_before_parsing(api, people):
    response = api("rita").post(
        "/api/v1/agreements/1/evidence",
        data=b"x" * 10,
        content_type="multipart/form-data; boundary=b",
        CONTENT_LENGTH=str(BODY_MAX + 1),
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert str(BODY_MAX) in response.json()["detail"]


def test_an_oversized_form_post_gets_the_too_large_page(client, people):
    client.force_login(people["lena"])
    response = client.post(
        "/agreements/",
        data=b"x",
        content_type="multipart/form-data; boundary=b",
        CONTENT_LENGTH=str(BODY_MAX + 1),
    )
    assert response.status_code == 413
    assert "larger than Gigbridge accepts" in response.content.decode()
    assert "Content-Security-Policy" in response


def test_a_body_within_the_bound_goes_through(client, people):
    client.force_login(people["lena"])
    assert client.get("/agreements/").status_code == 200
