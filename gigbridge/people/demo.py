"""Demo people for the embedded default: a requester, a manager and one holder of each role."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from .actions import grant_role
from .models import Agreement, Person, Role

# username, first, last, email, roles, manager username
DEMO_PEOPLE = [
    ("max", "Max", "Manager", "max@contoso.example", [Role.REQUESTER], None),
    ("rita", "Rita", "Requester", "rita@contoso.example", [Role.REQUESTER], "max"),
    ("paula", "Paula", "Procurement", "paula@contoso.example", [Role.PROCUREMENT], "max"),
    ("lena", "Lena", "Legal", "lena@contoso.example", [Role.LEGAL], "max"),
    ("hank", "Hank", "HR", "hank@contoso.example", [Role.HR], "max"),
    ("fiona", "Fiona", "Finance", "fiona@contoso.example", [Role.FINANCE], "max"),
    ("carol", "Carol", "Owner", "carol.owner@contoso.example", [Role.REQUESTER], "max"),
    ("dan", "Dan", "Owner", "dan.owner@contoso.example", [Role.REQUESTER], "max"),
    ("ada", "Ada", "Admin", "ada@contoso.example", [Role.PROGRAM_ADMIN], None),
    (
        "audrey",
        "Audrey",
        "Auditor",
        "audrey@contoso.example",
        [Role.AUDITOR, Role.SECURITY_REVIEWER],
        None,
    ),
]
DEMO_FREELANCERS = [
    ("freya@freelancers.example", "Freya Freelance", "PT", ["NDA", "MSA"]),
    ("omar@freelancers.example", "Omar Designer", "EG", ["NDA"]),
]


def credentials_file(data_dir: Path) -> Path:
    return data_dir / "demo-credentials.txt"


@transaction.atomic
def load(password: str) -> list[str]:
    """Create the demo people (idempotent). Returns the usernames created."""
    User = get_user_model()
    created_names = []
    persons = {}
    for username, first, last, email, roles, _ in DEMO_PEOPLE:
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "email": email}
        )
        if created:
            user.set_password(password)
            user.save()
            created_names.append(username)
        for role in roles:
            grant_role(user, role)
        persons[username], _ = Person.objects.get_or_create(
            email=email,
            defaults={
                "kind": Person.Kind.EMPLOYEE,
                "display_name": f"{first} {last}",
                "country": "DE",
                "user": user,
            },
        )
    for username, *_, manager in DEMO_PEOPLE:
        if manager and persons[username].manager_id is None:
            persons[username].manager = persons[manager]
            persons[username].save(update_fields=["manager"])
    for email, name, country, agreements in DEMO_FREELANCERS:
        person, _ = Person.objects.get_or_create(
            email=email,
            defaults={"kind": Person.Kind.FREELANCER, "display_name": name, "country": country},
        )
        for agreement in agreements:
            # Once only: loading the demo again must not undo a revocation or a re-signing.
            if not Agreement.objects.filter(person=person, name=agreement).exists():
                Agreement.objects.create(
                    person=person,
                    name=agreement,
                    signed_on="2026-01-05",
                    recorded_by_label="demo data",
                )
    return created_names


def ensure_password(data_dir: Path) -> str:
    """One random demo password per installation, kept readable only by its owner."""
    path = credentials_file(data_dir)
    if path.exists():
        return path.read_text().split("password: ", 1)[1].split()[0]
    password = secrets.token_urlsafe(12)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(
            "Gigbridge demo accounts (embedded default only)\n"
            f"usernames: {', '.join(p[0] for p in DEMO_PEOPLE)}\n"
            f"password: {password}\n"
        )
    return password
