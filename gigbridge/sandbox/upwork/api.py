"""The GraphQL operations the sandbox serves, by root field, with the inputs they accept.

Every object is looked up within the request's organization (the ``X-Upwork-API-TenantId``
header, else the user's default organization); others are "not found". Inputs are Upwork's
documented input objects (``reference/schema.graphql``, generated from types.ts): every
documented field is accepted (``inputs.documented``), the ones the sandbox models are checked,
the others ignored; any other field is a GraphQL error naming the type and the field. Enum
values Upwork does not publish are the ones assumed in ``reference/schema_overrides.py``.

Money: offer terms are ``MoneyInput {amount, currency}`` in cents ("4912" is 49.12 USD),
milestone amounts (``depositAmount``, ``paidAmount``) cents as strings, job posting amounts
decimal strings; only USD. Dates are ``YYYY-MM-DD`` (``YYYYMMDD`` too), date-times ISO 8601
(naive means UTC) or epoch milliseconds.

- ``createJobPosting`` / ``updateJobPosting`` (``JobPostingCreateRequest`` / ``UpdateRequest``):
  organizationId! (the request's), jobPostingInfo {title, description, type HOURLY|FIXED_PRICE
  (title, description and type needed to create), amount, hourlyBudgetMin, hourlyBudgetMax,
  experienceLevel, access, startDate <= endDate, status OPEN|CLOSED (CLOSED closes it)},
  sandsJobPost {skills, additionalSkills: each by freetext or skillId}. Creating a posting
  starts the proposals.
- ``contractList(ids)``: up to 100 contracts in one read; unknown ids are left out.
- ``clientProposal(id)``: one proposal; its ``user.location`` has the freelancer's country, its
  ``organization`` the freelancer's own organization.
- ``clientProposals(jobPostingId, filter, sortAttribute, pagination)``: filter status_eq
  (PENDING SHORTLISTED DECLINED HIRED), createdDateTime_gt, modifiedDateTime_gt;
  sortAttribute {sortOrder: ASC|DESC}; pagination {first (<=100), after (a cursor)}.
- ``shortlistClientProposal`` (``ClientProposalShortlistRequest``): proposalId!, jobPostingId!
  (the proposal's), shortlisted! (false takes it back). ``declineClientProposal``
  (``ClientProposalDeclineRequest``): proposalId!, jobPostingId! (the proposal's), reason,
  otherReason, message.
- ``talentProfileByProfileKey(profileKey)``: the freelancer's profile; ``identity.id`` is the
  user id. ``createClientJobInvitation`` (``ClientJobInvitationCreateRequestInput``):
  jobPostingId!, freelancerId! (that user id), invitationLetter; answers the invitation's id.
- ``createOffer(offerInput)`` (``CreationOfferInput``): kind! MARKETPLACE, offeror! CLIENT,
  clientTeamId! (the request's organization), vendorUser! {userId, teamId: the freelancer's
  own organization}, metadata! {sourceType JobApplication (sourceId: the vendor's proposal) |
  JobPosting (sourceId: a job posting) | Direct (no sourceId), jobPostingId (the offer's)},
  title!, description, contractStartDateTime <= contractEndDateTime, deliveryModel! HOURLY |
  FIXED_PRICE; hourly: hourlyRateTerms {vendorRate!, weeklyLimit (whole hours, a string)};
  fixed price: milestoneTerms {budget! (the milestones' sum), milestoneList [{amount!,
  description!, dueDate}]} (empty: one milestone of the budget). No stipend offers.
  ``withdrawOffer(input)``: offerId!, message, withdrawalReason; answers true.
- ``offer(id)``; ``offersByAttribute(filter)`` (``SearchOffersInput``): id!, searchAttribute!
  JOB_POSTING (the sandbox's only one; the values are not in the reference), states, limit
  (10; 0 is all), page (from 1), ascendingOrder.
- ``endContractByClient(contractId, input)`` (``EndContractInput``): reasonRef!, endDate
  (accepted, not modelled), feedbackInfo {comment, availabilityScore, ...}. The reasonRef
  becomes the contract's ``closingReason.reason``.
- ``createMilestoneV2(input)`` (``CreateMilestoneInput``): contractId!, description!,
  depositAmount!, dueDate, instruction, offerId and attachmentIds (accepted, not modelled).
  ``activateMilestone(input)`` (funds it): id | milestoneId, message. ``approveMilestone(input)``
  (pays it): id | milestoneId, paidAmount (all when omitted; never more than the escrow) |
  amount Money, paymentComment | paymentComments | message, noteToContractor | note,
  bonusAmount and underpaymentReason (accepted, not modelled).
  ``rejectSubmittedMilestone(input)`` (``RejectMilestoneSubmissionInput``): id! (the
  submission's), noteToContractor, attachments; the milestone is ACTIVE again.
- ``contractTimeReport(filter, pagination)`` (``TimeReportFilter``): organizationId_eq! (the
  request's organization), timeReportDate_bt! {rangeStart, rangeEnd} (inclusive), contractIds.
- ``transactionHistory(transactionHistoryFilter)`` (``TransactionHistoryFilter``): aceIds_any
  (needed: the organization's accounting entity, ``organization.company.accountingEntity``),
  transactionDateTime_bt! {rangeStart, rangeEnd} (dates are whole days; date-times exact);
  the other documented filters accepted, not modelled. Newest last; at most 1000 rows.
- ``roomList(filter, pagination, sortOrder)`` (``RoomFilter``): activeSince_eq (rooms with a
  story or a change at or after it); the other documented fields accepted, not modelled.
  ``contractRoom(contractId)``; ``offerRoom(offerId)`` (null until the offer is accepted).
  ``roomStories(filter)`` (``RoomStoryFilter``): roomId_eq!, storyFilter
  {storyCreatedDateTime_bt {rangeStart, rangeEnd} (inclusive), pagination {first, after}}.
  ``createRoomStoryV2(input)``: roomId!, message!. ``updateRoomStoryV2(input)``
  (``RoomStoryUpdateInputV2``): storyId!, roomId!, message (a client user's own story only);
  ``removeRoomStory(roomId, storyId)`` (a client user's own story; it is gone from the room).
- ``contractDetails(id, date)``, ``companySelector``, ``organization``: no inputs beyond their
  documented arguments.
"""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal

from django.db.models import Q

