"""Import people from CSV (an HR export): employees with their managers, roles, freelancers.

Columns: email, first_name, last_name, kind, country, manager_email, username, roles
(``roles`` separated by ';'; ``username`` given = the person gets a local account), and optional
``agreements`` (agreements signed elsewhere, ';'-separated ``NAME:SIGNED[:EXPIRES]`` with ISO
dates, e.g. ``NDA:2026-01-05;MSA:2026-01-05:2028-01-04``) with ``agreement_evidence`` (a link
to the signed documents). Every row is checked before anything is written; problems are
reported as ``FILE:ROW: column: message``.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from gigbridge.audit.actions import record

from .actions import check_agreement, grant_role, record_agreement
from .models import Agreement, Person, Role

COLUMNS = [
    "email",
    "first_name",
    "last_name",
    "kind",
    "country",
    "manager_email",
    "username",
    "roles",
    "agreements",  # optional
    "agreement_evidence",  # optional
]
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class ImportProblem:
    row: int
    column: str
    message: str


class PeopleImportError(Exception):
    def __init__(self, filename: str, problems: list[ImportProblem]):
        self.problems = problems
        super().__init__(
            "\n".join(f"{filename}:{p.row}: {p.column}: {p.message}" for p in problems)
        )


def _agreements(row: dict) -> list[tuple[str, str, str]]:
    """(name, signed, expires) for each entry of the row's ``agreements`` column."""
    out = []
    for entry in filter(None, (e.strip() for e in (row.get("agreements") or "").split(";"))):
        name, _, dates = entry.partition(":")
        signed, _, expires = dates.partition(":")
        out.append((name.strip(), signed.strip(), expires.strip()))
    return out


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _check_agreements(number: int, row: dict, required: list[str]) -> list[ImportProblem]:
    problems = []
    for name, signed, expires in _agreements(row):
        if not signed or _date(signed) is None:
            problems.append(
                ImportProblem(
                    number,
                    "agreements",
                    f"{name}: write NAME:SIGNED[:EXPIRES] with ISO dates (got {signed!r})",
                )
            )
            continue
        if expires and _date(expires) is None:
            problems.append(
                ImportProblem(number, "agreements", f"{name}: expiry {expires!r} is not a date")
            )
            continue
        for p in check_agreement(
            email=(row.get("email") or "").strip().lower(),
            name=name,
            signed_on=_date(signed),
            expires_on=_date(expires),
            evidence_url=(row.get("agreement_evidence") or "").strip(),
            required=required,
        ):
            if p.field == "email":
                continue  # reported once, for the email column
            column = "agreement_evidence" if p.field == "evidence_url" else "agreements"
            problems.append(ImportProblem(number, column, f"{name}: {p.field}: {p.message}"))
    return problems


def _required_agreements() -> list[str]:
    from gigbridge.program import actions as program

    return list(program.current()[1].compliance.required_agreements)


def _check(rows: list[dict], known_emails: set[str]) -> list[ImportProblem]:
    problems = []
    required = (
        _required_agreements() if any((r.get("agreements") or "").strip() for r in rows) else []
    )
    emails_in_file = {(r.get("email") or "").strip().lower() for r in rows}
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        email = (row.get("email") or "").strip().lower()
        if not EMAIL.match(email):
            problems.append(ImportProblem(number, "email", f"not an email address: {email!r}"))
        if row.get("kind", "").strip() not in Person.Kind.values:
            problems.append(
                ImportProblem(number, "kind", "must be one of " + ", ".join(Person.Kind.values))
            )
        country = (row.get("country") or "").strip()
        if country and not re.fullmatch(r"[A-Z]{2}", country):
            problems.append(ImportProblem(number, "country", "use the ISO 3166 two-letter code"))
        manager = (row.get("manager_email") or "").strip().lower()
        if manager and manager not in emails_in_file | known_emails:
            problems.append(
                ImportProblem(
                    number, "manager_email", f"{manager} is neither in this file nor known"
                )
            )
        for role in filter(None, (r.strip() for r in (row.get("roles") or "").split(";"))):
            if role not in Role.values:
                problems.append(
                    ImportProblem(
                        number,
                        "roles",
                        f"unknown role {role!r}; roles are " + ", ".join(Role.values),
                    )
                )
        problems += _check_agreements(number, row, required)
    return problems


def import_file(path: Path, *, actor: str) -> dict[str, int]:
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ("email", "kind") if c not in (reader.fieldnames or [])]
        if missing:
            raise PeopleImportError(
                str(path), [ImportProblem(1, c, "required column is missing") for c in missing]
            )
        rows = list(reader)
    known = set(Person.objects.values_list("email", flat=True))
    problems = _check(rows, known)
    if problems:
        raise PeopleImportError(str(path), problems)
    return _write(rows, actor)


@transaction.atomic
def _write(rows: list[dict], actor: str) -> dict[str, int]:
    User = get_user_model()
    counts = {"created": 0, "updated": 0, "accounts": 0, "agreements": 0}
    persons = {}
    for row in rows:
        email = row["email"].strip().lower()
        name = f"{row.get('first_name', '').strip()} {row.get('last_name', '').strip()}".strip()
        person, created = Person.objects.update_or_create(
            email=email,
            defaults={
                "kind": row["kind"].strip(),
                "display_name": name or email,
                "country": (row.get("country") or "").strip(),
            },
        )
        counts["created" if created else "updated"] += 1
        username = (row.get("username") or "").strip()
        if username:
            user, made = User.objects.get_or_create(
                username=username,
                defaults={
                    "email": email,
                    "first_name": row.get("first_name", "").strip(),
                    "last_name": row.get("last_name", "").strip(),
                },
            )
            if made:
                user.set_unusable_password()  # they sign in through the company's identity provider
                user.save()
                counts["accounts"] += 1
            if person.user_id != user.pk:
                person.user = user
                person.save(update_fields=["user"])
            for role in filter(None, (r.strip() for r in (row.get("roles") or "").split(";"))):
                grant_role(user, role)
        persons[email] = (person, (row.get("manager_email") or "").strip().lower())
        for name, signed, expires in _agreements(row):
            # The same agreement imported again is left as it is (re-running an import is safe).
            if not Agreement.objects.filter(
                person=person,
                name=name,
                signed_on=_date(signed),
                expires_on=_date(expires),
                revoked_at__isnull=True,
            ).exists():
                record_agreement(
                    None,
                    actor=f"{actor} (people import)",
                    email=email,
                    name=name,
                    signed_on=_date(signed),
                    expires_on=_date(expires),
                    evidence_url=(row.get("agreement_evidence") or "").strip(),
                    source=Agreement.Source.IMPORTED,
                )
                counts["agreements"] += 1
    for person, manager_email in persons.values():
        if manager_email:
            manager = persons.get(manager_email, (None,))[0] or Person.objects.get(
                email=manager_email
            )
            if person.manager_id != manager.pk:
                person.manager = manager
                person.save(update_fields=["manager"])
    record(
        user=None,
        actor=actor,
        action="people.imported",
        object_type="people",
        object_id="csv",
        after=counts,
    )
    return counts
