import pytest

from gigbridge.people.importer import PeopleImportError, import_file
from gigbridge.people.models import Person

HEADER = "email,first_name,last_name,kind,country,manager_email,username,roles\n"


@pytest.mark.django_db
def test_import_creates_people_managers_and_roles(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(
        HEADER + "bo@corp.example,Bo,Boss,employee,DE,,bo,requester\n"
        "al@corp.example,Al,Ace,employee,DE,bo@corp.example,al,legal;hr\n"
        "fi@free.example,Fi,Lance,freelancer,PT,,,\n"
    )
    assert import_file(path, actor="t") == {
        "created": 3,
        "updated": 0,
        "accounts": 2,
        "agreements": 0,
    }
    al = Person.objects.get(email="al@corp.example")
    assert al.manager.email == "bo@corp.example"
    assert set(al.user.role_assignments.values_list("role", flat=True)) == {"legal", "hr"}
    assert not al.user.has_usable_password()
    assert import_file(path, actor="t")["updated"] == 3  # idempotent


@pytest.mark.django_db
def test_import_reports_every_problem_with_its_row_and_writes_nothing(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(HEADER + "not-an-email,A,B,robot,Germany,x@y.example,,boss\n")
    with pytest.raises(PeopleImportError) as exc:
        import_file(path, actor="t")
    text = str(exc.value)
    for expected in [
        "people.csv:2: email:",
        "people.csv:2: kind:",
        "people.csv:2: country:",
        "people.csv:2: manager_email:",
        "people.csv:2: roles: unknown role 'boss'",
    ]:
        assert expected in text
    assert not Person.objects.exists()


AGREEMENT_HEADER = HEADER.rstrip("\n") + ",agreements,agreement_evidence\n"


@pytest.mark.django_db
def test_import_records_agreements_signed_elsewhere_once(tmp_path, policy):
    from gigbridge import clock
    from gigbridge.audit.models import AuditEvent
    from gigbridge.people import queries as people_queries
    from gigbridge.program import actions as program

    path = tmp_path / "people.csv"
    path.write_text(
        AGREEMENT_HEADER + "fi@free.example,Fi,Lance,freelancer,PT,,,,"
        "NDA:2026-01-05;MSA:2026-01-05:2028-01-04,https://docs.example/fi.pdf\n"
        "ed@corp.example,Ed,Em,employee,DE,,,,,\n"
    )
    assert import_file(path, actor="t")["agreements"] == 2
    fi = Person.objects.get(email="fi@free.example")
    msa = fi.agreements.get(name="MSA")
    assert str(msa.expires_on) == "2028-01-04" and msa.source == "imported"
    assert msa.evidence_url == "https://docs.example/fi.pdf"
    assert people_queries.missing_agreements(fi, program.current()[1], clock.today()) == []
    event = AuditEvent.objects.filter(action="agreement.recorded").first()
    assert event.actor == "t (people import)"
    assert import_file(path, actor="t")["agreements"] == 0  # idempotent


@pytest.mark.django_db
def test_import_checks_agreement_columns_and_writes_nothing(tmp_path, policy):
    path = tmp_path / "people.csv"
    path.write_text(
        AGREEMENT_HEADER + "fi@free.example,Fi,Lance,freelancer,PT,,,,"
        "NDA;Offer:2026-01-05;MSA:2026-01-05:soon;MSA:2026-01-05,ftp://x\n"
    )
    with pytest.raises(PeopleImportError) as exc:
        import_file(path, actor="t")
    text = str(exc.value)
    for expected in [
        "people.csv:2: agreements: NDA: write NAME:SIGNED[:EXPIRES]",
        "people.csv:2: agreements: Offer: name: 'Offer' is not an agreement the policy names",
        "people.csv:2: agreements: MSA: expiry 'soon' is not a date",
        "people.csv:2: agreement_evidence: MSA: evidence_url: must be an http",
    ]:
        assert expected in text, text
    assert not Person.objects.exists()
