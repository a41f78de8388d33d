"""The signed copy of an agreement through the API: uploaded by legal, HR and program admins
with the web's bounds, kept private, audited, downloaded by those who may see agreements."""

import stat

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gigbridge import clock, limits
from gigbridge.audit.describe import describe
from gigbridge.audit.models import AuditEvent
from gigbridge.people.models import Agreement

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.7 the signed NDA"
PNG = b"\x89PNG\r\n\x1a\n a scan"


@pytest.fixture
def agreement(api, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    response = api("lena").post(
        "/api/v1/agreements",
        {"email": "nia@free.example", "name": "NDA", "signed_on": str(clock.today())},
        content_type="application/json",
    )
    assert response.status_code == 201
    return Agreement.objects.get(pk=response.json()["id"])


def upload(client, agreement, name="nda.pdf", content=PDF):
    return client.post(
        f"/api/v1/agreements/{agreement.pk}/evidence",
        {"evidence_file": SimpleUploadedFile(name, content)},
    )


def test_legal_uploads_the_signed_copy_and_readers_download_it(api, agreement, tmp_path):
    response = upload(api("lena"), agreement)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["evidence_file"] == "nda.pdf" and len(body["evidence_sha256"]) == 64
    agreement.refresh_from_db()
    stored = tmp_path / agreement.evidence_file
    assert stored.read_bytes() == PDF
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600  # private to Gigbridge's account
    assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700

    event = AuditEvent.objects.get(action="agreement.evidence_added")
    assert event.before is None
    assert event.after["evidence_sha256"] == body["evidence_sha256"]
    assert (
        describe(event).text
        == "Lena Legal added the signed copy “nda.pdf” to the NDA of nia@free.example"
    )

    for reader in ("lena", "hank", "ada", "audrey"):
        download = api(reader).get(f"/api/v1/agreements/{agreement.pk}/evidence")
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == PDF
        assert download["Content-Type"] == "application/pdf"
        assert download["Content-Disposition"].startswith('attachment; filename="nda.pdf"')
        assert download["X-Content-Type-Options"] == "nosniff"
    refused = api("rita").get(f"/api/v1/agreements/{agreement.pk}/evidence")
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"

    # A better scan replaces it; the trail names both copies.
    replaced = upload(api("hank"), agreement, "scan.png", PNG)
    assert replaced.status_code == 200 and replaced.json()["evidence_file"] == "scan.png"
    event = AuditEvent.objects.filter(action="agreement.evidence_added").last()
    assert event.before == {"evidence_file": "nda.pdf", "evidence_sha256": body["evidence_sha256"]}
    download = api("audrey").get(f"/api/v1/agreements/{agreement.pk}/evidence")
    assert download["Content-Type"] == "image/png"
    assert stored.exists()  # the earlier copy is kept


def test_only_agreement_keepers_upload(api, agreement):
    for username in ("audrey", "rita", "paula"):
        response = upload(api(username), agreement)
        assert response.status_code == 403
        assert response["Content-Type"] == "application/problem+json"
    assert not AuditEvent.objects.filter(action="agreement.evidence_added").exists()
    none_yet = api("lena").get(f"/api/v1/agreements/{agreement.pk}/evidence")
    assert none_yet.status_code == 404
    assert none_yet.json()["detail"] == "this agreement has no uploaded evidence"
    assert upload(api("lena"), Agreement(pk=99999)).status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("x.exe", b"MZ", "must be a pdf, png, jpg, jpeg file"),
        ("x.pdf", b"<html>", "is not a pdf file"),
        ("x.pdf", b"%PDF" + b"0" * limits.EVIDENCE_FILE_MAX, "must be at most 10 MiB"),
    ],
)
def test_bad_files_are_refused_naming_the_field(api, agreement, tmp_path, name, content, message):
    response = upload(api("lena"), agreement, name, content)
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    [error] = response.json()["errors"]
    assert (error["field"], error["message"]) == ("evidence_file", message)
    assert not (tmp_path / "agreements").exists()
    agreement.refresh_from_db()
    assert agreement.evidence_file == ""


def test_no_file_or_a_revoked_agreement(api, agreement):
    missing = api("lena").post(f"/api/v1/agreements/{agreement.pk}/evidence", {})
    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == ["evidence_file"]
    as_json = api("lena").post(
        f"/api/v1/agreements/{agreement.pk}/evidence", {}, content_type="application/json"
    )
    assert as_json.status_code == 422
    assert [e["field"] for e in as_json.json()["errors"]] == ["evidence_file"]

    api("lena").post(
        f"/api/v1/agreements/{agreement.pk}/revoke",
        {"reason": "wrong person"},
        content_type="application/json",
    )
    response = upload(api("lena"), agreement)
    assert response.status_code == 409
    assert "revoked" in response.json()["detail"]


def test_an_unprintable_file_name_is_cleaned(api, agreement):
    response = upload(api("lena"), agreement, "nda\x00\x07.pdf")
    assert response.status_code == 200
    assert response.json()["evidence_file"] == "nda.pdf"