from ..m365files import clock
from . import defaults, shapes, simulate
from .executor import Context, Resolver, UpworkError
from .inputs import (
    check,
    date_range,
    documented,
    money_cents,
    pagination,
    parse_date,
    parse_datetime,
)
from .models import (
    ClientUser,
    Contract,
    Freelancer,
    Invitation,
    JobPosting,
    Milestone,
    MilestoneSubmission,
    Offer,
    Payment,
    Proposal,
    Room,
    Story,
    TimeEntry,
)

MAX_TRANSACTIONS = 1000


def _not_found(kind: str, value) -> UpworkError:
    return UpworkError(f"{kind} {value!r} not found in this organization.", "NOT_FOUND")


def _encode(pk: int) -> str:
    return base64.urlsafe_b64encode(f"c:{pk}".encode()).decode()


def _decode(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode().removeprefix("c:"))
    except (ValueError, UnicodeDecodeError):
        raise UpworkError(f"Invalid cursor {cursor!r}.") from None


def connection(rows, first: int, after: str | None, shape, descending: bool = False) -> dict:
    """A page of ``rows`` in key order after the cursor: totalCount, edges, pageInfo."""
    total = rows.count()
    rows = rows.order_by("-pk" if descending else "pk")
    position = _decode(after)
    if position is not None:
        rows = rows.filter(pk__lt=position) if descending else rows.filter(pk__gt=position)
    page = list(rows[: first + 1])
    more, page = len(page) > first, page[:first]
    return {
        "totalCount": total,
        "edges": [{"cursor": _encode(row.pk), "node": shape(row)} for row in page],
        "pageInfo": {"endCursor": _encode(page[-1].pk) if page else after, "hasNextPage": more},
    }


# -- organizations -------------------------------------------------------------------------------


def company_selector(ctx: Context) -> dict:
    items = [
        {"title": org.name, "organizationId": org.id, "organizationRid": org.rid,
         "organizationType": "Client", "organizationLegacyType": "Company", "typeTitle": "Client",
         "photoUrl": None, "legacyEnterpriseOrganization": False}
        for org in ctx.user.organizations.order_by("id")
    ]  # fmt: skip
    return {"items": items}


def organization(ctx: Context) -> dict:
    return shapes.organization(ctx.organization)


# -- job postings --------------------------------------------------------------------------------

# JobPostingCreateRequest / JobPostingUpdateRequest and their JobPostingRequestInfo, as the
# reference documents them: every field accepted, these modelled. Amounts here are decimal
# strings ("Amount as string containing exact value with dot symbol"), not cents.
JOB_INFO = {"title": "str", "description": "str", "type": "str", "amount": "num",
            "hourlyBudgetMin": "num", "hourlyBudgetMax": "num", "experienceLevel": "str",
            "access": "str", "status": "str", "startDate": "date", "endDate": "date"}  # fmt: skip
SANDS_JOB_POST = {"skills": "list", "additionalSkills": "list"}


def _job_request(ctx: Context, value, type_name: str) -> dict:
    """The request's modelled fields (None when not given): title, description, kind, budget,
    hourly_min, hourly_max, experience_level, visibility, status, skills."""
    fields = documented(type_name, organizationId="str!", jobPostingInfo="obj", sandsJobPost="obj")
    data = check(value, type_name, fields)
    if data["organizationId"] != ctx.organization.id:
        raise UpworkError(
            f"User has no access to organization {data['organizationId']!r} in this request.",
            "FORBIDDEN",
        )
    where = f"{type_name}.jobPostingInfo"
    info = check(data["jobPostingInfo"], "JobPostingRequestInfo",
                 documented("JobPostingRequestInfo", **JOB_INFO))  # fmt: skip
    if info["startDate"] and info["endDate"] and info["endDate"] < info["startDate"]:
        raise UpworkError(f'Field "{where}.endDate" is before its startDate.')
    for name in ("amount", "hourlyBudgetMin", "hourlyBudgetMax"):
        if info[name] is not None and info[name] < 0:
            raise UpworkError(f'Field "{where}.{name}" must not be negative.')
    status = info["status"]
    if status is not None and status not in {"OPEN", "CLOSED"}:
        raise UpworkError(f'Field "{where}.status" must be OPEN or CLOSED, not {status!r}.')
    return {
        "title": info["title"], "description": info["description"],
        "kind": _contract_type(info["type"], f"{where}.type"), "budget": info["amount"],
        "hourly_min": info["hourlyBudgetMin"], "hourly_max": info["hourlyBudgetMax"],
        "experience_level": info["experienceLevel"], "visibility": info["access"],
        "status": status, "skills": _skills(data["sandsJobPost"], f"{type_name}.sandsJobPost"),
    }  # fmt: skip


def _skills(value, where: str) -> list[str] | None:
    """Skill names from ``SandsJobPostRequest``: ``skills`` (``JobPostingSkillInput``) and
    ``additionalSkills`` (``JobPostingAdditionalSkillInput``), by free text, else by id."""
    if value is None:
        return None
    sands = check(value, "SandsJobPostRequest", documented("SandsJobPostRequest", **SANDS_JOB_POST))
    names = []
    for field, type_name in (("skills", "JobPostingSkillInput"),
                             ("additionalSkills", "JobPostingAdditionalSkillInput")):  # fmt: skip
        for index, item in enumerate(sands[field] or []):
            skill = check(item, f"{where}.{field}[{index}]", documented(type_name))
            name = skill["freetext"] or skill["skillId"]
            if not name:
                raise UpworkError(f'Field "{where}.{field}[{index}]" needs freetext or skillId.')
            names.append(str(name))
    return names


def _contract_type(value: str | None, where: str) -> str | None:
    """HOURLY or FIXED_PRICE (``JobPostType``, ``CreateOfferDeliveryModelInput``: values
    assumed in reference/schema_overrides.py), kept as HOURLY or FIXED."""
    if value is None:
        return None
    if value not in {"HOURLY", "FIXED_PRICE"}:
        raise UpworkError(f'Field "{where}" must be HOURLY or FIXED_PRICE, not {value!r}.')
    return "FIXED" if value == "FIXED_PRICE" else value


def _saved(job: JobPosting) -> dict:
    flags = [
        "qualificationsSaved",
        "skillsSaved",
        "questionsSaved",
        "segmentationDataSaved",
        "attachmentsSaved",
        "ptcInfoSaved",
        "sandsJobPostSaved",
        "customFieldsSaved",
    ]
    return {"id": job.uid, "version": job.version, **dict.fromkeys(flags, True)}  # fmt: skip


