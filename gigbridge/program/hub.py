"""The program hub: pages for every employee, written from the policy in force.

Pure functions, no database: ``pages(policy, names)`` -> the hub's pages in order, each with a
slug, a title, a one-line summary and sections (a heading, paragraphs, a list of points,
facts as term/value pairs, and questions with answers for the FAQ). ``names`` maps e-mail
addresses to people's names (the caller reads them from people; an address nobody is known
by is shown as is). Templates render the pages (``program/hub_*.html``); the SharePoint
publication renders the same structure (``hub_publish``).

Words, not codes: roles, data classifications, worker categories and sourcing kinds have a
phrase each (``ROLE_WORDS`` …); amounts carry the program currency; countries are named from
ISO 3166 (pycountry). Every sentence is built from the policy, so a changed policy changes the
hub the next time it is read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import pycountry

from .policy import ApprovalRule, Policy

ROLE_WORDS = {
    "manager": "the requester's line manager",
    "cost_center_owner": "the owner of the cost center",
    "procurement": "Procurement",
    "legal": "Legal",
    "hr": "HR",
    "finance": "Finance",
}
CLASSIFICATION_WORDS = {
    "public": "public data",
    "internal": "internal data",
    "confidential": "confidential data",
}
WORKER_WORDS = {
    "employee": "employees",
    "vendor": "vendors",
    "contingent": "contingent staff",
    "freelancer": "freelancers",
}
SOURCING_WORDS = {
    "marketplace": "a freelancer found on Upwork, the marketplace",
    "direct": "a direct hire (someone you already know)",
}


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...] = ()
    points: tuple[str, ...] = ()  # a list of short items
    ordered: bool = False  # points are steps, in order
    facts: tuple[tuple[str, str], ...] = ()  # term, value
    questions: tuple[tuple[str, str], ...] = ()  # question, answer


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    summary: str
    sections: tuple[Section, ...] = field(default_factory=tuple)

    def text(self) -> str:
        """Everything the page says, as plain text (search, tests)."""
        parts = [self.title, self.summary]
        for section in self.sections:
            parts += [section.heading, *section.paragraphs, *section.points]
            parts += [f"{term}: {value}" for term, value in section.facts]
            parts += [f"{q} {a}" for q, a in section.questions]
        return "\n".join(parts)


# -- words ------------------------------------------------------------------------------------


def money(amount: Decimal, currency: str) -> str:
    """``5,000.00 EUR``: the format of the web's ``money`` filter."""
    return f"{Decimal(amount).quantize(Decimal('0.01')):,.2f} {currency}"


def days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def joined(words: Sequence[str], last: str = "and") -> str:
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


def country_name(code: str) -> str:
    """The common name of an ISO 3166-1 alpha-2 code (``KP`` -> North Korea), else the code."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return getattr(country, "common_name", None) or country.name


def person(email: str, names: Mapping[str, str]) -> str:
    name = names.get(email.lower()) or names.get(email)
    return f"{name} ({email})" if name else email


def role_words(roles: Sequence[str]) -> list[str]:
    return [ROLE_WORDS.get(role, role.replace("_", " ")) for role in roles]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# -- approvals --------------------------------------------------------------------------------


def when_words(rule: ApprovalRule, currency: str) -> str:
    """When a rule applies, as a sentence fragment: "every request", "requests of 5,000.00 EUR
    or more that touch confidential data"."""
    when = rule.when
    if when is None:
        return "every request"
    conditions = []
    if when.amount_at_least is not None:
        conditions.append(f"of {money(when.amount_at_least, currency)} or more")
    if when.data_classification:
        words = [CLASSIFICATION_WORDS.get(c, c) for c in when.data_classification]
        conditions.append(f"that touch {joined(words, 'or')}")
    if when.worker_category:
        words = [WORKER_WORDS.get(c, c) for c in when.worker_category]
        conditions.append(f"for {joined(words, 'or')}")
    if when.sourcing:
        words = [SOURCING_WORDS.get(s, s) for s in when.sourcing]
        conditions.append(f"for {joined(words, 'or')}")
    if when.task_category:
        words = [c.replace("-", " ") for c in when.task_category]
        conditions.append(f"for {joined(words, 'or')} work")
    if not conditions:
        return "every request"
    return "requests " + joined(conditions)


