"""Audit events as sentences people read: timelines, the audit log and the timeline API.

One registry, ``SENTENCES``: action name -> sentence template. A template is a ``str.format``
string over the event's values (see ``_values``): ``{actor}`` (a person's name, or what acted:
Gigbridge, Upwork, the access check), ``{request}`` and ``{engagement}`` (links to their pages),
``{step_role}``, and every key of the event's ``after`` and ``before`` data. Person names stand for
user names wherever the event recorded one. A template may also be a function of the values that
returns the string (for wording that depends on the data). An action missing from the registry
still reads as a sentence (``FALLBACK``); tests check that every action the code records has its
own.

``describe_all(events)`` looks up every name and object the events mention in a few queries and
returns ``Described`` rows: ``html`` (the sentence with links, safe to put in a page), ``text``
(the same sentence in plain text, for the API), ``changes`` (only the fields that changed, before
-> after, long texts shortened), ``note`` (the comment or reason someone gave) and ``raw`` (the
stored data, for auditors).
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString

SHORT = 80  # characters of a value shown in a sentence or a diff; the rest is in "data"


@dataclass(frozen=True)
class Link:
    label: str
    url: str

    def __str__(self) -> str:
        return self.label

    def __html__(self) -> str:
        return format_html('<a href="{}">{}</a>', self.url, self.label)


@dataclass
class Change:
    field: str
    before: str
    after: str


@dataclass
class Described:
    event: Any
    html: SafeString
    text: str
    changes: list[Change] = field(default_factory=list)
    note: str = ""
    refused: bool = False

    @property
    def raw(self) -> dict:
        return {"before": self.event.before, "after": self.event.after}

    # The timeline templates read the event's own fields through the row too.
    def __getattr__(self, name):
        return getattr(self.event, name)


# --- the registry ----------------------------------------------------------------------------

REQUEST_STATES = {
    "draft": "{request} went back to its requester as a draft",
    "in_approval": "{request} is waiting for its approvers",
    "approved": "{request} was approved",
    "rejected": "{request} was rejected",
    "withdrawn": "{actor} withdrew {request}",
}

ENGAGEMENT_STATES = {
    "sourcing": "{engagement} is looking for a freelancer again",
    "offered": "{actor} moved {engagement} to offered",
    "contracted": "{actor} marked {engagement} contracted, {contract}",
    "active": "{actor} marked {engagement} active",
    "offboarding": "{actor} ended the contract of {engagement}; offboarding started",
    "closed": "{actor} closed {engagement}",
    "cancelled": "{actor} cancelled {engagement}",
}

OFFER_STATES = ("queued", "open", "declined", "withdrawn", "failed")

GRANT_KINDS = {
    "guest": "a guest account",
    "team_member": "Team membership",
    "private_channel": "a private channel",
    "channel_member": "private channel membership",
    "planner_task": "a Planner task",
    "folder_share": "a folder share",
    "welcome_mail": "the welcome mail",
    "manager_note": "the note to the hiring manager",
}

DRIFT = {
    "found": "The access review found access no engagement explains: {kind} of {principal} "
    "on {target}",
    "reopened": "Unexplained access came back: {kind} of {principal} on {target}",
    "resolved": "Unexplained access is gone: {kind} of {principal} on {target}",
    "removed": "The access review removed unexplained access: {kind} of {principal} on {target}",
}


def _submitted(v: dict) -> str:
    sentence = "{actor} submitted {request}"
    if v.get("round") not in (None, "", "1"):
        sentence += " (round {round})"
    return sentence + ("; the policy asked {chain}" if v.get("chain") else "; no approval needed")


def _requested(v: dict) -> str:
    if v.get("assignee"):
        return "Gigbridge asked {assignee} to decide {request} as {role} (stage {stage})"
    return "Gigbridge asked the {role} approvers to decide {request} (stage {stage})"


def _decided(verb: str):
    def sentence(v: dict) -> str:
        text = "{actor} " + verb + " as {step_role}"
        if v.get("on_behalf_of"):
            text += ", on behalf of {on_behalf_of}"
        if v.get("via") == "mail link":
            text += ", from the mail link"
        return text

    return sentence


def _others_declined(v: dict) -> str:
    count = v.get("declined")
    if count in (None, "—"):
        text = "Declined the other proposals for {engagement}"
    elif str(count) == "1":
        text = "Declined 1 other proposal for {engagement}"
    else:
        text = "Declined {declined} other proposals for {engagement}"
    text += " and closed the job posting" if v.get("posting_closed") != "no" else ""
    if v.get("error"):
        text += "; not everything went: {error}"
    return text


def _created_engagement(v: dict) -> str:
    if v.get("freelancer"):
        return "Gigbridge opened {engagement} for {request}, hiring {freelancer} directly"
    return "Gigbridge opened {engagement} for {request}; sourcing on the marketplace"


def _amount(v: dict) -> str:
    """An amount and its currency as pages show money ("1,200.00 USD"), inside a template."""
    try:
        text = f"{Decimal(str(v.get('amount'))).quantize(Decimal('0.01')):,.2f}"
    except (InvalidOperation, ValueError):
        return "—"
    currency = str(v.get("currency", "")).replace("{", "").replace("}", "")
    return f"{text} {currency}".strip()


def _milestone_submitted(v: dict) -> str:
    again = " again, after changes were asked for" if v.get("again") == "yes" else ""
    return "The freelancer submitted the milestone “{description}” of {engagement}" + again


def _milestone_approved(v: dict) -> str:
    return "{actor} approved milestone “{description}” of {engagement} for " + _amount(v)


MILESTONE_DECISIONS = {  # what Upwork did with a decision, by its kind
    "approve": ("paid", "pay"),
    "changes": ("sent back for changes", "send back for changes"),
    "activate": ("funded", "fund"),
}


def _decision_sent(v: dict) -> str:
    done, _ = MILESTONE_DECISIONS.get(v.get("kind", ""), ("has the decision on", ""))
    paid = f" ({_amount(v)})" if v.get("kind") == "approve" and v.get("amount") else ""
    return f"Upwork {done} milestone “{{description}}” of {{engagement}}{paid}"


def _decision_failed(v: dict) -> str:
    _, do = MILESTONE_DECISIONS.get(v.get("kind", ""), ("", "act on"))
    return f"Upwork could not {do} milestone “{{description}}” of {{engagement}}: {{error}}"


def _hours_approved(v: dict) -> str:
    return (
        "{actor} approved the hours of {engagement} in the week of {week_start}: {hours} hours, "
        + _amount(v)
    )


def _file(v: dict) -> str:
    """“name” (version v) of a deliverable, as far as the event names it."""
    if v.get("file") in (None, "—"):
        return "a file"
    return "“{file}” (version {version})" if v.get("version") not in (None, "—") else "“{file}”"


def _bytes(v: dict) -> str:
    """A file's size as the pages show it (KB, MB, GB of 1024)."""
    try:
        size = int(str(v.get("size")))
    except ValueError:
        return ""
    for unit, scale, digits in (("GB", 1024**3, 2), ("MB", 1024**2, 1), ("KB", 1024, 1)):
        if size >= scale:
            return f"{size / scale:.{digits}f} {unit}"
    return f"{size} byte{'s' if size != 1 else ''}"