def create_job_posting(ctx: Context, jobPostingRequest=None) -> dict:  # noqa: N803
    where = "JobPostingCreateRequest"
    data = _job_request(ctx, jobPostingRequest, where)
    for name, field in (("title", "title"), ("description", "description"), ("kind", "type")):
        if not data[name]:
            raise UpworkError(f'Field "{where}.jobPostingInfo.{field}" is needed to post a job.')
    if data["status"] == "CLOSED":
        raise UpworkError(f'Field "{where}.jobPostingInfo.status": a new posting is not CLOSED.')
    job = JobPosting.objects.create(
        organization=ctx.organization, created_by=ctx.user, title=data["title"],
        description=data["description"], contract_type=data["kind"], budget=data["budget"],
        hourly_min=data["hourly_min"], hourly_max=data["hourly_max"],
        skills=data["skills"] or [], experience_level=data["experience_level"] or "",
        visibility=data["visibility"] or "PUBLIC",
    )  # fmt: skip
    simulate.on_job_created(job)
    return _saved(job)


def update_job_posting(ctx: Context, id=None, jobPostingRequest=None) -> dict:  # noqa: A002,N803
    """Changes what is given; ``jobPostingInfo.status`` CLOSED closes the posting (the only
    documented way: no close or delete operation is documented)."""
    job = JobPosting.by_uid(id, organization=ctx.organization)
    if job is None:
        raise _not_found("Job posting", id)
    data = _job_request(ctx, jobPostingRequest, "JobPostingUpdateRequest")
    simple = {"title": "title", "description": "description", "budget": "budget",
              "hourly_min": "hourly_min", "hourly_max": "hourly_max", "skills": "skills",
              "experience_level": "experience_level", "visibility": "visibility",
              "kind": "contract_type", "status": "status"}  # fmt: skip
    for name, attribute in simple.items():
        if data[name] is not None:
            setattr(job, attribute, data[name])
    job.version += 1
    job.modified = clock.now()
    job.save()
    return _saved(job)


# -- proposals -----------------------------------------------------------------------------------


def client_proposals(
    ctx: Context,
    jobPostingId=None,
    filter=None,
    sortAttribute=None,
    pagination=None,  # noqa: A002,N803
) -> dict:
    job = JobPosting.by_uid(jobPostingId, organization=ctx.organization)
    if job is None:
        raise _not_found("Job posting", jobPostingId)
    # Documented filters: status_eq is modelled, the others accepted and not modelled.
    wanted = check(
        filter, "ClientProposalFilter", documented("ClientProposalFilter", status_eq="str")
    )
    order = {"sortOrder": None}
    if sortAttribute is not None:
        order = check(sortAttribute, "ClientProposalSortAttribute",
                      documented("ClientProposalSortAttribute", sortOrder="str!"))  # fmt: skip
    rows = Proposal.objects.filter(job=job).select_related("freelancer", "job")
    if wanted["status_eq"]:
        rows = rows.filter(status=wanted["status_eq"].upper())
    first, after = _pagination(pagination)
    descending = (order["sortOrder"] or "ASC").upper() == "DESC"
    return connection(rows, first, after, shapes.proposal, descending)


def client_proposal(ctx: Context, id=None) -> dict:  # noqa: A002 - Upwork's argument name
    """One proposal, with what the list leaves out: the freelancer's location."""
    found = Proposal.by_uid(id, job__organization=ctx.organization)
    if found is None:
        raise _not_found("Proposal", id)
    return shapes.proposal(found)


def _pagination(value):
    return pagination(value)


def _proposal(ctx: Context, proposal_id) -> Proposal:
    found = Proposal.by_uid(proposal_id, job__organization=ctx.organization)
    if found is None:
        raise _not_found("Proposal", proposal_id)
    return found


def _proposal_of_job(ctx: Context, data: dict, where: str) -> Proposal:
    proposal = _proposal(ctx, data["proposalId"])
    if data["jobPostingId"] != proposal.job.uid:
        raise UpworkError(
            f'Field "{where}.jobPostingId": proposal {proposal.uid} is not of job posting '
            f"{data['jobPostingId']!r}."
        )
    return proposal


def shortlist_client_proposal(ctx: Context, clientProposalShortlistRequest=None) -> dict:  # noqa: N803
    """``ClientProposalShortlistRequest`` as documented: proposalId!, jobPostingId! (the
    proposal's), shortlisted! (true shortlists a pending proposal, false takes a shortlisted
    one back to pending)."""
    where = "ClientProposalShortlistRequest"
    data = check(clientProposalShortlistRequest, where, documented(where, shortlisted="bool!"))
    proposal = _proposal_of_job(ctx, data, where)
    wanted, current = (
        ("SHORTLISTED", "PENDING") if data["shortlisted"] else ("PENDING", "SHORTLISTED")
    )
    if proposal.status == current:
        proposal.status = wanted
        proposal.touch(None, "status")
    return {"proposal": shapes.proposal(proposal), "status": "SUCCESS"}


# The reference's ClientProposalDeclineRequest (types.ts), field for field.
DECLINE_REQUEST = {"proposalId": "str!", "jobPostingId": "str!", "reason": "str",
                   "otherReason": "str", "message": "str"}  # fmt: skip


def decline_client_proposal(ctx: Context, clientProposalDeclineRequest=None) -> dict:  # noqa: N803
    where = "ClientProposalDeclineRequest"
    data = check(clientProposalDeclineRequest, where, DECLINE_REQUEST)
    proposal = _proposal_of_job(ctx, data, where)
    if proposal.status in {"HIRED", "OFFERED"}:
        raise UpworkError(f"Proposal {proposal.uid} is {proposal.status} and cannot be declined.")
    reason = data["reason"] or data["otherReason"] or data["message"] or ""
    proposal.status, proposal.decline_reason = "DECLINED", reason
    proposal.touch(None, "status", "decline_reason")
    return {"proposal": shapes.proposal(proposal), "status": "SUCCESS"}


