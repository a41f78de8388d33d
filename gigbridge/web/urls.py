from django.contrib.auth import views as auth_views
from django.urls import path

from gigbridge.access import views as access_views
from gigbridge.audit import views as audit_views
from gigbridge.engagements import views as engagement_views
from gigbridge.files import views as files_views
from gigbridge.people import views as people_views
from gigbridge.program import views as program_views
from gigbridge.sourcing import views as sourcing_views

from . import oidc, views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path(
        "login/",
        oidc.LoginView.as_view(template_name="web/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("auth/oidc/login/", oidc.oidc_login, name="oidc-login"),
    path("auth/oidc/callback", oidc.oidc_callback, name="oidc-callback"),
    path("requests/", engagement_views.request_list, name="request-list"),
    path("requests/new/", engagement_views.request_new, name="request-new"),
    path("requests/<int:pk>/", engagement_views.request_detail, name="request-detail"),
    path("requests/<int:pk>/edit/", engagement_views.request_edit, name="request-edit"),
    path("requests/<int:pk>/submit/", engagement_views.request_submit, name="request-submit"),
    path("requests/<int:pk>/withdraw/", engagement_views.request_withdraw, name="request-withdraw"),
    path("approvals/", engagement_views.approvals_inbox, name="approvals"),
    path("approvals/<int:pk>/", engagement_views.decision, name="decision"),
    path("a/<str:token>/", engagement_views.decision_link, name="decision-link"),
    path("engagements/", engagement_views.engagement_list, name="engagement-list"),
    path("engagements/<int:pk>/", engagement_views.engagement_detail, name="engagement-detail"),
    path(
        "engagements/<int:pk>/proposals/<int:proposal_pk>/<str:what>/",
        sourcing_views.proposal_action,
        name="proposal-action",
    ),
    path(
        "engagements/<int:pk>/milestones/<int:ms_pk>/approve/",
        sourcing_views.milestone_approve,
        name="milestone-approve",
    ),
    path(
        "engagements/<int:pk>/milestones/<int:ms_pk>/changes/",
        sourcing_views.milestone_changes,
        name="milestone-changes",
    ),
    path(
        "engagements/<int:pk>/milestones/<int:ms_pk>/activate/",
        sourcing_views.milestone_activate,
        name="milestone-activate",
    ),
    path(
        "engagements/<int:pk>/hours/<str:week>/approve/",
        sourcing_views.week_approve,
        name="week-approve",
    ),
    path(
        "engagements/<int:pk>/transition/",
        engagement_views.engagement_transition,
        name="engagement-transition",
    ),
    path("engagements/<int:pk>/end/", sourcing_views.engagement_end, name="engagement-end"),
    path("engagements/<int:pk>/start/", engagement_views.engagement_start, name="engagement-start"),
    path("deliverables/quarantine/", files_views.quarantine, name="quarantine"),
    path("deliverables/<int:pk>/release/", files_views.release, name="deliverable-release"),
    path("policy/", program_views.policy_view, name="policy"),
    path("hub/", program_views.hub_index, name="hub"),
    path("hub/edit/", program_views.hub_edit, name="hub-edit"),
    path("hub/publish/", program_views.hub_publish, name="hub-publish"),
    path("hub/<str:slug>/", program_views.hub_page, name="hub-page"),
    path("audit/", audit_views.audit_log, name="audit"),
    path("access/", access_views.access_review, name="access-review"),
    path("workspaces/", access_views.workspace_list, name="workspaces"),
    path("me/", people_views.profile, name="profile"),
    path("agreements/", people_views.agreements, name="agreements"),
    path("agreements/<int:pk>/revoke/", people_views.agreement_revoke, name="agreement-revoke"),
    path("agreements/send/", people_views.agreement_send, name="agreement-send"),
    path(
        "agreements/<int:pk>/evidence/", people_views.agreement_evidence, name="agreement-evidence"
    ),
    path("s/<str:token>/", people_views.sign, name="sign"),
]
