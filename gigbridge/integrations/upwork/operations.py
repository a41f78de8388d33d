"""The GraphQL documents Gigbridge sends to Upwork, and typed wrappers around them.

Every document is named after a documented operation (``reference/operations-subset.graphql``),
passes only documented arguments and selects only documented fields; every document and the
variables of every wrapper are validated against the schema generated from Upwork's reference
(``reference/schema.graphql``, ``tests/test_schema.py``). Results are pydantic models that
tolerate nulls and unknown fields (Upwork returns ``null`` for what the key may not see); an
answer that does not fit raises ``MalformedResponse``.

Inputs are exactly Upwork's documented input objects (``../shared/reference/upwork/types.ts``);
docs/upwork.md has the table of what each operation is given and what was assumed (enum values:
``reference/schema_overrides.py``). Money crosses one boundary (``cents``, ``money_input``,
``decimal_amount`` below): milestone amounts are cents as strings, offer terms ``MoneyInput`` in
cents, job posting amounts decimal strings. Dates are ``YYYY-MM-DD``, date-times ISO 8601 in UTC
(``2026-12-01T09:00:00Z``). Connections are paged with ``pages`` / ``items``.

All wrappers take the ``UpworkClient`` first. Mutations are never re-sent by the client; the
callers (outbox jobs) read before they act again (``get_proposal``, ``get_offer``,
``contract_details``, ...).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

from .client import UpworkClient
from .errors import MalformedResponse

log = logging.getLogger("gigbridge.integrations.upwork")

T = TypeVar("T")
ContractType = Literal["HOURLY", "FIXED_PRICE"]
PAGE_SIZE = 50


# -- models -------------------------------------------------------------------------------------


def _as_list(value: Any) -> Any:
    """null -> [], one object -> [object]: Upwork returns either for some terms."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [value]
    return value


Items = Annotated[list[T], BeforeValidator(_as_list)]


class UpworkModel(BaseModel):
    """camelCase in, snake_case out; every field optional; unknown fields ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
        coerce_numbers_to_str=True,
    )


class Money(UpworkModel):
    raw_value: str | None = None
    currency: str | None = None
    display_value: str | None = None

    @property
    def amount(self) -> Decimal | None:
        try:
            return Decimal(self.raw_value) if self.raw_value not in (None, "") else None
        except InvalidOperation:
            return None


class Location(UpworkModel):
    country_name: str | None = None
    city_name: str | None = None
    timezone: str | None = None


class Person(UpworkModel):
    """An Upwork user (``GenericUser``): the freelancer of a proposal, a story's author."""

    id: str | None = None
    nid: str | None = None
    rid: str | None = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    photo_url: str | None = None
    public_url: str | None = None
    ciphertext: str | None = None  # the profile key (used to invite to a job)
    location: Location | None = None  # only in a single proposal (``get_proposal``)


class Organization(UpworkModel):
    id: str | None = None
    rid: str | None = None
    legacy_id: str | None = None
    name: str | None = None
    type: str | None = None
    legacy_type: str | None = None
    active: bool | None = None
    hidden: bool | None = None
    photo_url: str | None = None
    creation_date: str | None = None


class Page(UpworkModel, Generic[T]):
    """One page of a connection: ``items``, ``total_count`` and the cursor for the next."""

    items: list[T] = []
    total_count: int | None = None
    end_cursor: str | None = None
    has_next_page: bool = False


class JobPostingResult(UpworkModel):
    id: str | None = None
    version: str | None = None
    skills_saved: bool | None = None


class ProposalJob(UpworkModel):
    id: str | None = None


class ProposalStatus(UpworkModel):
    status: str | None = None


class Proposal(UpworkModel):
    id: str | None = None
    user: Person | None = None
    organization: Organization | None = None
    job: ProposalJob | None = None
    cover_letter: str | None = None
    status: ProposalStatus | None = None
    annotations: Any = None

    @property
    def freelancer(self) -> Person | None:
        return self.user

    @property
    def state(self) -> str | None:
        return self.status.status if self.status else None


class TalentIdentity(UpworkModel):
    id: str | None = None
    ciphertext: str | None = None


class TalentProfile(UpworkModel):
    person_id: str | None = None
    identity: TalentIdentity | None = None


class ProposalAction(UpworkModel):
    """What shortlist/decline answer: the proposal and the request's status."""

    proposal: Proposal | None = None
    status: str | None = None


class Submission(UpworkModel):
    id: str | None = None
    created_date_time: str | None = None
    modified_date_time: str | None = None
    sequence_id: int | None = None


class SubmissionMessage(UpworkModel):
    created_date_time: str | None = None
    message: str | None = None


class SubmissionEvent(UpworkModel):
    """One submission of a milestone's work, and its message (``SubmissionEvent``)."""

    submission: Submission | None = None
    submission_message: SubmissionMessage | None = None


class Milestone(UpworkModel):
    id: str | None = None
    description: str | None = None
    state: str | None = None
    due_date_time: str | None = None
    current_escrow_amount: Money | None = None
    sequence_id: str | None = None
    submission_count: int | None = None
    instructions: str | None = None
    pay_comments: str | None = None
    created_date_time: str | None = None
    modified_date_time: str | None = None
    submission_events: Items[SubmissionEvent] = []  # only the ``Offer`` query selects them

    @property
    def latest_submission_id(self) -> str | None:
        """The id of the newest submission (what ``RejectSubmittedMilestone`` takes)."""
        submissions = [e.submission for e in self.submission_events if e.submission]
        submissions = [s for s in submissions if s.id]
        if not submissions:
            return None
        newest = max(submissions, key=lambda s: (s.created_date_time or "", s.sequence_id or 0))
        return newest.id


class MilestoneRejection(UpworkModel):
    response: bool | None = None


class HourlyRateTerms(UpworkModel):
    rate: Money | None = None
    weekly_hours_limit: int | None = None
    manual_time_allowed: bool | None = None


class MilestoneTerms(UpworkModel):
    milestones: Items[Milestone] = []


class OfferTerms(UpworkModel):
    expected_start_date: str | None = None
    expected_end_date: str | None = None
    hourly_terms: HourlyRateTerms | None = None


class OfferFreelancer(UpworkModel):
    user: Person | None = None
    full_name: str | None = None
    email: str | None = None


class Offer(UpworkModel):
    """An offer as ``CreateOffer`` or ``Offer`` return it (each fills what it documents)."""

    id: str | None = None
    title: str | None = None
    description: str | None = None
    state: str | None = None
    type: str | None = None
    kind: str | None = None
    delivery_model: str | None = None
    contract_id: str | None = None
    vendor_user_id: str | None = None
    client_org_id: str | None = None
    expiration_date_time: str | None = None
    contract_start_date_time: str | None = None
    contract_end_date_time: str | None = None
    created_date_time: str | None = None
    message_to_contractor: str | None = None
    hourly_rate_terms: HourlyRateTerms | None = None
    milestone_terms: MilestoneTerms | None = None
    offer_terms: OfferTerms | None = None
    milestones: Items[Milestone] = []
    freelancer: OfferFreelancer | None = None
    organization_ids: Items[str] = []

    @property
    def all_milestones(self) -> list[Milestone]:
        return list(self.milestones) or list(
            self.milestone_terms.milestones if self.milestone_terms else []
        )


