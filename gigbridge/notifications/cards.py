"""Adaptive Cards (1.5) for the notices Gigbridge sends in Teams: small builders, one per kind,
showing what the mail shows (names, not ids; amounts with their currency; moments as
``YYYY-MM-DD HH:MM`` in the program's time zone, the web's ``money``/``moment``/``day``
filters) and ending with the action: a link to the page in Gigbridge, and for an approval the
Approve / Reject / Ask for changes buttons (``Action.Execute``)."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.template import engines

VERSION = "1.5"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERBS = {
    "approve": "approval.approve",
    "reject": "approval.reject",
    "request_changes": "approval.request_changes",
}
APPROVAL_TEMPLATES = ("approval_request", "approval_reminder", "approval_escalated")


# -- formatting (the web's filters: one money and one date format everywhere) ----------------


@lru_cache(maxsize=8)
def _filter(name: str):
    return engines["django"].from_string("{{ v|" + name + ":a }}")


def money(amount, currency: str) -> str:
    return _filter("money").render({"v": amount, "a": currency}).strip()


def moment(value) -> str:
    return engines["django"].from_string("{{ v|moment }}").render({"v": value}).strip()


def day(value) -> str:
    return engines["django"].from_string("{{ v|day }}").render({"v": value}).strip()


# -- elements ---------------------------------------------------------------------------------


def text(value: str, **style) -> dict:
    return {"type": "TextBlock", "text": value, "wrap": True, **style}


def title(value: str) -> dict:
    return text(value, size="Medium", weight="Bolder")


def facts(pairs: list[tuple[str, str]]) -> dict:
    return {
        "type": "FactSet",
        "facts": [{"title": name, "value": str(value)} for name, value in pairs if value],
    }


def open_url(label: str, url: str) -> dict:
    return {"type": "Action.OpenUrl", "title": label, "url": url}


def card(body: list[dict], actions: list[dict] | None = None) -> dict:
    result: dict = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": [element for element in body if element],
    }
    if actions:
        result["body"].append({"type": "ActionSet", "actions": actions})
    return result


def error_card(message: str, detail: str = "") -> dict:
    return card([text(message, weight="Bolder", color="Attention"), text(detail) if detail else {}])


def _url(path: str) -> str:
    return settings.BASE_URL + path


def _request_url(context: dict) -> str:
    return _url(f"/requests/{context['request_id']}/")


# -- approvals --------------------------------------------------------------------------------


def _approval_facts(context: dict) -> dict:
    pairs = [
        ("Requester", context.get("requester", "")),
        ("Budget", money(context.get("budget"), context.get("currency", ""))),
        ("Your role", context.get("role", "")),
    ]
    cost_center = context.get("cost_center")
    if cost_center:
        pairs.append(
            (
                "Cost center",
                f"{cost_center['code']} {cost_center['name']}: "
                f"{money(cost_center['available'], cost_center['currency'])} available"
                + (" (over-committed)" if cost_center.get("over") else ""),
            )
        )
    workspace = context.get("workspace")
    pairs.append(("Workspace", workspace["name"] if workspace else "none chosen"))
    freelancer = context.get("freelancer")
    if freelancer:
        pairs.append(
            (
                "Freelancer",
                f"{freelancer.get('name') or freelancer['email']}, "
                f"{freelancer.get('country_name') or freelancer.get('country', '')}",
            )
        )
    if context.get("deliverables"):
        pairs.append(("Deliverables", "; ".join(context["deliverables"])))
    if context.get("rule_id"):
        pairs.append(("Policy rule", context.get("rule_description") or context["rule_id"]))
    return facts(pairs)


def _approval_heading(template: str, context: dict) -> str:
    what = f"{context['reference']} {context['title']}"
    if template == "approval_reminder":
        return f"Reminder: {what} is waiting for your decision"
    if template == "approval_escalated":
        return f"Escalated to you: {what}"
    return f"Approval needed: {what}"


def approval_card(
    context: dict, template: str = "approval_request", comment_error: str = "", comment: str = ""
) -> dict:
    """The approver's card: the request's facts, a comment box and the three decisions."""
    data = {"step": context["step_id"]}
    comment_box: dict = {
        "type": "Input.Text",
        "id": "comment",
        "label": "Comment (required to reject or ask for changes)",
        "isMultiline": True,
        "maxLength": 2000,
        "value": comment,
    }
    if comment_error:
        comment_box["errorMessage"] = comment_error
    body = [
        title(_approval_heading(template, context)),
        text(
            f"{context.get('requester', 'Someone')} asks for freelance help: "
            f'"{context["title"]}". The program policy asks you to decide as '
            f"{context.get('role', 'approver')}."
        ),
        _approval_facts(context),
        comment_box,
        text(comment_error, color="Attention", weight="Bolder") if comment_error else {},
    ]
    actions = [
        {
            "type": "Action.Execute",
            "title": "Approve",
            "verb": VERBS["approve"],
            "data": data,
            "style": "positive",
        },
        {
            "type": "Action.Execute",
            "title": "Reject",
            "verb": VERBS["reject"],
            "data": data,
            "style": "destructive",
        },
        {
            "type": "Action.Execute",
            "title": "Ask for changes",
            "verb": VERBS["request_changes"],
            "data": data,
        },
        open_url("Open in Gigbridge", _request_url(context)),
    ]
    return card(body, actions)


def closed_approval_card(context: dict, outcome: dict) -> dict:
    """The card once the step is settled: who decided, when, the decision and comment; no
    buttons. ``outcome``: ``state`` (approved / rejected / changes_requested / cancelled),
    ``label``, ``by``, ``on_behalf_of``, ``at``, ``comment``, ``reason`` (for a cancelled step)."""
    what = f"{context['reference']} {context['title']}"
    if outcome["state"] == "cancelled":
        headline = f"No longer needed: {what}"
        line = outcome.get("reason") or "This approval was cancelled."
    else:
        headline = f"{outcome['label']}: {what}"
        by = outcome["by"]
        if outcome.get("on_behalf_of"):
            by += f" for {outcome['on_behalf_of']}"
        line = f"{outcome['label']} by {by} on {moment(outcome['at'])}."
    pairs = [
        ("Requester", context.get("requester", "")),
        ("Budget", money(context.get("budget"), context.get("currency", ""))),
        ("Role", context.get("role", "")),
        ("Decision", outcome.get("label", "") if outcome["state"] != "cancelled" else ""),
        ("Decided by", outcome.get("by", "") if outcome["state"] != "cancelled" else ""),
        ("Decided on", moment(outcome["at"]) if outcome.get("at") else ""),
        ("Comment", outcome.get("comment", "")),
    ]
    return card(
        [title(headline), text(line), facts(pairs)],
        [open_url("Open in Gigbridge", _request_url(context))],
    )


# -- the other notices ------------------------------------------------------------------------


def notice_card(template: str, context: dict) -> dict:
    """The card for any routable notice (``context``: the mail's, plus ``base_url``)."""
    if template in APPROVAL_TEMPLATES:
        return approval_card(context, template)
    builder = _BUILDERS.get(template)
    if builder is None:
        raise ValueError(f"no Teams card for {template!r}")
    return builder(context)


def _request_decided(label: str, line: str):
    def build(context: dict) -> dict:
        body = [title(f"{label}: {context['reference']} {context['title']}"), text(line)]
        if context.get("comment"):
            body.append(facts([("Comment", context["comment"])]))
        return card(body, [open_url("Open the request", _request_url(context))])

    return build


def _proposal(context: dict) -> dict:
    return card(
        [
            title(f"New proposal: {context['reference']} {context['title']}"),
            text(f'{context["freelancer"]} sent a proposal for "{context["title"]}".'),
            text("Shortlist or pick it on the engagement page."),
        ],
        [open_url("Open the engagement", _url(f"/engagements/{context['engagement_id']}/"))],
    )


def _milestone_deliverables(context: dict) -> list[dict]:
    """The files since the previous milestone (computed when the card is built, by the files
    app); nothing when no app computed them."""
    total = context.get("deliverables_total")
    if total is None:
        return []
    if not total:
        found = [text("No files from the freelancer since the previous milestone.")]
    else:
        lines = context.get("deliverables") or []
        shown = f" (the newest {len(lines)})" if total > len(lines) else ""
        found = [
            text(
                f"Files since the previous milestone: {total}, "
                f"{context.get('deliverables_clean', 0)} scanned clean{shown}:",
                weight="Bolder",
            ),
            _places(lines),
        ]
    if context.get("deliverables_rule"):
        found.append(
            text(
                f"Approving it is refused for now: {context['deliverables_rule']}.",
                color="Attention",
            )  # fmt: skip
        )
    return found


def _milestone(context: dict) -> dict:
    again = context.get("again")
    anchor = f"#milestone-{context['milestone_id']}" if context.get("milestone_id") else ""
    return card(
        [
            title(
                f"Milestone submitted{' again' if again else ''}: "
                f"{context['reference']} {context['title']}"
            ),
            text(
                f'The freelancer submitted the milestone "{context["milestone"]}" of '
                f'"{context["title"]}" '
                + ("again, after the changes you asked for." if again else "for your review.")
            ),
            *_milestone_deliverables(context),
            text("Review the work, then approve and pay it or ask for changes."),
        ],
        [
            open_url(
                "Review the milestone", _url(f"/engagements/{context['engagement_id']}/{anchor}")
            )
        ],
    )


def _spend(context: dict) -> dict:
    threshold = int(context["threshold"])
    currency = context["currency"]
    heading = "over budget" if threshold >= 100 else f"at {threshold}%"
    what = "Cost center" if context.get("kind") == "cost_center" else "Engagement"
    pairs = [
        (what, context["name"]),
        ("Spent", money(context["spent"], currency)),
        ("Budget", money(context["budget"], currency)),
        ("Reached", f"{threshold}%"),
    ]
    if context.get("over") not in (None, "", "0", "0.00"):
        pairs.append(("Over budget by", money(context["over"], currency)))
    pairs.append(("Latest payment", f"{context['reference']} {context['title']}"))
    return card(
        [title(f"Spend {heading}: {context['name']}"), facts(pairs)],
        [open_url("Open in Gigbridge", _url(context["path"]))],
    )


def _agreement_expiring(context: dict) -> dict:
    return card(
        [
            title(f"{context['name']} of {context['person']} expires {day(context['expires_on'])}"),
            text(
                f"The {context['name']} of {context['person']} ({context['email']}) expires "
                f'before the end of {context["reference"]} "{context["title"]}" on '
                f"{day(context['ends'])}. From that day the engagement runs without a signed "
                f"{context['name']}."
            ),
        ],
        [
            open_url("Send it for signature", _url(context["send_path"])),
            open_url("Open the engagement", _url(context["path"])),
        ],
    )


def _engagement_url(context: dict) -> str:
    return _url(f"/engagements/{context['engagement_id']}/")


def _places(lines: list[str]) -> dict:
    return text("\n".join(f"- {line}" for line in lines)) if lines else {}


def _access_given(context: dict) -> dict:
    until = day(context.get("until")) or "the contract ends"
    pairs = [
        ("Freelancer", f"{context['freelancer']} ({context['freelancer_email']})"),
        ("Access until", until),
        ("Contract ends", day(context.get("contract_end"))),
    ]
    return card(
        [
            title(
                f"{context['freelancer']} has access for {context['reference']} {context['title']}"
            ),
            text(
                f"{context['freelancer']} now has access in Microsoft 365 for "
                f'{context["reference"]} "{context["title"]}": a guest account in your tenant'
                + (" and:" if context.get("places") else ".")
            ),
            _places(context.get("places") or []),
            facts(pairs),
            text(f"Gigbridge removes it on {until} and tells you."),
        ],
        [open_url("Open the engagement", _engagement_url(context))],
    )


def _access_removed(context: dict) -> dict:
    kept = context.get("account_kept")
    lines = [*(context.get("places") or [])]
    lines.append(
        f"the guest account stays in your tenant: {kept}"
        if kept
        else "the guest account in your tenant"
    )
    return card(
        [
            title(
                f"Access removed: {context['freelancer']}, "
                f"{context['reference']} {context['title']}"
            ),
            text(
                f"The contract of {context['freelancer']} for {context['reference']} "
                f'"{context["title"]}" ended {day(context.get("contract_end"))} and its grace '
                f"days are over. On {day(context.get('removed_on'))} Gigbridge removed every "
                "access it had given:"
            ),
            _places(lines),
            facts([("Freelancer", f"{context['freelancer']} ({context['freelancer_email']})")]),
        ],
        [open_url("Open the engagement", _engagement_url(context))],
    )


def _deliverable_facts(context: dict) -> dict:
    return facts(
        [
            ("File", context.get("file", "")),
            ("Version", context.get("version", "")),
            ("Size", context.get("size_text", "")),
            ("Added by", context.get("author", "")),
            ("Folder", context.get("folder", "")),
            ("Engagement", f"{context['engagement']} {context['title']}"),
            ("Found", context.get("signature") or context.get("verdict_label", "")),
        ]
    )


def _deliverable_quarantined(context: dict) -> dict:
    done = "Quarantined" if context.get("quarantined") else "Blocked"
    if context.get("verdict") == "infected":
        why = f"The virus scanner found it infected: {context.get('signature') or 'a virus'}."
    else:
        why = (
            "It is too large for the virus scanner, and the program's policy does not let "
            "unscanned files through."
        )
    return card(
        [
            title(f"{done}: {context['file']} from {context['engagement']} {context['title']}"),
            text(why),
            text(
                "Gigbridge takes it out of everyone's reach: it goes to the quarantine folder "
                "only security reviewers can open, and the previous clean version is current "
                "again. A false alarm? A program admin can release it, with a reason."
            ),
            _deliverable_facts(context),
        ],
        [
            open_url("Open the engagement", _engagement_url(context)),
            open_url(
                "Quarantine (security reviewers)",
                _url(f"/deliverables/quarantine/#deliverable-{context['deliverable_id']}"),
            ),
        ],
    )


def _deliverable_unscanned(context: dict) -> dict:
    return card(
        [
            title(
                f"Not scanned (too large): {context['file']} from {context['engagement']} "
                f"{context['title']}"
            ),
            text(
                "It is larger than the virus scanner can take, so it was not scanned. The "
                "program's policy lets it stay in the project folder: treat it with care."
            ),
            _deliverable_facts(context),
        ],
        [open_url("Open the engagement", _engagement_url(context))],
    )


_BUILDERS = {
    "request_approved": _request_decided(
        "Approved", "Your request is approved. Its engagement is now sourcing a freelancer."
    ),
    "request_rejected": _request_decided("Rejected", "Your request was rejected."),
    "request_changes": _request_decided(
        "Changes requested",
        "An approver asks for changes. The request is back in draft: edit it and submit it again.",
    ),
    "proposal_received": _proposal,
    "milestone_submitted": _milestone,
    "spend_alert": _spend,
    "agreement_expiring": _agreement_expiring,
    "access_given": _access_given,
    "access_removed": _access_removed,
    "deliverable_quarantined": _deliverable_quarantined,
    "deliverable_unscanned": _deliverable_unscanned,
}


def summary(template: str, context: dict) -> str:
    """The notification preview: the card's heading."""
    first = notice_card(template, context)["body"][0]
    return first.get("text", "")[:200]
