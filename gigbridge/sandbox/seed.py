"""The default sandbox tenant: Contoso, Gigbridge's two app registrations, the demo employees.

Idempotent: the runner calls it on every start. The apps' client secrets live in 0600 files in
the sandbox folder (so ``info`` can print them); the database keeps only their hashes.
"""

from __future__ import annotations

from django.db import transaction

from . import tokens
from .models import AppRegistration, SandboxUser, Tenant, digest
from .paths import new_secret, read_or_create, sandbox_dir

DOMAIN = "contoso.example"

# Microsoft Graph application permissions the product's Graph client needs (app-only).
OUTSIDE_TOOLS_PERMISSIONS = [
    "User.Invite.All",
    "User.ReadWrite.All",
    "Group.ReadWrite.All",
    "TeamMember.ReadWrite.All",
    "Channel.ReadBasic.All",
    "ChannelMember.ReadWrite.All",
    "Tasks.ReadWrite.All",
    "Files.ReadWrite.All",
    "Sites.ReadWrite.All",
    "Mail.Send",
    "Team.Create",
]

# display name, secret file, application permissions, delegated permissions, redirect URIs
APPS = [
    # Signs employees in to Gigbridge (authorization code flow). Entra ignores the port of
    # loopback redirect URIs, and so does the sandbox, so any local Gigbridge port works.
    (
        "Gigbridge",
        "gigbridge-app.secret",
        [],
        ["User.Read"],
        ["http://127.0.0.1:8000/auth/oidc/callback", "http://localhost:8000/auth/oidc/callback"],
    ),
    # What Gigbridge uses to act in the tenant's tools (Graph, app-only).
    ("Gigbridge outside tools", "outside-tools.secret", OUTSIDE_TOOLS_PERMISSIONS, [], []),
]
OUTSIDE_TOOLS = "Gigbridge outside tools"
SIGN_IN_APP = "Gigbridge"

# The product's demo employees (gigbridge.people.demo.DEMO_PEOPLE): given name, surname,
# mail, job title. Copied rather than imported, because that module needs the product's apps.
EMPLOYEES = [
    ("Max", "Manager", "max@contoso.example", "Engineering Manager"),
    ("Rita", "Requester", "rita@contoso.example", "Product Designer"),
    ("Paula", "Procurement", "paula@contoso.example", "Procurement Lead"),
    ("Lena", "Legal", "lena@contoso.example", "Legal Counsel"),
    ("Hank", "HR", "hank@contoso.example", "HR Business Partner"),
    ("Fiona", "Finance", "fiona@contoso.example", "Finance Controller"),
    ("Carol", "Owner", "carol.owner@contoso.example", "Project Owner"),
    ("Dan", "Owner", "dan.owner@contoso.example", "Project Owner"),
    ("Ada", "Admin", "ada@contoso.example", "Freelance Program Admin"),
    ("Audrey", "Auditor", "audrey@contoso.example", "Internal Auditor"),
]


@transaction.atomic
def seed() -> Tenant:
    tenant, _ = Tenant.objects.get_or_create(domain=DOMAIN, defaults={"name": "Contoso"})
    folder = sandbox_dir()
    for name, secret_file, roles, scopes, redirects in APPS:
        secret = read_or_create(folder / secret_file, new_secret)
        app, created = AppRegistration.objects.get_or_create(
            tenant=tenant,
            display_name=name,
            defaults={
                "secret_hash": digest(secret),
                "application_permissions": roles,
                "delegated_permissions": scopes,
                "redirect_uris": redirects,
            },
        )
        if not created:
            # The file is the source of truth for the secret; permissions only ever grow here,
            # so a sandbox made by an older release gains what a newer product needs.
            app.secret_hash = digest(secret)
            app.application_permissions += [
                r for r in roles if r not in app.application_permissions
            ]
            app.save(update_fields=["secret_hash", "application_permissions"])
    for given, surname, mail, title in EMPLOYEES:
        SandboxUser.objects.get_or_create(
            user_principal_name=mail,
            defaults={
                "tenant": tenant,
                "display_name": f"{given} {surname}",
                "given_name": given,
                "surname": surname,
                "mail": mail,
                "job_title": title,
            },
        )
    tokens.ensure_signing_key()
    return tenant


def app_secret(display_name: str) -> str:
    file_name = next(f for name, f, *_ in APPS if name == display_name)
    return (sandbox_dir() / file_name).read_text().strip()
