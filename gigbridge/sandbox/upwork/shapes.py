"""Sandbox rows as the dicts Upwork's documented field trees describe (superset; the executor
keeps what was selected). Heavier parts are callables, computed only when selected.

Dates: ``…DateTime`` fields are ISO 8601 in UTC with ``Z``; plain dates are ``YYYY-MM-DD``;
money is ``{"rawValue": "85.00", "currency": "USD", "displayValue": "$85.00"}``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pycountry

from .models import (
    ClientUser,
    Contract,
    Freelancer,
    JobPosting,
    Milestone,
    MilestoneSubmission,
    Offer,
    Organization,
    Payment,
    Proposal,
    Room,
    Story,
    TimeEntry,
)


def iso(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def money(amount: Decimal | None) -> dict | None:
    if amount is None:
        return None
    raw = f"{Decimal(amount):.2f}"
    return {"rawValue": raw, "currency": "USD", "displayValue": f"${raw}"}


def organization(org: Organization) -> dict:
    return {
        "id": org.id,
        "rid": org.rid,
        "legacyId": org.rid,
        "name": org.name,
        "type": "Client",
        "legacyType": "Company",
        "flag": {"client": True, "vendor": False, "agency": False, "individual": False},
        "active": True,
        "hidden": False,
        "photoUrl": None,
        "creationDate": iso(org.created),
        "company": {"id": org.id, "name": org.name, "companyName": org.name,
                    "displayName": org.name, "canHire": True, "hidden": False,
                    "accountingEntity": org.accounting_entity},
    }  # fmt: skip


def client_user(user: ClientUser) -> dict:
    return {"id": user.id, "nid": user.nid, "rid": user.id, "name": user.name,
            "firstName": user.first_name, "lastName": user.last_name, "email": user.email,
            "photoUrl": None, "publicUrl": None, "ciphertext": None}  # fmt: skip


def freelancer_user(person: Freelancer) -> dict:
    return {
        "id": person.id,
        "nid": person.nid,
        "rid": person.id,
        "name": person.name,
        "firstName": person.first_name,
        "lastName": person.last_name,
        "email": person.email,
        "photoUrl": None,
        "publicUrl": f"https://www.upwork.com/freelancers/{person.profile_key}",
        "ciphertext": person.profile_key,
        "companyReferencedId": person.organization_id,
        "location": location(person.country),
    }


def location(country_code: str) -> dict:
    """Upwork's ``location``: it names the country (``countryName``), it gives no code."""
    country = pycountry.countries.get(alpha_2=country_code) if country_code else None
    return {
        "countryName": country.name if country else None,
        "cityName": None,
        "zip": None,
        "timezone": None,
        "timezoneName": None,
        "street": None,
        "stateCode": None,
        "offsetToUTC": None,
    }


def freelancer_org(person: Freelancer) -> dict:
    return {"id": person.organization_id, "rid": person.organization_id,
            "legacyId": person.organization_id, "name": person.name, "type": "Freelancer",
            "legacyType": "Individual", "active": True, "hidden": False,
            "photoUrl": None, "creationDate": iso(person.created)}  # fmt: skip


def freelancer_profile(person: Freelancer) -> dict:
    return {
        "id": person.id,
        "user": freelancer_user(person),
        "personalData": {"firstName": person.first_name, "lastName": person.last_name,
                         "title": person.title,
                         "profileUrl": f"https://www.upwork.com/freelancers/{person.profile_key}"},
        "fullName": person.name,
        "firstName": person.first_name,
        "lastName": person.last_name,
        "email": person.email,
        # What the contract's ``freelancer`` (a user with an address) answers.
        "name": person.name,
        "rid": person.id,
        "address": {"country": person.country},
    }  # fmt: skip


def talent_profile(person: Freelancer) -> dict:
    """``TalentProfile``: ``personId`` and ``identity.id`` are the user id."""
    return {
        "personId": person.id,
        "identity": {"id": person.id, "ciphertext": person.profile_key},
        "personalData": {"firstName": person.first_name, "lastName": person.last_name,
                         "title": person.title,
                         "profileUrl": f"https://www.upwork.com/freelancers/{person.profile_key}",
                         "location": {"country": person.country}},
        "specializedProfiles": [],
        "specializedProfilesProjects": [],
    }  # fmt: skip


