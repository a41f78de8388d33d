"""The set-up wizard's questions as web forms: the first admin's account, then the program.

The forms only collect text; ``wizard.validate_answers`` decides (the same checks as the
terminal and answers files), and its problems are put back beside the field they name.
Repeatable rows (cost centers, rules, agreements) are numbered fields (``cc-0-code``); adding
or removing a row posts the form back, so no script is needed.
"""

from __future__ import annotations

import calendar
from typing import Any

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError

from .policy import (
    APPROVAL_MODES,
    APPROVER_ROLES,
    DATA_CLASSIFICATIONS,
    FILE_SHARE_ROLES,
    WORKER_CATEGORIES,
)
from .wizard import LABELS, MAX_AGREEMENTS, MAX_COST_CENTERS, MAX_RULES
from .wizard_code import MAX_TYPED

__all__ = ["AdminForm", "ProgramForm", "CostCenterRow", "RuleRow", "AgreementRow", "ROWS"]


def _choices(values) -> list[tuple[str, str]]:
    return [(value, value.replace("_", " ")) for value in values]


class AdminForm(forms.Form):
    """The first admin's account; needs the set-up code printed by `gigbridge init` / `up`."""

    setup_code = forms.CharField(
        label="Set-up code",
        max_length=MAX_TYPED,
        help_text="Printed by `gigbridge init` or `gigbridge up`, and kept in setup-code.txt in "
        "the data folder.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    username = forms.CharField(label="Username", max_length=150)
    first_name = forms.CharField(label="First name", max_length=150)
    last_name = forms.CharField(label="Last name", max_length=150)
    email = forms.EmailField(label="Email", max_length=254)
    password = forms.CharField(
        label="Password",
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label="Password again",
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user_model = get_user_model()
        try:
            user_model.username_validator(username)
        except ValidationError as error:
            raise ValidationError(error.messages) from None
        return username

    def clean(self):
        data = super().clean()
        password, again = data.get("password"), data.get("password_again")
        if password and again and password != again:
            self.add_error("password_again", "The two passwords differ.")
        elif password:
            candidate = get_user_model()(
                username=data.get("username", ""),
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                email=data.get("email", ""),
            )
            try:
                password_validation.validate_password(password, candidate)
            except ValidationError as error:
                self.add_error("password", error)
        return data


class ProgramForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False  # the answers check says what is missing, beside the field

    program_name = forms.CharField(label=LABELS["program_name"], max_length=200)
    currency = forms.CharField(
        label=LABELS["currency"], max_length=3, initial="EUR", help_text="Such as EUR, USD, GBP."
    )
    fiscal_year_start_month = forms.TypedChoiceField(
        label="Month the fiscal year starts",
        choices=[(str(n), calendar.month_name[n]) for n in range(1, 13)],
        initial="1",
    )
    exchange_rates = forms.CharField(
        label="Exchange rates",
        required=False,
        max_length=1000,
        initial="USD=0.92",
        help_text="Units of the program currency for one unit of the marketplace's currency "
        "(Upwork bills in USD): CODE=RATE, comma-separated, such as USD=0.92.",
    )
    task_categories = forms.CharField(
        label=LABELS["task_categories"],
        max_length=3000,
        initial="design, software-development, content, data-analysis, translation",
        help_text="Comma-separated; lowercase letters, digits and hyphens.",
    )
    worker_categories = forms.MultipleChoiceField(
        label=LABELS["worker_categories"],
        choices=_choices(WORKER_CATEGORIES),
        widget=forms.CheckboxSelectMultiple,
        initial=list(WORKER_CATEGORIES),
        required=False,
    )
    max_engagement_days = forms.CharField(
        label=LABELS["max_engagement_days"], max_length=10, initial="180"
    )
    cooling_off_days = forms.CharField(
        label=LABELS["cooling_off_days"], max_length=10, initial="90"
    )
    blocked_countries = forms.CharField(
        label=LABELS["blocked_countries"],
        required=False,
        max_length=1500,
        initial="CU, IR, KP, SY",
        help_text="Comma-separated, such as CU, KP.",
    )
    access_grace_days = forms.CharField(
        label=LABELS["access_grace_days"], max_length=10, initial="3"
    )
    file_share_role = forms.ChoiceField(
        label="Freelancers' access to the project folder",
        choices=_choices(FILE_SHARE_ROLES),
        initial="write",
    )
    notifications_channel = forms.ChoiceField(
        label="Where notices go by default",
        choices=[("outlook", "Outlook mail"), ("teams", "Teams"), ("both", "both")],
        initial="outlook",
    )
    security_contacts = forms.CharField(
        label=LABELS["security_contacts"],
        required=False,
        max_length=5000,
        help_text="Comma-separated email addresses.",
    )


class CostCenterRow(forms.Form):
    code = forms.CharField(label="Code", max_length=32, required=False)
    name = forms.CharField(label="Name", max_length=200, required=False)
    annual_budget = forms.CharField(label="Annual budget", max_length=20, required=False)
    owner = forms.CharField(label="Owner's email", max_length=254, required=False)


class RuleRow(forms.Form):
    id = forms.CharField(label="Rule id", max_length=50, required=False)
    description = forms.CharField(label="Why (description)", max_length=300, required=False)
    approvers = forms.MultipleChoiceField(
        label="Approvers",
        choices=_choices(APPROVER_ROLES),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    amount_at_least = forms.CharField(
        label="From amount",
        max_length=20,
        required=False,
        help_text="Leave empty: any amount.",
    )
    data_classification = forms.MultipleChoiceField(
        label="Only for data",
        choices=_choices(DATA_CLASSIFICATIONS),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None ticked: any data.",
    )
    worker_category = forms.MultipleChoiceField(
        label="Only for workers",
        choices=_choices(WORKER_CATEGORIES),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None ticked: any worker.",
    )
    mode = forms.ChoiceField(
        label="Several approvers decide",
        choices=[
            (mode, "at the same time" if mode == "parallel" else "one after another")
            for mode in APPROVAL_MODES
        ],
        initial="parallel",
        required=False,
    )


class AgreementRow(forms.Form):
    name = forms.CharField(label="Agreement", max_length=50, required=False)
    document = forms.CharField(
        label="Document (https:// address or data-folder file)", max_length=500, required=False
    )
    valid_days = forms.CharField(
        label="A signature holds (days)",
        max_length=10,
        required=False,
        help_text="Leave empty: it does not expire.",
    )


# answers key -> (row form, field prefix, most rows)
ROWS: dict[str, tuple[type[forms.Form], str, int]] = {
    "cost_centers": (CostCenterRow, "cc", MAX_COST_CENTERS),
    "approval_rules": (RuleRow, "rule", MAX_RULES),
    "agreements": (AgreementRow, "agr", MAX_AGREEMENTS),
}


def comma_list(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def rates(text: str) -> dict[str, str] | str:
    """ "USD=0.92, GBP=1.16" -> {"USD": "0.92", ...}; the raw text back if it cannot be read
    (the answers check then says why)."""
    found: dict[str, str] = {}
    for part in comma_list(text):
        code, sep, rate = part.partition("=")
        if not sep:
            return text
        found[code.strip()] = rate.strip()
    return found


def answers_data(program: dict, rows: dict[str, list[dict]]) -> dict[str, Any]:
    """The answers, as ``wizard.validate_answers`` reads them, from the forms' raw values."""
    data: dict[str, Any] = {
        "program_name": program.get("program_name", ""),
        "currency": program.get("currency", ""),
        "fiscal_year_start_month": program.get("fiscal_year_start_month") or 1,
        "exchange_rates": rates(program.get("exchange_rates", "")),
        "task_categories": comma_list(program.get("task_categories", "")),
        "worker_categories": list(program.get("worker_categories") or []),
        "max_engagement_days": program.get("max_engagement_days", ""),
        "cooling_off_days": program.get("cooling_off_days", ""),
        "blocked_countries": comma_list(program.get("blocked_countries", "")),
        "access_grace_days": program.get("access_grace_days", ""),
        "file_share_role": program.get("file_share_role", ""),
        "notifications_channel": program.get("notifications_channel", ""),
        "security_contacts": comma_list(program.get("security_contacts", "")),
    }
    data["cost_centers"] = [dict(row) for row in rows["cost_centers"]]
    data["approval_rules"] = [_rule(row) for row in rows["approval_rules"]]
    data["agreements"] = [
        {key: value for key, value in row.items() if value not in ("", None)}
        for row in rows["agreements"]
    ]
    return data


def _rule(row: dict) -> dict:
    rule: dict[str, Any] = {"id": row.get("id", ""), "approvers": list(row.get("approvers") or [])}
    if row.get("description"):
        rule["description"] = row["description"]
    if row.get("mode"):
        rule["mode"] = row["mode"]
    when = {
        key: row[key]
        for key in ("amount_at_least", "data_classification", "worker_category")
        if row.get(key)
    }
    if when:
        rule["when"] = when
    return rule


def initial_from_answers(answers: dict) -> tuple[dict, dict[str, list[dict]]]:
    """The forms' values for stored answers (going back from the review)."""
    program = {
        key: answers.get(key)
        for key in ProgramForm.base_fields
        if key
        not in ("exchange_rates", "task_categories", "blocked_countries", "security_contacts")
    }
    program["exchange_rates"] = ", ".join(
        f"{code}={rate}" for code, rate in (answers.get("exchange_rates") or {}).items()
    )
    for key in ("task_categories", "blocked_countries", "security_contacts"):
        program[key] = ", ".join(answers.get(key) or [])
    rows = {
        "cost_centers": [
            {k: ("" if v is None else str(v)) for k, v in row.items()}
            for row in answers.get("cost_centers") or []
        ],
        "approval_rules": [
            {
                "id": rule.get("id", ""),
                "description": rule.get("description") or "",
                "approvers": rule.get("approvers") or [],
                "mode": rule.get("mode") or "parallel",
                "amount_at_least": str((rule.get("when") or {}).get("amount_at_least") or ""),
                "data_classification": (rule.get("when") or {}).get("data_classification") or [],
                "worker_category": (rule.get("when") or {}).get("worker_category") or [],
            }
            for rule in answers.get("approval_rules") or []
        ],
        "agreements": [
            {k: ("" if v is None else str(v)) for k, v in row.items()}
            for row in answers.get("agreements") or []
        ],
    }
    return program, rows
