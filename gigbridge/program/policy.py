"""The program policy: the rules a program manager writes down in one YAML file.

The file says who must approve which work requests, which budgets the cost centers have, and
the compliance and access limits every engagement follows. This module turns that file into
immutable pydantic models and works out approval chains from them.

It deliberately needs no Django settings or database (it only shares gigbridge.limits) so that
`gigbridge policy check FILE`, editors and CI can validate a policy anywhere.

Checking is meant for people, not programmers: every problem in the file is reported at once,
each as ``FILE:LINE:COLUMN: path: message`` (the format editors and CI annotate), with the
position of the offending value rather than a pydantic traceback.
"""

import os
import re
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

# Bounds shared with the API and forms. gigbridge.limits needs no settings or database, so the
# policy check still runs without them.
from gigbridge import limits

# ---------------------------------------------------------------------------------------------
# Vocabulary. Literal types keep the allowed values introspectable (forms, API schema, messages).
# ---------------------------------------------------------------------------------------------

POLICY_VERSION = 1

ApproverRole = Literal["manager", "cost_center_owner", "procurement", "legal", "hr", "finance"]
DataClassification = Literal["public", "internal", "confidential"]
WorkerCategory = Literal["employee", "vendor", "contingent", "freelancer"]
SourcingKind = Literal["marketplace", "direct"]
ApprovalMode = Literal["parallel", "sequential"]
FileShareRole = Literal["read", "write"]
NoticeChannel = Literal["outlook", "teams", "both"]
TooLargeRule = Literal["block", "allow"]
# Where an engagement works in Microsoft 365: a Team made for its workspace, a Team the tenant
# already had (shared with other work), or its own private channel in a Team.
WorkspaceKind = Literal["new_team", "existing_team", "private_channel"]

APPROVER_ROLES: tuple[str, ...] = get_args(ApproverRole)
DATA_CLASSIFICATIONS: tuple[str, ...] = get_args(DataClassification)
WORKER_CATEGORIES: tuple[str, ...] = get_args(WorkerCategory)
SOURCING_KINDS: tuple[str, ...] = get_args(SourcingKind)
APPROVAL_MODES: tuple[str, ...] = get_args(ApprovalMode)
FILE_SHARE_ROLES: tuple[str, ...] = get_args(FileShareRole)
WORKSPACE_KINDS: tuple[str, ...] = get_args(WorkspaceKind)

# ---------------------------------------------------------------------------------------------
# Field types. Each custom check raises PydanticCustomError so its message reaches the user
# verbatim (a plain ValueError would be prefixed with "Value error, ").
# ---------------------------------------------------------------------------------------------


def _matching(pattern: str, error_type: str, requirement: str) -> AfterValidator:
    regex = re.compile(pattern)

    def check(value: str) -> str:
        if not regex.fullmatch(value):
            raise PydanticCustomError(
                error_type, f"{requirement} (got {{got}})", {"got": _excerpt(repr(value))}
            )
        return value

    return AfterValidator(check)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise PydanticCustomError("blank", "must not be empty")
    return value


def _supported_version(value: int) -> int:
    if value != POLICY_VERSION:
        raise PydanticCustomError(
            "unsupported_version",
            "must be {expected}, the only policy format version so far (got {got})",
            {"expected": POLICY_VERSION, "got": value},
        )
    return value


# ---------------------------------------------------------------------------------------------
# Bounds. Every number, text and list in a policy has one, stated here once: a value that passed
# `policy check` must also work everywhere the product uses it (database columns, date
# arithmetic, currency conversion). docs/policy.md lists them.
# ---------------------------------------------------------------------------------------------

# Money lands in DecimalField(max_digits=14, decimal_places=2) columns (cost centers, request
# budgets, spend alerts), which hold less than 10^12. The bound every money field shares (a
# billion) leaves room for sums and for conversion at MIN_EXCHANGE_RATE.
MAX_MONEY = limits.MONEY_MAX
MONEY_DECIMAL_PLACES = 2
# Units of the program currency for one unit of the marketplace currency (Upwork: USD). No
# currency is worth 100 dollars (the dearest, KWD, about 3) and none is below 1/100,000 of one
# (LBP about 1/90,000). Budgets divided by the smallest rate still fit the offer columns.
MIN_EXCHANGE_RATE = Decimal("0.01")
MAX_EXCHANGE_RATE = Decimal("100000")
EXCHANGE_RATE_DECIMAL_PLACES = 6
MAX_EXCHANGE_RATES = 200  # ISO 4217 has about 180 currencies
# Ten years: dates stay far from datetime's year 9999 and timedelta stays tiny.
MAX_DAYS = 3650
MAX_APPROVAL_DAYS = 365  # reminders and escalation
MAX_LIST_ITEMS = 1000  # cost centers, rules, categories, agreements, countries, ...
MAX_NAME_LENGTH = limits.NAME_MAX  # program and cost center names: CharField(max_length=200)
MAX_SLUG_LENGTH = 50  # task categories: WorkRequest.task_category; rule ids: rule columns
MAX_AGREEMENT_LENGTH = 50  # people.Agreement.name
# An agreement's document: an http(s) address or a path inside the data folder
# (people.Agreement keeps evidence links in a URLField(max_length=500)).
MAX_DOCUMENT_LENGTH = limits.URL_MAX
MAX_SIGNING_LINK_DAYS = 30  # mailed signing links are secrets; keep them short-lived
MAX_AGREEMENT_EXPIRY_ALERT_DAYS = 365  # how far ahead an expiring agreement is announced
MAX_EMAIL_LENGTH = limits.EMAIL_MAX
MAX_DESCRIPTION_LENGTH = 1000