def create_client_job_invitation(ctx: Context, clientJobInvitationCreateRequest=None) -> str:  # noqa: N803
    """``ClientJobInvitationCreateRequestInput`` as documented: jobPostingId!, freelancerId! (the
    freelancer's user id: ``talentProfileByProfileKey`` gives it for a profile key),
    invitationLetter. Answers the invitation's id."""
    where = "ClientJobInvitationCreateRequestInput"
    data = check(clientJobInvitationCreateRequest, where, documented(where))
    job = JobPosting.by_uid(data["jobPostingId"], organization=ctx.organization)
    if job is None:
        raise _not_found("Job posting", data["jobPostingId"])
    person = Freelancer.objects.filter(id=data["freelancerId"]).first()
    if person is None:
        raise UpworkError(f"Freelancer {data['freelancerId']!r} not found.", "NOT_FOUND")
    invitation = Invitation.objects.create(
        job=job, freelancer=person, message=data["invitationLetter"] or ""
    )
    simulate.on_invitation(invitation)
    return invitation.uid


def talent_profile_by_profile_key(ctx: Context, profileKey=None) -> dict:  # noqa: N803
    """A freelancer's profile by its key (the ciphertext, ``~01…``): ``personId`` and
    ``identity.id`` are the user id that invitations and offers take."""
    person = Freelancer.objects.filter(profile_key=profileKey).first()
    if person is None:
        raise UpworkError(f"Profile {profileKey!r} not found.", "NOT_FOUND")
    return shapes.talent_profile(person)


# -- offers and contracts ------------------------------------------------------------------------

# CreationOfferInput and the input types it reaches, as the reference documents them: every
# field accepted, these modelled. Offer amounts are MoneyInput in cents ("so USD 49.12 would be
# 4912"). The sandbox makes marketplace offers by a client (kind MARKETPLACE, offeror CLIENT).
OFFER_INPUT = {"kind": "str!", "offeror": "str!", "clientTeamId": "str!", "vendorUser": "obj!",
               "metadata": "obj!", "title": "str!", "description": "str",
               "contractStartDateTime": "datetime", "contractEndDateTime": "datetime",
               "hourlyRateTerms": "obj", "milestoneTerms": "obj", "stipendTerms": "obj",
               "deliveryModel": "str!"}  # fmt: skip
OFFER_METADATA = {"sourceType": "str!", "sourceId": "str", "jobPostingId": "str"}
HOURLY_TERMS = {"vendorRate": "obj!", "weeklyLimit": "str", "manualTimeAllowed": "bool"}
MILESTONE_TERMS = {"budget": "obj!", "milestoneList": "list"}
OFFER_MILESTONE = {"amount": "obj!", "description": "str!", "dueDate": "date",
                   "instructions": "str"}  # fmt: skip


def _offer_source(ctx: Context, value, person: Freelancer, where: str):
    """(proposal, job) from ``OfferMetadataInput`` as its doc says: sourceType JobApplication
    (sourceId: the proposal, jobPostingId: its job), JobPosting (sourceId: the job posting) or
    Direct (no sourceId)."""
    meta = check(value, "OfferMetadataInput", documented("OfferMetadataInput", **OFFER_METADATA))
    kind, source = meta["sourceType"], meta["sourceId"]
    proposal = job = None
    if kind == "JobApplication":
        if not source:
            raise UpworkError(f'Field "{where}.sourceId" must name the proposal (JobApplication).')
        proposal = _proposal(ctx, source)
        job = proposal.job
        if proposal.freelancer_id != person.id:
            raise UpworkError(
                f"Proposal {proposal.uid} is by freelancer {proposal.freelancer_id}, "
                f"not {person.id}."
            )
    elif kind == "JobPosting":
        job = JobPosting.by_uid(source, organization=ctx.organization)
        if job is None:
            raise _not_found("Job posting", source)
    elif kind == "Direct":
        if source:
            raise UpworkError(f'Field "{where}.sourceId" must be null for a Direct offer.')
    else:
        raise UpworkError(
            f'Field "{where}.sourceType" must be JobPosting, JobApplication or Direct.'
        )
    if meta["jobPostingId"] and meta["jobPostingId"] != (job.uid if job else None):
        raise UpworkError(f'Field "{where}.jobPostingId" is not the offer\'s job posting.')
    return proposal, job


def _offer_vendor(value, where: str) -> Freelancer:
    """``VendorUserInput``: the freelancer's user id and their own (sole proprietor) team."""
    vendor = check(value, "VendorUserInput", documented("VendorUserInput"))
    person = Freelancer.objects.filter(id=vendor["userId"]).first()
    if person is None:
        raise UpworkError(f"Freelancer {vendor['userId']!r} not found.", "NOT_FOUND")
    if vendor["teamId"] != person.organization_id:
        raise UpworkError(
            f'Field "{where}.teamId" must be the freelancer\'s organization '
            f"({person.organization_id}), not {vendor['teamId']!r}."
        )
    return person


def _hourly_terms(value, where: str) -> tuple[Decimal, int | None]:
    terms = check(value, "OfferHourlyRateTerms", documented("OfferHourlyRateTerms", **HOURLY_TERMS))
    rate = money_cents(terms["vendorRate"], f"{where}.vendorRate")
    if rate <= 0:
        raise UpworkError(f'Field "{where}.vendorRate.amount" must be above 0.')
    limit = terms["weeklyLimit"]
    if limit is not None and not limit.isdigit():
        raise UpworkError(f'Field "{where}.weeklyLimit" must be whole hours, not {limit!r}.')
    return rate, int(limit) if limit is not None else None


def _milestone_plan(value, title: str, where: str) -> list[dict]:
    """``OfferMilestoneTerms``: the budget, and the milestones that make it up (one milestone
    of the whole budget, named after the offer, when the list is empty)."""
    terms = check(
        value, "OfferMilestoneTerms", documented("OfferMilestoneTerms", **MILESTONE_TERMS)
    )
    budget = money_cents(terms["budget"], f"{where}.budget")
    if budget <= 0:
        raise UpworkError(f'Field "{where}.budget.amount" must be above 0.')
    plan = []
    for index, item in enumerate(terms["milestoneList"] or []):
        at = f"{where}.milestoneList[{index}]"
        milestone = check(item, "OfferTermsMilestoneInput",
                          documented("OfferTermsMilestoneInput", **OFFER_MILESTONE))  # fmt: skip
        amount = money_cents(milestone["amount"], f"{at}.amount")
        if amount <= 0:
            raise UpworkError(f'Field "{at}.amount.amount" must be above 0.')
        due = milestone["dueDate"]
        plan.append({"description": milestone["description"], "amount": str(amount),
                     "dueDate": due.isoformat() if due else None})  # fmt: skip
    if not plan:
        return [{"description": title, "amount": str(budget), "dueDate": None}]
    total = sum((Decimal(p["amount"]) for p in plan), Decimal(0))
    if total != budget:
        raise UpworkError(
            f'Field "{where}.budget" ({budget:.2f}) is not the sum of its milestones ({total:.2f}).'
        )
    return plan


