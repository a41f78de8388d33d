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