_SLUG_PATTERN = r"[a-z0-9][a-z0-9-]*"

NonEmptyStr = Annotated[str, AfterValidator(_not_blank)]
# The length goes on str itself: after a validator pydantic would check it as a list length.
Name = Annotated[str, Field(max_length=MAX_NAME_LENGTH), AfterValidator(_not_blank)]
AgreementName = Annotated[str, Field(max_length=MAX_AGREEMENT_LENGTH), AfterValidator(_not_blank)]
DocumentRef = Annotated[
    str,
    Field(max_length=MAX_DOCUMENT_LENGTH),
    _matching(
        # An address, or a relative path with no ".." part (it must stay in the data folder).
        r"https?://[^\s/?#]+\S*|(?!/)(?!.*(^|/)\.\.(/|$))[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*",
        "document",
        "must be an https:// address or a path inside the data folder, such as "
        "agreements/nda-v3.md",
    ),
]
Slug = Annotated[
    str,
    Field(max_length=MAX_SLUG_LENGTH),
    _matching(
        _SLUG_PATTERN,
        "slug",
        "must be lowercase letters, digits and hyphens, such as software-development",
    ),
]
CostCenterCode = Annotated[
    str,
    _matching(
        r"[A-Z0-9][A-Z0-9-]{1,31}",
        "cost_center_code",
        "must be 2 to 32 capital letters, digits or hyphens, such as CC-MKT",
    ),
]
CurrencyCode = Annotated[
    str,
    _matching(
        r"[A-Z]{3}",
        "currency",
        "must be a three-letter ISO 4217 currency code in capitals, such as EUR",
    ),
]
CountryCode = Annotated[
    str,
    _matching(
        r"[A-Z]{2}",
        "country",
        "must be a two-letter ISO 3166-1 country code in capitals, such as KP",
    ),
]
# Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is the mail
# server's business; this only catches typos such as a missing domain.
EmailAddress = Annotated[
    str,
    Field(max_length=MAX_EMAIL_LENGTH),
    _matching(
        r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+",
        "email",
        "must be an email address, such as name@example.com",
    ),
]
# Money is Decimal so that thresholds compare exactly; YAML may spell it as int, float or text.
# Whole cents only: the columns keep two decimals and would round silently.
Money = Annotated[
    Decimal,
    Field(ge=0, le=MAX_MONEY, decimal_places=MONEY_DECIMAL_PLACES, allow_inf_nan=False),
]
ExchangeRate = Annotated[
    Decimal,
    Field(
        ge=MIN_EXCHANGE_RATE,
        le=MAX_EXCHANGE_RATE,
        decimal_places=EXCHANGE_RATE_DECIMAL_PLACES,
        allow_inf_nan=False,
    ),
]
# Counts of days are strict ints: YAML `true` or `2.5` is a mistake, not a number of days.
# Fields narrow the range further where a smaller one makes sense.
Days = Annotated[int, Field(strict=True, ge=0, le=MAX_DAYS)]
Month = Annotated[int, Field(strict=True, ge=1, le=12)]
StrictBool = Annotated[bool, Field(strict=True)]
_Item = TypeVar("_Item")
BoundedList = Annotated[tuple[_Item, ...], Field(max_length=MAX_LIST_ITEMS)]
NonEmptyList = Annotated[tuple[_Item, ...], Field(min_length=1, max_length=MAX_LIST_ITEMS)]

# ---------------------------------------------------------------------------------------------
# The schema
# ---------------------------------------------------------------------------------------------


class _Model(BaseModel):
    # Unknown keys are typos that would silently change nothing; frozen because a policy
    # version must never change after an approval was decided under it.
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProgramInfo(_Model):
    name: Name
    currency: CurrencyCode
    fiscal_year_start_month: Month = 1
    # The marketplace bills in its own currency (Upwork: USD). Finance fixes the rate at which
    # its amounts count against budgets: units of the program currency for one unit of each.
    exchange_rates: Annotated[
        dict[CurrencyCode, ExchangeRate], Field(max_length=MAX_EXCHANGE_RATES)
    ] = {}


class UnknownCurrency(ValueError):
    """An amount in a currency the policy gives no exchange rate for."""


class CostCenterPolicy(_Model):
    code: CostCenterCode
    name: Name
    annual_budget: Money
    owner: EmailAddress


class RuleCondition(_Model):
    """When a rule applies. Every condition given must hold; those left out match anything."""

    amount_at_least: Money | None = None
    # An empty list would match nothing, which is never what the author meant.
    data_classification: NonEmptyList[DataClassification] | None = None
    worker_category: NonEmptyList[WorkerCategory] | None = None
    sourcing: NonEmptyList[SourcingKind] | None = None
    task_category: NonEmptyList[Slug] | None = None

    def matches(self, facts: "RequestFacts") -> bool:
        return all(
            (
                self.amount_at_least is None or facts.amount >= self.amount_at_least,
                _allows(self.data_classification, facts.data_classification),
                _allows(self.worker_category, facts.worker_category),
                _allows(self.sourcing, facts.sourcing),
                _allows(self.task_category, facts.task_category),
            )
        )


def _allows(allowed: tuple[str, ...] | None, value: str) -> bool:
    return allowed is None or value in allowed