def create_offer(ctx: Context, offerInput=None) -> dict:  # noqa: N803
    where = "CreationOfferInput"
    data = check(offerInput, where, documented(where, **OFFER_INPUT))
    if data["kind"] != "MARKETPLACE" or data["offeror"] != "CLIENT":
        raise UpworkError(
            f'Fields "{where}.kind" and "offeror": the sandbox makes MARKETPLACE offers by the '
            f"CLIENT, not {data['kind']} by {data['offeror']}."
        )
    if data["clientTeamId"] != ctx.organization.id:
        raise UpworkError(
            f"User has no access to team {data['clientTeamId']!r} in this request.", "FORBIDDEN"
        )
    kind = _contract_type(data["deliveryModel"], f"{where}.deliveryModel")
    person = _offer_vendor(data["vendorUser"], f"{where}.vendorUser")
    proposal, job = _offer_source(ctx, data["metadata"], person, f"{where}.metadata")
    start, end = data["contractStartDateTime"], data["contractEndDateTime"]
    if start and end and end < start:
        raise UpworkError(f'Field "{where}.contractEndDateTime" is before the contract start.')
    if data["stipendTerms"] is not None:
        raise UpworkError(f'Field "{where}.stipendTerms": the sandbox makes no stipend offers.')
    plan, rate, limit = [], None, None
    if kind == "HOURLY":
        if data["milestoneTerms"] is not None or data["hourlyRateTerms"] is None:
            raise UpworkError(
                f"An hourly offer takes hourlyRateTerms, not milestoneTerms ({where})."
            )
        rate, limit = _hourly_terms(data["hourlyRateTerms"], f"{where}.hourlyRateTerms")
    else:
        if data["hourlyRateTerms"] is not None or data["milestoneTerms"] is None:
            raise UpworkError(
                f"A fixed-price offer takes milestoneTerms, not hourly terms ({where})."
            )
        plan = _milestone_plan(data["milestoneTerms"], data["title"], f"{where}.milestoneTerms")
    total = sum((Decimal(p["amount"]) for p in plan), Decimal(0)) if plan else None
    offer = Offer.objects.create(
        organization=ctx.organization, created_by=ctx.user, job=job, proposal=proposal,
        freelancer=person, title=data["title"], description=data["description"] or "",
        kind=kind, hourly_rate=rate, weekly_limit=limit, fixed_amount=total, milestones=plan,
        start_date=start.astimezone(dt.UTC).date() if start else None,
    )  # fmt: skip
    if proposal is not None:
        proposal.status = "OFFERED"
        proposal.touch(None, "status")
    simulate.on_offer(offer)
    return {"offer": shapes.created_offer(offer)}


def withdraw_offer(ctx: Context, input=None) -> bool:  # noqa: A002
    data = check(input, "WithdrawOfferInput", documented("WithdrawOfferInput"))
    offer = Offer.by_uid(data["offerId"], organization=ctx.organization)
    if offer is None:
        raise _not_found("Offer", data["offerId"])
    if offer.state != "OPEN":
        raise UpworkError(f"Offer {offer.uid} is {offer.state} and cannot be withdrawn.")
    offer.state, offer.reason = "WITHDRAWN", data["withdrawalReason"] or data["message"] or ""
    offer.touch(None, "state", "reason")
    return True


def offer(ctx: Context, id=None) -> dict:  # noqa: A002
    found = Offer.by_uid(id, organization=ctx.organization)
    if found is None:
        raise _not_found("Offer", id)
    return shapes.offer(found)


# The reference's SearchOffersInput. The scrape has no OfferSearchAttribute or OfferLegacyState
# values: the sandbox searches by JOB_POSTING (``id``: a job posting's) and filters by its own
# offer states (OPEN ACCEPTED DECLINED WITHDRAWN), assumed like the overrides' enum values.
SEARCH_OFFERS = {"id": "str!", "searchAttribute": "str!", "states": "list", "limit": "int",
                 "page": "int", "ascendingOrder": "bool"}  # fmt: skip


def offers_by_attribute(ctx: Context, filter=None) -> dict:  # noqa: A002
    where = "SearchOffersInput"
    data = check(filter, where, documented(where, **SEARCH_OFFERS))
    if data["searchAttribute"] != "JOB_POSTING":
        raise UpworkError(f'Field "{where}.searchAttribute": the sandbox searches by JOB_POSTING.')
    job = JobPosting.by_uid(data["id"], organization=ctx.organization)
    if job is None:
        raise _not_found("Job posting", data["id"])
    rows = Offer.objects.filter(job=job).select_related("freelancer", "organization")
    if data["states"]:
        rows = rows.filter(state__in=[str(state).upper() for state in data["states"]])
    limit = 10 if data["limit"] is None else data["limit"]  # documented: default 10, 0 = all
    page = 1 if data["page"] is None else data["page"]  # documented: from 1
    if limit < 0 or page < 1:
        raise UpworkError(f'Fields "{where}.limit" and "page" must be >= 0 and >= 1.')
    rows = rows.order_by("pk" if data["ascendingOrder"] is not False else "-pk")
    if limit:
        rows = rows[(page - 1) * limit : page * limit]
    return {"offers": [shapes.offer(row) for row in rows]}


MAX_CONTRACT_LIST = 100


def contract_list(ctx: Context, ids=None) -> dict:
    """Many contracts in one read (a poller's batch). Ids this organization cannot see are
    left out, as the list answers what it can."""
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise UpworkError("contractList(ids) takes a list of contract ids", "BAD_REQUEST")
    if len(ids) > MAX_CONTRACT_LIST:
        raise UpworkError(
            f"contractList takes at most {MAX_CONTRACT_LIST} ids (got {len(ids)})", "BAD_REQUEST"
        )
    pks = [int(i) - Contract.ID_BASE for i in dict.fromkeys(ids) if i.isdigit()]
    found = Contract.objects.filter(pk__in=pks, organization=ctx.organization).select_related(
        "offer", "freelancer"
    )
    return {"contracts": [shapes.contract(c) for c in found.order_by("pk")]}


