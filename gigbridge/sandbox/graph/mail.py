"""``POST /users/{id | userPrincipalName}/sendMail`` (and ``/me/sendMail``): 202, no body.

Nothing is delivered: the message is stored as the tenant's sent mail, shown by the viewer and
returned by ``GET /_sandbox/mail``. As in Exchange Online, the message needs at least one
recipient (400 ``ErrorInvalidRecipients``) and the sender a mailbox: guests have none (404
``MailboxNotEnabledForRESTAPI``). Parameters are checked against the metadata's ``sendMail``
action (names case-insensitively, as Graph matches them).
"""

from __future__ import annotations

from ..m365files import clock
from ..models import GraphSentMail, SandboxUser
from .dispatch import GraphRequest, GraphResponse, route
from .errors import GraphError, bad_request
from .users import find_user
from .validation import check_action

SEND = ("Mail.Send",)


def _param(body: dict, name: str):
    for key, value in body.items():
        if key.casefold() == name.casefold():
            return value
    return None


def _addresses(recipients) -> list[str]:
    found = []
    for recipient in recipients or []:
        address = ((recipient or {}).get("emailAddress") or {}).get("address")
        if address:
            found.append(address)
    return found


def send(request: GraphRequest, sender: SandboxUser) -> GraphResponse:
    body = request.json()
    check_action("user", "sendMail", body, code="ErrorInvalidRequest")
    if sender.user_type == SandboxUser.UserType.GUEST or not sender.mail:
        raise GraphError(
            404,
            "MailboxNotEnabledForRESTAPI",
            "The mailbox is either inactive, soft-deleted, or is hosted on-premise.",
        )
    message = _param(body, "message") or {}
    to = _addresses(message.get("toRecipients"))
    everyone = (
        to + _addresses(message.get("ccRecipients")) + _addresses(message.get("bccRecipients"))
    )
    if not everyone:
        raise bad_request(
            "At least one recipient is required, but none were found.",
            code="ErrorInvalidRecipients",
        )
    save = _param(body, "saveToSentItems")
    stored = dict(message)
    stored.setdefault(
        "from", {"emailAddress": {"name": sender.display_name, "address": sender.mail}}
    )
    GraphSentMail.objects.create(
        tenant=request.tenant,
        sender=sender,
        sender_address=sender.mail,
        subject=str(message.get("subject") or ""),
        to=everyone,
        message=stored,
        save_to_sent_items=True if save is None else bool(save),
        created=clock.now(),  # sentDateTime is the tenant's time: the sandbox clock
    )
    return GraphResponse(202)


@route("POST", "/users/{key}/sendMail", permissions=SEND)
def send_mail(request: GraphRequest, key: str) -> GraphResponse:
    sender = find_user(request, key)
    caller = request.principal.user
    if caller is not None and caller.id != sender.id:
        # Delegated Mail.Send sends as the signed-in user only (no shared mailboxes here).
        raise GraphError(
            403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
        )
    return send(request, sender)


@route("POST", "/me/sendMail", permissions=SEND)
def send_my_mail(request: GraphRequest) -> GraphResponse:
    if request.principal.user is None:
        raise bad_request("/me request is only valid with delegated authentication flow.")
    return send(request, request.principal.user)
