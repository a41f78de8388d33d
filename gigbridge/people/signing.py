"""Click-through signing: single-use, signed, expiring links mailed to a freelancer.

The same mechanism as the approvers' decision links (gigbridge.engagements.links): the mail
carries ``sign(nonce)`` with its own salt, the nonce names a stored link, and the link is used up
only when the signature is posted, so mail scanners that prefetch links cannot use it up. No
account is needed: whoever holds the link signs for the person it was sent to.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core import signing

from gigbridge import clock

from .models import SigningLink

SALT = "gigbridge.people.signing-link"
MAX_DOCUMENT_BYTES = 1024 * 1024  # a document file shown on the signing page


class LinkError(Exception):
    """Why a link cannot be used; the message is shown to the person who opened it."""


def token_for(nonce: str) -> str:
    return signing.dumps(nonce, salt=SALT, compress=False)


def resolve(token: str) -> SigningLink:
    """The link behind ``token`` if it can be used now; otherwise LinkError saying why."""
    try:
        nonce = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise LinkError(
            "This signing link is not valid. It may have been altered or copied incompletely; "
            "open it again from the mail, or ask the person who sent it for a new one."
        ) from None
    link = SigningLink.objects.select_related("person").filter(nonce=nonce).first()
    if link is None:
        raise LinkError("This signing link is not valid. Ask the person who sent it for a new one.")
    if link.used_at is not None:
        raise LinkError(
            f"This link was already used on {link.used_at:%Y-%m-%d %H:%M} UTC to sign "
            f"{', '.join(link.names)}. Links work once; nothing more is needed from you."
        )
    if link.expires_at < clock.now():
        raise LinkError(
            f"This link expired on {link.expires_at:%Y-%m-%d %H:%M} UTC. "
            "Ask the person who sent it for a new one."
        )
    return link


@dataclass(frozen=True)
class Document:
    """The version of an agreement's document a signer is shown, and its SHA-256."""

    name: str
    reference: str  # the policy's document (an address or a path in the data folder), or ""
    url: str  # an address to open, or ""
    text: str  # the text shown on the page (a file's content, or a statement)
    sha256: str


def document_of(policy, name: str) -> Document:
    """The document the policy names for agreement ``name``. An address is hashed as written
    (publish each version at its own address); a file in the data folder by its content."""
    reference = policy.compliance.terms_of(name).document or ""
    if "://" in reference:
        return Document(name, reference, reference, "", _sha(reference.encode()))
    if reference:
        root = Path(settings.DATA_DIR).resolve()
        path = (root / reference).resolve()
        if path.is_relative_to(root) and path.is_file():
            with open(path, "rb") as handle:
                content = handle.read(MAX_DOCUMENT_BYTES + 1)
            if len(content) <= MAX_DOCUMENT_BYTES:
                text = content.decode("utf-8", errors="replace")
                return Document(name, reference, "", text, _sha(content))
        raise LinkError(
            f"The {name} document is not available right now. Nothing was signed; "
            "please tell the person who sent you this link."
        )
    text = (
        f"I accept the {name} of {policy.program.name} in the version the program sent me "
        "with this request."
    )
    return Document(name, "", "", text, _sha(text.encode()))


def _sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