def _contract(ctx: Context, contract_id) -> Contract:
    found = Contract.by_uid(contract_id, organization=ctx.organization)
    if found is None:
        raise _not_found("Contract", contract_id)
    return found


def contract_details(ctx: Context, id=None, date=None) -> dict:  # noqa: A002
    return shapes.contract(_contract(ctx, id))


# The reference's EndContractInput and FeedbackInfoInput (types.ts), field for field. reasonRef
# is declared non-null there (its comment calls it optional: the type wins); endDate is "a
# timestamp" (accepted as a date-time, not modelled: a contract ends when it is ended).
END_CONTRACT_INPUT = {"reasonRef": "str!", "endDate": "datetime", "feedbackInfo": "obj"}
FEEDBACK_INFO_INPUT = {
    "comment": "str", "availabilityScore": "num", "communicationScore": "num",
    "cooperationScore": "num", "deadlinesScore": "num", "qualityScore": "num",
    "skillsScore": "num",
}  # fmt: skip


def end_contract_by_client(ctx: Context, contractId=None, input=None) -> dict:  # noqa: A002,N803
    data = check(input, "EndContractInput", END_CONTRACT_INPUT)
    if data["feedbackInfo"] is not None:
        check(data["feedbackInfo"], "FeedbackInfoInput", FEEDBACK_INFO_INPUT)
    contract = _contract(ctx, contractId)
    if contract.status == "ENDED":
        raise UpworkError(f"Contract {contract.uid} has already ended.")
    simulate.end_contract(contract, "CLIENT", clock.now(), data["reasonRef"])
    return {"success": True}


# -- milestones ----------------------------------------------------------------------------------


def _milestone(ctx: Context, milestone_id) -> Milestone:
    found = Milestone.by_uid(milestone_id, contract__organization=ctx.organization)
    if found is None:
        raise _not_found("Milestone", milestone_id)
    return found


# The reference's CreateMilestoneInput (types.ts), field for field; the sandbox models
# milestones of contracts, so contractId, description and depositAmount are required.
CREATE_MILESTONE_INPUT = {"offerId": "str", "contractId": "str!", "description": "str!",
                          "instruction": "str", "depositAmount": "str!", "dueDate": "date",
                          "attachmentIds": "list"}  # fmt: skip


def create_milestone(ctx: Context, input=None) -> dict:  # noqa: A002
    where = "CreateMilestoneInput"
    data = check(input, where, CREATE_MILESTONE_INPUT)
    if not all(isinstance(item, str) for item in data["attachmentIds"] or []):
        raise UpworkError(f'Field "{where}.attachmentIds" must be a list of attachment ids.')
    amount = _cents(data["depositAmount"], f"{where}.depositAmount")
    contract = _contract(ctx, data["contractId"])
    if contract.kind != "FIXED" or contract.status != "ACTIVE":
        raise UpworkError(f"Contract {contract.uid} is not an active fixed-price contract.")
    if amount <= 0:
        raise UpworkError(f'Field "{where}.depositAmount" must be above 0.')
    milestone = Milestone.objects.create(
        contract=contract, sequence=contract.milestones.count() + 1,
        description=data["description"], amount=amount, due=data["dueDate"],
        instructions=data["instruction"] or "",
    )  # fmt: skip
    return shapes.milestone(milestone)


def activate_milestone(ctx: Context, input=None) -> dict:  # noqa: A002
    data = check(input, "ActivateMilestoneInput", documented("ActivateMilestoneInput"))
    milestone = _milestone(ctx, data["id"])
    if milestone.state != "NOT_FUNDED":
        raise UpworkError(f"Milestone {milestone.uid} is {milestone.state}, not NOT_FUNDED.")
    now = clock.now()
    milestone.state = "ACTIVE"
    milestone.touch(now, "state")
    simulate.on_milestone_funded(milestone, now)
    return shapes.milestone(milestone)


def _cents(value: str | None, where: str) -> Decimal | None:
    """An amount in cents as a string of digits ("1000" is 10 USD), as types.ts documents."""
    if value is None:
        return None
    if not str(value).isdigit():
        raise UpworkError(f'Field "{where}" must be whole cents as a string, not {value!r}.')
    return Decimal(int(value)) / 100


def approve_milestone(ctx: Context, input=None) -> dict:  # noqa: A002
    where = "ApproveMilestoneInput"
    data = check(input, where, documented(where))
    milestone_id, comments = data["id"], data["paymentComment"]
    paid = _cents(data["paidAmount"], f"{where}.paidAmount")
    _cents(data["bonusAmount"], f"{where}.bonusAmount")  # accepted, not modelled
    if paid is not None and paid <= 0:
        raise UpworkError(f'Field "{where}.paidAmount" must be above 0.')
    milestone = _milestone(ctx, milestone_id)
    if milestone.state not in {"ACTIVE", "SUBMITTED"}:
        raise UpworkError(f"Milestone {milestone.uid} is {milestone.state} and cannot be paid.")
    if paid is not None and paid > milestone.amount:
        raise UpworkError(
            f'Field "{where}.paidAmount" ({paid:.2f}) is more than the milestone\'s escrow '
            f"({milestone.amount:.2f}); pay more as a bonus."
        )
    now = clock.now()
    amount = paid if paid is not None else milestone.amount
    milestone.state, milestone.pay_comments = "PAID", comments or ""
    milestone.touch(now, "state", "pay_comments")
    contract = milestone.contract
    Payment.objects.create(
        organization_id=contract.organization_id, contract=contract, kind="Fixed Price",
        description=f"Milestone {milestone.sequence}: {milestone.description} - {contract.title}",
        amount=amount, created=now, modified=now,
    )  # fmt: skip
    return shapes.milestone(milestone)


