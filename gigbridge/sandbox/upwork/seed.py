"""Seeding the marketplace: organizations, client users, the apps, freelancers, the dials.

Idempotent (the runner calls it on every start). App secrets live in 0600 files in the sandbox
folder, so ``info`` can print them; the database keeps their hashes.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.db import transaction

from gigbridge.config import read_or_create

from ..models import digest
from ..paths import new_secret, sandbox_dir
from . import defaults
from .models import App, ClientUser, Dials, Freelancer, Membership, Organization


@transaction.atomic
def seed() -> None:
    for org_id, name in defaults.ORGANIZATIONS:
        Organization.objects.get_or_create(id=org_id, defaults={"rid": org_id[-7:], "name": name})
    for user_id, nid, first, last, email, orgs in defaults.CLIENT_USERS:
        user, _ = ClientUser.objects.get_or_create(
            id=user_id,
            defaults={"nid": nid, "first_name": first, "last_name": last, "email": email},
        )
        for index, org_id in enumerate(orgs):
            Membership.objects.get_or_create(
                user=user, organization_id=org_id, defaults={"is_default": index == 0}
            )
    folder = sandbox_dir()
    for name, secret_file, scopes, owner in defaults.APPS:
        secret = read_or_create(folder / secret_file, new_secret)
        app, created = App.objects.get_or_create(
            name=name,
            defaults={
                "client_id": secrets.token_hex(16),
                "secret_hash": digest(secret),
                "redirect_uris": defaults.REDIRECTS,
                "scopes": scopes,
                "owner": ClientUser.objects.get(email=owner),
            },
        )
        if not created:
            app.secret_hash = digest(secret)
            app.save(update_fields=["secret_hash"])
    for uid, key, nid, first, last, country, title, skills, rate, changes in defaults.FREELANCERS:
        Freelancer.objects.get_or_create(
            id=uid,
            defaults={
                "organization_id": str(int(uid) + 100_000_000_000_000_000),
                "profile_key": key,
                "nid": nid,
                "first_name": first,
                "last_name": last,
                "email": f"{nid}@freelancers.example",
                "country": country,
                "title": title,
                "skills": skills,
                "hourly_rate": Decimal(rate),
                "persona": defaults.persona(changes),
            },
        )
    Dials.objects.get_or_create(pk=1)


def app_secret(name: str) -> str:
    file_name = next(f for app, f, *_ in defaults.APPS if app == name)
    return (sandbox_dir() / file_name).read_text().strip()
