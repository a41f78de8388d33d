"""What reference/schema.graphql assumes where Upwork's scraped reference is lossy, and why.

Read by scripts/gen_upwork_schema.py (by path: this folder is data, not a package). The scrape
(../shared/reference/upwork/operations.graphql and types.ts) is the judge; every entry here is a
decision the scrape cannot make, kept small and explained. Change an entry, then run
``python scripts/gen_upwork_schema.py`` and commit both files.
"""

# Type names the scrape spells wrongly. Operations declare ``$ids: [string]!`` (ContractList and
# others): GraphQL has no ``string`` type and a real server answers "Unknown type 'string'". The
# schema says String; the reference operations are judged with ``string`` read as ``String``.
# A connector document that still says ``[string]`` is invalid (a real server refuses it too).
TYPE_NAMES = {"string": "String"}

# Root fields whose type is ambiguous. types.ts has no Query or Mutation type, so a root field's
# type is the object whose fields fit the operation's whole selection tree, preferring the one
# named after the field (contractDetails -> ContractDetails). Where several fit, a pin:
ROOT_TYPES = {
    # JobPostingCreateResponse has the same fields; the update answers the Update one.
    "updateJobPosting": "JobPostingUpdateResponse",
    # {success} also fits ProcessUpdateResponse, ProcessAddResponse and AccountProcessInstance,
    # which other types refer to; ContractActionResponse is referred to by nothing else, so it
    # can only be a root field's type, and it is the contract action's by name.
    "endContractByClient": "ContractActionResponse",
    # {response} also fits two feedback types that are fields of profiles.
    "rejectSubmittedMilestone": "MilestoneRejectionResponse",
    # {status} fits many types; UpdateRoomStoryResponse is the story update's by name.
    "updateRoomStoryV2": "UpdateRoomStoryResponse",
}

# Root fields documented with no selection: a scalar answer of unknown type. String is assumed
# (an id or a status); Gigbridge does not read either answer beyond "no errors".
LEAF_ROOTS = {
    "withdrawOffer": "String",
    "createClientJobInvitation": "String",
    "removeRoomStory": "String",  # the conversation bridge reads no answer beyond "no errors"
}

# Enums. types.ts lists 151 empty interfaces: the built-in scalars (String, Int, Float, Boolean,
# ID), the custom scalar Map, and enums whose values the scrape does not have. Every enum
# becomes a custom scalar of the same name, not String and not an enum with guessed values:
# - the name stays, so documents that declare ``$reason: WithdrawReason`` still validate;
# - any value is accepted, in variables and as a literal (``sortOrder: DESC``), because a guessed
#   value list would make the sandbox refuse values Upwork accepts, or accept ones it refuses.
# So values are NOT checked against the schema: docs/upwork.md says which values Gigbridge sends
# and how to check them against a real key. An enum listed here becomes ``enum Name { VALUES }``
# (then only those values pass, in the connector's tests and in the sandbox). Listed: the
# input enums of fields Upwork requires, or that Gigbridge must set, where Gigbridge has to
# pick a value. Each list is the evidence there is, or an assumption that says so; a live
# introspection with a real key confirms or corrects it (docs/upwork.md, "Checking").
ENUM_VALUES: dict[str, list[str]] = {
    # Evidence: OfferMetadataInput.sourceId's doc spells the three values ("sourceType=JobPosting,
    # sourceId must contain job posting ID; sourceType=JobApplication, sourceId must contain
    # application ID ...; sourceType=Direct, sourceId must be null"). Gigbridge sends
    # JobApplication (an offer on a proposal).
    "SourceTypeInput": ["JobPosting", "JobApplication", "Direct"],
    # Assumed. The scrape names no value. "Kind of offer being created"; CreationOfferInput's
    # docs speak of "Marketplace offers", "Enterprise offers" and "Enterprise Compliance offers",
    # so those three, in the UPPER_SNAKE case of Upwork's documented enum literals
    # (reasons(reasonType: CONTRACT_END_HOURLY), roomType GROUP/ONE_ON_ONE). Gigbridge sends
    # MARKETPLACE.
    "OfferKindInput": ["MARKETPLACE", "ENTERPRISE", "ENTERPRISE_COMPLIANCE"],
    # Assumed: "Who is making the offer". Gigbridge, the client, sends CLIENT.
    "OfferorInput": ["CLIENT"],
    # Assumed: an offer's terms are hourly (hourlyRateTerms) or fixed price (milestoneTerms),
    # the two contract types Upwork's job posts and contracts speak of; the names are
    # Gigbridge's contract types, which the sandbox shows back as the contract's deliveryModel.
    "CreateOfferDeliveryModelInput": ["HOURLY", "FIXED_PRICE"],
    # Assumed, as CreateOfferDeliveryModelInput: "Type of job post (hourly or fixed price)".
    "JobPostType": ["HOURLY", "FIXED_PRICE"],
    # Assumed: "Job posting status values". Closing a posting is documented only as this status
    # (JobPostingRequestInfo.status of updateJobPosting; no close or delete operation is
    # documented, and the request also has closeTime and deletedReason). Gigbridge sends
    # CLOSED; OPEN is the state of a posting that takes proposals.
    "JobPostingStatus": ["OPEN", "CLOSED"],
}
# Empty interfaces that are real custom scalars, not enums: Map ("A custom scalar that handles
# maps"). Any value is accepted for them too.
CUSTOM_SCALARS = ["Map"]

