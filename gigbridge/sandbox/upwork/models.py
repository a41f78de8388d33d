"""The sandbox marketplace's state: organizations and their people, the app Gigbridge is
registered as, issued credentials, and everything a hiring flow makes (job postings, proposals,
offers, contracts, milestones, hours, payments, rooms and messages), plus the queue of what the
simulated freelancers will do and when.

Objects the API names by id carry an ``uid``: a numeric string, as Upwork's ids are, made of a
per-kind base plus the row's key, so ids of different kinds never look alike. Every object has
``created`` and ``modified`` on the sandbox clock (``m365files.clock.now()``), so moving the
clock moves what pollers see.
"""

from __future__ import annotations

from django.db import models

from ..m365files import clock
from ..models import TokenBucket


class PublicId(models.Model):
    """An ``uid`` derived from the primary key (``ID_BASE + pk``) and the lookup back."""

    ID_BASE = 0

    class Meta:
        abstract = True

    @property
    def uid(self) -> str:
        return str(self.ID_BASE + self.pk)

    @classmethod
    def by_uid(cls, value, **filters):
        try:
            pk = int(str(value)) - cls.ID_BASE
        except (TypeError, ValueError):
            return None
        if pk <= 0:
            return None
        return cls.objects.filter(pk=pk, **filters).first()


def to_ms(moment):
    """``moment`` cut to whole milliseconds: what the API shows, so ``…_gt`` filters are exact."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000) if moment else moment


class Stamped(models.Model):
    created = models.DateTimeField(default=clock.now)
    modified = models.DateTimeField(default=clock.now)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.created, self.modified = to_ms(self.created), to_ms(self.modified)
        super().save(*args, **kwargs)

    def touch(self, when=None, *fields: str) -> None:
        self.modified = when or clock.now()
        self.save(update_fields=[*fields, "modified"] if fields else None)


# -- who ----------------------------------------------------------------------------------------


class Organization(Stamped):
    id = models.CharField(primary_key=True, max_length=32)  # the tenant id of the API
    rid = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, default="Business")

    def __str__(self) -> str:
        return self.name

    @property
    def accounting_entity(self) -> str:
        """The organization's accounting entity id (``company.accountingEntity``), what
        ``transactionHistory`` filters by (``aceIds_any``): a numeric id of its own kind."""
        return str(int(self.id) + 200_000_000_000_000_000)


class ClientUser(Stamped):
    id = models.CharField(primary_key=True, max_length=32)
    nid = models.CharField(max_length=64, unique=True)  # Upwork's user nickname
    first_name = models.CharField(max_length=64)
    last_name = models.CharField(max_length=64)
    email = models.CharField(max_length=256)
    organizations = models.ManyToManyField(Organization, through="Membership")

    class Meta:
        ordering = ["first_name"]

    def __str__(self) -> str:
        return self.email

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Membership(models.Model):
    user = models.ForeignKey(ClientUser, on_delete=models.CASCADE)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE)
    is_default = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="upwork_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.organization_id}"


class Freelancer(Stamped):
    """A simulated freelancer; ``persona`` says how they behave (see ``simulate``)."""

    id = models.CharField(primary_key=True, max_length=32)  # their user id
    organization_id = models.CharField(max_length=32)  # their own (freelancer) organization
    profile_key = models.CharField(max_length=32, unique=True)  # "~01…", the ciphertext
    nid = models.CharField(max_length=64, unique=True)
    first_name = models.CharField(max_length=64)
    last_name = models.CharField(max_length=64)
    email = models.CharField(max_length=256)
    country = models.CharField(max_length=2)  # ISO 3166 alpha-2
    title = models.CharField(max_length=200)
    skills = models.JSONField(default=list)
    hourly_rate = models.DecimalField(max_digits=10, decimal_places=2)
    persona = models.JSONField(default=dict)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


# -- the app and its credentials ---------------------------------------------------------------


class App(models.Model):
    """An API key (OAuth2 client) and the permissions ("scopes") it was granted."""

    client_id = models.CharField(max_length=64, unique=True)
    secret_hash = models.CharField(max_length=64)
    name = models.CharField(max_length=200, unique=True)
    redirect_uris = models.JSONField(default=list)
    scopes = models.JSONField(default=list)
    owner = models.ForeignKey(ClientUser, on_delete=models.CASCADE, related_name="+")
    created = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return self.name


class Credential(models.Model):
    """An authorization code, access token or refresh token (hashed; real-time expiry)."""

    class Kind(models.TextChoices):
        CODE = "code"
        ACCESS = "access"
        REFRESH = "refresh"

    token_hash = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(ClientUser, on_delete=models.CASCADE, related_name="+")
    redirect_uri = models.CharField(max_length=2000, blank=True)
    code_challenge = models.CharField(max_length=128, blank=True)
    expires_at = models.DateTimeField()  # real time, like the Entra emulator's tokens
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class Dials(models.Model):
    """The one row of dials (``/upwork/_sandbox/control``); survives restarts."""

    rate = models.FloatField(null=True, default=10.0)  # requests a second per client IP; null: off
    burst = models.PositiveIntegerField(default=10)
    error_rate = models.FloatField(default=0.0)  # share of GraphQL requests answered 503
    latency_ms = models.PositiveIntegerField(default=0)
    fault_seed = models.BigIntegerField(null=True, blank=True)
    fault_counter = models.BigIntegerField(default=0)
    retry_after = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return "Upwork emulator dials"


class ThrottleBucket(TokenBucket):
    """The marketplace's buckets (``gate``), one per client IP address."""