class ClosingReason(UpworkModel):
    id: str | None = None
    api_ref: str | None = None
    reason: str | None = None


class ContractFreelancer(UpworkModel):
    id: str | None = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    photo_url: str | None = None


class HourlyLimit(UpworkModel):
    id: str | None = None
    weekly_limit: float | None = None
    start_date: str | None = None
    end_date: str | None = None


class Term(UpworkModel):
    id: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    job_type: str | None = None
    manual_time_allowed: bool | None = None


class ContractTerms(UpworkModel):
    fixed_price_terms: Items[Term] = []
    hourly_terms: Items[Term] = []


class ContractOffer(UpworkModel):
    id: str | None = None
    title: str | None = None
    state: str | None = None
    milestones: Items[Milestone] = []


class Contract(UpworkModel):
    id: str | None = None
    title: str | None = None
    status: str | None = None
    closing_reason: ClosingReason | None = None
    delivery_model: str | None = None
    kind: str | None = None
    create_date: str | None = None
    modify_date: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    offer_id: str | None = None
    offer: ContractOffer | None = None
    freelancer: ContractFreelancer | None = None
    hourly_limits: Items[HourlyLimit] = []
    terms: ContractTerms | None = None

    @property
    def milestones(self) -> list[Milestone]:
        return list(self.offer.milestones) if self.offer else []

    @property
    def hourly(self) -> bool:
        return bool(self.terms and self.terms.hourly_terms)


class Success(UpworkModel):
    success: bool | None = None


class TimeReportContract(UpworkModel):
    id: str | None = None
    title: str | None = None
    status: str | None = None


class TimeReportEntry(UpworkModel):
    date_worked_on: str | None = None
    week_worked_on: str | None = None
    freelancer: Person | None = None
    contract: TimeReportContract | None = None
    task: str | None = None
    task_description: str | None = None
    memo: str | None = None
    total_hours_worked: float | None = None
    total_charges: float | None = None
    total_online_hours_worked: float | None = None
    total_offline_hours_worked: float | None = None


class TransactionRow(UpworkModel):
    record_id: str | None = None
    row_number: int | None = None
    type: str | None = None
    accounting_subtype: str | None = None
    description: str | None = None
    description_ui: str | None = Field(None, alias="descriptionUI")  # not to_camel's "Ui"
    transaction_creation_date: str | None = None
    fully_paid_date: str | None = None
    payment_status: str | None = None
    related_assignment: str | None = None
    related_invoice_id: str | None = None
    related_transaction_id: str | None = None
    purchase_order_number: str | None = None
    assignment_developer_name: str | None = None
    assignment_company_name: str | None = None
    running_chargeable_balance: Money | None = None


class StoryAttachment(UpworkModel):
    object_reference_id: str | None = None
    object_type: str | None = None
    created_date_time: str | None = None


class RoomRef(UpworkModel):
    id: str | None = None
    room_name: str | None = None
    contract_id: str | None = None
    offer_ids: Items[str] = []


class RoomStory(UpworkModel):
    id: str | None = None
    created_date_time: str | None = None
    updated_date_time: str | None = None
    message: str | None = None
    user: Person | None = None
    organization: Organization | None = None
    room: RoomRef | None = None
    attachments: Items[StoryAttachment] = []


class LatestStory(UpworkModel):
    id: str | None = None
    created_date_time: str | None = None
    message: str | None = None


class Room(UpworkModel):
    id: str | None = None
    room_name: str | None = None
    topic: str | None = None
    room_type: str | None = None
    contract_id: str | None = None
    offer_ids: Items[str] = []
    created_at_date_time: str | None = None
    num_users: int | None = None
    read_only: bool | None = None
    hidden: bool | None = None
    latest_story: LatestStory | None = None


class CompanySelectorItem(UpworkModel):
    title: str | None = None
    photo_url: str | None = None
    organization_id: str | None = None
    organization_rid: str | None = None
    organization_type: str | None = None
    organization_legacy_type: str | None = None
    type_title: str | None = None


class OrganizationFlag(UpworkModel):
    client: bool | None = None
    vendor: bool | None = None
    agency: bool | None = None
    individual: bool | None = None


class Company(UpworkModel):
    id: str | None = None
    accounting_entity: str | None = None


class CurrentOrganization(Organization):
    flag: OrganizationFlag | None = None
    company: Company | None = None


# -- helpers ------------------------------------------------------------------------------------


def _parse(model: Any, value: Any, operation: str) -> Any:
    """Validate ``value`` as ``model``; a shape that does not fit is a MalformedResponse."""
    try:
        return model.model_validate(value) if value is not None else None
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors()[:3])
        log.warning("upwork %s answered an unexpected shape at %s", operation, fields)
        raise MalformedResponse(f"unexpected shape at {fields}", operation=operation) from None


def _root(data: Mapping, field: str, operation: str, *, required: bool = False) -> Any:
    value = data.get(field)
    if value is None and required:
        log.warning("upwork %s answered without %s", operation, field)
        raise MalformedResponse(f"the answer has no {field}", operation=operation)
    return value


def _page(model: Any, value: Any, operation: str) -> Page:
    value = value or {}
    if not isinstance(value, Mapping):
        raise MalformedResponse("a connection is not an object", operation=operation)
    edges = value.get("edges") or []
    nodes = [e.get("node") for e in edges if isinstance(e, Mapping) and e.get("node") is not None]
    info = value.get("pageInfo") or {}
    items = [_parse(model, node, operation) for node in nodes]
    return Page[model](
        items=items,
        total_count=value.get("totalCount"),
        end_cursor=info.get("endCursor") if isinstance(info, Mapping) else None,
        has_next_page=bool(isinstance(info, Mapping) and info.get("hasNextPage")),
    )


def pages(
    fetch: Callable[[str | None], Page[T]], *, after: str | None = None, max_pages: int = 1000
) -> Iterator[Page[T]]:
    """Every page of an Upwork connection from ``after`` on: ``fetch(after)`` reads one page
    (a wrapper with its arguments bound). Stops after the last page (``hasNextPage`` false), an
    empty page, a cursor that does not move (an answer that would page in a circle) or
    ``max_pages`` pages (a bound on one pass, the rest for the next)."""
    for _ in range(max_pages):
        page = fetch(after)
        yield page
        if not page.has_next_page or not page.items or page.end_cursor in (None, after):
            return
        after = page.end_cursor


def items(fetch: Callable[[str | None], Page[T]], *, max_pages: int = 1000) -> Iterator[T]:
    """Every item of an Upwork connection, page after page (see ``pages``)."""
    for page in pages(fetch, max_pages=max_pages):
        yield from page.items


# -- money at the boundary: Upwork's inputs take amounts three ways; every wrapper converts here.


def money(amount: Decimal | str | int, currency: str) -> dict:
    """An amount as Gigbridge passes it to the wrappers (and as Upwork's ``Money`` outputs
    show it): ``{"rawValue": "1500.00", "currency": "USD"}`` (never a float)."""
    if isinstance(amount, float):
        raise TypeError("pass money as Decimal or str, not float")
    value = Decimal(str(amount))
    return {"rawValue": f"{value:.2f}", "currency": currency.upper()}


