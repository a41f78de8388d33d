"""The seeded marketplace as plain data (no Django), for the seed, ``info`` and tests.

Two client organizations of Contoso; Ada belongs to both (so she needs the tenant header),
Max only to Engineering, Rita only to Design. Eight freelancers with personas; Dmitri lives in
a country Contoso's program blocks ("RU"), Grace declines every offer.
"""

from __future__ import annotations

ENGINEERING = "1500000000000000001"
DESIGN = "1500000000000000002"
ORGANIZATIONS = [
    (ENGINEERING, "Contoso Engineering"),
    (DESIGN, "Contoso Design"),
]

# user id, nickname, first, last, email, organizations (the first is the default)
CLIENT_USERS = [
    ("1400000000000000001", "ada_contoso", "Ada", "Admin", "ada@contoso.example",
     [ENGINEERING, DESIGN]),
    ("1400000000000000002", "max_contoso", "Max", "Manager", "max@contoso.example",
     [ENGINEERING]),
    ("1400000000000000003", "rita_contoso", "Rita", "Requester", "rita@contoso.example",
     [DESIGN]),
]  # fmt: skip
PICK_USER = "ada@contoso.example"  # the one to choose in the picker: member of both orgs

# All of Upwork's permissions the sandbox checks; the Gigbridge app has every one.
SCOPE_COMMON = "Common Entities - Read-Only Access"
SCOPE_JOBS = "Job Postings - Read and Write Access"
SCOPE_PROPOSALS = "Client Proposals - Read and Write Access"
SCOPE_OFFERS = "Offers - Read and Write Access"
SCOPE_CONTRACTS = "Contracts - Read and Write Access"
SCOPE_TIME = "Time Reports - Read-Only Access"
SCOPE_PAYMENTS = "Transaction History - Read-Only Access"
SCOPE_MESSAGES = "Messages - Read and Write Access"
ALL_SCOPES = [
    SCOPE_COMMON, SCOPE_JOBS, SCOPE_PROPOSALS, SCOPE_OFFERS, SCOPE_CONTRACTS, SCOPE_TIME,
    SCOPE_PAYMENTS, SCOPE_MESSAGES,
]  # fmt: skip

REDIRECTS = [
    "http://127.0.0.1:8000/integrations/upwork/callback",
    "http://localhost:8000/integrations/upwork/callback",
]
# name, secret file, scopes, owner (for client_credentials tokens)
APPS = [
    ("Gigbridge", "upwork-app.secret", ALL_SCOPES, "ada@contoso.example"),
    # Only the common entities: to see what a missing permission looks like.
    ("Gigbridge read-only demo", "upwork-readonly-app.secret", [SCOPE_COMMON],
     "ada@contoso.example"),
]  # fmt: skip
MAIN_APP = "Gigbridge"
READ_ONLY_APP = "Gigbridge read-only demo"

# Personas (see ``simulate``): proposes (bool), answer_hours (to answer an offer), declines
# (every offer), hours (min, max a weekday), submit_days (after a milestone is funded),
# reply_hours (to a client's message).
_USUAL = {"proposes": True, "answer_hours": 2, "declines": False, "hours": [4, 8],
          "submit_days": 2, "reply_hours": 1}  # fmt: skip

# user id, profile key, nickname, first, last, country, title, skills, rate, persona changes
FREELANCERS = [
    ("1300000000000000001", "~01a1b2c3d4e5f60001", "ana_silva", "Ana", "Silva", "PT",
     "Full-stack Django developer", ["Python", "Django", "PostgreSQL"], "85.00", {}),
    ("1300000000000000002", "~01a1b2c3d4e5f60002", "kenji_sato", "Kenji", "Sato", "JP",
     "Data engineer", ["Python", "Spark", "Airflow"], "95.00", {"answer_hours": 6}),
    ("1300000000000000003", "~01a1b2c3d4e5f60003", "amara_okafor", "Amara", "Okafor", "NG",
     "UX and product designer", ["Figma", "UX Research", "Design Systems"], "70.00", {}),
    ("1300000000000000004", "~01a1b2c3d4e5f60004", "dmitri_ivanov", "Dmitri", "Ivanov", "RU",
     "Backend engineer", ["Go", "Kubernetes", "PostgreSQL"], "60.00", {}),
    ("1300000000000000005", "~01a1b2c3d4e5f60005", "lucia_gomez", "Lucia", "Gomez", "AR",
     "React front-end developer", ["React", "TypeScript", "CSS"], "65.00", {"hours": [2, 5]}),
    ("1300000000000000006", "~01a1b2c3d4e5f60006", "priya_nair", "Priya", "Nair", "IN",
     "Machine learning engineer", ["Python", "PyTorch", "MLOps"], "90.00", {"submit_days": 4}),
    ("1300000000000000007", "~01a1b2c3d4e5f60007", "grace_muller", "Grace", "Muller", "DE",
     "Technical writer", ["Documentation", "API Writing"], "55.00", {"declines": True}),
    ("1300000000000000008", "~01a1b2c3d4e5f60008", "tom_baker", "Tom", "Baker", "GB",
     "DevOps consultant", ["Terraform", "Azure", "CI/CD"], "110.00", {"proposes": False}),
]  # fmt: skip
BLOCKED_COUNTRY_FREELANCER = "1300000000000000004"


def persona(changes: dict) -> dict:
    return {**_USUAL, **changes}
