"""The default sandbox tenant: Contoso, Gigbridge's app registrations (the bot's too), the
demo employees.

Idempotent: the runner calls it on every start. The apps' client secrets live in 0600 files in
the sandbox folder (so ``info`` can print them); the database keeps only their hashes.
"""

from __future__ import annotations

from django.db import transaction

from gigbridge.config import read_or_create

from . import tokens
from .botconnector.defaults import BOT_APP, BOT_PERMISSIONS, BOT_SECRET_FILE
from .defaults import APPS, DOMAIN, EMPLOYEES, SECURITY_REVIEW
from .models import AppRegistration, GraphGroup, GraphGroupMember, SandboxUser, Tenant, digest
from .paths import new_secret, sandbox_dir


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
    _seed_bot(tenant, folder)
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
    security_review_group(tenant)
    from .sites.seed import intranet  # the communication site the program hub is published to

    intranet()
    tokens.ensure_signing_key()
    from .botconnector import keys as botframework_keys

    botframework_keys.ensure_signing_key()
    from .graph import control  # the Graph emulator's dials (and GIGBRIDGE_SANDBOX_GRAPH_*)

    control.seed()
    from .upwork.seed import seed as seed_upwork  # organizations, apps, freelancers

    seed_upwork()
    return tenant


def _seed_bot(tenant: Tenant, folder) -> None:
    """The Gigbridge bot's app registration (its client id is the bot app id), and the
    resource-specific consent its Teams app package asks for, granted as if installed (so its
    app-only Graph token may read channel messages)."""
    secret = read_or_create(folder / BOT_SECRET_FILE, new_secret)
    bot, created = AppRegistration.objects.get_or_create(
        tenant=tenant,
        display_name=BOT_APP,
        defaults={"secret_hash": digest(secret), "application_permissions": BOT_PERMISSIONS},
    )
    if not created:
        bot.secret_hash = digest(secret)
        bot.application_permissions += [
            r for r in BOT_PERMISSIONS if r not in bot.application_permissions
        ]
        bot.save(update_fields=["secret_hash", "application_permissions"])


def security_review_group(tenant: Tenant) -> GraphGroup:
    """The private unified group "Security Review" (its members: ``SECURITY_REVIEW``) and its
    document library, where Gigbridge puts quarantined files. Made once; kept as people left it
    (members added or removed through Graph stay so)."""
    from .m365files.drives import drive_for_group

    name, nickname, members = SECURITY_REVIEW
    group, created = GraphGroup.objects.get_or_create(
        tenant=tenant,
        mail_nickname=nickname,
        defaults={
            "display_name": name,
            "description": "Files Gigbridge quarantined: infected or unscanned deliverables.",
            "mail_enabled": True,
            "security_enabled": False,
            "group_types": ["Unified"],
            "visibility": "Private",
        },
    )
    if created:
        for address in members:
            user = SandboxUser.objects.filter(tenant=tenant, mail__iexact=address).first()
            if user is not None:
                GraphGroupMember.objects.get_or_create(group=group, user=user)
    drive_for_group(group)
    return group


def app_secret(display_name: str) -> str:
    if display_name == BOT_APP:
        return (sandbox_dir() / BOT_SECRET_FILE).read_text().strip()
    file_name = next(f for name, f, *_ in APPS if name == display_name)
    return (sandbox_dir() / file_name).read_text().strip()
