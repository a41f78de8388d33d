"""The set-up wizard's questions: what procurement, HR and legal answer to define a program.

One question set, two front ends: ``gigbridge init`` asks it in a terminal (or reads an answers
file), and the web asks the first admin of a new installation (``wizard_views``). Both produce
``Answers``, and ``render_policy`` turns them into a commented policy file in the format of
examples/program.yaml, which must pass ``parse_policy`` (``policy_from_answers`` checks).

Answers are bounded like the policy itself (they reuse its field types), and their errors name
the answer (``cost_centers.1.owner``), not a policy path.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import pycountry
import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from .policy import (
    MAX_FILE_BYTES,
    AgreementName,
    ApprovalMode,
    ApproverRole,
    CostCenterCode,
    DataClassification,
    DocumentRef,
    EmailAddress,
    ExchangeRate,
    FileShareRole,
    Money,
    Name,
    NoticeChannel,
    Policy,
    PolicyError,
    Slug,
    SourcingKind,
    WorkerCategory,
    parse_policy,
)

# Bounds of the answers: a program defined by hand in a wizard is smaller than the policy format
# allows (a policy file written by hand may still use the format's own bounds).
MAX_TASK_CATEGORIES = 50
MAX_COST_CENTERS = 200
MAX_RULES = 50
MAX_AGREEMENTS = 20
MAX_EXCHANGE_RATES = 20
MAX_BLOCKED_COUNTRIES = 250  # ISO 3166-1 has 249 codes
MAX_SECURITY_CONTACTS = 20
MAX_RULE_DESCRIPTION = 300
MAX_DAYS = 3650


def _upper(value: Any) -> Any:
    # People type "eur" or " kp"; the codes are capitals.
    return value.strip().upper() if isinstance(value, str) else value


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _iso_currency(code: str) -> str:
    if pycountry.currencies.get(alpha_3=code) is None:
        raise PydanticCustomError(
            "currency",
            "{code} is not an ISO 4217 currency code (such as EUR, USD, GBP)",
            {"code": code},
        )
    return code


def _iso_country(code: str) -> str:
    if pycountry.countries.get(alpha_2=code) is None:
        raise PydanticCustomError(
            "country", "{code} is not an ISO 3166-1 country code (such as KP, CU)", {"code": code}
        )
    return code


def _https_or_file(value: str) -> str:
    if value.startswith("http://"):
        raise PydanticCustomError(
            "https", "must be an https:// address (a plain http one can be altered on the way)"
        )
    return value


Currency = Annotated[
    str, BeforeValidator(_upper), Field(pattern=r"^[A-Z]{3}$"), AfterValidator(_iso_currency)
]
Country = Annotated[
    str, BeforeValidator(_upper), Field(pattern=r"^[A-Z]{2}$"), AfterValidator(_iso_country)
]
Text = Annotated[Name, BeforeValidator(_stripped)]
Document = Annotated[DocumentRef, BeforeValidator(_stripped), AfterValidator(_https_or_file)]
Days = Annotated[int, Field(ge=0, le=MAX_DAYS)]


class _Answers(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CostCenterAnswer(_Answers):
    code: Annotated[CostCenterCode, BeforeValidator(_upper)]
    name: Text
    annual_budget: Money
    owner: Annotated[EmailAddress, BeforeValidator(_stripped)]


class RuleCondition(_Answers):
    """When a rule applies (the policy's own ``when``); conditions left out match anything."""

    amount_at_least: Money | None = None
    data_classification: Annotated[list[DataClassification], Field(min_length=1)] | None = None
    worker_category: Annotated[list[WorkerCategory], Field(min_length=1)] | None = None
    sourcing: Annotated[list[SourcingKind], Field(min_length=1)] | None = None
    task_category: Annotated[list[Slug], Field(min_length=1, max_length=50)] | None = None


class RuleAnswer(_Answers):
    """One approval rule, in the policy's own format."""

    id: Slug
    description: Annotated[str, Field(max_length=MAX_RULE_DESCRIPTION)] | None = None
    when: RuleCondition | None = None
    approvers: Annotated[list[ApproverRole], Field(min_length=1, max_length=6)]
    mode: ApprovalMode = "parallel"


class AgreementAnswer(_Answers):
    name: Annotated[AgreementName, BeforeValidator(_stripped)]
    # The text a freelancer accepts: an https:// address or a file in the data folder.
    document: Document | None = None
    valid_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] | None = None