class ApprovalRule(_Model):
    id: Slug
    description: Annotated[str, Field(max_length=MAX_DESCRIPTION_LENGTH)] | None = None
    when: RuleCondition | None = None
    approvers: NonEmptyList[ApproverRole]
    mode: ApprovalMode = "parallel"

    def applies_to(self, facts: "RequestFacts") -> bool:
        return self.when is None or self.when.matches(facts)

    def stages(self) -> list[tuple[str, ...]]:
        """The approver groups this rule asks for, one group per stage."""
        if self.mode == "sequential":
            return [(role,) for role in self.approvers]
        return [self.approvers]


class ApprovalSettings(_Model):
    reminder_after_days: Annotated[Days, Field(ge=1, le=MAX_APPROVAL_DAYS)] = 2
    # must exceed reminder_after_days: _escalation_timing
    escalate_after_days: Annotated[Days, Field(ge=1, le=MAX_APPROVAL_DAYS)] = 5
    link_valid_days: Annotated[Days, Field(ge=1, le=30)] = 7
    rules: BoundedList[ApprovalRule]


class AgreementTerms(_Model):
    """What the policy says about one required agreement; both are optional."""

    # The text a freelancer accepts when signing through a mailed link: an address, or a file
    # in the data folder (its SHA-256 is recorded with each signature).
    document: DocumentRef | None = None
    # How long a signature holds: the expiry is the signing day plus this many days.
    valid_days: Annotated[Days, Field(ge=1)] | None = None


class CompliancePolicy(_Model):
    max_engagement_days: Annotated[Days, Field(ge=1)]
    rehire_cooling_off_days: Days
    required_agreements: BoundedList[AgreementName]
    blocked_countries: BoundedList[CountryCode]
    # Details per required agreement, by name (each must be one of required_agreements).
    agreements: Annotated[
        dict[AgreementName, AgreementTerms], Field(max_length=MAX_LIST_ITEMS)
    ] = {}
    signing_link_valid_days: Annotated[Days, Field(ge=1, le=MAX_SIGNING_LINK_DAYS)] = 7
    # Legal and the hiring manager hear this many days ahead of an agreement that expires
    # before the end of an engagement of its signer.
    agreement_expiry_alert_days: Annotated[
        Days, Field(ge=1, le=MAX_AGREEMENT_EXPIRY_ALERT_DAYS)
    ] = 30

    def terms_of(self, name: str) -> AgreementTerms:
        return self.agreements.get(name) or AgreementTerms()


class AccessPolicy(_Model):
    grace_days: Annotated[Days, Field(ge=0, le=90)] = 3
    file_share_role: FileShareRole = "read"
    remove_guest_on_end: StrictBool = True
    remove_drift: StrictBool = False
    # Each engagement gets its own private channel in the project's Team (with the hiring team).
    private_channel: StrictBool = False
    # Per data classification, the workspace kinds its work may use (a classification not
    # named may use any): e.g. confidential: [new_team, private_channel].
    workspace_kinds: dict[DataClassification, NonEmptyList[WorkspaceKind]] = Field(
        default_factory=dict
    )
    # A workspace's folder shared with the freelancers of two engagements at once.
    share_folder_across_engagements: StrictBool = False


class NotificationPolicy(_Model):
    # Where a person's notices go until they choose otherwise (per kind, on their profile):
    # Outlook mail, a Teams message from the Gigbridge bot, or both. Teams only once a bot is
    # configured; until then every notice is mailed.
    default_channel: NoticeChannel = "outlook"


class FilesPolicy(_Model):
    # Every file a freelancer adds to the project folder is scanned by clamd before it counts as
    # delivered. A file larger than the scanner's stream limit cannot be scanned: "block" takes it
    # out of reach like an infected one (a program admin may release it), "allow" leaves it in
    # the folder, recorded "not scanned: too large", and tells the same people.
    too_large: TooLargeRule = "block"
    # A milestone may only be approved once at least one clean deliverable arrived since the
    # previous milestone.
    milestone_needs_clean_deliverable: StrictBool = False
    # Told (Teams or Outlook, as each prefers) when a file is quarantined, with the hiring manager.
    security_contacts: BoundedList[EmailAddress] = ()


# parse_policy runs the cross-field checks itself (it knows line numbers); this context flag
# tells Policy's own validator not to repeat them.
_CHECKED_BY_PARSER = "gigbridge.policy.cross_checked"


