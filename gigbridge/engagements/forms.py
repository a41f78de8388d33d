"""The request form. Choices come from the policy in force; rules are checked by the actions.
Bounds (lengths, counts, amounts, dates) are the API's, from ``gigbridge.limits``."""

from __future__ import annotations

from django import forms

from gigbridge import limits
from gigbridge.program import actions as program
from gigbridge.program import reach
from gigbridge.program.models import CostCenter, Workspace

from .actions import EDITABLE_FIELDS
from .models import WorkRequest


class DateInput(forms.DateInput):
    input_type = "date"


class RequestForm(forms.Form):
    title = forms.CharField(min_length=3, max_length=limits.TITLE_MAX)
    description = forms.CharField(
        max_length=limits.DESCRIPTION_MAX, widget=forms.Textarea(attrs={"rows": 4})
    )
    deliverables = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"One deliverable per line (at most {limits.DELIVERABLES_MAX}); "
        "each becomes a task.",
    )
    skills = forms.CharField(required=False, help_text="Comma-separated, e.g. figma, branding")
    task_category = forms.ChoiceField()
    worker_category = forms.ChoiceField()
    cost_center = forms.ModelChoiceField(
        queryset=CostCenter.objects.filter(active=True), to_field_name="code"
    )
    pricing = forms.ChoiceField(choices=WorkRequest.Pricing.choices)
    budget = forms.DecimalField(
        validators=[limits.form_validator(limits.Money)], max_digits=14, decimal_places=2
    )
    currency = forms.CharField(validators=[limits.form_validator(limits.Currency)])
    start_date = forms.DateField(
        widget=DateInput, validators=[limits.form_validator(limits.PlanDate)]
    )
    end_date = forms.DateField(
        widget=DateInput, validators=[limits.form_validator(limits.PlanDate)]
    )
    data_classification = forms.ChoiceField(choices=WorkRequest.Classification.choices)
    sourcing = forms.ChoiceField(
        choices=WorkRequest.Sourcing.choices,
        help_text="Marketplace posts a job; direct engages a named person.",
    )
    freelancer_email = forms.EmailField(
        required=False, max_length=limits.EMAIL_MAX, label="Freelancer's email (direct only)"
    )
    workspace = forms.ModelChoiceField(
        queryset=Workspace.objects.all(),
        to_field_name="name",
        required=False,
        help_text="The project's Team, Planner plan and folder the freelancer will work in. "
        "What they will be able to open depends on the workspace's kind (listed below).",
    )
    freelancer_country = forms.CharField(
        required=False,
        max_length=2,
        validators=[limits.form_validator(limits.Country)],
        label="Freelancer's country (ISO code, direct only)",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _, policy = program.current()
        self.fields["task_category"].choices = [(c, c) for c in policy.task_categories]
        self.fields["worker_category"].choices = [
            (c, c) for c in policy.worker_categories if c != "employee"
        ]
        self.fields["currency"].initial = policy.program.currency
        self.fields["worker_category"].initial = "freelancer"
        # What a guest of each workspace offered will be able to open, next to the choice.
        self.workspace_reach = reach.choices(self.fields["workspace"].queryset, policy)

    def clean_deliverables(self) -> list[str]:
        return _bounded_list(self.cleaned_data.get("deliverables"), "\n", limits.Deliverables)

    def clean_skills(self) -> list[str]:
        return _bounded_list(self.cleaned_data.get("skills"), ",", limits.Skills)

    def to_data(self) -> dict:
        return dict(self.cleaned_data)

    @staticmethod
    def initial_from(request: WorkRequest) -> dict:
        initial = {f: getattr(request, f) for f in EDITABLE_FIELDS}
        initial["cost_center"] = request.cost_center.code
        initial["workspace"] = request.workspace.name if request.workspace else None
        initial["deliverables"] = "\n".join(request.deliverables)
        initial["skills"] = ", ".join(request.skills)
        return initial


def _bounded_list(text: str | None, separator: str, kind) -> list[str]:
    """One entry per line (or comma), blanks dropped, within the API's count and lengths."""
    items = [item.strip() for item in (text or "").split(separator) if item.strip()]
    limits.form_validator(kind)(items)
    return items


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            ("approve", "Approve"),
            ("reject", "Reject"),
            ("request_changes", "Ask for changes"),
        ]
    )
    comment = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=limits.COMMENT_MAX
    )


class TransitionForm(forms.Form):
    state = forms.ChoiceField()
    reason = forms.CharField(required=False, max_length=limits.REASON_MAX)