def job(posting: JobPosting) -> dict:
    hourly = posting.contract_type == "HOURLY"
    return {
        "id": posting.uid,
        "version": posting.version,
        "content": {"title": posting.title, "description": posting.description},
        "workFlowState": {"status": posting.status, "closeResult": None},
        "canClientReceiveContractProposal": posting.status == "OPEN",
        "organizationIds": [posting.organization_id],
        "visibility": posting.visibility,
        "contractTerms": {
            "contractType": posting.contract_type,
            "experienceLevel": posting.experience_level or None,
            "personsToHire": 1,
            "hourlyContractTerms": {
                "hourlyBudgetMin": str(posting.hourly_min) if posting.hourly_min else None,
                "hourlyBudgetMax": str(posting.hourly_max) if posting.hourly_max else None,
            } if hourly else None,
        },
        "clientProposals": lambda: {"totalCount": posting.proposals.count()},
        "info": {"status": posting.status, "publishDateTime": iso(posting.created),
                 "auditTime": {"createdDateTime": iso(posting.created),
                               "modifiedDateTime": iso(posting.modified)}},
    }  # fmt: skip


def proposal(row: Proposal) -> dict:
    person = row.freelancer
    return {
        "id": row.uid,
        "user": freelancer_user(person),
        "organization": freelancer_org(person),
        "job": lambda: job(row.job),
        "terms": {"chargeRate": money(row.charge_rate), "upfrontPaymentPercent": None},
        "coverLetter": row.cover_letter,
        "proposalCoverLetter": row.cover_letter,
        "auditDetails": {
            "createdDateTime": iso(row.created),
            "modifiedDateTime": iso(row.modified),
        },
        "status": {"status": row.status, "reason": None},
        "annotations": None,
    }


def milestone(row: Milestone) -> dict:
    funded = row.state in {"ACTIVE", "SUBMITTED"}
    return {
        "id": row.uid,
        "dueDateTime": iso(dt.datetime.combine(row.due, dt.time(), dt.UTC)) if row.due else None,
        "state": row.state,
        "description": row.description,
        "instructions": row.instructions or None,
        "currentEscrowAmount": money(row.amount if funded else Decimal(0)),
        "submissionCount": row.submission_count,
        "sequenceId": row.sequence,
        "payComments": row.pay_comments or None,
        "lastSubmissionCreatedTime": iso(row.last_submission_at),
        "createdDateTime": iso(row.created),
        "modifiedDateTime": iso(row.modified),
        "createdBy": lambda: client_user(row.contract.offer.created_by),
        "submissionEvents": lambda: [submission_event(s) for s in row.submissions.all()],
    }


def submission_event(row: MilestoneSubmission) -> dict:
    """A ``SubmissionEvent``: the submission, the freelancer's message with it and, once the
    client asked for changes, their note (``revisionMessage``)."""
    return {
        "submission": {
            "id": row.uid,
            "createdDateTime": iso(row.created),
            "modifiedDateTime": iso(row.modified),
            "amount": money(row.amount),
            "sequenceId": row.sequence,
        },
        "submissionMessage": {"createdDateTime": iso(row.created), "message": row.message},
        "revisionMessage": {"createdDateTime": iso(row.rejected_at), "message": row.revision_note}
        if row.rejected_at else None,
    }  # fmt: skip