def _deliverable_recorded(v: dict) -> str:
    size = _bytes(v)
    who = "{author}" if v.get("author") not in (None, "—") else "The freelancer"
    return who + " added " + _file(v) + (f", {size}," if size else "") + " to {engagement}"


SCAN_VERDICTS = {
    "clean": "clean",
    "infected": "infected ({signature})",
    "too_large": "not scanned: too large for the scanner",
    "failed": "could not be scanned",
}


def _deliverable_scanned(v: dict) -> str:
    verdict = SCAN_VERDICTS.get(str(v.get("verdict", "")).replace(" ", "_"), "{verdict}")
    return "Gigbridge scanned " + _file(v) + " of {engagement}: " + verdict


def _deliverable_quarantined(v: dict) -> str:
    text = "Gigbridge quarantined " + _file(v) + " of {engagement}: out of everyone's reach"
    if v.get("restored_version") not in (None, "—"):
        text += "; version {restored_version} is current again"
    return text


def _deliverable_released(v: dict) -> str:
    return (
        "{actor} released " + _file(v) + " of {engagement} from quarantine; it goes back to "
        "its folder"
    )


def _deliverable_returned(v: dict) -> str:
    return "Gigbridge put " + _file(v) + " back in the folder of {engagement} after its release"


SENTENCES: dict[str, Any] = {
    # requests and approvals
    "request.created": "{actor} created {request} “{title}” as a draft",
    "request.updated": "{actor} edited {request}",
    **{f"request.{state}": text for state, text in REQUEST_STATES.items()},
    "request.submitted": _submitted,  # after the states: submitting has its own sentence
    "approval.requested": _requested,
    "approval.approve": _decided("approved {request}"),
    "approval.reject": _decided("rejected {request}"),
    "approval.request_changes": _decided("asked for changes to {request}"),
    "approval.reminded": "Gigbridge reminded {assignee} of {request} as {step_role} "
    "(waiting {waited_days} days)",
    "approval.escalated": "Gigbridge escalated the {step_role} decision on {request} to "
    "{escalated_to} after {waited_days} days",
    # engagements
    "engagement.created": _created_engagement,
    **{f"engagement.{state}": text for state, text in ENGAGEMENT_STATES.items()},
    "engagement.contract_ended": "{actor} ended the contract of {engagement} ({ending_reason})",
    # the marketplace
    "marketplace.posting_queued": "{actor} asked Upwork to post the job of {engagement}",
    "marketplace.job_posted": "Upwork posted the job of {engagement}",
    "marketplace.posting_failed": "Upwork could not post the job of {engagement}: {error}",
    "marketplace.proposal_received": "{freelancer} sent a proposal for {engagement}",
    "marketplace.shortlisted": "{actor} shortlisted {freelancer} for {engagement}",
    "marketplace.invited": "{actor} invited {profile_key} to the job of {engagement}",
    "marketplace.offer_refused": "Not sent: Gigbridge refused the offer {actor} tried to make "
    "for {engagement} ({problems})",
    "marketplace.offer_queued": "{actor} picked {freelancer} for {engagement}: "
    "{contract_type} offer of up to {amount}",
    "marketplace.offer_sent": "Upwork sent the offer of {engagement} (up to {amount})",
    "marketplace.offer_failed": "Upwork could not send the offer of {engagement}: {error}",
    "marketplace.offer_accepted": "The freelancer accepted the offer of {engagement}; "
    "contract {contract}",
    **{
        f"marketplace.offer_{state}": "The offer of {engagement} is " + state
        for state in OFFER_STATES
        if state != "queued"
    },
    "compliance.refused": "The program's rules refused the {where} of {request} by {actor}: "
    "{problems}",
    "marketplace.contract_blocked": "Upwork reported a contract for {engagement}, but "
    "compliance blocked it: {error}",
    "marketplace.milestone_submitted": _milestone_submitted,
    "marketplace.milestone_approved": _milestone_approved,
    "marketplace.milestone_approval_refused": "Not sent: Gigbridge refused the approval "
    "{actor} tried to make of milestone “{description}” of {engagement} ({problems})",
    "marketplace.milestone_changes_requested": "{actor} asked for changes to milestone "
    "“{description}” of {engagement}",
    "marketplace.milestone_activation_queued": "{actor} asked Upwork to fund milestone "
    "“{description}” of {engagement}",
    "marketplace.milestone_decision_sent": _decision_sent,
    "marketplace.milestone_decision_failed": _decision_failed,
    "marketplace.hours_approved": _hours_approved,
    "marketplace.hours_logged": "{hours} hours logged on {date} for {engagement} ({amount})",
    "marketplace.payment": "Upwork recorded a {type} payment of {amount} for {engagement}",
    "marketplace.others_declined": _others_declined,
    "marketplace.contract_ended": "Upwork ended the contract {contract} of {engagement}",
    "marketplace.contract_end_failed": "Upwork could not end the contract of {engagement}: "
    "{error}; it still ended in Gigbridge",
    # deliverables: files a freelancer adds to the project folder
    "deliverable.recorded": _deliverable_recorded,
    "deliverable.scanned": _deliverable_scanned,
    "deliverable.quarantined": _deliverable_quarantined,
    "deliverable.released": _deliverable_released,
    "deliverable.returned": _deliverable_returned,
    "spend.alert": "{engagement} reached {threshold} % of its {scope} budget: {spent} of {budget}",
    # access in Microsoft 365
    **{
        f"access.{kind}.granted": "Gigbridge gave {principal} " + label + " ({target}) for "
        "{engagement}"
        for kind, label in GRANT_KINDS.items()
    },
    **{
        f"access.{kind}.revoked": "Gigbridge removed " + label + " ({target}) of {principal} "
        "for {engagement}: {reason}"
        for kind, label in GRANT_KINDS.items()
    },
    "access.folder_share.shortened": "Gigbridge shortened the folder share ({target}) of "
    "{principal} for {engagement} to expire {expires}: {reason}",
    "access.failed": "The access check of {engagement} failed: {error}",
    # conversations in Teams
    "conversation.thread_started": "Gigbridge started the conversation thread of {engagement} "
    "in {team} › {channel}",
    "conversation.closed": "Gigbridge closed the conversation thread of {engagement}: the "
    "contract ended on {ended_on}",
    **{f"access.drift.{what}": text for what, text in DRIFT.items()},
    "workspace.created": "{actor} created the workspace {name} (folder {folder})",
    "workspace.ready": "The workspace of folder {folder} is ready in Microsoft 365",
    # the program, people and sign-in
    "policy.activated": "{actor} activated policy v{version} of {program} ({filename})",
    "hub.intro_edited": "{actor} edited the program hub's introduction ({characters} characters)",
    "hub.publish_requested": "{actor} asked to publish the program hub to SharePoint "
    "(revision {revision}, page {page})",
    "hub.published": "Gigbridge published the program hub to SharePoint (revision {revision})",
    "hub.publish_failed": "Publishing the program hub to SharePoint failed (revision "
    "{revision}): {reason}",
    "upwork.connected": "{actor} connected the Upwork organization {organization_id}",
    "people.imported": "{actor} imported people from a CSV file ({counts})",
    "role.granted": "{actor} gave {user} the {role} role",
    "setup.first_admin": "{actor} became the first program admin of this installation with its "
    "one-time set-up code (from {address})",
    # agreements
    "agreement.recorded": "{actor} recorded the {name} of {person}, signed {signed_on}",
    "agreement.revoked": "{actor} revoked the {name} of {person}",
    "agreement.evidence_added": "{actor} added the signed copy “{evidence_file}” to the {name} "
    "of {person}",
    "agreement.sent_for_signature": "{actor} sent {person} a link to sign {names}",
    "agreement.signed": "{signer_name} signed the {name} as {person} (from {signer_ip})",
    "agreement.expiry_alert": "{actor} told {recipients} that the {name} of {person} expires"
    " {expires_on}, before {engagement} ends {contract_end}",
    "delegation.created": "{actor} asked {delegate} to decide in their place from {starts_on} "
    "to {ends_on}",
    "api_token.created": "{actor} created the API token “{name}” (…{hint})",
    "api_token.revoked": "{actor} revoked the API token …{hint}",
    "auth.oidc_sign_in": "{actor} signed in with single sign-on",
    "auth.oidc_user_created": "Single sign-on created the account {username} ({email})",
    "auth.locked_out": "Sign-in for {who} is locked until {locked_until} after repeated failures",
}