class Policy(_Model):
    version: Annotated[int, Field(strict=True), AfterValidator(_supported_version)]
    program: ProgramInfo
    worker_categories: NonEmptyList[WorkerCategory]
    task_categories: NonEmptyList[Slug]
    cost_centers: NonEmptyList[CostCenterPolicy]
    approvals: ApprovalSettings
    compliance: CompliancePolicy
    access: AccessPolicy
    notifications: NotificationPolicy = NotificationPolicy()
    files: FilesPolicy = FilesPolicy()

    @model_validator(mode="after")
    def _cross_check(self, info: ValidationInfo) -> "Policy":
        # Policies built in code (tests, fixtures) get the same consistency rules as files.
        if info.context and info.context.get(_CHECKED_BY_PARSER):
            return self
        found = _consistency_problems(self.model_dump(exclude_unset=True), where=_dotted)
        if found:
            raise ValueError("; ".join(f"{_dotted(path)}: {message}" for path, message in found))
        return self

    def to_program_currency(self, amount: Decimal, currency: str) -> Decimal:
        """``amount`` in ``currency`` as the program counts it (two decimals, half up)."""
        return (Decimal(amount) * self._rate(currency)).quantize(Decimal("0.01"), ROUND_HALF_UP)

    def from_program_currency(self, amount: Decimal, currency: str) -> Decimal:
        """A program-currency ``amount`` in ``currency``, rounded down so a limit stays a limit."""
        return (Decimal(amount) / self._rate(currency)).quantize(Decimal("0.01"), ROUND_DOWN)

    def _rate(self, currency: str) -> Decimal:
        if currency == self.program.currency:
            return Decimal(1)
        rate = self.program.exchange_rates.get(currency)
        if rate is None:
            raise UnknownCurrency(
                f"the policy has no exchange rate for {currency}: add program.exchange_rates."
                f"{currency} (units of {self.program.currency} for one {currency})"
            )
        return rate

    def cost_center(self, code: str) -> CostCenterPolicy | None:
        return next((center for center in self.cost_centers if center.code == code), None)

    def approval_chain(self, facts: "RequestFacts") -> list[list["RequiredApproval"]]:
        return approval_chain(self, facts)


# ---------------------------------------------------------------------------------------------
# Approval chains
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestFacts:
    """What the policy needs to know about a work request to decide its approvals."""

    amount: Decimal
    data_classification: str
    worker_category: str
    sourcing: str
    task_category: str


@dataclass(frozen=True)
class RequiredApproval:
    role: str
    rule_id: str  # recorded with the decision, so an auditor sees why the approval was needed


def approval_chain(policy: Policy, facts: RequestFacts) -> list[list[RequiredApproval]]:
    """The stages of approval a request needs, in order; each stage is decided in parallel.

    Rules are read in file order and each matching rule appends its stages. A role is asked
    once only, by the first rule that requires it, so a later rule cannot make the manager
    approve twice; a stage with nobody left in it disappears.
    """
    chain: list[list[RequiredApproval]] = []
    asked: set[str] = set()
    for rule in policy.approvals.rules:
        if not rule.applies_to(facts):
            continue
        for group in rule.stages():
            stage = [RequiredApproval(role, rule.id) for role in group if role not in asked]
            asked.update(approval.role for approval in stage)
            if stage:
                chain.append(stage)
    return chain


# ---------------------------------------------------------------------------------------------
# Problems
# ---------------------------------------------------------------------------------------------

DOCUMENT = "(document)"


@dataclass(frozen=True)
class PolicyProblem:
    file: str
    line: int  # 1-based
    column: int  # 1-based
    path: str  # dotted, e.g. cost_centers.2.annual_budget, or "(document)"
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.path}: {self.message}"


class PolicyError(Exception):
    def __init__(self, problems: list[PolicyProblem]) -> None:
        self.problems = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


DataPath = tuple[Any, ...]  # keys and list indexes from the document root
Position = tuple[int, int]  # 1-based line and column


@dataclass(frozen=True)
class _Finding:
    position: Position
    path: DataPath
    message: str

    def problem(self, filename: str) -> PolicyProblem:
        line, column = self.position
        return PolicyProblem(filename, line, column, _dotted(self.path), self.message)


def _dotted(path: DataPath) -> str:
    # Keys are the file's own text: an unknown key may be as long as the file.
    return ".".join(_excerpt(str(part)) for part in path) if path else DOCUMENT


# ---------------------------------------------------------------------------------------------
# Reading YAML while remembering where every key and value was written
# ---------------------------------------------------------------------------------------------

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"


# Limits on the document itself, so that no file can exhaust memory, time or the stack while
# it is read. Real policies are a few kilobytes, a few hundred values and six levels deep.
MAX_FILE_BYTES = 512 * 1024
# Aliases are expanded on every use, so a few nested ones could make a tiny file huge
# ("billion laughs"); the count covers the expanded document. PyYAML reads ~10,000 values a
# second, so this also bounds the time a check can take.
MAX_VALUES = 20_000
# PyYAML composes and this module builds recursively: without a cap, a file nested a few
# hundred levels deep ([[[[...) ends in RecursionError instead of a message.
MAX_DEPTH = 32


class _LimitExceeded(Exception):
    def __init__(self, position: Position, message: str) -> None:
        super().__init__(message)
        self.position = position
        self.message = message


def _too_many_values(position: Position, through_aliases: bool) -> _LimitExceeded:
    if through_aliases:
        message = f"the document expands to more than {MAX_VALUES} values through aliases"
    else:
        message = f"the document has more than {MAX_VALUES} values; a policy has a few hundred"
    return _LimitExceeded(position, message)


def _too_deep(position: Position) -> _LimitExceeded:
    message = f"values are nested more than {MAX_DEPTH} levels deep (a policy needs about six)"
    return _LimitExceeded(position, message)


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe composer with the document limits checked as each node is read, before
    the recursion gets deep or the node tree gets big."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        self._nodes += 1
        if self._nodes > MAX_VALUES:
            raise _too_many_values(_position(event.start_mark), through_aliases=False)
        if self._depth >= MAX_DEPTH:
            raise _too_deep(_position(event.start_mark))
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _compose(text: str) -> yaml.Node | None:
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _position(mark: yaml.Mark) -> Position:
    return mark.line + 1, mark.column + 1