def _amount(amount: Mapping | Decimal | str | int) -> Decimal:
    raw = amount.get("rawValue") if isinstance(amount, Mapping) else amount
    if isinstance(raw, float):
        raise TypeError("pass money as Decimal or str, not float")
    try:
        return Decimal(str(raw))
    except InvalidOperation:
        raise ValueError(f"{raw!r} is not an amount") from None


def cents(amount: Mapping | Decimal | str | int) -> str:
    """Whole cents as a string ("1000" is 10 USD): milestone amounts (``depositAmount``,
    ``paidAmount``) and, inside ``money_input``, offer terms."""
    value = _amount(amount) * 100
    if value != value.to_integral_value():
        raise ValueError(f"{value / 100} has fractions of a cent")
    return str(int(value))


def money_input(amount: Mapping | Decimal | str | int, currency: str | None = None) -> dict:
    """The reference's ``MoneyInput`` where its field says "in the lowest currency
    denominations (so USD 49.12 would be 4912)" (offer rates, budgets and milestones):
    ``{"amount": "4912", "currency": "USD"}``; the currency is the amount's, else ``currency``."""
    given = amount.get("currency") if isinstance(amount, Mapping) else None
    code = (given or currency or "").upper()
    if not code:
        raise ValueError("the amount has no currency")
    return {"amount": cents(amount), "currency": code}


def decimal_amount(amount: Mapping | Decimal | str | int) -> str:
    """A decimal string ("1500.00"), as ``JobPostingRequestInfo`` documents its amounts."""
    return f"{_amount(amount):.2f}"