def offer(row: Offer) -> dict:
    """The ``offer`` query's and contract's ``offer`` shape."""
    contract = Contract.objects.filter(offer=row).first()
    hourly = row.kind == "HOURLY"
    if contract is not None:
        milestones = lambda: [milestone(m) for m in contract.milestones.all()]  # noqa: E731
    else:
        milestones = [
            {"description": m.get("description"), "state": "NOT_FUNDED", "sequenceId": i + 1}
            for i, m in enumerate(row.milestones)
        ]
    return {
        "id": row.uid,
        "title": row.title,
        "description": row.description,
        "type": row.kind,
        "deliveryModel": row.kind,
        "state": row.state,
        "messageToContractor": row.message or None,
        "job": (lambda: job(row.job)) if row.job_id else None,
        "vendorProposal": (lambda: proposal(row.proposal)) if row.proposal_id else None,
        "offerTerms": {
            "expectedStartDate": day(row.start_date),
            "hourlyTerms": {"weeklyHoursLimit": row.weekly_limit, "manualTimeAllowed": True}
            if hourly else None,
        },
        "clientCompany": {"id": row.organization_id, "name": row.organization.name},
        "milestones": milestones,
        "freelancer": freelancer_profile(row.freelancer),
        "organizationIds": [row.organization_id],
        "createdUsingBYOFlow": False,
    }  # fmt: skip


def created_offer(row: Offer) -> dict:
    """``createOffer``'s ``offer`` shape (a different type with other names)."""
    hourly = row.kind == "HOURLY"
    return {
        "id": row.uid,
        "kind": "CLIENT_OFFER",
        "offeror": "CLIENT",
        "clientUserId": row.created_by_id,
        "clientOrgId": row.organization_id,
        "clientTeamId": row.organization_id,
        "vendorUserId": row.freelancer_id,
        "vendorOrgId": row.freelancer.organization_id,
        "vendorTeamId": row.freelancer.organization_id,
        "title": row.title,
        "description": row.description,
        "deliveryModel": row.kind,
        "state": row.state,
        "contractId": Contract.objects.filter(offer=row).first().uid
        if Contract.objects.filter(offer=row).exists() else None,
        "contractStartDateTime": iso(dt.datetime.combine(row.start_date, dt.time(), dt.UTC))
        if row.start_date else None,
        "hourlyRateTerms": {"rate": money(row.hourly_rate), "weeklyHoursLimit": row.weekly_limit,
                            "manualTimeAllowed": True} if hourly else None,
        "milestoneTerms": None if hourly else {"milestones": [
            {"description": m.get("description"), "state": "NOT_FUNDED", "sequenceId": i + 1,
             "dueDateTime": f"{m['dueDate']}T00:00:00.000Z" if m.get("dueDate") else None}
            for i, m in enumerate(row.milestones)]},
        "metadata": {"sourceType": "PROPOSAL" if row.proposal_id else "DIRECT",
                     "sourceId": row.proposal.uid if row.proposal_id else None},
        "client": organization(row.organization),
        "clientCompany": {"id": row.organization_id, "name": row.organization.name},
        "createdDateTime": iso(row.created),
    }  # fmt: skip


def contract(row: Contract) -> dict:
    hourly = row.kind == "HOURLY"
    terms = {
        "id": row.uid,
        "createDate": iso(row.created),
        "modifyDate": iso(row.modified),
        "startDate": iso(row.started),
        "endDate": iso(row.ended),
        "jobType": row.kind,
    }
    return {
        "id": row.uid,
        "title": row.title,
        "status": row.status,
        "closingReason": {"reason": row.closing_reason, "apiRef": row.ended_by}
        if row.closing_reason or row.ended_by else None,
        "deliveryModel": row.kind,
        "kind": row.kind,
        "isPtc": False,
        "createDate": iso(row.created),
        "modifyDate": iso(row.modified),
        "startDate": iso(row.started),
        "endDate": iso(row.ended),
        "offerId": row.offer.uid,
        "offer": lambda: offer(row.offer),
        "job": (lambda: job(row.offer.job)) if row.offer.job_id else None,
        "freelancer": freelancer_profile(row.freelancer),
        "changingUserType": row.ended_by or None,
        "hourlyLimits": [{"id": row.uid, "weeklyLimit": row.weekly_limit,
                          "startDate": iso(row.started)}] if hourly else [],
        "terms": {"hourlyTerms": [{**terms, "manualTimeAllowed": True}] if hourly else [],
                  "fixedPriceTerms": [] if hourly else [terms]},
    }  # fmt: skip