class _Document:
    """Plain Python data built from a YAML node tree, plus where each part came from.

    PyYAML's own loader throws the positions away and silently keeps the last of duplicated
    keys, so the tree is walked here instead.
    """

    def __init__(self, root: yaml.Node) -> None:
        self.values: dict[DataPath, Position] = {}
        self.keys: dict[DataPath, Position] = {}
        # Source text of plain scalars that YAML did not read as text (NO → false), for hints.
        self.plain_text: dict[DataPath, str] = {}
        # Paths already reported while reading; validation errors below them would only echo.
        self.unreadable: set[DataPath] = set()
        self.findings: list[_Finding] = []
        self._constructor = yaml.SafeLoader("")  # only its safe scalar constructors are used
        self._open: set[int] = set()  # collections being built, to catch recursive aliases
        self._depth = 0  # merge keys nest without making the path longer
        self._built = 0
        try:
            self.data = self._build(root, ())
        except _LimitExceeded as limit:
            self._report(limit.position, (), limit.message)
            self.data = None

    def value_position(self, path: DataPath) -> Position:
        """Where the value at path is, or else its nearest enclosing value that exists."""
        while path not in self.values:
            path = path[:-1]
        return self.values[path]

    def is_unreadable(self, path: DataPath) -> bool:
        return any(path[:length] in self.unreadable for length in range(len(path) + 1))

    def _report(self, position: Position, path: DataPath, message: str) -> None:
        self.findings.append(_Finding(position, path, message))
        self.unreadable.add(path)

    def _build(self, node: yaml.Node, path: DataPath) -> Any:
        # The composer checked the written document; aliases and merge keys can still make the
        # expanded one bigger or deeper.
        self._built += 1
        if self._built > MAX_VALUES:
            raise _too_many_values((1, 1), through_aliases=True)
        if self._depth >= MAX_DEPTH:
            raise _too_deep(_position(node.start_mark))
        self._depth += 1
        try:
            return self._build_node(node, path)
        finally:
            self._depth -= 1

    def _build_node(self, node: yaml.Node, path: DataPath) -> Any:
        self.values[path] = _position(node.start_mark)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if id(node) in self._open:
            self._report(self.values[path], path, "an alias may not refer to its own container")
            return None
        expected = _SEQ_TAG if isinstance(node, yaml.SequenceNode) else _MAP_TAG
        if node.tag != expected:
            self._report(self.values[path], path, f"unsupported YAML tag {node.tag}")
            return None
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self._build(item, (*path, index)) for index, item in enumerate(node.value)]
            return self._mapping(node, path)
        finally:
            self._open.discard(id(node))

    def _scalar(self, node: yaml.ScalarNode, path: DataPath) -> Any:
        try:
            value = self._constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError):
            # e.g. `!!int many` or a custom tag such as `!include`
            shown = _excerpt(repr(node.value))
            self._report(self.values[path], path, f"cannot read {shown} as {node.tag}")
            return None
        if node.style is None and value is not None and not isinstance(value, str):
            self.plain_text[path] = node.value
        return value

    def _mapping(self, node: yaml.MappingNode, path: DataPath) -> dict[Any, Any]:
        merged = self._merged_defaults(node, path)
        explicit: dict[Any, Any] = {}
        first_seen: dict[Any, Position] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = self._key(key_node, path)
            if key is _UNREADABLE_KEY:
                continue
            where = _position(key_node.start_mark)
            if key in first_seen:
                message = f"duplicate key {_show(key)} (first defined at line {first_seen[key][0]})"
                self.findings.append(_Finding(where, (*path, key), message))
                continue
            first_seen[key] = where
            self.keys[(*path, key)] = where
            explicit[key] = self._build(value_node, (*path, key))
        return merged | explicit

    def _merged_defaults(self, node: yaml.MappingNode, path: DataPath) -> dict[Any, Any]:
        """Values brought in with YAML merge keys (`<<: *defaults`); explicit keys win."""
        sources: list[yaml.Node] = []
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE_TAG:
                continue
            is_list = isinstance(value_node, yaml.SequenceNode)
            sources.extend(value_node.value if is_list else [value_node])
        merged: dict[Any, Any] = {}
        # Earlier sources take precedence, so build the later ones first and let them be
        # overwritten (positions included).
        for source in reversed(sources):
            if not isinstance(source, yaml.MappingNode):
                message = "a merge key (<<) must refer to a mapping or a list of mappings"
                self.findings.append(_Finding(_position(source.start_mark), path, message))
                continue
            merged.update(self._build(source, path) or {})
        self.values[path] = _position(node.start_mark)  # building sources moved it
        return merged

    def _key(self, node: yaml.Node, path: DataPath) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            message = "a key must be a single value, not a list or mapping"
            self.findings.append(_Finding(_position(node.start_mark), path, message))
            return _UNREADABLE_KEY
        try:
            return self._constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError):
            message = f"cannot read key {_excerpt(repr(node.value))} as {node.tag}"
            self.findings.append(_Finding(_position(node.start_mark), path, message))
            return _UNREADABLE_KEY


_UNREADABLE_KEY = object()


def _syntax_finding(error: yaml.YAMLError, text: str) -> _Finding:
    """Turn PyYAML's parse error into one finding at the place the parser gave up."""
    if isinstance(error, yaml.reader.ReaderError):
        return _Finding(
            _offset_position(text, error.position),
            (),
            f"invalid YAML: {error.reason} (character U+{error.character:04X})",
        )
    if not isinstance(error, yaml.MarkedYAMLError):
        return _Finding((1, 1), (), f"invalid YAML: {error}")
    mark = error.problem_mark or error.context_mark
    position = _position(mark) if mark else (1, 1)
    return _Finding(position, (), f"invalid YAML: {_syntax_message(error)}")


