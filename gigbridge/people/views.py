import datetime as dt
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse

from gigbridge import clock
from gigbridge.domainerrors import RuleViolation

from . import actions, capabilities, notices
from .models import ApiToken, Delegation


@login_required
def profile(request):
    new_secret = None
    if request.method == "POST":
        what = request.POST.get("what")
        if what == "token":
            _, new_secret = actions.create_api_token(
                request.user, request.POST.get("name", "").strip()
            )
        elif what == "revoke":
            token = ApiToken.objects.filter(user=request.user, pk=request.POST.get("token")).first()
            if token:
                actions.revoke_api_token(token, by=request.user)
                messages.success(request, f"Token {token.hint}… revoked.")
            return redirect("web:profile")
        elif what == "notices":
            try:
                notices.set_preferences(
                    request.user,
                    {
                        kind["kind"]: request.POST.get(f"notice-{kind['kind']}", "default")
                        for kind in notices.preferences(request.user)
                    },
                )
                messages.success(request, "Notice preferences saved.")
            except RuleViolation as exc:
                messages.error(request, f"Notice preferences not saved: {exc}")
            return redirect(reverse("web:profile") + "#notices")
        elif what == "delegate":
            delegate = (
                get_user_model()
                .objects.filter(username=request.POST.get("delegate", "").strip(), is_active=True)
                .first()
            )
            try:
                if delegate is None:
                    raise ValueError("no active user with that username")
                actions.set_delegation(
                    request.user,
                    delegate,
                    dt.date.fromisoformat(request.POST["starts_on"]),
                    dt.date.fromisoformat(request.POST["ends_on"]),
                )
                messages.success(
                    request, f"{delegate.username} decides your approvals while you are away."
                )
            except (ValueError, KeyError) as exc:
                messages.error(request, f"Delegation not saved: {exc}")
            return redirect("web:profile")
    return render(
        request,
        "people/profile.html",
        {
            "tokens": ApiToken.objects.filter(user=request.user, revoked_at__isnull=True),
            "new_secret": new_secret,
            "delegations": Delegation.objects.filter(delegator=request.user).select_related(
                "delegate"
            ),
            "roles": sorted(actions.roles_of(request.user)),
            **_notice_context(request.user),
        },
    )


def _notice_context(user) -> dict:
    from gigbridge.notifications.actions import teams_configured
    from gigbridge.notifications.kinds import CHANNEL_LABELS

    return {
        "notice_preferences": notices.preferences(user),
        "notice_default": CHANNEL_LABELS[notices.default_channel()],
        "notice_channels": list(CHANNEL_LABELS.items()),
        "teams_configured": teams_configured(),
    }


def _agreement_fields(post) -> dict:
    def day(key):
        value = post.get(key, "").strip()
        try:
            return dt.date.fromisoformat(value) if value else None
        except ValueError:
            return None

    return {
        "email": post.get("email", "").strip(),
        "name": post.get("name", "").strip(),
        "signed_on": day("signed_on"),
        "expires_on": day("expires_on"),
        "evidence_url": post.get("evidence_url", "").strip(),
        "display_name": post.get("display_name", "").strip(),
    }


@login_required
def agreements(request):
    """Freelancers and their agreement status; legal, HR and admins record agreements here."""
    from django.core.paginator import Paginator
    from django.db.models import Prefetch, Q

    from gigbridge.domainerrors import RuleViolation
    from gigbridge.program import actions as program

    from .models import Agreement, Person

    what = f"{request.method} {request.path}"
    capabilities.require(request.user, capabilities.Capability.VIEW_AGREEMENTS, what)
    if request.method == "POST":
        capabilities.require(request.user, capabilities.Capability.RECORD_AGREEMENTS, what)
        try:
            agreement = actions.record_agreement(
                request.user,
                **_agreement_fields(request.POST),
                evidence_upload=request.FILES.get("evidence_file"),
            )
            messages.success(
                request,
                f"{agreement.name} of {agreement.person.display_name} recorded "
                f"(signed {agreement.signed_on:%Y-%m-%d}).",
            )
        except RuleViolation as exc:
            messages.error(request, f"Not recorded: {exc}")
        back = request.POST.get("email", "").strip()
        return redirect(reverse("web:agreements") + (f"?q={quote(back)}" if back else ""))
    _, policy = program.current()
    required = list(policy.compliance.required_agreements)
    term = request.GET.get("q", "").strip()[:200]
    people = Person.objects.filter(Q(kind=Person.Kind.FREELANCER) | Q(agreements__isnull=False))
    if term:
        people = people.filter(Q(email__icontains=term) | Q(display_name__icontains=term))
    people = people.distinct().prefetch_related(
        Prefetch("agreements", queryset=Agreement.objects.order_by("pk"))
    )
    page = Paginator(people, 50).get_page(request.GET.get("page"))
    rows = []
    for p in page.object_list:
        status = actions.agreement_status(p, required)
        missing = [s["name"] for s in status if s["state"] != "signed"]
        rows.append({"person": p, "status": status, "missing": missing})
    return render(
        request,
        "people/agreements.html",
        {
            "page": page,
            "rows": rows,
            "required": required,
            "term": term,
            "extra": f"&q={quote(term)}" if term else "",
            "can_record": capabilities.can_record_agreements(request.user),
            "can_send": capabilities.can_send_for_signature(request.user),
            "prefill": request.GET.get("email", "")[:254],
            "prefill_name": request.GET.get("name", "")[:50],
            "today": clock.today(),
        },
    )