FALLBACK = "{actor} recorded “{action}” on {object}"

ACTORS = {
    "system": "Gigbridge",
    "upwork": "Upwork",
    "spend": "Gigbridge",
    "access reconciler": "Gigbridge",
    "access review": "The access review",
    "anonymous": "Someone not signed in",
}

# Keys shown in the sentence or as the note, so the diff does not repeat them.
NOTE_KEYS = ("comment", "reason")


# --- rendering -------------------------------------------------------------------------------


def shorten(value: Any, limit: int = SHORT) -> str:
    text = _plain(value)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _plain(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_plain(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    return str(value).replace("_", " ") if _is_word(value) else str(value)


def _is_word(value: Any) -> bool:
    """States and roles (in_approval, team_member) read with spaces."""
    return isinstance(value, str) and value.replace("_", "").isalpha() and value.islower()


def template_of(action: str):
    return SENTENCES.get(action, FALLBACK)


def _render(template: str, values: dict) -> tuple[SafeString, str]:
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    html = {k: conditional_escape(values.get(k, "—")) for k in fields}
    text = {k: str(values.get(k, "—")) for k in fields}
    return format_html(template, **html), template.format_map(text)


def _changes(before: dict | None, after: dict | None, names: Names) -> list[Change]:
    if not before or after is None:
        return []
    rows = []
    for key in before:  # what else "after" holds is context, not a change
        if key not in after:
            continue  # the sentence says what became of it (an approval's decision)
        old, new = before.get(key), after.get(key)
        if old != new and key not in NOTE_KEYS:
            rows.append(Change(key.replace("_", " "), shorten(old), shorten(new)))
    return rows


class Names:
    """Everything the events mention, looked up once: users, requests, steps, engagements."""

    def __init__(self, events):
        from gigbridge.engagements.models import ApprovalStep, Engagement, WorkRequest

        users = get_user_model().objects
        user_ids = {e.actor_user_id for e in events if e.actor_user_id}
        usernames = set()
        ids = {"workrequest": set(), "approvalstep": set(), "engagement": set()}
        references = set()
        for e in events:
            if e.object_type in ids and str(e.object_id).isdigit():
                ids[e.object_type].add(int(e.object_id))
            data = {**(e.before or {}), **(e.after or {})}
            for key in ("assignee", "escalated_to", "on_behalf_of", "delegate", "user"):
                if isinstance(data.get(key), str):
                    usernames.add(data[key])
            if isinstance(data.get("request"), str):
                references.add(data["request"])
        found = users.filter(pk__in=user_ids) | users.filter(username__in=usernames)
        self.users = {u.pk: u for u in found}
        self.by_username = {u.get_username(): u for u in found}
        self.steps = {
            s.pk: s
            for s in ApprovalStep.objects.filter(pk__in=ids["approvalstep"]).select_related(
                "request"
            )
        }
        request_ids = ids["workrequest"] | {s.request_id for s in self.steps.values()}
        request_ids |= {int(r[3:]) for r in references if r.startswith("WR-") and r[3:].isdigit()}
        self.requests = {
            r.pk: r
            for r in WorkRequest.objects.filter(pk__in=request_ids).select_related("engagement")
        }
        self.engagements = {
            e.pk: e
            for e in Engagement.objects.filter(pk__in=ids["engagement"]).select_related("request")
        }
        for engagement in self.engagements.values():
            self.requests.setdefault(engagement.request_id, engagement.request)
        self._places = None  # the access app's names, looked up when an event needs one

    def place(self, kind: str, target: str, engagement, external_id) -> str:
        if self._places is None:
            from gigbridge.access.names import Names as Places

            self._places = Places()
        return self._places.of(kind, target, engagement, external_id or "")

    def person(self, username: str | None) -> str:
        user = self.by_username.get(username or "")
        return _name(user) if user else (username or "—")

    def actor(self, event) -> str:
        user = self.users.get(event.actor_user_id)
        if user is not None:
            return _name(user)
        return ACTORS.get(event.actor, event.actor or "Gigbridge")


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def request_link(request) -> Link:
    return Link(request.reference, reverse("web:request-detail", args=[request.pk]))


def engagement_link(engagement) -> Link:
    return Link(engagement.reference, reverse("web:engagement-detail", args=[engagement.pk]))


def _values(event, names: Names) -> dict:
    after, before = event.after or {}, event.before or {}
    values: dict[str, Any] = {}
    for key, value in {**before, **after}.items():
        if value not in (None, "", [], {}):  # missing reads as a dash; templates may test it
            values[key] = shorten(value)
    values["actor"] = names.actor(event)
    values["action"] = event.action
    values["object"] = f"{event.object_type} {event.object_id}".strip() or "—"
    for key in ("assignee", "escalated_to", "on_behalf_of", "delegate", "user"):
        if isinstance(after.get(key), str):
            values[key] = names.person(after[key])
    if "chain" in after:
        roles = [_plain(str(item).split(" (")[0]) for stage in after["chain"] for item in stage]
        values["chain"] = ", ".join(roles)
    if after.get("error"):  # what went wrong is the point of the sentence: say more of it
        values["error"] = shorten(after["error"], 240)
    if "problems" in after:
        values["problems"] = shorten("; ".join(map(str, after["problems"])), 240)
    if "counts" not in values and event.action == "people.imported":
        values["counts"] = shorten(after)
    if "who" not in values:
        values["who"] = after.get("username") or after.get("address") or "—"
    if "contract_start" in after:
        values["contract"] = f"{_plain(after['contract_start'])} – {_plain(after['contract_end'])}"
    if event.action.startswith("access.drift."):
        values["kind"] = GRANT_KINDS.get(after.get("kind"), _plain(after.get("kind")))
    # the objects the event names, as links
    request = engagement = None
    object_id = int(event.object_id) if str(event.object_id).isdigit() else None
    if event.object_type == "workrequest":
        request = names.requests.get(object_id)
    elif event.object_type == "approvalstep":
        step = names.steps.get(object_id)
        if step is not None:
            request = names.requests.get(step.request_id)
            values["step_role"] = step.role
    elif event.object_type == "engagement":
        engagement = names.engagements.get(object_id)
        if engagement is not None:
            request = names.requests.get(engagement.request_id)
    reference = after.get("request")
    if request is None and isinstance(reference, str) and reference[3:].isdigit():
        request = names.requests.get(int(reference[3:]))
    if request is not None:
        values["request"] = request_link(request)
        if engagement is None:
            engagement = getattr(request, "engagement", None)  # None before approval
    if engagement is not None:
        values["engagement"] = engagement_link(engagement)
        values["object"] = values["engagement"]
    elif request is not None:
        values["object"] = values["request"]
    if event.action.startswith("access.") and isinstance(after.get("target"), str):
        # The tenant's ids named as people know them (Team, channel, task, folder).
        drift = event.action.startswith("access.drift.")
        kind = after.get("kind", "") if drift else event.action.split(".")[1]
        values["target"] = names.place(kind, after["target"], engagement, after.get("external_id"))
    values.setdefault("step_role", values.get("role", "approver"))
    values.setdefault("request", values.get("object"))
    values.setdefault("engagement", values.get("object"))
    return values


def describe_all(events) -> list[Described]:
    events = list(events)
    names = Names(events)
    return [_describe(event, names) for event in events]


def describe(event) -> Described:
    return describe_all([event])[0]


def _describe(event, names: Names) -> Described:
    values = _values(event, names)
    template = template_of(event.action)
    if callable(template):
        template = template(values)
    html, text = _render(template, values)
    after = event.after or {}
    note = " ".join(shorten(after[k], 500) for k in NOTE_KEYS if after.get(k))
    if event.action.startswith("access."):
        note = ""  # the reason is part of the sentence
    return Described(
        event=event,
        html=html,
        text=text,
        changes=_changes(event.before, event.after, names),
        note=note,
        refused=event.action.endswith("_refused") or event.action.endswith("_blocked"),
    )
