from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect

from gigbridge.engagements.actions import inbox


@login_required
def home(request):
    # Approvers land on what waits for them; everyone else on their requests.
    if inbox(request.user).exists():
        return redirect("web:approvals")
    return redirect("web:request-list")
