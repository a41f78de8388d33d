"""The default sandbox tenant as plain data (no Django), for the seed and for clients."""

DOMAIN = "contoso.example"

# Microsoft Graph application permissions the product's Graph client needs (app-only).
OUTSIDE_TOOLS_PERMISSIONS = [
    "User.Invite.All",
    "User.ReadWrite.All",
    "Group.ReadWrite.All",
    "TeamMember.ReadWrite.All",
    "Channel.ReadBasic.All",
    "ChannelMember.ReadWrite.All",
    "Tasks.ReadWrite.All",
    "Files.ReadWrite.All",
    "Sites.ReadWrite.All",
    "Mail.Send",
    "Team.Create",
]

# display name, secret file, application permissions, delegated permissions, redirect URIs
APPS = [
    # Signs employees in to Gigbridge (authorization code flow). Entra ignores the port of
    # loopback redirect URIs, and so does the sandbox, so any local Gigbridge port works.
    (
        "Gigbridge",
        "gigbridge-app.secret",
        [],
        ["User.Read"],
        ["http://127.0.0.1:8000/auth/oidc/callback", "http://localhost:8000/auth/oidc/callback"],
    ),
    # What Gigbridge uses to act in the tenant's tools (Graph, app-only).
    ("Gigbridge outside tools", "outside-tools.secret", OUTSIDE_TOOLS_PERMISSIONS, [], []),
]
OUTSIDE_TOOLS = "Gigbridge outside tools"
SIGN_IN_APP = "Gigbridge"

# The product's demo employees (gigbridge.people.demo.DEMO_PEOPLE): given name, surname,
# mail, job title. Copied rather than imported, because that module needs the product's apps.
EMPLOYEES = [
    ("Max", "Manager", "max@contoso.example", "Engineering Manager"),
    ("Rita", "Requester", "rita@contoso.example", "Product Designer"),
    ("Paula", "Procurement", "paula@contoso.example", "Procurement Lead"),
    ("Lena", "Legal", "lena@contoso.example", "Legal Counsel"),
    ("Hank", "HR", "hank@contoso.example", "HR Business Partner"),
    ("Fiona", "Finance", "fiona@contoso.example", "Finance Controller"),
    ("Carol", "Owner", "carol.owner@contoso.example", "Project Owner"),
    ("Dan", "Owner", "dan.owner@contoso.example", "Project Owner"),
    ("Ada", "Admin", "ada@contoso.example", "Freelance Program Admin"),
    ("Audrey", "Auditor", "audrey@contoso.example", "Internal Auditor"),
]

# A private Microsoft 365 group whose document library receives quarantined deliverables
# (Gigbridge's GIGBRIDGE_QUARANTINE_GROUP_ID): display name, mail nickname, member addresses.
SECURITY_REVIEW = ("Security Review", "securityreview", ["audrey@contoso.example"])