class Answers(_Answers):
    """Everything the wizard asks, with the defaults it proposes."""

    program_name: Text
    currency: Currency
    fiscal_year_start_month: Annotated[int, Field(ge=1, le=12)] = 1
    # Units of the program currency for one unit of each marketplace currency (Upwork: USD).
    exchange_rates: Annotated[
        dict[Currency, ExchangeRate], Field(max_length=MAX_EXCHANGE_RATES)
    ] = {}
    task_categories: Annotated[list[Slug], Field(min_length=1, max_length=MAX_TASK_CATEGORIES)]
    worker_categories: Annotated[list[WorkerCategory], Field(min_length=1, max_length=4)]
    cost_centers: Annotated[
        list[CostCenterAnswer], Field(min_length=1, max_length=MAX_COST_CENTERS)
    ]
    approval_rules: Annotated[list[RuleAnswer], Field(max_length=MAX_RULES)]
    agreements: Annotated[list[AgreementAnswer], Field(max_length=MAX_AGREEMENTS)] = []
    max_engagement_days: Annotated[int, Field(ge=1, le=MAX_DAYS)] = 180
    cooling_off_days: Days = 90
    blocked_countries: Annotated[list[Country], Field(max_length=MAX_BLOCKED_COUNTRIES)] = []
    access_grace_days: Annotated[int, Field(ge=0, le=90)] = 3
    file_share_role: FileShareRole = "write"
    notifications_channel: NoticeChannel = "outlook"
    security_contacts: Annotated[
        list[Annotated[EmailAddress, BeforeValidator(_stripped)]],
        Field(max_length=MAX_SECURITY_CONTACTS),
    ] = []


# The order and labels people see (CLI prompts, web labels, the docs).
LABELS = {
    "program_name": "Program name",
    "currency": "Program currency (ISO 4217)",
    "fiscal_year_start_month": "Month the fiscal year starts (1-12)",
    "exchange_rates": "Exchange rates (units of the program currency for one unit of another)",
    "task_categories": "Task categories (what freelancers are hired for)",
    "worker_categories": "Worker categories the program covers",
    "cost_centers": "Cost centers",
    "approval_rules": "Approval rules",
    "agreements": "Required agreements",
    "max_engagement_days": "Longest engagement (days)",
    "cooling_off_days": "Cooling-off before the same person is engaged again (days)",
    "blocked_countries": "Blocked countries (ISO 3166-1 codes)",
    "access_grace_days": "Days access stays after a contract ends",
    "file_share_role": "Freelancers' access to the project folder (read or write)",
    "notifications_channel": "Where notices go by default (outlook, teams or both)",
    "security_contacts": "Security contacts told of a quarantined file (emails)",
}


def standard_rules(
    *,
    manager: bool = True,
    procurement_from: Decimal | None = Decimal("5000"),
    legal_confidential: bool = True,
    hr_contingent: bool = True,
    finance_from: Decimal | None = Decimal("25000"),
    currency: str = "EUR",
) -> list[dict]:
    """The usual approval rules from five answers (the questions `gigbridge init` asks)."""
    rules: list[dict] = []
    if manager:
        rules.append(
            {
                "id": "manager",
                "description": "The requester's line manager approves every request.",
                "approvers": ["manager"],
            }
        )
    if procurement_from is not None:
        rules.append(
            {
                "id": "procurement",
                "description": f"Procurement checks the rate and the supplier from "
                f"{_amount(procurement_from)} {currency}.",
                "when": {"amount_at_least": procurement_from},
                "approvers": ["procurement"],
            }
        )
    if legal_confidential:
        rules.append(
            {
                "id": "legal-confidential",
                "description": "Legal reviews any work that touches confidential data.",
                "when": {"data_classification": ["confidential"]},
                "approvers": ["legal"],
            }
        )
    if hr_contingent:
        rules.append(
            {
                "id": "hr-contingent",
                "description": "HR confirms contingent staff do not drift into employment.",
                "when": {"worker_category": ["contingent"]},
                "approvers": ["hr"],
            }
        )
    if finance_from is not None:
        rules.append(
            {
                "id": "finance",
                "description": f"From {_amount(finance_from)} {currency} finance signs off "
                "first, then the cost center owner.",
                "when": {"amount_at_least": finance_from},
                "approvers": ["finance", "cost_center_owner"],
                "mode": "sequential",
            }
        )
    return rules


# ---------------------------------------------------------------------------------------------
# Validation: every problem, each with the answer it is about
# ---------------------------------------------------------------------------------------------