@login_required
def agreement_revoke(request, pk):
    from django.shortcuts import get_object_or_404

    from gigbridge.domainerrors import InvalidTransition, RuleViolation

    from .models import Agreement

    what = f"{request.method} {request.path}"
    capabilities.require(request.user, capabilities.Capability.RECORD_AGREEMENTS, what)
    agreement = get_object_or_404(Agreement.objects.select_related("person"), pk=pk)
    if request.method != "POST":
        return redirect(reverse("web:agreements") + f"?q={quote(agreement.person.email)}")
    try:
        actions.revoke_agreement(request.user, agreement, request.POST.get("reason", ""))
        messages.success(request, f"{agreement.name} of {agreement.person.display_name} revoked.")
    except (RuleViolation, InvalidTransition) as exc:
        messages.error(request, f"Not revoked: {exc}")
    return redirect(reverse("web:agreements") + f"?q={quote(agreement.person.email)}")


def sign(request, token):
    """A mailed signing link: no account needed; shows each document and records acceptance."""
    from gigbridge import securitylog
    from gigbridge.domainerrors import RuleViolation
    from gigbridge.program import actions as program
    from gigbridge.web.signin import client_address

    from . import signing

    def refused(message: str):
        # Not request.path: the token in it may still work for the person it was sent to.
        securitylog.refused(request.user, "open signing link", status=400, reason=message)
        return render(request, "people/sign_error.html", {"message": message}, status=400)

    try:
        link = signing.resolve(token)
        _, policy = program.current()
        documents = [
            signing.document_of(policy, name)
            for name in link.names
            if name in policy.compliance.required_agreements
        ]
    except signing.LinkError as exc:
        return refused(str(exc))
    error = ""
    if request.method == "POST":
        if request.POST.get("accept") != "yes":
            error = "Tick the box to accept the agreements."
        else:
            try:
                signed = actions.sign_agreements(
                    link,
                    typed_name=request.POST.get("typed_name", ""),
                    ip=client_address(request),
                )
            except signing.LinkError as exc:
                return refused(str(exc))
            except RuleViolation as exc:
                error = "; ".join(p.message for p in exc.problems)
            else:
                return render(
                    request,
                    "people/sign_done.html",
                    {"signed": signed, "person": link.person, "program": policy.program.name},
                )
    return render(
        request,
        "people/sign.html",
        {
            "link": link,
            "person": link.person,
            "documents": documents,
            "program": policy.program.name,
            "error": error,
            "typed_name": request.POST.get("typed_name", "")[:200],
        },
        status=422 if error else 200,
    )


@login_required
def agreement_send(request):
    """Mail a freelancer a link to sign the agreements they miss (POST); back where it came."""
    from django.utils.http import url_has_allowed_host_and_scheme

    from gigbridge.domainerrors import RuleViolation

    what = f"{request.method} {request.path}"
    capabilities.require(request.user, capabilities.Capability.SEND_FOR_SIGNATURE, what)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("web:agreements")
    if request.method != "POST":
        return redirect(back)
    email = request.POST.get("email", "").strip()
    try:
        link = actions.send_for_signature(
            request.user,
            email=email,
            names=[n for n in request.POST.getlist("names") if n][:50] or None,
            display_name=request.POST.get("display_name", "").strip(),
        )
        messages.success(
            request,
            f"{link.person.display_name} will get a mail with a link to sign "
            f"{', '.join(link.names)} (valid until {link.expires_at:%Y-%m-%d}).",
        )
    except RuleViolation as exc:
        messages.error(request, f"Not sent: {exc}")
    return redirect(back)


@login_required
def agreement_evidence(request, pk):
    """The uploaded copy of a signed agreement, to those who may see agreements only."""
    from django.shortcuts import get_object_or_404

    from . import evidence
    from .models import Agreement

    what = f"{request.method} {request.path}"
    capabilities.require(request.user, capabilities.Capability.VIEW_AGREEMENTS, what)
    return evidence.download(get_object_or_404(Agreement, pk=pk))