def time_entry(row: TimeEntry) -> dict:
    iso_year, iso_week, _ = row.date.isocalendar()
    rate = row.contract.hourly_rate
    return {
        "dateWorkedOn": day(row.date),
        "weekWorkedOn": f"{iso_year}-W{iso_week:02d}",
        "monthWorkedOn": row.date.strftime("%Y-%m"),
        "yearWorkedOn": str(row.date.year),
        "freelancer": freelancer_user(row.contract.freelancer),
        "team": organization(row.contract.organization),
        "contract": {"id": row.contract.uid, "title": row.contract.title,
                     "status": row.contract.status, "deliveryModel": row.contract.kind,
                     "createDate": iso(row.contract.created),
                     "modifyDate": iso(row.contract.modified),
                     "startDate": iso(row.contract.started), "offerId": row.contract.offer.uid},
        "memo": row.memo or None,
        "totalHoursWorked": float(row.hours),
        "totalCharges": float(row.charges),
        "totalOnlineHoursWorked": float(row.hours),
        "totalOnlineCharge": float(row.charges),
        "totalOfflineHoursWorked": 0.0,
        "totalOfflineCharge": 0.0,
        "billRate": {"id": row.contract.uid, "value": str(rate), "code": "USD"},
    }  # fmt: skip


def payment(row: Payment, number: int, balance: Decimal) -> dict:
    contract_row = row.contract
    return {
        "rowNumber": number,
        "recordId": row.uid,
        "runningChargeableBalance": money(balance),
        "transactionCreationDate": iso(row.created),
        "type": row.kind,
        "accountingSubtype": row.kind,
        "description": row.description,
        "descriptionUI": f"{row.description} (${row.amount:.2f})",
        "relatedAssignment": contract_row.uid if contract_row else None,
        "assignmentCompanyName": row.organization.name,
        "assignmentDeveloperName": contract_row.freelancer.name if contract_row else None,
        "assignmentTeamId": row.organization_id,
        "paymentStatus": "PAID",
        "paymentGuaranteed": True,
        "fullyPaidDate": iso(row.created),
        # Not documented: the amount, which the description also names.
        "amount": money(row.amount),
    }


def room(row: Room, user_count: int = 2) -> dict:
    latest = row.stories.order_by("-created", "-pk").first()
    return {
        "id": row.uid,
        "roomName": row.name,
        "topic": row.topic or None,
        "organization": lambda: organization(row.organization),
        "createdAtDateTime": iso(row.created),
        "public": False,
        "roomType": "GROUP" if row.contract_id else "ONE_ON_ONE",
        "numUsers": user_count,
        "readOnly": bool(row.contract_id and row.contract.status == "ENDED"),
        "hidden": False,
        "muted": False,
        "favorite": False,
        "contractId": row.contract.uid if row.contract_id else None,
        "contract": (lambda: contract_summary(row.contract)) if row.contract_id else None,
        "offerIds": [row.contract.offer.uid] if row.contract_id else [],
        "latestStory": (lambda: story(latest)) if latest else None,
        "stories": lambda: {"totalCount": row.stories.count(), "edges": []},
        "creator": {"role": "CLIENT"},
    }


def contract_summary(row: Contract) -> dict:
    return {"id": row.uid, "contractId": row.uid, "title": row.title, "contractType": row.kind,
            "status": row.status, "createdDateTime": iso(row.created),
            "modifiedDateTime": iso(row.modified), "startDateTime": iso(row.started),
            "endDateTime": iso(row.ended), "weeklyHoursLimit": row.weekly_limit}  # fmt: skip


def story(row: Story) -> dict:
    if row.freelancer_id:
        user, org = freelancer_user(row.freelancer), freelancer_org(row.freelancer)
    else:
        user = client_user(row.client_user) if row.client_user_id else None
        org = organization(row.room.organization)
    return {
        "id": row.uid,
        "room": lambda: room(row.room),
        "createdDateTime": iso(row.created),
        "updatedDateTime": iso(row.modified),
        "user": user,
        "organization": org,
        "message": row.message,
        "roomStoryNote": None,
        "attachments": [],
    }