def who_words(rule: ApprovalRule) -> str:
    people = role_words(rule.approvers)
    if len(people) == 1:
        return f"{_cap(people[0])} approves"
    if rule.mode == "sequential":
        return f"{_cap(joined(people, 'then'))} approve, one after another in that order"
    return f"{_cap(joined(people))} approve at the same time (in parallel)"


def rule_sentence(rule: ApprovalRule, currency: str) -> str:
    return f"For {when_words(rule, currency)}: {who_words(rule)}."


# -- pages ------------------------------------------------------------------------------------


def _engage(policy: Policy) -> Page:
    approvals = policy.approvals
    compliance = policy.compliance
    access = policy.access
    agreements = joined(compliance.required_agreements) or "none"
    steps = (
        "Write a work request in Gigbridge: what you need done, the deliverables, the budget in "
        f"{policy.program.currency}, the cost center, the dates, how sensitive the data is and "
        "whether you will find someone on Upwork or hire someone you know directly.",
        "Submit it. The program's approval rules decide who must approve it "
        "(see “Who approves what”); each approver gets a mail or a Teams message with a link.",
        f"Approvers who do not answer are reminded after {days(approvals.reminder_after_days)}; "
        f"after {days(approvals.escalate_after_days)} the program manager is told.",
        "Once approved, the request becomes an engagement. Source the freelancer: post the job "
        "on Upwork and pick from the proposals, or name the person you hire directly.",
        f"Before the work starts the freelancer signs the required agreements ({agreements}) "
        "and the contract is made on the marketplace.",
        "When the contract starts, the freelancer gets access: a guest account, the project's "
        "Team and channel, Planner tasks and the project folder (see “What the freelancer gets”).",
        "The freelancer delivers into the project folder; every file is scanned for malware "
        "before it counts as delivered. Approve milestones and hours as the work progresses.",
        f"End the engagement when the work is done (at the latest after "
        f"{days(compliance.max_engagement_days)}). Access ends "
        f"{days(access.grace_days)} after the contract ends.",
    )
    return Page(
        "how-to-engage",
        "How to engage a freelancer",
        f"From request to the end of the work, step by step, in {policy.program.name}.",
        (
            Section("Step by step", points=steps, ordered=True),
            Section(
                "Ways to find a freelancer",
                points=tuple(_cap(SOURCING_WORDS[s]) + "." for s in ("marketplace", "direct")),
            ),
        ),
    )


def _approvals(policy: Policy) -> Page:
    settings = policy.approvals
    currency = policy.program.currency
    rules = []
    for rule in settings.rules:
        paragraphs = [rule_sentence(rule, currency)]
        if rule.description:
            paragraphs.append(f"Why: {rule.description}")
        heading = _cap(joined(role_words(rule.approvers), "then" if rule.mode == "sequential"
                              else "and"))  # fmt: skip
        rules.append(Section(heading, paragraphs=tuple(paragraphs)))
    how = Section(
        "How approvals work",
        paragraphs=(
            "The rules below are read from top to bottom and every rule that matches a request "
            "adds its approvers. Someone already asked by an earlier rule is not asked again.",
            f"Approvers are reminded after {days(settings.reminder_after_days)} without an "
            f"answer; after {days(settings.escalate_after_days)} the program manager is told. "
            f"Approve and reject links in mails are valid for {days(settings.link_valid_days)}.",
        ),
    )
    return Page(
        "approvals",
        "Who approves what, and why",
        f"{len(settings.rules)} approval rule{'s' if len(settings.rules) != 1 else ''} decide "
        "who approves each request.",
        (how, *rules),
    )


