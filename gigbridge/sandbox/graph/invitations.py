"""``POST /invitations``: B2B guest invitations.

A new address becomes a guest user (``userType: Guest``, ``creationType: Invitation``,
``externalUserState: PendingAcceptance``) named ``{mail with @ as _}#EXT#@{tenant domain}``.
Inviting an address that already has a user returns that user again, as Graph does (status
``Completed`` once the guest has redeemed, else ``PendingAcceptance``; a member of the tenant is
``Completed`` at once). The domains of the B2B policy's deny list (dials ``invitations``; the
sandbox starts with ``blocked.example``) are refused with 400.

``inviteRedeemUrl`` is the sandbox's own redemption link (``/_sandbox/redeem/…``): opening it
accepts the invitation. With ``sendInvitationMessage: true`` the invitation mail is recorded
with the tenant's sent mail.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from django.conf import settings

from ..m365files import clock
from ..models import (
    GraphBlockedDomain,
    GraphGuest,
    GraphInvitation,
    GraphSentMail,
    SandboxUser,
    digest,
)
from .dispatch import GraphRequest, GraphResponse, created, route
from .errors import GraphError, bad_request
from .users import guest_of
from .validation import check

INVITE = ("User.Invite.All", "User.ReadWrite.All", "Directory.ReadWrite.All")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@route("POST", "/invitations", permissions=INVITE)
def invite(request: GraphRequest) -> GraphResponse:
    body = request.json()
    check("invitation", body)
    email = str(body.get("invitedUserEmailAddress") or "").strip()
    redirect = str(body.get("inviteRedirectUrl") or "").strip()
    if not email:
        raise bad_request("Invalid input: invitedUserEmailAddress is required.")
    if not _EMAIL.fullmatch(email):
        raise bad_request(f"The email address '{email}' is not valid.")
    if not redirect:
        raise bad_request("Invalid input: inviteRedirectUrl is required.")
    if urlsplit(redirect).scheme not in {"http", "https"} or not urlsplit(redirect).netloc:
        raise bad_request(f"The inviteRedirectUrl '{redirect}' is not a valid URL.")
    domain = email.rsplit("@", 1)[1].lower()
    tenant = request.tenant
    blocked = GraphBlockedDomain.objects.filter(tenant=tenant).values_list("domain", flat=True)
    if any(domain == d or domain.endswith(f".{d}") for d in blocked):
        raise GraphError(
            400,
            "BadRequest",
            f"The invitation to '{email}' was blocked: the domain '{domain}' is not allowed by "
            "this organization's B2B collaboration policy (cross-tenant access settings or the "
            "external collaboration allow/deny list).",
        )
    invited_type = body.get("invitedUserType") or "Guest"
    if invited_type not in {"Guest", "Member"}:
        raise bad_request("Invalid input: invitedUserType must be 'Guest' or 'Member'.")
    display_name = body.get("invitedUserDisplayName") or ""
    user = SandboxUser.objects.filter(tenant=tenant, mail__iexact=email).first()
    if user is None:
        user = SandboxUser.objects.create(
            tenant=tenant,
            display_name=display_name or email.split("@")[0],
            mail=email,
            user_principal_name=_guest_upn(email, tenant.domain),
            user_type=invited_type,
        )
        GraphGuest.objects.create(user=user)  # the user's post_save logged it for delta
    guest = guest_of(user)
    status = (
        "PendingAcceptance"
        if guest is not None and guest.state == GraphGuest.State.PENDING
        else "Completed"
    )
    token = secrets.token_urlsafe(32)
    send = bool(body.get("sendInvitationMessage"))
    invitation = GraphInvitation.objects.create(
        tenant=tenant,
        user=user,
        email=email,
        display_name=display_name,
        redirect_url=redirect,
        send_message=send,
        redeem_token_hash=digest(token),
    )
    redeem_url = f"{settings.SANDBOX_URL}/_sandbox/redeem/{token}"
    info = body.get("invitedUserMessageInfo") or {}
    if send:
        _send_invitation_mail(request, invitation, redeem_url, info)
    reply = {
        "@odata.context": f"{request.base}/$metadata#invitations/$entity",
        "id": str(invitation.id),
        "inviteRedeemUrl": redeem_url,
        "invitedUserDisplayName": display_name or None,
        "invitedUserType": user.user_type,
        "invitedUserEmailAddress": email,
        "sendInvitationMessage": send,
        "resetRedemption": bool(body.get("resetRedemption", False)),
        "inviteRedirectUrl": redirect,
        "status": status,
        "invitedUserMessageInfo": {
            "messageLanguage": info.get("messageLanguage"),
            "ccRecipients": info.get("ccRecipients") or [],
            "customizedMessageBody": info.get("customizedMessageBody"),
        },
        "invitedUser": {"id": str(user.id)},
    }
    return created(reply)


def _guest_upn(email: str, tenant_domain: str) -> str:
    base = f"{email.replace('@', '_')}#EXT#"
    upn, n = f"{base}@{tenant_domain}", 1
    while SandboxUser.objects.filter(user_principal_name__iexact=upn).exists():
        n += 1
        upn = f"{email.replace('@', '_')}{n}#EXT#@{tenant_domain}"
    return upn


def _send_invitation_mail(request, invitation, redeem_url: str, info: dict) -> None:
    tenant = request.tenant
    custom = info.get("customizedMessageBody") or ""
    text = (
        f"{custom}\n\n" if custom else ""
    ) + f"You're invited to collaborate with {tenant.name}.\nAccept the invitation: {redeem_url}"
    cc = info.get("ccRecipients") or []
    message = {
        "subject": f"You're invited to the {tenant.name} organization",
        "body": {"contentType": "text", "content": text},
        "toRecipients": [{"emailAddress": {"address": invitation.email}}],
        "ccRecipients": cc,
        "from": {
            "emailAddress": {"name": "Microsoft Invitations", "address": "invites@microsoft.com"}
        },
    }
    GraphSentMail.objects.create(
        tenant=tenant,
        sender_address="invites@microsoft.com",
        subject=message["subject"],
        to=[invitation.email]
        + [r.get("emailAddress", {}).get("address", "") for r in cc if isinstance(r, dict)],
        message=message,
        save_to_sent_items=False,
        source="invitation",
        created=clock.now(),  # the tenant's time: the sandbox clock
    )
