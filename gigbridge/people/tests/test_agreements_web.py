"""The Agreements page: status per freelancer, recording and revoking."""

import pytest
from django.test import Client

from gigbridge import clock
from gigbridge.audit.models import AuditEvent
from gigbridge.people.models import Agreement

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_hr_records_and_revokes_on_the_agreements_page(people):
    hank = client_of(people["hank"])
    page = hank.get("/agreements/?email=ola@free.example&name=MSA")
    assert page.status_code == 200
    assert b"Record an agreement signed elsewhere" in page.content
    assert b'value="ola@free.example"' in page.content
    response = hank.post(
        "/agreements/",
        {
            "email": "ola@free.example",
            "display_name": "Ola Nordmann",
            "name": "MSA",
            "signed_on": str(clock.today()),
            "expires_on": "",
            "evidence_url": "https://docs.example/ola-msa.pdf",
        },
        follow=True,
    )
    assert "MSA of Ola Nordmann recorded" in response.content.decode()
    text = hank.get("/agreements/?q=ola").content.decode()
    assert "Ola Nordmann" in text and "recorded by hank" in text
    assert '<span class="badge missing">missing</span>' in text  # the NDA
    msa = Agreement.objects.get(person__email="ola@free.example", name="MSA")
    response = hank.post(f"/agreements/{msa.pk}/revoke/", {"reason": "forged"}, follow=True)
    assert "MSA of Ola Nordmann revoked" in response.content.decode()
    assert AuditEvent.objects.filter(action="agreement.revoked").count() == 1
    assert "revoked" in hank.get("/agreements/?q=ola").content.decode()


def test_refusals_are_shown_and_nothing_is_written(people):
    lena = client_of(people["lena"])
    response = lena.post(
        "/agreements/",
        {"email": "x@free.example", "name": "Contract", "signed_on": "not a date"},
        follow=True,
    )
    text = response.content.decode()
    assert "Not recorded" in text and "signed_on" in text and "not an agreement" in text
    assert not Agreement.objects.filter(person__email="x@free.example").exists()


def test_auditors_read_only_and_others_are_refused(people):
    audrey = client_of(people["audrey"])
    page = audrey.get("/agreements/")
    assert page.status_code == 200 and b"Record an agreement" not in page.content
    assert b"Freya" in page.content  # a demo freelancer
    assert audrey.post("/agreements/", {"email": "a@b.example"}).status_code == 403
    assert client_of(people["rita"]).get("/agreements/").status_code == 403
    assert b'href="/agreements/"' not in client_of(people["rita"]).get("/requests/").content


def test_an_uploaded_copy_is_kept_private_and_served_only_to_agreement_readers(
    people, settings, tmp_path
):
    import stat

    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.DATA_DIR = tmp_path
    pdf = b"%PDF-1.7 signed NDA"
    lena = client_of(people["lena"])
    fields = {"email": "up@free.example", "name": "NDA", "signed_on": str(clock.today())}
    response = lena.post(
        "/agreements/",
        {**fields, "evidence_file": SimpleUploadedFile("nda.pdf", pdf, "application/pdf")},
        follow=True,
    )
    assert "NDA of up@free.example recorded" in response.content.decode()
    agreement = Agreement.objects.get(person__email="up@free.example")
    stored = tmp_path / agreement.evidence_file
    assert stored.read_bytes() == pdf
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert agreement.evidence_file_name == "nda.pdf"
    event = AuditEvent.objects.get(action="agreement.recorded")
    assert len(event.after["evidence_sha256"]) == 64
    assert "nda.pdf" in lena.get("/agreements/?q=up@").content.decode()

    url = f"/agreements/{agreement.pk}/evidence/"
    download = client_of(people["audrey"]).get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == pdf
    assert "attachment" in download["Content-Disposition"]
    assert client_of(people["rita"]).get(url).status_code == 403
    assert Client().get(url).status_code == 302  # to sign in


def test_uploads_are_checked(people, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from gigbridge import limits

    settings.DATA_DIR = tmp_path
    lena = client_of(people["lena"])
    fields = {"email": "up@free.example", "name": "NDA", "signed_on": str(clock.today())}
    for upload, message in [
        (SimpleUploadedFile("x.exe", b"MZ"), "must be a pdf, png, jpg, jpeg file"),
        (SimpleUploadedFile("x.pdf", b"<html>"), "is not a pdf file"),
        (
            SimpleUploadedFile("x.pdf", b"%PDF" + b"0" * limits.EVIDENCE_FILE_MAX),
            "must be at most 10 MiB",
        ),
    ]:
        text = lena.post(
            "/agreements/", {**fields, "evidence_file": upload}, follow=True
        ).content.decode()
        assert "Not recorded" in text and message in text
    assert not Agreement.objects.filter(person__email="up@free.example").exists()
    assert not (tmp_path / "agreements").exists()