def _budgets(policy: Policy, names: Mapping[str, str]) -> Page:
    currency = policy.program.currency
    months = (
        "January February March April May June July August September October November December"
    ).split()
    centers = tuple(
        (
            center.name,
            f"{money(center.annual_budget, currency)} a year · owner {person(center.owner, names)}",
        )
        for center in policy.cost_centers
    )
    total = sum((center.annual_budget for center in policy.cost_centers), Decimal(0))
    rates = tuple(
        f"1 {code} counts as {rate} {currency}"
        for code, rate in sorted(policy.program.exchange_rates.items())
    )
    sections = [
        Section(
            "Cost centers and their owners",
            paragraphs=(
                f"Every request is charged to one cost center. Budgets are in {currency} and "
                f"reset each year in {months[policy.program.fiscal_year_start_month - 1]}. "
                f"Together they come to {money(total, currency)}.",
            ),
            facts=centers,
        )
    ]
    if rates:
        sections.append(
            Section(
                "Marketplace amounts",
                paragraphs=(
                    "The marketplace bills in its own currency; finance fixed what its amounts "
                    "count against the budgets:",
                ),
                points=rates,
            )
        )
    return Page(
        "budgets",
        "Budgets and who owns them",
        f"{len(policy.cost_centers)} cost centers, {money(total, currency)} a year in all.",
        tuple(sections),
    )


def _compliance(policy: Policy) -> Page:
    rules = policy.compliance
    agreements = []
    for name in rules.required_agreements:
        terms = rules.terms_of(name)
        text = f"{name}"
        details = []
        if terms.document:
            details.append(f"document: {terms.document}")
        if terms.valid_days:
            details.append(f"a signature holds {days(terms.valid_days)}")
        agreements.append(f"{text} ({'; '.join(details)})" if details else text)
    blocked = sorted(country_name(code) for code in rules.blocked_countries)
    points = [
        f"An engagement lasts at most {days(rules.max_engagement_days)}; longer work needs a "
        "new request.",
        f"The same person can be engaged again only {days(rules.rehire_cooling_off_days)} "
        "after their last engagement ended (cooling-off)."
        if rules.rehire_cooling_off_days
        else "The same person may be engaged again at once (no cooling-off).",
        (
            f"Every freelancer signs {joined(list(rules.required_agreements))} before the work "
            f"starts. Signing links in mails are valid {days(rules.signing_link_valid_days)}; "
            f"Legal and the hiring manager hear {days(rules.agreement_expiry_alert_days)} "
            "ahead of an agreement that expires during an engagement."
        )
        if rules.required_agreements
        else "No agreements are required.",
        (
            f"Freelancers in these countries cannot be engaged: {joined(blocked)}."
            if blocked
            else "Freelancers may be engaged from any country."
        ),
    ]
    sections = [Section("The rules", points=tuple(points))]
    if agreements:
        sections.append(Section("Required agreements", points=tuple(agreements)))
    return Page(
        "compliance",
        "Compliance rules in plain words",
        "The limits every engagement follows, whoever approved it.",
        tuple(sections),
    )


def _access(policy: Policy) -> Page:
    access = policy.access
    role = "read and change files" if access.file_share_role == "write" else "read files"
    points = [
        "A guest account in the company's Microsoft 365, made when the contract starts.",
        "Membership of the project's Team and its channel, so the whole team sees the work"
        + (", in a private channel of the engagement's own." if access.private_channel else "."),
        "Their tasks in the project's Planner plan.",
        f"The project's SharePoint folder, shared so they can {role}; the share expires "
        f"{days(access.grace_days)} after the contract ends.",
    ]
    end = [
        f"Access lasts from the start of the contract until {days(access.grace_days)} after it "
        "ends; then Gigbridge removes the Team, channel and Planner memberships and the folder "
        "share.",
        "The guest account is removed when their last engagement ends."
        if access.remove_guest_on_end
        else "The guest account is kept when their last engagement ends (the program keeps it).",
        "Access that no engagement explains is removed."
        if access.remove_drift
        else "Access that no engagement explains is reported in the access review for a person "
        "to decide.",
    ]
    return Page(
        "access",
        "What the freelancer will get, and for how long",
        f"Access to the project's Team, Planner and folder, until {days(access.grace_days)} "
        "after the contract ends.",
        (
            Section("What they get", points=tuple(points)),
            Section("How long", points=tuple(end)),
        ),
    )