def iso_date(value: dt.date | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.isoformat()


def iso_datetime(value: dt.datetime | dt.date | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("date-times sent to Upwork must be timezone-aware")
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{value.isoformat()}T00:00:00Z"


def _pagination(first: int, after: str | None) -> dict:
    page: dict[str, Any] = {"first": int(first)}
    if after:
        page["after"] = after
    return page


def _drop_none(mapping: Mapping[str, Any]) -> dict:
    return {k: v for k, v in mapping.items() if v is not None}


# -- documents ----------------------------------------------------------------------------------

PERSON_FIELDS = "id nid rid name firstName lastName photoUrl publicUrl email ciphertext"
ORGANIZATION_FIELDS = "id rid legacyId name type legacyType active hidden photoUrl creationDate"
MONEY = "rawValue currency displayValue"
MILESTONE_FIELDS = (
    "id dueDateTime state description submissionCount sequenceId payComments "
    "createdDateTime modifiedDateTime instructions"
)

CREATE_JOB_POSTING = """
mutation CreateJobPosting($jobPostingRequest: JobPostingCreateRequest!) {
  createJobPosting(jobPostingRequest: $jobPostingRequest) {
    id version skillsSaved
  }
}
"""

UPDATE_JOB_POSTING = """
mutation UpdateJobPosting($id: String!, $jobPostingRequest: JobPostingUpdateRequest!) {
  updateJobPosting(id: $id, jobPostingRequest: $jobPostingRequest) {
    id version skillsSaved
  }
}
"""

CLIENT_PROPOSALS = f"""
query ClientProposals($jobPostingId: String!, $pagination: Pagination) {{
  clientProposals(jobPostingId: $jobPostingId, pagination: $pagination) {{
    totalCount
    edges {{
      cursor
      node {{
        id
        user {{ {PERSON_FIELDS} }}
        organization {{ {ORGANIZATION_FIELDS} }}
        job {{ id }}
        coverLetter
        status {{ status }}
        annotations
      }}
    }}
    pageInfo {{ endCursor hasNextPage }}
  }}
}}
"""

CLIENT_PROPOSAL = f"""
query ClientProposal($id: String!) {{
  clientProposal(id: $id) {{
    id
    user {{ {PERSON_FIELDS} location {{ countryName cityName timezone }} }}
    organization {{ id }}
    job {{ id }}
    status {{ status }}
  }}
}}
"""

_PROPOSAL_ACTION_FIELDS = """
    proposal {
      id
      user { id name email ciphertext }
      status { status }
    }
    status
"""

SHORTLIST_PROPOSAL = f"""
mutation ShortlistClientProposal(
  $clientProposalShortlistRequest: ClientProposalShortlistRequest
) {{
  shortlistClientProposal(clientProposalShortlistRequest: $clientProposalShortlistRequest) {{
{_PROPOSAL_ACTION_FIELDS}
  }}
}}
"""

DECLINE_PROPOSAL = f"""
mutation DeclineClientProposal($clientProposalDeclineRequest: ClientProposalDeclineRequest) {{
  declineClientProposal(clientProposalDeclineRequest: $clientProposalDeclineRequest) {{
{_PROPOSAL_ACTION_FIELDS}
  }}
}}
"""

INVITE_FREELANCER = """
mutation CreateClientJobInvitation(
  $clientJobInvitationCreateRequest: ClientJobInvitationCreateRequestInput!
) {
  createClientJobInvitation(clientJobInvitationCreateRequest: $clientJobInvitationCreateRequest)
}
"""

TALENT_PROFILE = """
query TalentProfileByProfileKey($profileKey: String!) {
  talentProfileByProfileKey(profileKey: $profileKey) {
    personId
    identity { id ciphertext }
  }
}
"""

CREATE_OFFER = f"""
mutation CreateOffer($offerInput: CreationOfferInput!) {{
  createOffer(offerInput: $offerInput) {{
    offer {{
      id kind state title description deliveryModel contractId vendorUserId clientOrgId
      expirationDateTime contractStartDateTime contractEndDateTime createdDateTime
      hourlyRateTerms {{ rate {{ {MONEY} }} weeklyHoursLimit manualTimeAllowed }}
      milestoneTerms {{ milestones {{ {MILESTONE_FIELDS} }} }}
    }}
  }}
}}
"""

WITHDRAW_OFFER = """
mutation WithdrawOffer($input: WithdrawOfferInput!) {
  withdrawOffer(input: $input)
}
"""

GET_OFFER = f"""
query Offer($id: String!) {{
  offer(id: $id) {{
    id title description type state messageToContractor deliveryModel organizationIds
    offerTerms {{
      expectedStartDate expectedEndDate
      hourlyTerms {{ weeklyHoursLimit manualTimeAllowed }}
    }}
    milestones {{
      {MILESTONE_FIELDS}
      submissionEvents {{
        submission {{ id createdDateTime modifiedDateTime sequenceId }}
        submissionMessage {{ createdDateTime message }}
      }}
    }}
    freelancer {{
      user {{ id nid rid email name photoUrl ciphertext }}
      fullName email
    }}
  }}
}}
"""

CONTRACT_DETAILS = f"""
query ContractDetails($id: String!, $date: String) {{
  contractDetails(id: $id, date: $date) {{
    id title status
    closingReason {{ id apiRef reason }}
    deliveryModel kind createDate modifyDate startDate endDate offerId
    offer {{
      id title state
      milestones {{ {MILESTONE_FIELDS} currentEscrowAmount {{ {MONEY} }} }}
    }}
    freelancer {{ id name firstName lastName email photoUrl }}
    hourlyLimits {{ id weeklyLimit startDate endDate }}
    terms {{
      fixedPriceTerms {{ id startDate endDate jobType }}
      hourlyTerms {{ id startDate endDate jobType manualTimeAllowed }}
    }}
  }}
}}
"""

CONTRACT_LIST = f"""
query ContractList($ids: [String]!) {{
  contractList(ids: $ids) {{
    contracts {{
      id title status
      closingReason {{ id apiRef reason }}
      deliveryModel kind createDate modifyDate startDate endDate offerId
      offer {{ id title state milestones {{ {MILESTONE_FIELDS} }} }}
    }}
  }}
}}
"""

END_CONTRACT = """
mutation EndContractByClient($contractId: String!, $input: EndContractInput!) {
  endContractByClient(contractId: $contractId, input: $input) {
    success
  }
}
"""

_MILESTONE_RESULT = f"""
    {MILESTONE_FIELDS}
    currentEscrowAmount {{ {MONEY} }}
"""

CREATE_MILESTONE = f"""
mutation CreateMilestoneV2($input: CreateMilestoneInput!) {{
  createMilestoneV2(input: $input) {{
{_MILESTONE_RESULT}
  }}
}}
"""

ACTIVATE_MILESTONE = f"""
mutation ActivateMilestone($input: ActivateMilestoneInput) {{
  activateMilestone(input: $input) {{
{_MILESTONE_RESULT}
  }}
}}
"""

APPROVE_MILESTONE = f"""
mutation ApproveMilestone($input: ApproveMilestoneInput!) {{
  approveMilestone(input: $input) {{
{_MILESTONE_RESULT}
  }}
}}
"""

REJECT_SUBMITTED_MILESTONE = """
mutation RejectSubmittedMilestone($input: RejectMilestoneSubmissionInput) {
  rejectSubmittedMilestone(input: $input) {
    response
  }
}
"""

CONTRACT_TIME_REPORT = """
query ContractTimeReport($filter: TimeReportFilter, $pagination: Pagination) {
  contractTimeReport(filter: $filter, pagination: $pagination) {
    totalCount
    edges {
      cursor
      node {
        dateWorkedOn weekWorkedOn
        freelancer { id name email ciphertext }
        contract { id title status }
        task taskDescription memo
        totalHoursWorked totalCharges totalOnlineHoursWorked totalOfflineHoursWorked
      }
    }
    pageInfo { endCursor hasNextPage }
  }
}
"""

TRANSACTION_HISTORY = f"""
query TransactionHistory($transactionHistoryFilter: TransactionHistoryFilter) {{
  transactionHistory(transactionHistoryFilter: $transactionHistoryFilter) {{
    transactionDetail {{
      transactionHistoryRow {{
        rowNumber recordId type accountingSubtype description descriptionUI
        transactionCreationDate fullyPaidDate paymentStatus relatedAssignment
        relatedInvoiceId relatedTransactionId purchaseOrderNumber
        assignmentDeveloperName assignmentCompanyName
        runningChargeableBalance {{ {MONEY} }}
      }}
    }}
  }}
}}
"""

CONTRACT_ROOM = """
query ContractRoom($contractId: String!) {
  contractRoom(contractId: $contractId) {
    id roomName topic roomType contractId createdAtDateTime numUsers readOnly hidden
    latestStory { id createdDateTime message }
  }
}
"""

_ROOM_FIELDS = """
    id roomName topic roomType contractId offerIds createdAtDateTime numUsers readOnly hidden
    latestStory { id createdDateTime message }
"""

OFFER_ROOM = f"""
query OfferRoom($offerId: String!) {{
  offerRoom(offerId: $offerId) {{
{_ROOM_FIELDS}
  }}
}}
"""

ROOM_LIST = f"""
query RoomList($filter: RoomFilter, $pagination: Pagination) {{
  roomList(filter: $filter, pagination: $pagination) {{
    totalCount
    edges {{
      node {{
{_ROOM_FIELDS}
      }}
    }}
    pageInfo {{ endCursor hasNextPage }}
  }}
}}
"""

ROOM_STORIES = f"""
query RoomStories($filter: RoomStoryFilter) {{
  roomStories(filter: $filter) {{
    totalCount
    edges {{
      cursor
      node {{
        id createdDateTime updatedDateTime message
        room {{ id roomName contractId offerIds }}
        user {{ {PERSON_FIELDS} }}
        organization {{ id name }}
        attachments {{ objectReferenceId objectType createdDateTime }}
      }}
    }}
    pageInfo {{ endCursor hasNextPage }}
  }}
}}
"""

SEND_ROOM_MESSAGE = """
mutation CreateRoomStoryV2($input: RoomStoryCreateInputV2!) {
  createRoomStoryV2(input: $input) {
    id createdDateTime updatedDateTime message
    room { id roomName contractId }
  }
}
"""

UPDATE_ROOM_STORY = """
mutation UpdateRoomStoryV2($input: RoomStoryUpdateInputV2!) {
  updateRoomStoryV2(input: $input) {
    status
  }
}
"""

REMOVE_ROOM_STORY = """
mutation RemoveRoomStory($roomId: String!, $storyId: String!) {
  removeRoomStory(roomId: $roomId, storyId: $storyId)
}
"""

COMPANY_SELECTOR = """
query CompanySelector {
  companySelector {
    items {
      title photoUrl organizationId organizationRid organizationType organizationLegacyType
      typeTitle
    }
  }
}
"""

ORGANIZATION = """
query Organization {
  organization {
    id rid legacyId name type legacyType active hidden photoUrl creationDate
    flag { client vendor agency individual }
    company { id accountingEntity }
  }
}
"""

DOCUMENTS: dict[str, str] = {
    "CreateJobPosting": CREATE_JOB_POSTING,
    "UpdateJobPosting": UPDATE_JOB_POSTING,
    "ClientProposals": CLIENT_PROPOSALS,
    "ClientProposal": CLIENT_PROPOSAL,
    "ShortlistClientProposal": SHORTLIST_PROPOSAL,
    "DeclineClientProposal": DECLINE_PROPOSAL,
    "CreateClientJobInvitation": INVITE_FREELANCER,
    "TalentProfileByProfileKey": TALENT_PROFILE,
    "CreateOffer": CREATE_OFFER,
    "WithdrawOffer": WITHDRAW_OFFER,
    "Offer": GET_OFFER,
    "ContractDetails": CONTRACT_DETAILS,
    "ContractList": CONTRACT_LIST,
    "EndContractByClient": END_CONTRACT,
    "CreateMilestoneV2": CREATE_MILESTONE,
    "ActivateMilestone": ACTIVATE_MILESTONE,
    "ApproveMilestone": APPROVE_MILESTONE,
    "RejectSubmittedMilestone": REJECT_SUBMITTED_MILESTONE,
    "ContractTimeReport": CONTRACT_TIME_REPORT,
    "TransactionHistory": TRANSACTION_HISTORY,
    "ContractRoom": CONTRACT_ROOM,
    "OfferRoom": OFFER_ROOM,
    "RoomList": ROOM_LIST,
    "RoomStories": ROOM_STORIES,
    "CreateRoomStoryV2": SEND_ROOM_MESSAGE,
    "UpdateRoomStoryV2": UPDATE_ROOM_STORY,
    "RemoveRoomStory": REMOVE_ROOM_STORY,
    "CompanySelector": COMPANY_SELECTOR,
    "Organization": ORGANIZATION,
}


# -- wrappers: job postings ---------------------------------------------------------------------


def job_posting_request(
    *,
    organization_id: str,
    title: str | None = None,
    description: str | None = None,
    skills: list[str] | None = None,
    contract_type: ContractType | None = None,
    budget: Mapping | Decimal | str | None = None,
    hourly_budget_min: Mapping | Decimal | str | None = None,
    hourly_budget_max: Mapping | Decimal | str | None = None,
    start_date: dt.date | str | None = None,
    end_date: dt.date | str | None = None,
    visibility: str | None = None,
    category_id: str | None = None,
    status: str | None = None,
) -> dict:
    """The reference's ``JobPostingCreateRequest`` (or ``JobPostingUpdateRequest``: only what
    is given): ``organizationId`` and ``jobPostingInfo`` (``JobPostingRequestInfo``: title,
    description, type (``JobPostType``), amount (fixed price) or hourlyBudgetMin/Max, as decimal
    strings, startDate, endDate, access (``visibility``), categoryId, status), and the skills by
    name as ``sandsJobPost.additionalSkills [{freetext}]`` (``JobPostingSkillInput`` needs an
    ontology parent id Gigbridge does not have). ``status``: CLOSED closes the posting (the
    values are assumed: reference/schema_overrides.py)."""
    if contract_type is not None and contract_type not in ("HOURLY", "FIXED_PRICE"):
        raise ValueError(f"contract_type must be HOURLY or FIXED_PRICE, not {contract_type!r}")
    if status is not None and status not in ("OPEN", "CLOSED"):
        raise ValueError(f"status must be OPEN or CLOSED, not {status!r}")
    if not organization_id:
        raise ValueError("organization_id is required")
    info = _drop_none(
        {
            "title": title,
            "description": description,
            "type": contract_type,
            "amount": decimal_amount(budget) if budget is not None else None,
            "hourlyBudgetMin": decimal_amount(hourly_budget_min)
            if hourly_budget_min is not None
            else None,
            "hourlyBudgetMax": decimal_amount(hourly_budget_max)
            if hourly_budget_max is not None
            else None,
            "startDate": iso_date(start_date),
            "endDate": iso_date(end_date),
            "access": visibility,
            "categoryId": category_id,
            "status": status,
        }
    )
    sands = {"additionalSkills": [{"freetext": name} for name in skills]} if skills else None
    return _drop_none(
        {"organizationId": organization_id, "jobPostingInfo": info or None, "sandsJobPost": sands}
    )


def create_job_posting(
    client: UpworkClient,
    *,
    title: str,
    description: str,
    contract_type: ContractType,
    skills: list[str] = (),
    budget: Mapping | None = None,
    hourly_budget_min: Mapping | None = None,
    hourly_budget_max: Mapping | None = None,
    start_date: dt.date | str | None = None,
    end_date: dt.date | str | None = None,
    visibility: str | None = None,
    category_id: str | None = None,
    organization_id: str | None = None,
) -> JobPostingResult:
    """Post a job (fixed price: ``budget``; hourly: the hourly bounds) for ``organization_id``
    (else the one the client acts for, see ``acting_organization_id``)."""
    request = job_posting_request(
        organization_id=acting_organization_id(client, organization_id),
        title=title,
        description=description,
        skills=list(skills),
        contract_type=contract_type,
        budget=budget,
        hourly_budget_min=hourly_budget_min,
        hourly_budget_max=hourly_budget_max,
        start_date=start_date,
        end_date=end_date,
        visibility=visibility,
        category_id=category_id,
    )
    data = client.execute(CREATE_JOB_POSTING, {"jobPostingRequest": request}, "CreateJobPosting")
    value = _root(data, "createJobPosting", "CreateJobPosting", required=True)
    return _parse(JobPostingResult, value, "CreateJobPosting")


def update_job_posting(
    client: UpworkClient, job_posting_id: str, *, organization_id: str | None = None, **changes
) -> JobPostingResult:
    """Change a posted job; ``changes`` are ``job_posting_request``'s keyword arguments."""
    if not changes:
        raise ValueError("nothing to change")
    request = job_posting_request(
        organization_id=acting_organization_id(client, organization_id), **changes
    )
    data = client.execute(
        UPDATE_JOB_POSTING, {"id": job_posting_id, "jobPostingRequest": request}, "UpdateJobPosting"
    )
    value = _root(data, "updateJobPosting", "UpdateJobPosting", required=True)
    return _parse(JobPostingResult, value, "UpdateJobPosting")


def close_job_posting(
    client: UpworkClient, job_posting_id: str, *, organization_id: str | None = None
) -> JobPostingResult:
    """Close a job posting: it takes no more proposals (``jobPostingInfo.status`` CLOSED)."""
    return update_job_posting(
        client, job_posting_id, organization_id=organization_id, status="CLOSED"
    )


# -- proposals and invitations ------------------------------------------------------------------


def list_client_proposals(
    client: UpworkClient, job_posting_id: str, *, first: int = PAGE_SIZE, after: str | None = None
) -> Page[Proposal]:
    """One page of a job's proposals, each with the freelancer's profile (``user``)."""
    data = client.execute(
        CLIENT_PROPOSALS,
        {"jobPostingId": job_posting_id, "pagination": _pagination(first, after)},
        "ClientProposals",
    )
    return _page(Proposal, data.get("clientProposals"), "ClientProposals")


def get_proposal(client: UpworkClient, proposal_id: str) -> Proposal | None:
    """One proposal with the freelancer's location (the list does not carry it)."""
    data = client.execute(CLIENT_PROPOSAL, {"id": proposal_id}, "ClientProposal")
    return _parse(Proposal, data.get("clientProposal"), "ClientProposal")


def shortlist_proposal(
    client: UpworkClient, proposal_id: str, *, job_posting_id: str, shortlisted: bool = True
) -> ProposalAction:
    """Shortlist a proposal (``shortlisted=False`` takes it back), as the reference's
    ``ClientProposalShortlistRequest {proposalId, jobPostingId, shortlisted}``."""
    request = {
        "proposalId": proposal_id,
        "jobPostingId": job_posting_id,
        "shortlisted": shortlisted,
    }
    data = client.execute(
        SHORTLIST_PROPOSAL, {"clientProposalShortlistRequest": request}, "ShortlistClientProposal"
    )
    value = _root(data, "shortlistClientProposal", "ShortlistClientProposal")
    return _parse(ProposalAction, value, "ShortlistClientProposal") or ProposalAction()


def decline_proposal(
    client: UpworkClient,
    proposal_id: str,
    *,
    job_posting_id: str | None = None,
    reason_id: str | None = None,
    message: str | None = None,
) -> ProposalAction:
    request = _drop_none(
        {
            "proposalId": proposal_id,
            "jobPostingId": job_posting_id,
            "reason": reason_id,  # the reference's name: "Identifier of the reason"
            "message": message,
        }
    )
    data = client.execute(
        DECLINE_PROPOSAL, {"clientProposalDeclineRequest": request}, "DeclineClientProposal"
    )
    value = _root(data, "declineClientProposal", "DeclineClientProposal")
    return _parse(ProposalAction, value, "DeclineClientProposal") or ProposalAction()


def freelancer_id(client: UpworkClient, profile_key: str) -> str | None:
    """The user id of the freelancer with this profile key (the ``ciphertext``, ``~01…``), what
    invitations take (``talentProfileByProfileKey``); None when Upwork knows no such profile."""
    data = client.execute(TALENT_PROFILE, {"profileKey": profile_key}, "TalentProfileByProfileKey")
    profile = _parse(
        TalentProfile, data.get("talentProfileByProfileKey"), "TalentProfileByProfileKey"
    )
    if profile is None:
        return None
    return (profile.identity.id if profile.identity else None) or profile.person_id


def invite_freelancer(
    client: UpworkClient, job_posting_id: str, freelancer: str, message: str
) -> Any:
    """Invite a freelancer (their user id, see ``freelancer_id``) to a job: direct sourcing,
    as the reference's ``ClientJobInvitationCreateRequestInput {jobPostingId, freelancerId,
    invitationLetter}``. -> Upwork's answer as is (a scalar, undocumented beyond that)."""
    request = {
        "jobPostingId": job_posting_id,
        "freelancerId": freelancer,
        "invitationLetter": message,
    }
    data = client.execute(
        INVITE_FREELANCER,
        {"clientJobInvitationCreateRequest": request},
        "CreateClientJobInvitation",
    )
    return data.get("createClientJobInvitation")


# -- offers -------------------------------------------------------------------------------------


def offer_input(
    *,
    title: str,
    contract_type: ContractType,
    client_team_id: str,
    vendor_user_id: str,
    vendor_team_id: str,
    description: str | None = None,
    client_proposal_id: str | None = None,
    job_posting_id: str | None = None,
    hourly_rate: Mapping | Decimal | str | None = None,
    weekly_hours_limit: int | None = None,
    manual_time_allowed: bool | None = None,
    milestones: list[Mapping] = (),
    start: dt.datetime | dt.date | str | None = None,
    end: dt.datetime | dt.date | str | None = None,
    currency: str = "USD",
) -> dict:
    """The reference's ``CreationOfferInput`` for a marketplace offer by the client.

    ``client_team_id``: the client's organization (``clientTeamId``); ``vendor_user_id`` and
    ``vendor_team_id``: the freelancer's user id and their own organization (``vendorUser``,
    from the proposal's ``user`` and ``organization``). ``metadata`` says where the offer comes
    from: a proposal (``JobApplication``), else a job posting, else ``Direct``. Hourly:
    ``hourly_rate`` and ``weekly_hours_limit`` (``hourlyRateTerms {vendorRate, weeklyLimit}``);
    fixed price: ``milestones`` of ``{"description", "amount", "due"}``, their sum the
    ``milestoneTerms.budget``. Amounts (``money(...)`` or decimals, in ``currency`` unless they
    say theirs) go as ``MoneyInput`` in cents (``money_input``). ``kind``, ``offeror``,
    ``deliveryModel`` and ``sourceType`` values: reference/schema_overrides.py. There is no
    documented field for a message to the freelancer."""
    if contract_type not in ("HOURLY", "FIXED_PRICE"):
        raise ValueError(f"contract_type must be HOURLY or FIXED_PRICE, not {contract_type!r}")
    for name, value in (("client_team_id", client_team_id), ("vendor_user_id", vendor_user_id),
                        ("vendor_team_id", vendor_team_id)):  # fmt: skip
        if not value:
            raise ValueError(f"{name} is required")
    if client_proposal_id:
        source = {"sourceType": "JobApplication", "sourceId": client_proposal_id}
    elif job_posting_id:
        source = {"sourceType": "JobPosting", "sourceId": job_posting_id}
    else:
        source = {"sourceType": "Direct"}
    offer: dict[str, Any] = {
        "kind": "MARKETPLACE",
        "offeror": "CLIENT",
        "clientTeamId": client_team_id,
        "vendorUser": {"userId": vendor_user_id, "teamId": vendor_team_id},
        "metadata": _drop_none({**source, "jobPostingId": job_posting_id}),
        "title": title,
        "description": description,
        "contractStartDateTime": iso_datetime(start),
        "contractEndDateTime": iso_datetime(end),
        "deliveryModel": contract_type,
    }
    if contract_type == "HOURLY":
        if hourly_rate is None:
            raise ValueError("an hourly offer needs hourly_rate")
        if milestones:
            raise ValueError("an hourly offer takes no milestones")
        weekly = str(int(weekly_hours_limit)) if weekly_hours_limit is not None else None
        offer["hourlyRateTerms"] = _drop_none(
            {
                "vendorRate": money_input(hourly_rate, currency),
                "weeklyLimit": weekly,  # a String in the reference
                "manualTimeAllowed": manual_time_allowed,
            }
        )
    else:
        if not milestones:
            raise ValueError("a fixed-price offer needs at least one milestone")
        if hourly_rate is not None:
            raise ValueError("a fixed-price offer takes no hourly rate")
        listed = [
            _drop_none(
                {
                    "amount": money_input(m["amount"], currency),
                    "description": m["description"],
                    "dueDate": iso_date(m.get("due")),
                }
            )
            for m in milestones
        ]
        total = sum((_amount(m["amount"]) for m in milestones), Decimal(0))
        offer["milestoneTerms"] = {
            "budget": money_input(total, listed[0]["amount"]["currency"]),
            "milestoneList": listed,
        }
    return _drop_none(offer)


def create_offer(
    client: UpworkClient,
    *,
    title: str,
    description: str,
    vendor_user_id: str,
    vendor_team_id: str,
    contract_type: ContractType,
    contract_start: dt.datetime | dt.date | str,
    contract_end: dt.datetime | dt.date | str | None = None,
    hourly_rate: Mapping | None = None,
    weekly_hours_limit: int | None = None,
    manual_time_allowed: bool | None = None,
    milestones: list[Mapping] = (),
    job_posting_id: str | None = None,
    client_proposal_id: str | None = None,
    organization_id: str | None = None,
) -> Offer:
    """Send an offer (``offer_input``'s terms) for ``organization_id`` (else the one the client
    acts for). Never re-sent by the client: on a retryable error, look for the offer first."""
    made = offer_input(
        title=title,
        contract_type=contract_type,
        client_team_id=acting_organization_id(client, organization_id),
        vendor_user_id=vendor_user_id,
        vendor_team_id=vendor_team_id,
        description=description,
        client_proposal_id=client_proposal_id,
        job_posting_id=job_posting_id,
        hourly_rate=hourly_rate,
        weekly_hours_limit=weekly_hours_limit,
        manual_time_allowed=manual_time_allowed,
        milestones=milestones,
        start=contract_start,
        end=contract_end,
    )
    return send_offer(client, made)


def send_offer(client: UpworkClient, offer: dict) -> Offer:
    """Send an offer built by ``offer_input``. Never re-sent by the client."""
    data = client.execute(CREATE_OFFER, {"offerInput": offer}, "CreateOffer")
    value = _root(data, "createOffer", "CreateOffer", required=True)
    result = _parse(Offer, (value or {}).get("offer"), "CreateOffer")
    if result is None:
        raise MalformedResponse("the answer has no offer", operation="CreateOffer")
    return result


def withdraw_offer(client: UpworkClient, offer_id: str, *, message: str | None = None) -> bool:
    """Whether Upwork withdrew the offer. ``withdrawOffer`` answers a leaf whose type the scrape
    does not give (assumed ``String``, schema_overrides.LEAF_ROOTS) nor its meaning: anything
    but null, empty or "false" is taken as done (a refusal comes as an error)."""
    data = client.execute(
        WITHDRAW_OFFER,
        {"input": _drop_none({"offerId": offer_id, "message": message})},
        "WithdrawOffer",
    )
    answer = data.get("withdrawOffer")
    return answer not in (None, False) and str(answer).strip().lower() not in ("", "false")


def get_offer(client: UpworkClient, offer_id: str) -> Offer | None:
    """The offer, or None when Upwork answers ``offer: null`` (unknown or not visible)."""
    data = client.execute(GET_OFFER, {"id": offer_id}, "Offer")
    return _parse(Offer, data.get("offer"), "Offer")


# -- contracts and milestones -------------------------------------------------------------------


def contract_details(
    client: UpworkClient, contract_id: str, *, on: dt.date | str | None = None
) -> Contract | None:
    """The contract (terms as of ``on``, default today), or None when not visible."""
    variables: dict[str, Any] = {"id": contract_id}
    if on is not None:
        variables["date"] = iso_date(on)
    data = client.execute(CONTRACT_DETAILS, variables, "ContractDetails")
    return _parse(Contract, data.get("contractDetails"), "ContractDetails")


CONTRACT_LIST_MAX = 100  # ids per read; larger sets are read in batches


def contract_list(client: UpworkClient, contract_ids: list[str]) -> list[Contract]:
    """Many contracts (status, closing reason, milestones without their amounts) in as few
    reads as possible; contracts the key cannot see are left out."""
    contracts: list[Contract] = []
    ids = list(dict.fromkeys(contract_ids))
    for start in range(0, len(ids), CONTRACT_LIST_MAX):
        batch = ids[start : start + CONTRACT_LIST_MAX]
        data = client.execute(CONTRACT_LIST, {"ids": batch}, "ContractList")
        listed = data.get("contractList") or {}
        parsed = (_parse(Contract, raw, "ContractList") for raw in listed.get("contracts") or [])
        contracts += [c for c in parsed if c is not None]
    return contracts


def end_contract_input(*, reason_ref: str, feedback: str | None = None) -> dict:
    """The ``EndContractInput`` (the reference's names): ``reasonRef`` (a contract end reason's
    id, see ``gigbridge.sourcing.ending.REASONS``), ``feedbackInfo {comment}`` when there is
    feedback for the freelancer. ``endDate`` is left out: Upwork ends it today."""
    if not reason_ref:
        raise ValueError("reason_ref is required")
    feedback_info = {"comment": feedback} if feedback else None
    return _drop_none({"reasonRef": reason_ref, "feedbackInfo": feedback_info})


def end_contract(
    client: UpworkClient, contract_id: str, *, reason_ref: str, feedback: str | None = None
) -> bool:
    """End a contract as the client, with the reason and optional feedback for the freelancer."""
    data = client.execute(
        END_CONTRACT,
        {
            "contractId": contract_id,
            "input": end_contract_input(reason_ref=reason_ref, feedback=feedback),
        },
        "EndContractByClient",
    )
    result = _parse(Success, data.get("endContractByClient"), "EndContractByClient")
    return bool(result and result.success)


def _milestone(client: UpworkClient, document: str, operation: str, field: str, inp: dict):
    data = client.execute(document, {"input": _drop_none(inp)}, operation)
    return _parse(Milestone, data.get(field), operation)


def create_milestone(
    client: UpworkClient,
    contract_id: str,
    *,
    description: str,
    amount: Mapping,
    due: dt.datetime | dt.date | str | None = None,
    instructions: str | None = None,
) -> Milestone | None:
    """Add a milestone to a fixed-price contract, as the reference's ``CreateMilestoneInput``:
    ``depositAmount`` in cents (a string), ``dueDate`` the day (a date-time's UTC day)."""
    if isinstance(due, dt.datetime):
        due = iso_datetime(due)[:10]
    return _milestone(
        client,
        CREATE_MILESTONE,
        "CreateMilestoneV2",
        "createMilestoneV2",
        {
            "contractId": contract_id,
            "description": description,
            "depositAmount": cents(amount),
            "dueDate": iso_date(due),
            "instruction": instructions,
        },
    )


def activate_milestone(
    client: UpworkClient, milestone_id: str, *, message: str | None = None
) -> Milestone | None:
    """Fund a milestone (escrow)."""
    return _milestone(
        client,
        ACTIVATE_MILESTONE,
        "ActivateMilestone",
        "activateMilestone",
        {"id": milestone_id, "message": message},
    )


def approve_milestone(
    client: UpworkClient,
    milestone_id: str,
    *,
    amount: Mapping | Decimal | str,
    message: str | None = None,
    note: str | None = None,
) -> Milestone | None:
    """Approve submitted work and release ``amount`` (``paidAmount``, in cents, required as the
    reference documents it) of its escrow, with ``message`` as the payment's comment and
    ``note`` to the freelancer. Never re-sent by the client: read the milestone first."""
    return _milestone(
        client,
        APPROVE_MILESTONE,
        "ApproveMilestone",
        "approveMilestone",
        {
            "id": milestone_id,
            "paidAmount": cents(amount),
            "paymentComment": message,
            "noteToContractor": note,
        },
    )


def reject_milestone_submission(
    client: UpworkClient, submission_id: str, *, note: str, attachments: list[str] = ()
) -> bool:
    """Ask for changes to a submitted milestone: its submission (``submission_id``, from the
    milestone's ``submission_events``) is rejected with ``note`` to the freelancer, and the
    milestone is active again until they submit anew. Never re-sent by the client."""
    data = client.execute(
        REJECT_SUBMITTED_MILESTONE,
        {
            "input": {
                "id": submission_id,
                "noteToContractor": note,
                "attachments": list(attachments),
            }
        },
        "RejectSubmittedMilestone",
    )
    answer = data.get("rejectSubmittedMilestone")
    result = _parse(MilestoneRejection, answer, "RejectSubmittedMilestone")
    return bool(result and result.response)


# -- hours, money, messages ---------------------------------------------------------------------


def contract_time_report(
    client: UpworkClient,
    contract_id: str | list[str],
    date_from: dt.date | str,
    date_to: dt.date | str,
    *,
    organization_id: str | None = None,
    first: int = PAGE_SIZE,
    after: str | None = None,
) -> Page[TimeReportEntry]:
    """Hours logged between two dates (inclusive) on a contract, or on any of a list of
    contracts (``contractIds``: one paged read for many contracts), one page. The reference's
    ``TimeReportFilter`` requires the organization (``organizationId_eq``): ``organization_id``,
    else the client's tenant, else the one Upwork says the client acts for (one more read)."""
    ids = [contract_id] if isinstance(contract_id, str) else list(contract_id)
    variables = {
        "filter": {
            "organizationId_eq": acting_organization_id(client, organization_id),
            "contractIds": ids,
            "timeReportDate_bt": {"rangeStart": iso_date(date_from), "rangeEnd": iso_date(date_to)},
        },
        "pagination": _pagination(first, after),
    }
    data = client.execute(CONTRACT_TIME_REPORT, variables, "ContractTimeReport")
    return _page(TimeReportEntry, data.get("contractTimeReport"), "ContractTimeReport")


def transaction_history(
    client: UpworkClient,
    date_from: dt.date | str,
    date_to: dt.date | str,
    *,
    accounting_entity_ids: list[str] | None = None,
) -> list[TransactionRow]:
    """Payments and charges between two dates (for spend analytics and reconciliation) of the
    accounting entities ``accounting_entity_ids`` (the reference's ``aceIds_any``), else of the
    one of the organization the client acts for (``organization.company.accountingEntity``,
    one more read)."""
    ids = list(accounting_entity_ids or [])
    if not ids:
        current = organization(client)
        ace = current.company.accounting_entity if current and current.company else None
        if not ace:
            raise MalformedResponse(
                "the organization has no accounting entity", operation="Organization"
            )
        ids = [ace]
    flt = {
        "aceIds_any": ids,
        "transactionDateTime_bt": {
            "rangeStart": iso_date(date_from),
            "rangeEnd": iso_date(date_to),
        },
    }
    data = client.execute(
        TRANSACTION_HISTORY, {"transactionHistoryFilter": flt}, "TransactionHistory"
    )
    history = data.get("transactionHistory") or {}
    detail = history.get("transactionDetail") if isinstance(history, Mapping) else None
    rows = (
        (detail or {}).get("transactionHistoryRow") if isinstance(detail or {}, Mapping) else None
    )
    return [_parse(TransactionRow, row, "TransactionHistory") for row in _as_list(rows) if row]


def contract_room(client: UpworkClient, contract_id: str) -> Room | None:
    data = client.execute(CONTRACT_ROOM, {"contractId": contract_id}, "ContractRoom")
    return _parse(Room, data.get("contractRoom"), "ContractRoom")


def room_stories(
    client: UpworkClient,
    room_id: str,
    since: dt.datetime | str | None = None,
    *,
    first: int = PAGE_SIZE,
    after: str | None = None,
) -> Page[RoomStory]:
    """Messages in a room, created at or after ``since`` (the poller's cursor), one page
    (the reference's ``RoomStoryFilter {roomId_eq, storyFilter}``)."""
    story: dict[str, Any] = {"pagination": _pagination(first, after)}
    if since is not None:
        story["storyCreatedDateTime_bt"] = {"rangeStart": iso_datetime(since)}
    flt = {"roomId_eq": room_id, "storyFilter": story}
    data = client.execute(ROOM_STORIES, {"filter": flt}, "RoomStories")
    return _page(RoomStory, data.get("roomStories"), "RoomStories")


def offer_room(client: UpworkClient, offer_id: str) -> Room | None:
    """The room of an offer; once the offer is accepted its ``contract_id`` names the contract."""
    data = client.execute(OFFER_ROOM, {"offerId": offer_id}, "OfferRoom")
    return _parse(Room, data.get("offerRoom"), "OfferRoom")


def room_list(
    client: UpworkClient,
    active_since: dt.datetime | str | None = None,
    *,
    first: int = PAGE_SIZE,
    after: str | None = None,
) -> Page[Room]:
    """One page of the rooms the user is in, only those with activity since ``active_since``
    when given (the reference's ``RoomFilter.activeSince_eq``: "Return only the rooms that have
    had new activity since the given time")."""
    flt = {"activeSince_eq": iso_datetime(active_since)} if active_since is not None else None
    variables = _drop_none({"filter": flt, "pagination": _pagination(first, after)})
    data = client.execute(ROOM_LIST, variables, "RoomList")
    return _page(Room, data.get("roomList"), "RoomList")


def stories_since(
    client: UpworkClient, since: dt.datetime | str | None, *, max_rooms: int = 200
) -> Iterator[RoomStory]:
    """Messages created at or after ``since`` in every room with activity since then: the rooms
    from ``roomList(activeSince_eq)``, then each room's new stories (``roomStories`` with
    ``storyCreatedDateTime_bt``), every page of both. A pass costs one request per active room
    (and page), none for a quiet room; at most ``max_rooms`` rooms (the rest next pass)."""
    rooms = items(lambda after: room_list(client, since, after=after))
    for count, room in enumerate(rooms):
        if count >= max_rooms or not room.id:
            return
        yield from items(lambda after, room=room: room_stories(client, room.id, since, after=after))


def send_room_message(client: UpworkClient, room_id: str, message: str) -> RoomStory | None:
    """Post a message into a room (mirrored from Teams). Never re-sent by the client."""
    data = client.execute(
        SEND_ROOM_MESSAGE, {"input": {"roomId": room_id, "message": message}}, "CreateRoomStoryV2"
    )
    return _parse(RoomStory, data.get("createRoomStoryV2"), "CreateRoomStoryV2")


# -- connection check ---------------------------------------------------------------------------


def company_selector(client: UpworkClient) -> list[CompanySelectorItem]:
    """The organizations the connected user can act for (their ids go in the tenant header)."""
    data = client.execute(COMPANY_SELECTOR, {}, "CompanySelector")
    selector = data.get("companySelector") or {}
    items = selector.get("items") if isinstance(selector, Mapping) else None
    return [_parse(CompanySelectorItem, i, "CompanySelector") for i in _as_list(items) if i]


def organization(client: UpworkClient) -> CurrentOrganization | None:
    """The organization the client acts for (the tenant header's, else the user's default)."""
    data = client.execute(ORGANIZATION, {}, "Organization")
    return _parse(CurrentOrganization, data.get("organization"), "Organization")


def acting_organization_id(client: UpworkClient, organization_id: str | None = None) -> str:
    """``organization_id``, else the client's tenant id, else the id of the organization Upwork
    says the client acts for (one ``Organization`` read); what filters that require the
    organization (``organizationId_eq``) are given."""
    found = organization_id or getattr(client, "organization_id", None)
    if not found:
        current = organization(client)
        found = current.id if current is not None else None
    if not found:
        raise MalformedResponse(
            "the organization the client acts for has no id", operation="Organization"
        )
    return found


def update_room_story(client: UpworkClient, room_id: str, story_id: str, message: str) -> None:
    """Change the text of a story (one the bridge posted, whose Teams reply was edited)."""
    client.execute(
        UPDATE_ROOM_STORY,
        {"input": {"storyId": story_id, "roomId": room_id, "message": message}},
        "UpdateRoomStoryV2",
    )


def remove_room_story(client: UpworkClient, room_id: str, story_id: str) -> None:
    """Remove a story (one the bridge posted, whose Teams reply was deleted)."""
    client.execute(REMOVE_ROOM_STORY, {"roomId": room_id, "storyId": story_id}, "RemoveRoomStory")
