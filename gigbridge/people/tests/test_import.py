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
    assert import_file(path, actor="t") == {"created": 3, "updated": 0, "accounts": 2}
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