# -- hiring -------------------------------------------------------------------------------------


class JobPosting(PublicId, Stamped):
    ID_BASE = 1_600_000_000_000_000_000

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(ClientUser, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=500)
    description = models.TextField()
    contract_type = models.CharField(max_length=10)  # HOURLY or FIXED
    budget = models.DecimalField(max_digits=12, decimal_places=2, null=True)  # fixed price
    hourly_min = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    hourly_max = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    skills = models.JSONField(default=list)
    experience_level = models.CharField(max_length=20, blank=True)
    visibility = models.CharField(max_length=20, default="PUBLIC")
    status = models.CharField(max_length=10, default="OPEN")  # OPEN, CLOSED, FILLED
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.title


class Proposal(PublicId, Stamped):
    ID_BASE = 1_610_000_000_000_000_000

    job = models.ForeignKey(JobPosting, on_delete=models.CASCADE, related_name="proposals")
    freelancer = models.ForeignKey(Freelancer, on_delete=models.CASCADE, related_name="+")
    cover_letter = models.TextField()
    charge_rate = models.DecimalField(max_digits=10, decimal_places=2)
    # PENDING, SHORTLISTED, DECLINED, OFFERED, HIRED
    status = models.CharField(max_length=12, default="PENDING")
    decline_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["created", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["job", "freelancer"], name="upwork_one_proposal")
        ]

    def __str__(self) -> str:
        return f"{self.freelancer_id} on {self.job_id}"


class Invitation(PublicId, Stamped):
    ID_BASE = 1_680_000_000_000_000_000

    job = models.ForeignKey(JobPosting, on_delete=models.CASCADE, related_name="invitations")
    freelancer = models.ForeignKey(Freelancer, on_delete=models.CASCADE, related_name="+")
    message = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.freelancer_id} to {self.job_id}"