def reject_submitted_milestone(ctx: Context, input=None) -> dict:  # noqa: A002
    """Ask for changes: the submission (by its id, as types.ts documents
    ``RejectMilestoneSubmissionInput``) is rejected with the note, the milestone is active again
    and the freelancer submits anew later (``simulate.on_changes_requested``)."""
    where = "RejectMilestoneSubmissionInput"
    data = check(input, where, {"id": "str!", "noteToContractor": "str", "attachments": "list!"})
    if not all(isinstance(item, str) for item in data["attachments"]):
        raise UpworkError(f'Field "{where}.attachments" must be a list of attachment ids.')
    submission = MilestoneSubmission.by_uid(
        data["id"], milestone__contract__organization=ctx.organization
    )
    if submission is None:
        raise _not_found("Milestone submission", data["id"])
    milestone = submission.milestone
    latest = milestone.submissions.order_by("-sequence").first()
    if milestone.state != "SUBMITTED" or latest is None or latest.pk != submission.pk:
        raise UpworkError(
            f"Submission {submission.uid} is not the pending submission of milestone "
            f"{milestone.uid} ({milestone.state})."
        )
    if milestone.contract.status != "ACTIVE":
        raise UpworkError(f"Contract {milestone.contract.uid} is not active.")
    now = clock.now()
    submission.rejected_at, submission.revision_note = now, data["noteToContractor"] or ""
    submission.touch(now, "rejected_at", "revision_note")
    milestone.state = "ACTIVE"
    milestone.touch(now, "state")
    simulate.on_changes_requested(milestone, now)
    return {"response": True}


# -- hours and payments --------------------------------------------------------------------------


# The reference's TimeReportFilter (types.ts), field for field.
TIME_REPORT_FILTER = {"organizationId_eq": "str!", "timeReportDate_bt": "obj!",
                      "contractIds": "list"}  # fmt: skip


def contract_time_report(ctx: Context, filter=None, pagination=None) -> dict:  # noqa: A002
    where = "TimeReportFilter"
    data = check(filter, where, TIME_REPORT_FILTER)
    if data["organizationId_eq"] != ctx.organization.id:
        raise UpworkError(
            f"User has no access to organization {data['organizationId_eq']!r} in this request.",
            "FORBIDDEN",
        )
    rows = TimeEntry.objects.filter(contract__organization=ctx.organization).select_related(
        "contract__freelancer", "contract__organization", "contract__offer"
    )
    ids = data["contractIds"]
    if ids is not None:
        if not all(isinstance(i, str) for i in ids):
            raise UpworkError(f'Field "{where}.contractIds" must be a list of contract ids.')
        rows = rows.filter(contract__pk__in=[int(i) - Contract.ID_BASE for i in ids if i.isdigit()])
    start, end = date_range(data["timeReportDate_bt"], f"{where}.timeReportDate_bt")
    if start:
        rows = rows.filter(date__gte=start)
    if end:
        rows = rows.filter(date__lte=end)
    first, after = _pagination(pagination)
    return connection(rows, first, after, shapes.time_entry)


def _bound(value, end: bool) -> dt.datetime | None:
    if value is None:
        return None
    text = str(value)
    if len(text) in (8, 10) and not isinstance(value, int):
        date = parse_date(text)
        moment = dt.datetime.combine(date, dt.time(), dt.UTC)
        return moment + dt.timedelta(days=1) if end else moment
    return parse_datetime(value)


# The reference's TransactionHistoryFilter: aceIds_any (the accounting entities whose
# transactions to collect: organization.company.accountingEntity) and transactionDateTime_bt
# are modelled, the other documented filters accepted and not modelled.
TRANSACTION_FILTER = {"aceIds_any": "list", "transactionDateTime_bt": "obj!"}


def transaction_history(ctx: Context, transactionHistoryFilter=None) -> dict:  # noqa: N803
    where = "TransactionHistoryFilter"
    data = check(transactionHistoryFilter, where, documented(where, **TRANSACTION_FILTER))
    ace = ctx.organization.accounting_entity
    if not data["aceIds_any"]:
        raise UpworkError(
            f'Field "{where}.aceIds_any" must name the accounting entity '
            "(organization.company.accountingEntity)."
        )
    if any(str(i) != ace for i in data["aceIds_any"]):
        raise UpworkError(
            "aceIds_any may only name the accounting entity of this request's organization.",
            "FORBIDDEN",
        )
    rows = Payment.objects.filter(organization=ctx.organization).select_related(
        "contract__freelancer", "organization"
    )
    if data["transactionDateTime_bt"] is not None:  # required: coerced and checked above
        bounds = check(
            data["transactionDateTime_bt"], "TransactionHistoryFilter.transactionDateTime_bt",
            {"rangeStart": "str", "rangeEnd": "str"},
        )  # fmt: skip
        try:
            start, end = _bound(bounds["rangeStart"], False), _bound(bounds["rangeEnd"], True)
        except ValueError as exc:
            raise UpworkError(f"Invalid transactionDateTime_bt: {exc}.") from None
        if start:
            rows = rows.filter(created__gte=start)
        if end:
            rows = rows.filter(Q(created__lt=end) if len(str(bounds["rangeEnd"])) in (8, 10)
                               else Q(created__lte=end))  # fmt: skip
    balance = Decimal(0)
    out = []
    for number, row in enumerate(rows.order_by("created", "pk")[:MAX_TRANSACTIONS], start=1):
        balance += row.amount
        out.append(shapes.payment(row, number, balance))
    return {"transactionDetail": {"transactionHistoryRow": out}}


# -- rooms ---------------------------------------------------------------------------------------


def contract_room(ctx: Context, contractId=None) -> dict:  # noqa: N803
    contract = _contract(ctx, contractId)
    room = Room.objects.filter(contract=contract).first()
    if room is None:
        raise _not_found("Room of contract", contractId)
    return shapes.room(room)


def offer_room(ctx: Context, offerId=None) -> dict | None:  # noqa: N803
    """The room of an offer: the sandbox opens it when the offer is accepted (null before)."""
    found = Offer.by_uid(offerId, organization=ctx.organization)
    if found is None:
        raise _not_found("Offer", offerId)
    room = Room.objects.filter(contract__offer=found).first()
    return shapes.room(room) if room is not None else None


# The reference's RoomFilter: activeSince_eq is modelled (rooms with a story, or a change, at or
# after it); the other documented fields are accepted and not modelled (every room of the
# organization is a group room the user is subscribed to).
ROOM_FILTER = {"activeSince_eq": "datetime"}


def room_list(ctx: Context, filter=None, pagination=None, sortOrder=None) -> dict:  # noqa: A002,N803
    data = check(filter, "RoomFilter", documented("RoomFilter", **ROOM_FILTER))
    rows = Room.objects.filter(organization=ctx.organization).select_related(
        "contract__offer", "organization"
    )
    since = data["activeSince_eq"]
    if since is not None:
        rows = rows.filter(Q(modified__gte=since) | Q(stories__created__gte=since)).distinct()
    first, after = _pagination(pagination)
    return connection(rows, first, after, shapes.room)