def _syntax_message(error: yaml.MarkedYAMLError) -> str:
    if "single document" in (error.context or ""):
        return "the file must hold one YAML document, but another one starts here (---)"
    message = error.problem or "the file could not be parsed"
    if "'\\t'" in message:
        message += "; indent with spaces, not tabs"
    # The context says which construct was open, e.g. an unclosed [ or quote further up.
    context_mark = error.context_mark
    if error.context and context_mark and context_mark is not error.problem_mark:
        line, column = _position(context_mark)
        message += f" ({error.context} at line {line}, column {column})"
    return message


def _offset_position(text: str, offset: int) -> Position:
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


# ---------------------------------------------------------------------------------------------
# Turning pydantic's validation errors into messages a program manager understands
# ---------------------------------------------------------------------------------------------

_TYPE_MESSAGES = {
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "decimal_type": "must be a number",
    "decimal_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "string_type": "must be text",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "model_type": "must be a mapping of fields",
    "model_attributes_type": "must be a mapping of fields",
    "dict_type": "must be a mapping of fields",
}

_BOUND_MESSAGES = {
    "greater_than_equal": ("ge", "must be at least {}"),
    "less_than_equal": ("le", "must be at most {}"),
    "greater_than": ("gt", "must be greater than {}"),
    "less_than": ("lt", "must be less than {}"),
}


def _validation_findings(error: ValidationError, doc: _Document) -> Iterator[_Finding]:
    for detail in error.errors(include_url=False):
        path = tuple(detail["loc"])
        if detail["type"] == "invalid_key":
            path = (*path[:-1], detail["input"])  # pydantic puts str(key) in loc
        if doc.is_unreadable(path) or _is_echo(detail):
            continue
        position = _error_position(detail["type"], path, doc)
        yield _Finding(position, path, _message(detail, path, doc))


def _is_echo(detail: Any) -> bool:
    """pydantic counts only the valid items of a list against min_length, so a list of one
    bad item is also reported as too short. The item's own error is the useful one."""
    if detail["type"] != "too_short" or not isinstance(detail["input"], list | tuple):
        return False
    return len(detail["input"]) >= detail["ctx"]["min_length"]


def _error_position(kind: str, path: DataPath, doc: _Document) -> Position:
    if kind in ("extra_forbidden", "invalid_key") and path in doc.keys:
        return doc.keys[path]
    if kind == "missing":
        return doc.value_position(path[:-1])  # the mapping that lacks the key
    return doc.value_position(path)


def _message(detail: Any, path: DataPath, doc: _Document) -> str:
    kind, got = detail["type"], detail.get("input")
    if kind == "missing":
        return "required field is missing"
    if kind in ("extra_forbidden", "invalid_key"):
        allowed = ", ".join(_field_names(path[:-1]))
        return f"unknown field {_show(path[-1])} (allowed: {allowed})"
    if kind == "literal_error":
        return _choice_message(path, got)
    if kind in _BOUND_MESSAGES:
        return _bound_message(kind, detail["ctx"], got)
    if kind in ("too_short", "string_too_short"):
        return _empty_message(kind, path)
    if kind == "string_too_long" or (kind == "too_long" and isinstance(got, str)):
        return f"must be at most {detail['ctx']['max_length']} characters (got {len(got)})"
    if kind == "too_long":
        count = _count_of(got)
        return f"must list at most {detail['ctx']['max_length']} values{count}"
    if kind == "decimal_max_places":
        places = detail["ctx"]["decimal_places"]
        return f"must have at most {places} decimal places (got {_describe(got)})"
    if kind == "string_type" and got is None:
        return "must not be empty"
    if kind == "string_type" and path in doc.plain_text:
        # YAML 1.1 reads bare NO, yes, on, 2024 … as booleans or numbers.
        quoted = _excerpt(doc.plain_text[path])
        return f"must be text (got {_describe(got)}); write it in quotes: '{quoted}'"
    if kind in _TYPE_MESSAGES:
        return f"{_TYPE_MESSAGES[kind]} (got {_describe(got)})"
    return _lower_first(detail["msg"])  # our own PydanticCustomErrors, already phrased well


def _choice_message(path: DataPath, got: Any) -> str:
    choices = [str(choice) for choice in get_args(_annotation_at(path))]
    if not choices:
        return f"is not an allowed value (got {_describe(got)})"
    if len(choices) == 1:
        return f"must be {choices[0]} (got {_describe(got)})"
    return f"must be one of {', '.join(choices)} (got {_describe(got)})"


def _bound_message(kind: str, context: dict[str, Any], got: Any) -> str:
    name, template = _BOUND_MESSAGES[kind]
    bound = context[name]
    if kind == "greater_than_equal" and bound == 0:
        return f"must not be negative (got {_describe(got)})"
    return f"{template.format(bound)} (got {_describe(got)})"


def _count_of(value: Any) -> str:
    return f" (got {len(value)})" if isinstance(value, list | tuple | dict) else ""


def _empty_message(kind: str, path: DataPath) -> str:
    if kind == "string_too_short":
        return "must not be empty"
    if "when" in path:
        return "must list at least one value (leave the condition out to match any value)"
    return "must list at least one value"