class Offer(PublicId, Stamped):
    ID_BASE = 1_620_000_000_000_000_000

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(ClientUser, on_delete=models.CASCADE, related_name="+")
    job = models.ForeignKey(JobPosting, null=True, on_delete=models.SET_NULL, related_name="+")
    proposal = models.ForeignKey(Proposal, null=True, on_delete=models.SET_NULL, related_name="+")
    freelancer = models.ForeignKey(Freelancer, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    message = models.TextField(blank=True)
    kind = models.CharField(max_length=10)  # HOURLY or FIXED
    hourly_rate = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    weekly_limit = models.PositiveIntegerField(null=True)
    fixed_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    milestones = models.JSONField(default=list)  # planned: [{description, amount, dueDate}]
    start_date = models.DateField(null=True)
    state = models.CharField(max_length=10, default="OPEN")  # OPEN ACCEPTED DECLINED WITHDRAWN
    answered_at = models.DateTimeField(null=True)
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.title


class Contract(PublicId, Stamped):
    # Eight digits, as Upwork's contract ids are: transactionHistoryRow.relatedAssignment
    # carries one and Upwork types it Int (32-bit), so a longer id could not be answered.
    ID_BASE = 30_000_000

    offer = models.OneToOneField(Offer, on_delete=models.CASCADE, related_name="contract")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    freelancer = models.ForeignKey(Freelancer, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=500)
    kind = models.CharField(max_length=10)  # HOURLY or FIXED
    hourly_rate = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    weekly_limit = models.PositiveIntegerField(null=True)
    status = models.CharField(max_length=10, default="ACTIVE")  # ACTIVE, ENDED
    started = models.DateTimeField()
    ended = models.DateTimeField(null=True)
    ended_by = models.CharField(max_length=10, blank=True)  # CLIENT or FREELANCER
    closing_reason = models.CharField(max_length=200, blank=True)
    # When the freelancer next logs a day's hours (hourly contracts), indexed for the pump.
    next_log_at = models.DateTimeField(null=True, db_index=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.title


class Milestone(PublicId, Stamped):
    ID_BASE = 1_640_000_000_000_000_000

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="milestones")
    sequence = models.PositiveIntegerField()
    description = models.CharField(max_length=500)
    instructions = models.TextField(blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    due = models.DateField(null=True)
    # NOT_FUNDED -> ACTIVE (funded) -> SUBMITTED -> PAID; changes asked: SUBMITTED -> ACTIVE
    state = models.CharField(max_length=12, default="NOT_FUNDED")
    submission_count = models.PositiveIntegerField(default=0)
    last_submission_at = models.DateTimeField(null=True)
    submission_message = models.TextField(blank=True)
    pay_comments = models.TextField(blank=True)

    class Meta:
        ordering = ["contract", "sequence"]

    def __str__(self) -> str:
        return self.description


class MilestoneSubmission(PublicId, Stamped):
    """One submission of a milestone's work (Upwork's ``Submission``; its id is what
    ``rejectSubmittedMilestone`` takes). A rejected one keeps the client's note."""

    ID_BASE = 1_690_000_000_000_000_000

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="submissions")
    sequence = models.PositiveIntegerField()  # 1 for the first submission of the milestone
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    message = models.TextField(blank=True)
    rejected_at = models.DateTimeField(null=True)
    revision_note = models.TextField(blank=True)  # the client's noteToContractor

    class Meta:
        ordering = ["milestone", "sequence"]

    def __str__(self) -> str:
        return f"submission {self.sequence} of {self.milestone_id}"


class TimeEntry(Stamped):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="hours")
    date = models.DateField()
    hours = models.DecimalField(max_digits=5, decimal_places=2)
    charges = models.DecimalField(max_digits=12, decimal_places=2)
    memo = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["date", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "date"], name="upwork_one_entry_a_day")
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.date}: {self.hours} h"


class Payment(PublicId, Stamped):
    """A row of the client organization's transaction history."""

    ID_BASE = 1_670_000_000_000_000_000

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    contract = models.ForeignKey(Contract, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=20)  # "Hourly" or "Fixed Price"
    description = models.CharField(max_length=500)
    amount = models.DecimalField(max_digits=12, decimal_places=2)  # what the client pays

    class Meta:
        ordering = ["created", "pk"]

    def __str__(self) -> str:
        return self.description


class Room(PublicId, Stamped):
    ID_BASE = 1_650_000_000_000_000_000

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    contract = models.OneToOneField(
        Contract, null=True, on_delete=models.CASCADE, related_name="room"
    )
    name = models.CharField(max_length=500)
    topic = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return self.name


class Story(PublicId, Stamped):
    """A message in a room, by a client user or a freelancer."""

    ID_BASE = 1_660_000_000_000_000_000

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="stories")
    client_user = models.ForeignKey(ClientUser, null=True, on_delete=models.SET_NULL)
    freelancer = models.ForeignKey(Freelancer, null=True, on_delete=models.SET_NULL)
    message = models.TextField()

    class Meta:
        ordering = ["created", "pk"]

    def __str__(self) -> str:
        return self.message[:40]


class Scheduled(models.Model):
    """Something a simulated freelancer will do at ``due`` (sandbox clock); done once."""

    due = models.DateTimeField(db_index=True)
    action = models.CharField(max_length=20)  # propose, answer_offer, submit, reply
    subject = models.BigIntegerField()  # the row the action is about (its pk)
    data = models.JSONField(default=dict)
    done_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["due", "pk"]
        indexes = [models.Index(fields=["done_at", "due"], name="upwork_sched_due")]

    def __str__(self) -> str:
        return f"{self.action} {self.subject} at {self.due}"