class AnswersError(Exception):
    """Every problem in a set of answers, as (path, message); path is dotted, e.g.
    cost_centers.1.owner, or "" for the answers as a whole."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(f"{path or '(answers)'}: {message}" for path, message in self.problems)

    def by_field(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for path, message in self.problems:
            found.setdefault(path, []).append(message)
        return found


def _path(loc: tuple) -> str:
    # pydantic adds the validator's name for tagged types ("function-after[...]"): not a field.
    return ".".join(str(part) for part in loc if not str(part).startswith("function-"))


def _message(error: dict) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return f"is not a question of the wizard (the questions are: {', '.join(LABELS)})"
    if kind == "string_pattern_mismatch":
        loc = str(error["loc"][0]) if error["loc"] else ""
        if "currenc" in loc or loc == "exchange_rates":
            return "must be a three-letter ISO 4217 currency code, such as EUR"
        if loc == "blocked_countries":
            return "must be a two-letter ISO 3166-1 country code, such as KP"
    message = error["msg"]
    if message[1:2].isupper():  # starts with a code, such as "EUX is not ..."
        return message
    return message[:1].lower() + message[1:]


def validate_answers(data: Any) -> Answers:
    """The answers in ``data`` (a mapping), or AnswersError listing every problem."""
    if not isinstance(data, dict):
        raise AnswersError([("", "the answers must be a mapping of questions to answers")])
    try:
        answers = Answers.model_validate(data)
    except ValidationError as error:
        problems = [(_path(e["loc"]), _message(e)) for e in error.errors()]
        problems.extend(_consistency(data))
        raise AnswersError(_unique(problems)) from None
    problems = _consistency(answers.model_dump())
    if problems:
        raise AnswersError(problems)
    try:
        policy_from_answers(answers)
    except PolicyError as error:  # a rule the answers model does not know yet: say so
        raise AnswersError(
            [("", f"the policy would be invalid: {p.path}: {p.message}") for p in error.problems]
        ) from None
    return answers


def _unique(problems: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return list(dict.fromkeys(problems))


def _consistency(data: dict) -> list[tuple[str, str]]:
    """Problems that involve more than one answer (duplicates, references)."""
    problems: list[tuple[str, str]] = []

    def rows(key: str) -> list[tuple[int, dict]]:
        value = data.get(key)
        if not isinstance(value, list):
            return []
        return [(i, row) for i, row in enumerate(value) if isinstance(row, dict)]

    def duplicates(key: str, field: str, label: str) -> None:
        seen: dict[Any, int] = {}
        for index, row in rows(key):
            value = row.get(field)
            if not isinstance(value, str):
                continue
            value = value.strip().upper() if field == "code" else value.strip()
            if value in seen:
                problems.append(
                    (
                        f"{key}.{index}.{field}",
                        f"{label} {value} is given twice (first in row {seen[value] + 1})",
                    )
                )
            else:
                seen[value] = index

    duplicates("cost_centers", "code", "cost center code")
    duplicates("approval_rules", "id", "rule id")
    duplicates("agreements", "name", "agreement")
    for key in ("task_categories", "worker_categories", "blocked_countries", "security_contacts"):
        values = data.get(key)
        if isinstance(values, list):
            seen_values: set = set()
            for index, value in enumerate(values):
                if isinstance(value, str) and value in seen_values:
                    problems.append((f"{key}.{index}", f"{value} is listed twice"))
                elif isinstance(value, str):
                    seen_values.add(value)
    for condition, declared_key in (
        ("worker_category", "worker_categories"),
        ("task_category", "task_categories"),
    ):
        declared = data.get(declared_key)
        if not isinstance(declared, list):
            continue
        for index, rule in rows("approval_rules"):
            when = rule.get("when")
            values = when.get(condition) if isinstance(when, dict) else None
            for position, value in enumerate(values if isinstance(values, list) else []):
                if isinstance(value, str) and value not in declared:
                    problems.append(
                        (
                            f"approval_rules.{index}.when.{condition}.{position}",
                            f"{value} is not one of the program's {declared_key} "
                            f"({', '.join(map(str, declared))})",
                        )
                    )
    return problems


# ---------------------------------------------------------------------------------------------
# Reading an answers file
# ---------------------------------------------------------------------------------------------


def read_answers_file(path: Path) -> Answers:
    """The answers in a YAML or JSON file (JSON is YAML), or AnswersError saying what is wrong."""
    try:
        with Path(path).open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise AnswersError([("", f"cannot read {path}: {error.strerror or error}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise AnswersError([("", f"{path} is larger than {MAX_FILE_BYTES // 1024} KiB")])
    try:
        text = raw.decode("utf-8")
        data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except UnicodeDecodeError:
        raise AnswersError([("", f"{path} is not UTF-8 text")]) from None
    except (ValueError, yaml.YAMLError) as error:
        raise AnswersError([("", f"{path} is not valid YAML or JSON: {error}")]) from None
    return validate_answers(data)


# ---------------------------------------------------------------------------------------------
# Writing the policy
# ---------------------------------------------------------------------------------------------


def _scalar(value: Any) -> str:
    """A value as YAML writes it in flow style: quoted only where YAML would misread it."""
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000)
    text = text.strip()
    if text.endswith("\n..."):
        text = text[:-4].strip()
    if text.endswith("..."):
        text = text[:-3].strip()
    return text


def _flow(values: list) -> str:
    return "[" + ", ".join(_scalar(value) for value in values) + "]"


def _number(amount: Decimal) -> str:
    amount = Decimal(amount)
    if amount == amount.to_integral_value():
        return str(int(amount))
    return format(amount.normalize(), "f")


def _amount(amount: Decimal) -> str:
    """An amount for people: 25,000 or 1,250.50."""
    amount = Decimal(amount)
    if amount == amount.to_integral_value():
        return f"{int(amount):,}"
    return f"{amount:,.2f}"


def _comment(text: str) -> str:
    # A comment must stay one line: answers may hold line breaks.
    return " ".join(text.split())


def render_policy(answers: Answers) -> str:
    """The policy for ``answers``, as a commented YAML file like examples/program.yaml."""
    a = answers
    currency = a.currency
    name = _comment(a.program_name)
    out: list[str] = [
        f"# {name}: the program policy.",
        "#",
        "# Written by the Gigbridge set-up wizard from the answers of procurement, HR and legal.",
        "# This file is the single source of truth for how the program hires freelancers: who",
        "# approves what, how much each cost center may spend, and the compliance and access",
        "# limits every engagement follows. Edit it by hand from now on, and check it after every",
        "# change:   gigbridge policy check program.yaml",
        "# Each approval records the policy version and the rule that required it, so edit rules",
        "# by adding or changing entries rather than reusing an old rule id for something else.",
        "",
        "version: 1",
        "",
        "program:",
        f"  name: {_scalar(a.program_name)}",
        f"  currency: {currency}                  # every amount below is in this currency",
        f"  fiscal_year_start_month: {a.fiscal_year_start_month}"
        f"     # budgets reset in {_month(a.fiscal_year_start_month)}",
    ]
    if a.exchange_rates:
        out.append(
            "  exchange_rates:                # what a marketplace amount counts against "
            "budgets (finance)"
        )
        for code, rate in a.exchange_rates.items():
            out.append(
                f"    {code}: {_number(rate)}"
                f"                    # 1 {code} = {_number(rate)} {currency}"
            )
    else:
        out += [
            "  # The marketplace bills in its own currency (Upwork: USD); finance fixes the rate",
            "  # at which its amounts count against budgets, e.g. exchange_rates: {USD: 0.92}",
            "  exchange_rates: {}",
        ]
    out += [
        "",
        "# Who the program covers. Rules below may only name categories listed here.",
        f"worker_categories: {_flow(a.worker_categories)}",
        "",
        "# What freelancers are hired for; every work request picks one.",
        "task_categories:",
        *[f"  - {_scalar(category)}" for category in a.task_categories],
        "",
        "# Annual freelance budgets. The owner approves spend on the cost center when a rule asks",
        "# for the cost_center_owner role.",
        "cost_centers:",
    ]
    for center in a.cost_centers:
        out += [
            f"  - code: {center.code}",
            f"    name: {_scalar(center.name)}",
            f"    annual_budget: {_number(center.annual_budget)}"
            f"          # {_amount(center.annual_budget)} {currency} a fiscal year",
            f"    owner: {_scalar(center.owner)}",
        ]
    out += [
        "",
        "approvals:",
        "  reminder_after_days: 2         # nudge an approver who has not answered",
        "  escalate_after_days: 5         # then tell the program manager",
        "  link_valid_days: 7             # approve/reject links in mails expire after this",
        "",
        "  # Rules are read top to bottom; every matching rule adds its approvers. Someone",
        "  # already asked by an earlier rule is not asked again. Parallel approvers decide at",
        "  # the same time; sequential ones one after another, in the order listed.",
    ]
    if not a.approval_rules:
        out += ["  # No rule: every request is approved as soon as it is submitted.", "  rules: []"]
    else:
        out.append("  rules:")
    for index, rule in enumerate(a.approval_rules):
        if index:
            out.append("")
        out.append(f"    - id: {rule.id}")
        if rule.description:
            out.append(f"      description: {_scalar(' '.join(rule.description.split()))}")
        if rule.when is not None:
            conditions = rule.when.model_dump(exclude_none=True)
            if conditions:
                out.append("      when:")
                for key, value in conditions.items():
                    shown = _number(value) if key == "amount_at_least" else _flow(value)
                    note = f"   # {currency}" if key == "amount_at_least" else ""
                    out.append(f"        {key}: {shown}{note}")
        out.append(f"      approvers: {_flow(rule.approvers)}")
        if rule.mode != "parallel":
            out.append(f"      mode: {rule.mode}")
    out += [
        "",
        "compliance:",
        f"  max_engagement_days: {a.max_engagement_days}"
        "       # longer engagements need a new request",
        f"  rehire_cooling_off_days: {a.cooling_off_days}"
        "    # gap before the same person may be engaged again",
        f"  required_agreements: {_flow([agreement.name for agreement in a.agreements])}",
        "  agreement_expiry_alert_days: 30  # legal and the hiring manager hear of an expiring one",
    ]
    terms = [agreement for agreement in a.agreements if agreement.document or agreement.valid_days]
    if terms:
        out.append(
            "  # Per agreement: the document freelancers accept and how long a signature holds."
        )
        out.append("  agreements:")
        for agreement in terms:
            out.append(f"    {_scalar(agreement.name)}:")
            if agreement.document:
                out.append(f"      document: {_scalar(agreement.document)}")
            if agreement.valid_days:
                out.append(f"      valid_days: {agreement.valid_days}")
    else:
        out += [
            "  # Optional, per agreement: the document freelancers accept (an https:// address or",
            "  # a file in the data folder) and how long a signature holds, e.g.",
            "  # agreements:",
            '  #   MSA: {document: "https://legal.example/msa-v2.pdf", valid_days: 730}',
        ]
    import textwrap

    countries = "; ".join(
        f"{code} {pycountry.countries.get(alpha_2=code).name}" for code in a.blocked_countries
    )
    out += [
        "  # ISO 3166-1 country codes. Quote codes YAML could misread, such as 'NO' (Norway).",
        *[f"  #   {line}" for line in textwrap.wrap(_comment(countries), 88)],
        f"  blocked_countries: {_flow(a.blocked_countries)}",
        "",
        "access:",
        f"  grace_days: {a.access_grace_days}"
        "                  # access stays this long after the contract ends",
        f"  file_share_role: {a.file_share_role}"
        + (
            "         # freelancers deliver into the project folder"
            if a.file_share_role == "write"
            else "          # freelancers read the project folder; they deliver elsewhere"
        ),
        "  remove_guest_on_end: true      # remove the guest account when the last engagement ends",
        "  remove_drift: false            # report access no engagement explains, do not remove it",
        "  private_channel: false         # true: a private channel per engagement in the Team",
        "",
        "notifications:",
        "  # Where notices go until a person chooses per kind on their profile: outlook (mail),",
        "  # teams (a message from the Gigbridge bot, once a bot is configured) or both.",
        f"  default_channel: {a.notifications_channel}",
        "",
        "files:",
        "  # Every file a freelancer adds to the project folder is scanned before it counts as",
        "  # delivered. Larger than the scanner can take: block (quarantined until a program admin",
        '  # releases it) or allow (left in the folder, recorded "not scanned: too large").',
        "  too_large: block",
        "  milestone_needs_clean_deliverable: false   # true: approve a milestone only after a "
        "clean file",
        f"  security_contacts: {_flow(a.security_contacts)}   # told when a file is quarantined",
        "",
    ]
    return "\n".join(out)


def _month(number: int) -> str:
    import calendar

    return calendar.month_name[number]


def policy_from_answers(answers: Answers) -> tuple[str, Policy]:
    """The policy text for ``answers`` and the policy it parses to (PolicyError if invalid)."""
    text = render_policy(answers)
    return text, parse_policy(text, "program.yaml")


# ---------------------------------------------------------------------------------------------
# Writing the policy file
# ---------------------------------------------------------------------------------------------


def write_policy_file(path: Path, text: str, *, force: bool = False) -> None:
    """Write ``text`` to ``path`` readable by its owner only (0600), never over an existing
    policy unless ``force``. The file appears whole or not at all (written aside, renamed)."""
    import os

    path = Path(path)
    if path.exists() and not force:
        raise FileExistsError(f"a policy already exists at {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(partial, 0o600)
        if force:
            os.replace(partial, path)
        else:
            # link() fails if the name exists: two wizards at once cannot both write.
            os.link(partial, path)
            os.unlink(partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


_SLUG_CLEAN = re.compile(r"[^a-z0-9-]+")


def slugify(text: str) -> str:
    """A rule id or category from free text ("Software development" -> software-development)."""
    return _SLUG_CLEAN.sub("-", text.strip().lower()).strip("-")[:50]