# The reference's RoomStoryFilter (roomId_eq!, storyFilter) and StoryFilter, field for field.
ROOM_STORY_FILTER = {"roomId_eq": "str!", "storyFilter": "obj"}
STORY_FILTER = {"storyCreatedDateTime_bt": "obj", "pagination": "obj"}


def room_stories(ctx: Context, filter=None) -> dict:  # noqa: A002
    where = "RoomStoryFilter"
    data = check(filter, where, documented(where, **ROOM_STORY_FILTER))
    story = check(data["storyFilter"], "StoryFilter", documented("StoryFilter", **STORY_FILTER))
    room = Room.by_uid(data["roomId_eq"], organization=ctx.organization)
    if room is None:
        raise _not_found("Room", data["roomId_eq"])
    rows = Story.objects.filter(room=room).select_related("room", "freelancer", "client_user")
    if story["storyCreatedDateTime_bt"] is not None:
        bounds = check(
            story["storyCreatedDateTime_bt"], f"{where}.storyFilter.storyCreatedDateTime_bt",
            {"rangeStart": "datetime", "rangeEnd": "datetime"},
        )  # fmt: skip
        if bounds["rangeStart"]:
            rows = rows.filter(created__gte=bounds["rangeStart"])
        if bounds["rangeEnd"]:
            rows = rows.filter(created__lte=bounds["rangeEnd"])
    first, after = _pagination(story["pagination"])
    return connection(rows, first, after, shapes.story)


def create_room_story(ctx: Context, input=None) -> dict:  # noqa: A002
    data = check(input, "RoomStoryCreateInputV2", {"roomId": "str!", "message": "str!"})
    room = Room.by_uid(data["roomId"], organization=ctx.organization)
    if room is None:
        raise _not_found("Room", data["roomId"])
    now = clock.now()
    story = Story.objects.create(
        room=room, client_user=ClientUser.objects.get(pk=ctx.user.pk), message=data["message"],
        created=now, modified=now,
    )  # fmt: skip
    room.touch(now)
    simulate.on_client_story(story)
    return shapes.story(story)


def _own_story(ctx: Context, room_id, story_id) -> Story:
    room = Room.by_uid(room_id, organization=ctx.organization)
    if room is None:
        raise _not_found("Room", room_id)
    story = Story.by_uid(story_id, room=room)
    if story is None:
        raise _not_found("Story", story_id)
    if story.client_user_id is None:
        raise UpworkError("Only the author can change or remove a story.", "FORBIDDEN")
    return story


def update_room_story(ctx: Context, input=None) -> dict:  # noqa: A002
    data = check(
        input, "RoomStoryUpdateInputV2", {"storyId": "str!", "roomId": "str!", "message": "str"}
    )
    story = _own_story(ctx, data["roomId"], data["storyId"])
    now = clock.now()
    if data["message"] is not None:
        story.message = data["message"]
    story.modified = now
    story.save()
    story.room.touch(now)
    return {"status": "UPDATED"}


def remove_room_story(ctx: Context, roomId=None, storyId=None) -> str:  # noqa: N803
    story = _own_story(ctx, roomId, storyId)
    room = story.room
    story.delete()
    room.touch(clock.now())
    return "REMOVED"


RESOLVERS = {
    "companySelector": Resolver(company_selector, defaults.SCOPE_COMMON),
    "organization": Resolver(organization, defaults.SCOPE_COMMON),
    "createJobPosting": Resolver(create_job_posting, defaults.SCOPE_JOBS),
    "updateJobPosting": Resolver(update_job_posting, defaults.SCOPE_JOBS),
    "createClientJobInvitation": Resolver(create_client_job_invitation, defaults.SCOPE_JOBS),
    # Public profile data: the common scope (Upwork's scope for it is not in the reference).
    "talentProfileByProfileKey": Resolver(talent_profile_by_profile_key, defaults.SCOPE_COMMON),
    "clientProposals": Resolver(client_proposals, defaults.SCOPE_PROPOSALS),
    "clientProposal": Resolver(client_proposal, defaults.SCOPE_PROPOSALS),
    "shortlistClientProposal": Resolver(shortlist_client_proposal, defaults.SCOPE_PROPOSALS),
    "declineClientProposal": Resolver(decline_client_proposal, defaults.SCOPE_PROPOSALS),
    "createOffer": Resolver(create_offer, defaults.SCOPE_OFFERS),
    "withdrawOffer": Resolver(withdraw_offer, defaults.SCOPE_OFFERS),
    "offer": Resolver(offer, defaults.SCOPE_OFFERS),
    "offersByAttribute": Resolver(offers_by_attribute, defaults.SCOPE_OFFERS),
    "contractDetails": Resolver(contract_details, defaults.SCOPE_CONTRACTS),
    "contractList": Resolver(contract_list, defaults.SCOPE_CONTRACTS),
    "endContractByClient": Resolver(end_contract_by_client, defaults.SCOPE_CONTRACTS),
    "createMilestoneV2": Resolver(create_milestone, defaults.SCOPE_CONTRACTS),
    "activateMilestone": Resolver(activate_milestone, defaults.SCOPE_CONTRACTS),
    "approveMilestone": Resolver(approve_milestone, defaults.SCOPE_CONTRACTS),
    "rejectSubmittedMilestone": Resolver(reject_submitted_milestone, defaults.SCOPE_CONTRACTS),
    "contractTimeReport": Resolver(contract_time_report, defaults.SCOPE_TIME),
    "transactionHistory": Resolver(transaction_history, defaults.SCOPE_PAYMENTS),
    "contractRoom": Resolver(contract_room, defaults.SCOPE_MESSAGES),
    "offerRoom": Resolver(offer_room, defaults.SCOPE_MESSAGES),
    "roomList": Resolver(room_list, defaults.SCOPE_MESSAGES),
    "roomStories": Resolver(room_stories, defaults.SCOPE_MESSAGES),
    "createRoomStoryV2": Resolver(create_room_story, defaults.SCOPE_MESSAGES),
    "updateRoomStoryV2": Resolver(update_room_story, defaults.SCOPE_MESSAGES),
    "removeRoomStory": Resolver(remove_room_story, defaults.SCOPE_MESSAGES),
}