def _files(policy: Policy) -> Page:
    files = policy.files
    too_large = (
        "Files too large for the scanner are quarantined like infected ones until a program "
        "admin releases them."
        if files.too_large == "block"
        else "Files too large for the scanner stay in the folder, marked “not scanned: too "
        "large”, and the same people are told."
    )
    points = [
        "Every file a freelancer adds to the project folder is scanned for malware before it "
        "counts as delivered.",
        "An infected file is taken out of the folder into quarantine; the team finds the last "
        "clean version where the file was.",
        too_large,
        "The hiring manager and the security contacts are told when a file is quarantined.",
    ]
    if files.milestone_needs_clean_deliverable:
        points.append(
            "A milestone can only be approved after at least one clean file was delivered."
        )
    return Page(
        "files",
        "Files and deliverables",
        "Deliverables land in the project's SharePoint folder and are scanned first.",
        (Section("Scanning and quarantine", points=tuple(points)),),
    )


def _faq(policy: Policy, names: Mapping[str, str]) -> Page:
    currency = policy.program.currency
    compliance = policy.compliance
    access = policy.access
    thresholds = sorted(
        {
            rule.when.amount_at_least
            for rule in policy.approvals.rules
            if rule.when is not None and rule.when.amount_at_least is not None
        }
    )
    always = [rule for rule in policy.approvals.rules if rule.when is None]
    small = (
        f"{joined([_cap(w) for w in role_words(always[0].approvers)])} only"
        if always
        else "nobody, unless another rule matches"
    )
    questions = [
        (
            "Who approves a small request?",
            f"{small}, as long as it is below {money(thresholds[0], currency)} and no other "
            "rule matches."
            if thresholds
            else f"{small}.",
        ),
        (
            "What changes with a bigger budget?",
            " ".join(
                rule_sentence(rule, currency)
                for rule in policy.approvals.rules
                if rule.when is not None and rule.when.amount_at_least is not None
            )
            or "The budget alone never adds approvers.",
        ),
        (
            "How long can a freelancer work for us?",
            f"At most {days(compliance.max_engagement_days)} per engagement; then "
            f"{days(compliance.rehire_cooling_off_days)} must pass before the same person is "
            "engaged again.",
        ),
        (
            "What must a freelancer sign?",
            f"{joined(list(compliance.required_agreements))}, before the work starts."
            if compliance.required_agreements
            else "Nothing is required by the program.",
        ),
        (
            "Can I hire someone from any country?",
            "Not from "
            + joined(sorted(country_name(c) for c in compliance.blocked_countries), "or")
            + "."
            if compliance.blocked_countries
            else "Yes: the program blocks no country.",
        ),
        (
            "When does the freelancer lose access?",
            f"{_cap(days(access.grace_days))} after the contract ends, automatically.",
        ),
        (
            "Who owns my cost center's budget?",
            " ".join(
                f"{center.name}: {person(center.owner, names)}." for center in policy.cost_centers
            ),
        ),
        (
            "An approver has not answered. What now?",
            f"They are reminded after {days(policy.approvals.reminder_after_days)}; after "
            f"{days(policy.approvals.escalate_after_days)} the program manager is told.",
        ),
    ]
    return Page(
        "faq",
        "Questions and answers",
        "Short answers from the program's rules.",
        (Section("Frequently asked", questions=tuple(questions)),),
    )


def pages(policy: Policy, names: Mapping[str, str] | None = None) -> list[Page]:
    """The hub's pages, in reading order."""
    names = {k.lower(): v for k, v in (names or {}).items()}
    return [
        _engage(policy),
        _approvals(policy),
        _budgets(policy, names),
        _compliance(policy),
        _access(policy),
        _files(policy),
        _faq(policy, names),
    ]


def page(policy: Policy, slug: str, names: Mapping[str, str] | None = None) -> Page | None:
    return next((p for p in pages(policy, names) if p.slug == slug), None)