def _field_names(path: DataPath) -> list[str]:
    model = _annotation_at(path)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _annotation_at(path: DataPath) -> Any:
    """The declared type of the value at path in a Policy, following models and lists."""
    annotation: Any = Policy
    for part in path:
        annotation = _unwrap(annotation)
        if isinstance(part, int) and get_origin(annotation) in (tuple, list):
            annotation = get_args(annotation)[0]
        elif _is_model(annotation) and part in annotation.model_fields:
            annotation = annotation.model_fields[part].annotation
        else:
            return None
    return _unwrap(annotation)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated[...] and `| None` to reach the type that carries the meaning."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
        else:
            return annotation


def _describe(value: Any) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _excerpt(repr(value))
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    try:
        return _excerpt(str(value))
    except ValueError:  # an int too long for str() (YAML reads 0x… of any length)
        return "a number too long to show"


def _excerpt(text: str, limit: int = 60) -> str:
    """text, shortened: messages quote the file, and a value may be as long as the file."""
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _show(key: Any) -> str:
    """A key or name as written in YAML: quoted when text, else as YAML spells it."""
    if isinstance(key, str):
        return _excerpt(repr(key))
    if key is None:
        return "null"
    return _describe(key)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


# ---------------------------------------------------------------------------------------------
# Cross-field rules. They read plain data defensively (any part may be malformed, which
# pydantic reports separately) so that they run even when other fields are invalid and every
# problem shows up in one pass.
# ---------------------------------------------------------------------------------------------

_CONDITION_LISTS = ("data_classification", "worker_category", "sourcing", "task_category")


def _consistency_problems(
    data: Any, where: Callable[[DataPath], str]
) -> list[tuple[DataPath, str]]:
    """Problems that involve more than one field. `where(path)` names a place for messages."""
    rules = _items(_get(data, "approvals", "rules"))
    return [
        *_unique_keys(data, ("cost_centers",), "code", "cost center code", where),
        *_unique_keys(data, ("approvals", "rules"), "id", "rule id", where),
        *_unique_entries(data, _lists_of_names(rules), where),
        *_escalation_timing(data),
        *_rule_references(data, rules, "worker_category", "worker_categories"),
        *_rule_references(data, rules, "task_category", "task_categories"),
        *_agreement_terms_references(data),
    ]


def _get(data: Any, *path: Any) -> Any:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _items(value: Any) -> list[tuple[int, Any]]:
    return list(enumerate(value)) if isinstance(value, list | tuple) else []


def _lists_of_names(rules: list[tuple[int, Any]]) -> list[DataPath]:
    lists: list[DataPath] = [
        ("worker_categories",),
        ("task_categories",),
        ("compliance", "required_agreements"),
        ("compliance", "blocked_countries"),
    ]
    for index, _rule in rules:
        rule_path = ("approvals", "rules", index)
        lists.append((*rule_path, "approvers"))
        lists.extend((*rule_path, "when", condition) for condition in _CONDITION_LISTS)
    return lists


def _first_occurrences(values: list[tuple[int, Any]]) -> Iterator[tuple[int, int, Any]]:
    """(index, index of the first equal value, value) for each repeated hashable value."""
    first: dict[Any, int] = {}
    for index, value in values:
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            continue  # other types are reported as wrong types already
        if value in first:
            yield index, first[value], value
        else:
            first[value] = index


def _unique_keys(
    data: Any, list_path: DataPath, field: str, label: str, where: Callable[[DataPath], str]
) -> Iterator[tuple[DataPath, str]]:
    values = [(index, _get(item, field)) for index, item in _items(_get(data, *list_path))]
    for index, first, value in _first_occurrences(values):
        first_place = where((*list_path, first, field))
        message = f"duplicate {label} {_show(value)} (first defined at {first_place})"
        yield (*list_path, index, field), message


def _unique_entries(
    data: Any, list_paths: list[DataPath], where: Callable[[DataPath], str]
) -> Iterator[tuple[DataPath, str]]:
    for list_path in list_paths:
        for index, first, value in _first_occurrences(_items(_get(data, *list_path))):
            first_place = where((*list_path, first))
            yield (*list_path, index), f"{_show(value)} is listed twice (first at {first_place})"


def _escalation_timing(data: Any) -> Iterator[tuple[DataPath, str]]:
    """Escalating before (or as) the reminder goes out would skip the reminder."""
    approvals = _get(data, "approvals")
    if not isinstance(approvals, dict):
        return
    defaults = ApprovalSettings.model_fields
    reminder = approvals.get("reminder_after_days", defaults["reminder_after_days"].default)
    escalate = approvals.get("escalate_after_days", defaults["escalate_after_days"].default)
    if not (_is_approval_days(reminder) and _is_approval_days(escalate)) or escalate > reminder:
        return  # out-of-range values are reported by the schema check
    if "escalate_after_days" in approvals:
        message = f"must be greater than reminder_after_days, which is {reminder} (got {escalate})"
        yield ("approvals", "escalate_after_days"), message
    else:
        message = (
            f"must be less than escalate_after_days, which defaults to {escalate} (got {reminder})"
        )
        yield ("approvals", "reminder_after_days"), message


def _is_approval_days(value: Any) -> bool:
    is_int = isinstance(value, int) and not isinstance(value, bool)
    return is_int and 1 <= value <= MAX_APPROVAL_DAYS


