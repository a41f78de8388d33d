"""Stored policy versions and the cost centers they define."""

from django.db import models


class PolicyVersion(models.Model):
    """Every policy ever in force, verbatim. Decisions point at the version that made them."""

    number = models.PositiveIntegerField(unique=True)
    sha256 = models.CharField(max_length=64)
    filename = models.CharField(max_length=500)
    source_text = models.TextField()
    program_name = models.CharField(max_length=200)
    activated_at = models.DateTimeField()
    activated_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"policy v{self.number} ({self.sha256[:12]})"


class CostCenter(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    annual_budget = models.DecimalField(max_digits=14, decimal_places=2)
    owner_email = models.EmailField()
    # A cost center dropped from the policy stays for history but takes no new requests.
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Workspace(models.Model):
    """A project's place in Microsoft 365: its Team, Planner plan and SharePoint folder.

    Shared by every engagement of the project, so a team that hires three freelancers sees them
    all in one channel. Ids are the tenant's; names are kept for people and for drift reports.
    """

    name = models.CharField(max_length=200, unique=True)
    team_id = models.CharField(max_length=64, blank=True)
    team_name = models.CharField(max_length=200, blank=True)
    drive_id = models.CharField(max_length=200, blank=True)
    folder_id = models.CharField(max_length=200, blank=True)
    folder_path = models.CharField(max_length=500, blank=True)
    plan_id = models.CharField(max_length=64, blank=True)
    bucket_id = models.CharField(max_length=64, blank=True)
    # A new Team is made in the tenant by a worker job; until then the workspace is pending.
    new_team = models.BooleanField(default=False)
    ready = models.BooleanField(default=False)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TenantTeam(models.Model):
    """A Team that exists in the tenant, as last read by the catalog job (for workspace choice:
    web requests never call the tenant themselves)."""

    team_id = models.CharField(max_length=64, primary_key=True)
    display_name = models.CharField(max_length=300)
    synced_at = models.DateTimeField()

    class Meta:
        ordering = ["display_name"]

    def __str__(self) -> str:
        return self.display_name


class HubIntro(models.Model):
    """The hub's introduction, in Markdown (one row: pk 1), edited by a program admin."""

    markdown = models.TextField(blank=True)  # at most hub_markdown.MAX_INTRO characters
    updated_by = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"hub introduction ({len(self.markdown)} characters)"


class HubPublication(models.Model):
    """The hub as a SharePoint site page (one row: pk 1): what was asked, what happened.

    ``revision`` grows with every request to publish; the job publishes only the revision it
    was queued for (a newer request supersedes it). ``page_id`` is kept across publications,
    so publishing again updates the same page.
    """

    class State(models.TextChoices):
        QUEUED = "queued"
        PUBLISHED = "published"
        FAILED = "failed"

    site_id = models.CharField(max_length=300)
    page_name = models.CharField(max_length=128)
    page_id = models.CharField(max_length=200, blank=True)
    web_url = models.URLField(max_length=2000, blank=True)
    title = models.CharField(max_length=255)
    # The page's content as rendered when it was asked for: [{"key": slug, "html": ...}].
    sections = models.JSONField(default=list)
    revision = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    reason = models.CharField(max_length=1000, blank=True)  # why it failed, or the last retry
    requested_by = models.CharField(max_length=200)
    requested_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"hub publication r{self.revision} ({self.state})"