# TypeScript ``number`` is Int or Float. The rule: Float when the field's name says money, hours,
# rates, scores or ratios (FLOAT_NAME) or its doc says decimal, ratio, average, median or Unix
# timestamp (FLOAT_DOC: a millisecond timestamp does not fit GraphQL's 32-bit Int); Int
# otherwise (counts, limits, versions, sequence numbers, legacy numeric ids). Exceptions:
FLOAT_NAME = (
    r"(?i)(hours|rate|amount|charges?|price|percent|score|budget|ratio|ration|earnings|perday"
    r"|median)"
)
FLOAT_DOC = r"(?i)\b(decimal|float|ratio|average|median|timestamp)\b"
NUMBER_TYPES = {
    # "Weekly hours limit": whole hours (Upwork's offer form takes whole hours; Gigbridge sends
    # an int), although the name says hours.
    "Contract.weeklyHoursLimit": "Int",
    "HourlyTerms.weeklyHoursLimit": "Int",
    # "Fixed price EAR mark identifier": an identifier, although the name says price.
    "TransactionHistoryRow.fixedPriceEARMark": "Int",
    # "Bill rate value": a rate.
    "BillRate.value": "Float",
}

# Required or optional: from ``?`` in types.ts (no ``?``: non-null, so required in an input).
# Input fields the scrape marks required although the doc says otherwise:
OPTIONAL_FIELDS = {
    # Its doc: "Contract end reason ID. Optional. See Query.reasons(...)".
    "EndContractInput.reasonRef": "the doc says Optional",
}
# Lists: types.ts marks most input lists required (no ``?``), filters included
# (``TransactionHistoryFilter.developerIds_any``), and two of them document ``Default = []``.
# GraphQL lets a required input field with a default be left out, so an input list the scrape
# marks required gets ``= []``: it may not be null, and may be left out. Scalars whose doc says
# ``Default = value`` (true, false, numbers) get that default the same way.
LIST_DEFAULT = "[]"

# Field trees list some arguments of a field as if they were fields of its object
# (MarketplaceJobPosting.filter is clientProposals' argument: a ClientProposalFilter, an input).
# An input type cannot be an object's field, so these are left out of the objects and taken out
# of the reference operations before they are validated. The generator fails on any field of an
# input type (or named like one, INPUT_NAME) that is not listed here.
INPUT_NAME = r"(Input|Filter|Request)$"
_ARG = "an argument of a sibling field, scraped as a field"
SCRAPED_ARGUMENTS = {
    "CurrentOrganization.jobPostingFilter": _ARG,
    "CurrentOrganization.offerByClientFilter": _ARG,
    "CurrentOrganization.offerByRootCompanyFilter": _ARG,
    "CurrentOrganization.pagination": _ARG,
    "CurrentOrganization.timeReportDate_bt": _ARG,
    "CurrentUser.offerForFreelancerFilter": _ARG,
    "CurrentUser.timeReportDate_bt": _ARG,
    "FreelancerProfile.filter": _ARG,
    "GenericOrganization.jobPostingFilter": _ARG,
    "GenericOrganization.offerByClientFilter": _ARG,
    "GenericOrganization.offerByRootCompanyFilter": _ARG,
    "MarketplaceJobPosting.filter": _ARG,
    "PrivateCompanyInfo.jobPostsFilter": _ARG,
}