def _rule_references(
    data: Any, rules: list[tuple[int, Any]], condition: str, program_list: str
) -> Iterator[tuple[DataPath, str]]:
    """A rule may only name worker or task categories that the program itself declares."""
    declared = _get(data, program_list)
    if not isinstance(declared, list | tuple):
        return
    names = [name for name in declared if isinstance(name, str)]
    for index, rule in rules:
        for position, value in _items(_get(rule, "when", condition)):
            if not _is_valid_name(condition, value) or value in names:
                continue  # invalid names are reported by the schema check
            path = ("approvals", "rules", index, "when", condition, position)
            listed = _excerpt(", ".join(names), 200)
            yield path, f"{_show(value)} is not one of this program's {program_list} ({listed})"


def _agreement_terms_references(data: Any) -> Iterator[tuple[DataPath, str]]:
    """compliance.agreements may only describe agreements the policy requires."""
    terms = _get(data, "compliance", "agreements")
    required = _get(data, "compliance", "required_agreements")
    if not isinstance(terms, dict) or not isinstance(required, list | tuple):
        return
    names = [name for name in required if isinstance(name, str)]
    for name in terms:
        if isinstance(name, str) and name not in names:
            listed = _excerpt(", ".join(names), 200) or "none"
            yield (
                ("compliance", "agreements", name),
                f"{_show(name)} is not one of compliance.required_agreements ({listed})",
            )


def _is_valid_name(condition: str, value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if condition == "worker_category":
        return value in WORKER_CATEGORIES
    return re.fullmatch(_SLUG_PATTERN, value) is not None


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


# A file of 50,000 duplicated keys has 50,000 problems; nobody reads past the first screens.
MAX_PROBLEMS = 100


def parse_policy(text: str, filename: str = "program.yaml") -> Policy:
    """The policy written in text, or PolicyError listing every problem in it."""
    findings, policy = _analyse(text)
    if findings or policy is None:
        raise PolicyError([finding.problem(filename) for finding in _first_findings(findings)])
    return policy


def _first_findings(findings: list[_Finding]) -> list[_Finding]:
    if len(findings) <= MAX_PROBLEMS:
        return findings
    rest = len(findings) - MAX_PROBLEMS
    more = _Finding(findings[MAX_PROBLEMS].position, (), f"{rest} more problems not shown")
    return [*findings[:MAX_PROBLEMS], more]


def _analyse(text: str) -> tuple[list[_Finding], Policy | None]:
    if _is_too_large(text):
        return [_Finding((1, 1), (), _TOO_LARGE)], None
    try:
        root = _compose(text)
    except yaml.YAMLError as error:
        return [_syntax_finding(error, text)], None
    except _LimitExceeded as limit:
        return [_Finding(limit.position, (), limit.message)], None
    if root is None:
        return [_Finding((1, 1), (), "the file is empty; it must contain a program policy")], None
    doc = _Document(root)
    findings = list(doc.findings)
    if doc.is_unreadable(()):
        return findings, None
    if not isinstance(doc.data, dict):
        got = _describe(doc.data)
        message = (
            f"the policy must be a mapping of sections such as version and program (got {got})"
        )
        return [*findings, _Finding(doc.values[()], (), message)], None
    policy = None
    try:
        policy = Policy.model_validate(doc.data, context={_CHECKED_BY_PARSER: True})
    except ValidationError as error:
        findings.extend(_validation_findings(error, doc))

    def where(path: DataPath) -> str:
        return f"line {doc.value_position(path)[0]}"

    for path, message in _consistency_problems(doc.data, where):
        findings.append(_Finding(doc.value_position(path), path, message))
    return _in_file_order(findings), policy


def _in_file_order(findings: list[_Finding]) -> list[_Finding]:
    unique = list(dict.fromkeys(findings))  # an anchor used twice may report twice
    return sorted(unique, key=lambda finding: finding.position)


_TOO_LARGE = (
    f"the file is larger than {MAX_FILE_BYTES // 1024} KiB ({MAX_FILE_BYTES} bytes);"
    " a policy is a few kilobytes"
)


def _is_too_large(text: str) -> bool:
    return len(text) > MAX_FILE_BYTES or len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES


def load_policy_file(path: str | os.PathLike[str]) -> Policy:
    filename = str(path)
    return parse_policy(read_policy_file(path), filename)


def read_policy_file(path: str | os.PathLike[str]) -> str:
    """The text of the policy file at path, or PolicyError saying why it cannot be a policy.

    Reads at most one byte more than a policy may have, so a huge file (or /dev/zero) is
    refused without being read whole."""
    filename = str(path)
    try:
        with Path(path).open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        message = f"cannot read the file: {error.strerror or error}"
        raise PolicyError([PolicyProblem(filename, 1, 1, DOCUMENT, message)]) from error
    if len(raw) > MAX_FILE_BYTES:
        raise PolicyError([PolicyProblem(filename, 1, 1, DOCUMENT, _TOO_LARGE)])
    return _decode(raw, filename)


def _decode(raw: bytes, filename: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line_start = before.rfind(b"\n") + 1
        line = before.count(b"\n") + 1
        column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
        byte = raw[error.start]
        message = f"the file is not UTF-8 text (byte 0x{byte:02X} here); save it as UTF-8"
        raise PolicyError([PolicyProblem(filename, line, column, DOCUMENT, message)]) from error


def check_file(path: str | os.PathLike[str]) -> list[PolicyProblem]:
    """Every problem in the policy file at path; an empty list means it is valid."""
    try:
        load_policy_file(path)
    except PolicyError as error:
        return error.problems
    return []
