"""People operations: roles, delegations, API tokens and agreements."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet

from gigbridge import clock, limits
from gigbridge.audit.actions import record

from . import capabilities, queries
from .models import Agreement, ApiToken, Delegation, Person, Role, RoleAssignment, SigningLink


def roles_of(user) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_gigbridge_roles", None)
    if cached is None:
        cached = set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True))
        user._gigbridge_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def users_with_role(role: str) -> QuerySet:
    return get_user_model().objects.filter(role_assignments__role=role, is_active=True)


def delegators_of(user, on: dt.date | None = None) -> list[int]:
    """Users whose approvals ``user`` may decide today because they delegated to ``user``."""
    on = on or clock.today()
    return list(
        Delegation.objects.filter(delegate=user, starts_on__lte=on, ends_on__gte=on).values_list(
            "delegator_id", flat=True
        )
    )


def active_delegate(user, on: dt.date | None = None):
    on = on or clock.today()
    delegation = (
        Delegation.objects.filter(delegator=user, starts_on__lte=on, ends_on__gte=on)
        .select_related("delegate")
        .order_by("-created_at")
        .first()
    )
    return delegation.delegate if delegation else None


@transaction.atomic
def grant_role(user, role: str, *, by=None) -> RoleAssignment:
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(Role.values)}")
    assignment, created = RoleAssignment.objects.get_or_create(user=user, role=role)
    if created:
        record(
            user=by,
            action="role.granted",
            obj=user,
            object_type="user",
            after={"user": user.get_username(), "role": role},
        )
    return assignment


@transaction.atomic
def set_delegation(delegator, delegate, starts_on: dt.date, ends_on: dt.date) -> Delegation:
    if delegate == delegator:
        raise ValueError("you cannot delegate to yourself")
    if ends_on < starts_on:
        raise ValueError("the delegation must end on or after its first day")
    bounds = limits.violations(
        {"starts_on": starts_on, "ends_on": ends_on},
        {"starts_on": limits.PlanDate, "ends_on": limits.PlanDate},
    )
    if bounds:
        raise ValueError("; ".join(f"{field}: {message}" for field, message in bounds))
    delegation = Delegation.objects.create(
        delegator=delegator, delegate=delegate, starts_on=starts_on, ends_on=ends_on
    )
    record(
        user=delegator,
        action="delegation.created",
        obj=delegation,
        after={"delegate": delegate.get_username(), "starts_on": starts_on, "ends_on": ends_on},
    )
    return delegation


@transaction.atomic
def create_api_token(user, name: str) -> tuple[ApiToken, str]:
    """Returns the token row and the secret, which is never stored and shown only now."""
    secret = ApiToken.PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:100] or "token", token_hash=ApiToken.hash(secret), hint=secret[:10]
    )
    record(
        user=user,
        action="api_token.created",
        obj=token,
        after={"name": token.name, "hint": token.hint},
    )
    return token, secret


@transaction.atomic
def revoke_api_token(token: ApiToken, *, by) -> None:
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
        record(user=by, action="api_token.revoked", obj=token, after={"hint": token.hint})


def user_for_token(secret: str):
    if not secret.startswith(ApiToken.PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=ApiToken.hash(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = clock.now()
    # Touch at most once a minute so a busy client does not turn every read into a write.
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def search_users(term: str, limit: int = 20) -> QuerySet:
    return get_user_model().objects.filter(
        Q(username__icontains=term)
        | Q(email__icontains=term)
        | Q(first_name__icontains=term)
        | Q(last_name__icontains=term),
        is_active=True,
    )[:limit]


# --- agreements ----------------------------------------------------------------------------


EVIDENCE_FOLDER = "agreements/evidence"
_MAGIC = {"pdf": (b"%PDF",), "png": (b"\x89PNG",), "jpg": (b"\xff\xd8\xff",)}


def _upload_problems(upload) -> list[str]:
    extension = Path(upload.name or "").suffix.lower().lstrip(".")
    if extension not in limits.EVIDENCE_FILE_TYPES:
        return [f"must be a {', '.join(limits.EVIDENCE_FILE_TYPES)} file"]
    if upload.size > limits.EVIDENCE_FILE_MAX:
        return [f"must be at most {limits.EVIDENCE_FILE_MAX // (1024 * 1024)} MiB"]
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    magic = _MAGIC["jpg" if extension == "jpeg" else extension]
    if not head.startswith(magic):
        return [f"is not a {extension} file"]
    return []


def _store_evidence(agreement: Agreement, upload) -> None:
    """Write the upload into the data folder, private to Gigbridge's account (0600)."""
    from django.conf import settings

    folder = Path(settings.DATA_DIR) / EVIDENCE_FOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    extension = Path(upload.name).suffix.lower()
    relative = f"{EVIDENCE_FOLDER}/{agreement.pk}-{secrets.token_hex(8)}{extension}"
    digest = hashlib.sha256()
    fd = os.open(Path(settings.DATA_DIR) / relative, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        for chunk in upload.chunks():
            digest.update(chunk)
            handle.write(chunk)
    agreement.evidence_file = relative
    # As uploaded, less anything unprintable (a NUL cannot be stored by PostgreSQL).
    name = "".join(c for c in Path(upload.name).name if c.isprintable())
    agreement.evidence_file_name = name[:200] or f"evidence{extension}"
    agreement.evidence_sha256 = digest.hexdigest()
    agreement.save(update_fields=["evidence_file", "evidence_file_name", "evidence_sha256"])


@transaction.atomic
def attach_evidence(user, agreement: Agreement, upload) -> Agreement:
    """Add the signed copy (a pdf, png or jpg within ``limits.EVIDENCE_FILE_MAX``) to an
    agreement in force; it replaces an earlier copy, which stays in the data folder (the audit
    trail names both by SHA-256)."""
    from gigbridge.domainerrors import InvalidTransition, Problem, RuleViolation

    capabilities.require(
        user, capabilities.Capability.RECORD_AGREEMENTS, "agreement.evidence", agreement
    )
    if upload is None:
        raise RuleViolation([Problem("evidence_file", "choose the file of the signed agreement")])
    problems = [Problem("evidence_file", m) for m in _upload_problems(upload)]
    if problems:
        raise RuleViolation(problems)
    agreement = Agreement.objects.select_for_update().select_related("person").get(pk=agreement.pk)
    if agreement.revoked_at is not None:
        raise InvalidTransition(
            f"this {agreement.name} was revoked on {agreement.revoked_at:%Y-%m-%d}; "
            "record the agreement again with its evidence"
        )
    before = (
        {
            "evidence_file": agreement.evidence_file_name,
            "evidence_sha256": agreement.evidence_sha256,
        }
        if agreement.evidence_file
        else None
    )
    _store_evidence(agreement, upload)
    record(
        user=user,
        action="agreement.evidence_added",
        obj=agreement,
        before=before,
        after={
            "person": agreement.person.email,
            "name": agreement.name,
            "evidence_file": agreement.evidence_file_name,
            "evidence_sha256": agreement.evidence_sha256,
        },
        rule="compliance.required_agreements",
    )
    return agreement


def evidence_path(agreement: Agreement) -> Path | None:
    """The stored evidence file of ``agreement`` (inside the data folder), if any."""
    from django.conf import settings

    if not agreement.evidence_file:
        return None
    root = Path(settings.DATA_DIR).resolve()
    path = (root / agreement.evidence_file).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


def _agreement_summary(agreement: Agreement) -> dict:
    return {
        "person": agreement.person.email,
        "name": agreement.name,
        "signed_on": agreement.signed_on,
        "expires_on": agreement.expires_on,
        "evidence_url": agreement.evidence_url,
        "source": agreement.source,
        "evidence_file": agreement.evidence_file_name,
        "evidence_sha256": agreement.evidence_sha256,
    }


def check_agreement(
    *,
    email: str,
    name: str,
    signed_on: dt.date | None,
    expires_on: dt.date | None = None,
    evidence_url: str = "",
    display_name: str = "",
    required: list[str] | None = None,
) -> list:
    """Problems (field, message, rule) with an agreement to record; empty when it can be."""
    from gigbridge.domainerrors import Problem

    if required is None:
        from gigbridge.program import actions as program

        required = list(program.current()[1].compliance.required_agreements)
    values = {
        "email": email,
        "name": name,
        "display_name": display_name,
        "signed_on": signed_on,
        "expires_on": expires_on,
        "evidence_url": evidence_url,
    }
    problems = [Problem(f, m) for f, m in limits.violations(values, limits.AGREEMENT_FIELDS)]
    if not email:
        problems.append(Problem("email", "whose agreement is it? give their email address"))
    if name not in required:
        problems.append(
            Problem(
                "name",
                f"{name!r} is not an agreement the policy names; it names "
                + (", ".join(required) or "none"),
                "compliance.required_agreements",
            )
        )
    if signed_on is None:
        problems.append(Problem("signed_on", "the date it was signed is required"))
    elif signed_on > clock.today():
        problems.append(Problem("signed_on", f"is after today ({clock.today()})"))
    if signed_on and expires_on and expires_on < signed_on:
        problems.append(Problem("expires_on", "is before the date it was signed"))
    return problems


@transaction.atomic
def record_agreement(
    user,
    *,
    email: str,
    name: str,
    signed_on: dt.date | None,
    expires_on: dt.date | None = None,
    evidence_url: str = "",
    display_name: str = "",
    source: str = Agreement.Source.RECORDED,
    actor: str | None = None,
    evidence_upload=None,
) -> Agreement:
    """Record an agreement ``email`` signed (elsewhere, or through a mailed link). A freelancer
    Gigbridge does not know yet becomes a person. An agreement of the same name in force is
    replaced (kept, marked revoked, in this one event). ``user`` None: a system actor
    (``actor``, e.g. the CSV import)."""
    from gigbridge.domainerrors import Problem, RuleViolation
    from gigbridge.program import actions as program

    if user is not None:
        capabilities.require(user, capabilities.Capability.RECORD_AGREEMENTS, "agreement.record")
    version, policy = program.current()
    email = (email or "").strip().lower()
    name = (name or "").strip()
    problems = check_agreement(
        email=email,
        name=name,
        signed_on=signed_on,
        expires_on=expires_on,
        evidence_url=evidence_url,
        display_name=display_name,
        required=list(policy.compliance.required_agreements),
    )
    if evidence_upload is not None:
        problems += [Problem("evidence_file", m) for m in _upload_problems(evidence_upload)]
    valid_days = policy.compliance.terms_of(name).valid_days
    if expires_on is None and valid_days and signed_on is not None:
        # The policy's validity (compliance.agreements.<name>.valid_days) sets the expiry.
        expires_on = signed_on + dt.timedelta(days=valid_days)
    if problems:
        raise RuleViolation(problems)
    person = Person.objects.filter(email__iexact=email).first()
    if person is None:
        person = Person.objects.create(
            email=email, kind=Person.Kind.FREELANCER, display_name=display_name.strip() or email
        )
    now = clock.now()
    label = actor or (user.get_username() if user is not None else "system")
    previous = (
        Agreement.objects.select_for_update()
        .filter(person=person, name=name, revoked_at__isnull=True)
        .first()
    )
    if previous is not None:
        previous.revoked_at = now
        previous.revoked_by_label = label
        previous.revoke_reason = "replaced by a newer record"
        previous.save(update_fields=["revoked_at", "revoked_by_label", "revoke_reason"])
    agreement = Agreement.objects.create(
        person=person,
        name=name,
        signed_on=signed_on,
        expires_on=expires_on,
        evidence_url=evidence_url,
        source=source,
        recorded_by=user,
        recorded_by_label=label,
        recorded_at=now,
    )
    if evidence_upload is not None:
        _store_evidence(agreement, evidence_upload)
    record(
        user=user,
        actor=actor,
        action="agreement.recorded",
        obj=agreement,
        before=_agreement_summary(previous) if previous else None,
        after=_agreement_summary(agreement),
        policy_version=version.number,
        rule="compliance.required_agreements",
    )
    return agreement


@transaction.atomic
def revoke_agreement(user, agreement: Agreement, reason: str) -> Agreement:
    """Revoke an agreement in force; from now on compliance counts it as missing."""
    from gigbridge.domainerrors import InvalidTransition, Problem, RuleViolation

    capabilities.require(
        user, capabilities.Capability.RECORD_AGREEMENTS, "agreement.revoke", agreement
    )
    reason = (reason or "").strip()
    problems = [
        Problem(f, m) for f, m in limits.violations({"reason": reason}, {"reason": limits.Reason})
    ]
    if not reason:
        problems.append(Problem("reason", "say why the agreement is revoked"))
    if problems:
        raise RuleViolation(problems)
    agreement = Agreement.objects.select_for_update().select_related("person").get(pk=agreement.pk)
    if agreement.revoked_at is not None:
        raise InvalidTransition(
            f"this {agreement.name} was already revoked on {agreement.revoked_at:%Y-%m-%d}"
        )
    agreement.revoked_at = clock.now()
    agreement.revoked_by_label = user.get_username()
    agreement.revoke_reason = reason
    agreement.save(update_fields=["revoked_at", "revoked_by_label", "revoke_reason"])
    record(
        user=user,
        action="agreement.revoked",
        obj=agreement,
        before=_agreement_summary(agreement),
        after={"revoked_at": agreement.revoked_at, "reason": limits.audit_value(reason)},
        rule="compliance.required_agreements",
    )
    return agreement


def agreement_status(person: Person | None, required: list[str], on: dt.date | None = None):
    """One row per required agreement: (name, state, the agreement in force or last revoked)
    where state is "signed", "expired", "revoked" or "missing"."""
    on = on or clock.today()
    rows = []
    latest: dict[str, Agreement] = {}
    if person is not None:
        # The row in force if there is one, else the one revoked last.
        for a in sorted(
            person.agreements.all(),
            key=lambda a: (a.revoked_at is None, a.revoked_at or clock.now(), a.pk),
        ):
            latest[a.name] = a
    for name in required:
        a = latest.get(name)
        if a is None:
            state = "missing"
        elif a.revoked_at is not None:
            state = "revoked"
        elif a.expires_on is not None and a.expires_on < on:
            state = "expired"
        else:
            state = "signed"
        rows.append({"name": name, "state": state, "agreement": a})
    return rows


@transaction.atomic
def send_for_signature(
    user, *, email: str, names: list[str] | None = None, display_name: str = ""
) -> SigningLink:
    """Mail ``email`` a single-use, expiring link to sign ``names`` (default: the required
    agreements not in force for them today). A freelancer Gigbridge does not know yet becomes
    a person."""
    from gigbridge.domainerrors import Problem, RuleViolation
    from gigbridge.notifications.actions import mail_address
    from gigbridge.program import actions as program

    capabilities.require(user, capabilities.Capability.SEND_FOR_SIGNATURE, "agreement.send")
    version, policy = program.current()
    required = list(policy.compliance.required_agreements)
    email = (email or "").strip().lower()
    problems = [
        Problem(f, m)
        for f, m in limits.violations(
            {"email": email, "display_name": display_name},
            {"email": limits.Email, "display_name": limits.Name},
        )
    ]
    if not email:
        problems.append(Problem("email", "whom should the link go to? give their email address"))
    unknown = [n for n in names or [] if n not in required]
    if unknown:
        problems.append(
            Problem(
                "names",
                f"{', '.join(map(repr, unknown))} not named by the policy; it names "
                + (", ".join(required) or "none"),
                "compliance.required_agreements",
            )
        )
    if problems:
        raise RuleViolation(problems)
    person = Person.objects.filter(email__iexact=email).first()
    if names:
        names = [n for n in required if n in names]  # the policy's order, no repeats
    else:
        names = queries.missing_agreements(person, policy, clock.today())
    if not names:
        raise RuleViolation(
            [Problem("names", f"{email} has every required agreement in force; nothing to sign")]
        )
    if person is None:
        person = Person.objects.create(
            email=email, kind=Person.Kind.FREELANCER, display_name=display_name.strip() or email
        )
    days = policy.compliance.signing_link_valid_days
    link = SigningLink.objects.create(
        person=person,
        names=names,
        nonce=secrets.token_urlsafe(32),
        expires_at=clock.now() + dt.timedelta(days=days),
        sent_by=user,
    )
    record(
        user=user,
        action="agreement.sent_for_signature",
        obj=link,
        object_type="signing_link",
        after={"person": person.email, "names": names, "expires_at": link.expires_at},
        policy_version=version.number,
        rule="compliance.signing_link_valid_days",
    )
    mail_address(
        person.email,
        "agreements_to_sign",
        {
            "signing_nonce": link.nonce,
            "names": names,
            "person_name": person.display_name,
            "program": policy.program.name,
            "sender": user.get_full_name() or user.get_username(),
            "link_expires": link.expires_at.isoformat(),
        },
        key=f"signing-link:{link.pk}",
    )
    return link


@transaction.atomic
def sign_agreements(link: SigningLink, *, typed_name: str, ip: str | None) -> list[Agreement]:
    """The freelancer accepts the agreements of ``link`` (already resolved: valid, unused,
    unexpired) by typing their name. One agreement and one audit event per signature; the
    link is used up. Raises RuleViolation (the name) or signing.LinkError (used meanwhile, or
    a document that cannot be shown)."""
    from gigbridge.domainerrors import Problem, RuleViolation
    from gigbridge.program import actions as program

    from . import signing

    typed_name = " ".join((typed_name or "").split())
    problems = [
        Problem(f, m)
        for f, m in limits.violations({"typed_name": typed_name}, {"typed_name": limits.Name})
    ]
    if not typed_name:
        problems.append(Problem("typed_name", "type your full name to sign"))
    if problems:
        raise RuleViolation(problems)
    link = SigningLink.objects.select_for_update().select_related("person").get(pk=link.pk)
    if link.used_at is not None or link.expires_at < clock.now():
        raise signing.LinkError("This link was used or has expired meanwhile; nothing was signed.")
    version, policy = program.current()
    now = clock.now()
    today = clock.today()
    signed = []
    for name in link.names:
        if name not in policy.compliance.required_agreements:
            continue  # the policy no longer asks for it
        document = signing.document_of(policy, name)
        valid_days = policy.compliance.terms_of(name).valid_days
        previous = (
            Agreement.objects.select_for_update()
            .filter(person=link.person, name=name, revoked_at__isnull=True)
            .first()
        )
        if previous is not None:
            previous.revoked_at = now
            previous.revoked_by_label = link.person.email
            previous.revoke_reason = "replaced by a newer signature"
            previous.save(update_fields=["revoked_at", "revoked_by_label", "revoke_reason"])
        agreement = Agreement.objects.create(
            person=link.person,
            name=name,
            signed_on=today,
            expires_on=today + dt.timedelta(days=valid_days) if valid_days else None,
            source=Agreement.Source.CLICK_THROUGH,
            recorded_by_label=link.person.email,
            recorded_at=now,
            signer_name=typed_name,
            signer_ip=ip,
            signed_at=now,
            document=document.reference,
            document_sha256=document.sha256,
        )
        record(
            user=None,
            actor=link.person.email,
            action="agreement.signed",
            obj=agreement,
            before=_agreement_summary(previous) if previous else None,
            after={
                **_agreement_summary(agreement),
                "signer_name": typed_name,
                "signer_ip": ip,
                "signed_at": now,
                "document": document.reference,
                "document_sha256": document.sha256,
                "signing_link": link.pk,
            },
            policy_version=version.number,
            rule="compliance.required_agreements",
        )
        signed.append(agreement)
    link.used_at = now
    link.save(update_fields=["used_at"])
    return signed


def send_agreement_expiry_alerts() -> list[str]:
    """Periodic: for each contracted or active engagement, each agreement of its freelancer in
    force that expires before the engagement ends and within
    ``compliance.agreement_expiry_alert_days`` from today alerts legal and the hiring manager,
    once per agreement and engagement (the row's unique constraint keeps it once when two
    schedulers race). Returns ``"<agreement id>@<engagement reference>"`` per alert sent."""
    from gigbridge.engagements.models import Engagement
    from gigbridge.program import actions as program

    _, policy = program.current()
    today = clock.today()
    horizon = today + dt.timedelta(days=policy.compliance.agreement_expiry_alert_days)
    required = list(policy.compliance.required_agreements)
    # Runs every tick: one query finds the few engagements whose freelancer has an agreement
    # in force expiring inside the window; each of those is then looked at closely.
    engagements = (
        Engagement.objects.filter(
            state__in=[Engagement.State.CONTRACTED, Engagement.State.ACTIVE],
            freelancer__agreements__name__in=required,
            freelancer__agreements__revoked_at__isnull=True,
            freelancer__agreements__expires_on__lte=horizon,
        )
        .distinct()
        .select_related("request__requester", "freelancer")
    )
    sent = []
    for engagement in engagements:
        ends = engagement.contract_end or engagement.request.end_date
        expiring = Agreement.objects.filter(
            person=engagement.freelancer,
            name__in=required,
            revoked_at__isnull=True,  # a revoked or replaced agreement says nothing any more
            expires_on__isnull=False,
            expires_on__lt=ends,  # in force on its expiry day: the last day may be the end
            expires_on__lte=horizon,
        ).exclude(expiry_alerts__engagement=engagement)
        for agreement in expiring:
            if _alert_expiry(agreement, engagement):
                sent.append(f"{agreement.pk}@{engagement.reference}")
    return sent


@transaction.atomic
def _alert_expiry(agreement: Agreement, engagement) -> bool:
    from urllib.parse import urlencode

    from django.urls import reverse

    from gigbridge.notifications.actions import mail

    from .models import AgreementExpiryAlert

    _, created = AgreementExpiryAlert.objects.get_or_create(
        agreement=agreement, engagement=engagement, defaults={"sent_at": clock.now()}
    )
    if not created:  # another pass got there first
        return False
    request = engagement.request
    recipients = {
        u.pk: u
        for u in get_user_model().objects.filter(is_active=True, role_assignments__role=Role.LEGAL)
    }
    recipients[request.requester.pk] = request.requester
    person = agreement.person
    record(
        user=None,
        actor="system",
        action="agreement.expiry_alert",
        obj=engagement,
        after={
            "name": agreement.name,
            "person": person.email,
            "expires_on": agreement.expires_on,
            "contract_end": engagement.contract_end or request.end_date,
            "recipients": sorted(u.email for u in recipients.values()),
        },
        rule="compliance.agreement_expiry_alert_days",
    )
    context = {
        "name": agreement.name,
        "person": person.display_name,
        "email": person.email,
        "expires_on": agreement.expires_on.isoformat(),
        "ends": (engagement.contract_end or request.end_date).isoformat(),
        "reference": engagement.reference,
        "title": request.title,
        "path": reverse("web:engagement-detail", args=[engagement.pk]),
        "send_path": reverse("web:agreements")
        + "?"
        + urlencode({"email": person.email, "name": agreement.name})
        + "#send",
    }
    for user in recipients.values():
        mail(user, "agreement_expiring", context, key=f"{agreement.pk}:{engagement.pk}")
    return True
