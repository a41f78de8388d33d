import datetime as dt

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from . import actions
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
        },
    )
