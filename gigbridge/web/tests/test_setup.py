"""The set-up wizard in the web, from an EMPTY installation: no accounts, no policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.test import Client

from gigbridge.audit.models import AuditEvent
from gigbridge.people.actions import grant_role, roles_of
from gigbridge.program import wizard_code
from gigbridge.program.models import PolicyVersion

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "a long and unusual passphrase 7"
ADDRESS = "10.1.2.3"


@pytest.fixture
def empty(settings, tmp_path):
    """A new installation: migrated, nobody, no policy; the set-up code made by `init`."""
    settings.DATA_DIR = tmp_path
    settings.POLICY_FILE = tmp_path / "program.yaml"
    code, _ = wizard_code.ensure_code(tmp_path)
    return code


def admin_form(code: str, **overrides) -> dict:
    data = {
        "setup_code": code,
        "username": "priya",
        "first_name": "Priya",
        "last_name": "Program",
        "email": "priya@acme.example",
        "password": PASSWORD,
        "password_again": PASSWORD,
    }
    return {**data, **overrides}


def program_form(answers: dict) -> dict:
    """The questions page's fields for ``answers`` (examples/answers.yaml's keys)."""
    data = {
        "program_name": answers["program_name"],
        "currency": answers["currency"],
        "fiscal_year_start_month": str(answers.get("fiscal_year_start_month", 1)),
        "exchange_rates": ", ".join(f"{k}={v}" for k, v in answers["exchange_rates"].items()),
        "task_categories": ", ".join(answers["task_categories"]),
        "worker_categories": answers["worker_categories"],
        "max_engagement_days": str(answers["max_engagement_days"]),
        "cooling_off_days": str(answers["cooling_off_days"]),
        "blocked_countries": ", ".join(answers["blocked_countries"]),
        "access_grace_days": str(answers["access_grace_days"]),
        "file_share_role": answers["file_share_role"],
        "notifications_channel": answers["notifications_channel"],
        "security_contacts": ", ".join(answers["security_contacts"]),
        "cc-count": str(len(answers["cost_centers"])),
        "rule-count": str(len(answers["approval_rules"])),
        "agr-count": str(len(answers["agreements"])),
        "review": "1",
    }
    for i, center in enumerate(answers["cost_centers"]):
        for key, value in center.items():
            data[f"cc-{i}-{key}"] = str(value)
    for i, rule in enumerate(answers["approval_rules"]):
        data[f"rule-{i}-id"] = rule["id"]
        data[f"rule-{i}-description"] = rule.get("description", "")
        data[f"rule-{i}-approvers"] = rule["approvers"]
        data[f"rule-{i}-mode"] = rule.get("mode", "parallel")
        for key, value in (rule.get("when") or {}).items():
            data[f"rule-{i}-{key}"] = value if isinstance(value, list) else str(value)
    for i, agreement in enumerate(answers["agreements"]):
        for key, value in agreement.items():
            data[f"agr-{i}-{key}"] = str(value)
    return data


def primary_buttons(response) -> list[str]:
    """The submit buttons a person sees that are not secondary: one per step."""
    html = response.content.decode()
    buttons = re.findall(r"<button([^>]*)>([^<]*)</button>", html)
    return [
        text.strip()
        for attrs, text in buttons
        if "secondary" not in attrs and "visually-hidden" not in attrs and "submit" in attrs
    ]


def example_answers() -> dict:
    return yaml.safe_load((ROOT / "examples" / "answers.yaml").read_text())


def test_the_first_admin_defines_the_program_and_it_starts(empty, settings):
    client = Client(REMOTE_ADDR=ADDRESS)
    # Every page leads to the wizard; machines' routes answer as usual.
    assert client.get("/")["Location"] == "/setup/"
    assert client.get("/requests/")["Location"] == "/setup/"
    assert client.get("/healthz").status_code != 302
    page = client.get("/setup/")
    assert page.status_code == 200 and b'<label for="id_setup_code">Set-up code' in page.content
    assert primary_buttons(page) == ["Create the admin account"]

    wrong = client.post("/setup/", admin_form("aaaa-bbbb-cccc-dddd"))
    assert wrong.status_code == 200
    assert b"This is not the set-up code of this installation." in wrong.content
    assert not get_user_model().objects.exists()

    weak = client.post("/setup/", admin_form(empty, password="priya", password_again="priya"))
    assert b"This password is too short" in weak.content
    assert not get_user_model().objects.exists()

    made = client.post("/setup/", admin_form(empty.upper().replace("-", " ")))
    assert made.status_code == 302 and made["Location"] == "/setup/"
    admin = get_user_model().objects.get()
    assert admin.get_full_name() == "Priya Program" and roles_of(admin) == {"program_admin"}
    assert not wizard_code.code_file(settings.DATA_DIR).exists()  # used once
    assert AuditEvent.objects.filter(action="setup.first_admin").exists()

    questions = client.get("/setup/")  # signed in as the new admin
    assert questions.status_code == 200
    assert b'<label for="id_program_name">Program name' in questions.content
    assert b'name="rule-4-approvers" value="cost_center_owner"' in questions.content
    assert primary_buttons(questions) == ["Review the policy"]

    answers = example_answers()
    form = program_form(answers)
    added = client.post("/setup/", {**form, "add": "cc"})
    assert b'name="cc-count" value="4"' in added.content
    assert b'id="id_cc-3-code"' in added.content
    removed = client.post("/setup/", {**form, "remove": "cc-0"})
    assert b'name="cc-count" value="2"' in removed.content
    assert b'value="CC-MKT"' not in removed.content

    bad = client.post("/setup/", {**form, "cc-1-owner": "dan", "currency": "EUX"})
    assert bad.status_code == 422
    body = bad.content.decode()
    assert 'id="id_cc-1-owner_error"' in body and "Must be an email address" in body
    assert 'id="id_currency_error"' in body and "EUX is not an ISO 4217 currency" in body

    reviewed = client.post("/setup/", form)
    assert reviewed.status_code == 302 and reviewed["Location"] == "/setup/review/"
    review = client.get("/setup/review/")
    assert b"# Contoso Freelance Pilot: the program policy." in review.content
    assert primary_buttons(review) == ["Start the program"]
    assert not PolicyVersion.objects.exists()

    started = client.post("/setup/review/")
    assert started.status_code == 302 and started["Location"] == "/"
    version = PolicyVersion.objects.get()
    assert version.number == 1 and version.activated_by == "priya"
    assert version.source_text == settings.POLICY_FILE.read_text()
    assert settings.POLICY_FILE.stat().st_mode & 0o777 == 0o600
    assert AuditEvent.objects.filter(action="policy.activated", actor="priya").exists()

    # Closed for good; the product runs with the answered cost centers.
    assert client.get("/setup/").status_code == 404
    assert client.get("/setup/review/").status_code == 404
    assert client.post("/setup/review/").status_code == 404
    grant_role(admin, "requester")
    new_request = client.get("/requests/new/").content.decode()
    for code in ("CC-MKT", "CC-ENG", "CC-DATA"):
        assert f'value="{code}"' in new_request


def test_going_back_from_the_review_keeps_the_answers(empty):
    client = Client(REMOTE_ADDR=ADDRESS)
    client.post("/setup/", admin_form(empty))
    client.post("/setup/", program_form(example_answers()))
    back = client.get("/setup/").content.decode()
    assert 'value="Contoso Freelance Pilot"' in back and 'value="CC-DATA"' in back
    assert 'name="agr-count" value="2"' in back


def test_a_used_code_is_refused(empty, settings):
    Client(REMOTE_ADDR=ADDRESS).post("/setup/", admin_form(empty))
    other = Client(REMOTE_ADDR="10.9.9.9")
    # Accounts exist now: the set-up is a program admin's, after signing in.
    answer = other.post("/setup/", admin_form(empty, username="mallory"))
    assert answer.status_code == 302 and answer["Location"].startswith("/login/")
    assert get_user_model().objects.count() == 1


def test_wrong_codes_are_throttled_per_address(empty, settings):
    client = Client(REMOTE_ADDR="10.4.4.4")
    answers = [
        client.post("/setup/", admin_form(f"wrong-{i}")).status_code
        for i in range(settings.SIGNIN_ADDRESS_LIMIT + 1)
    ]
    assert answers[-1] == 429 and answers[0] == 200
    # Locked: even the right code is not tried from this address.
    assert client.post("/setup/", admin_form(empty)).status_code == 429
    assert not get_user_model().objects.exists()


def test_only_a_program_admin_may_set_up_when_accounts_exist(empty, settings):
    users = get_user_model().objects
    rita = users.create_user("rita", password=PASSWORD, first_name="Rita")
    grant_role(rita, "requester")
    ada = users.create_user("ada", password=PASSWORD, first_name="Ada", last_name="Admin")
    grant_role(ada, "program_admin")
    anonymous = Client()
    assert anonymous.get("/setup/")["Location"].startswith("/login/?next=/setup/")
    assert anonymous.get("/login/").status_code == 200  # signing in still works
    client = Client()
    client.force_login(rita)
    refused = client.get("/setup/")
    assert refused.status_code == 403
    assert b"The program is not set up yet" in refused.content
    assert b"Ask Ada Admin to finish the set-up." in refused.content
    assert client.post("/setup/", program_form(example_answers())).status_code == 403
    assert client.post("/setup/review/").status_code == 403
    assert not PolicyVersion.objects.exists()
    client.force_login(ada)
    assert client.get("/setup/").status_code == 200


def test_a_policy_that_appeared_meanwhile_is_never_overwritten(empty, settings):
    client = Client(REMOTE_ADDR=ADDRESS)
    client.post("/setup/", admin_form(empty))
    client.post("/setup/", program_form(example_answers()))
    settings.POLICY_FILE.write_text("written by the operator\n")
    answer = client.post("/setup/review/")
    assert answer.status_code == 302
    assert settings.POLICY_FILE.read_text() == "written by the operator\n"
    assert not PolicyVersion.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"max_engagement_days": "forever"}, "max_engagement_days"),
        ({"access_grace_days": "9" * 40}, "access_grace_days"),
        ({"cc-0-annual_budget": "lots"}, "cc-0-annual_budget"),
        ({"cc-0-code": "x" * 40}, "cc-0-code"),
        ({"fiscal_year_start_month": "13"}, "fiscal_year_start_month"),
        ({"exchange_rates": "USD=abc"}, "exchange_rates"),
        ({"rule-0-approvers": ["ceo"]}, "rule-0-approvers"),
        ({"rule-1-amount_at_least": "-1"}, "rule-1-amount_at_least"),
        ({"agr-1-valid_days": "0"}, "agr-1-valid_days"),
        ({"worker_categories": []}, "worker_categories"),
    ],
)
def test_bad_answers_are_shown_beside_their_field_never_a_server_error(empty, changes, field):
    client = Client(REMOTE_ADDR=ADDRESS)
    client.post("/setup/", admin_form(empty))
    answer = client.post("/setup/", {**program_form(example_answers()), **changes})
    assert answer.status_code == 422
    body = answer.content.decode()
    assert f'id="id_{field}_error"' in body
    assert not PolicyVersion.objects.exists()


def test_row_counts_are_bounded(empty):
    client = Client(REMOTE_ADDR=ADDRESS)
    client.post("/setup/", admin_form(empty))
    form = {**program_form(example_answers()), "cc-count": "99999999", "cc-150-code": "CC-X"}
    answer = client.post("/setup/", form)
    # 200 rows are read at most; empty ones are left out: the three answered and CC-X's row,
    # whose missing name, budget and owner are said beside them.
    assert answer.status_code == 422
    body = answer.content.decode()
    assert 'name="cc-count" value="200"' in body
    assert 'id="id_cc-150-owner_error"' in body and 'id="id_cc-0-owner_error"' not in body
