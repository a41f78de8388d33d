"""Django settings. Operators set everything through the environment: docs/configuration.md."""

import datetime as dt
from pathlib import Path

import dj_database_url

from gigbridge import config
from gigbridge.audit.keys import audit_key

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent
DATA_DIR = config.data_dir()

SECRET_KEY = config.secret_key(DATA_DIR)
DEBUG = config.env_bool("GIGBRIDGE_DEBUG", False)
ALLOWED_HOSTS = (
    config.env("GIGBRIDGE_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver") or ""
).split(",")
BASE_URL = (config.env("GIGBRIDGE_BASE_URL", "http://127.0.0.1:8000") or "").rstrip("/")
CSRF_TRUSTED_ORIGINS = [BASE_URL]

POLICY_FILE = Path(config.env("GIGBRIDGE_POLICY_FILE", str(DATA_DIR / "program.yaml")))

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "gigbridge.audit",
    "gigbridge.jobs",
    "gigbridge.program",
    "gigbridge.people",
    "gigbridge.engagements",
    "gigbridge.sourcing",
    "gigbridge.notifications",
    "gigbridge.access",
    "gigbridge.conversations",
    "gigbridge.files",
    "gigbridge.analytics",
    "gigbridge.integrations.outbound",
    "gigbridge.integrations.upwork",
    "gigbridge.integrations.teams",
    "gigbridge.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outermost but one: rewrites any non-problem error under /api/ and /hooks/ (ninja's 405...).
    "gigbridge.api.middleware.ProblemMiddleware",
    # U+0000 in an API JSON body: 422 naming the field (PostgreSQL cannot store it).
    "gigbridge.api.middleware.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Early, so it sees every final answer (also axes' lockout page): CSP, no-store, HSTS.
    "gigbridge.web.security.SecurityHeadersMiddleware",
    # A body larger than the largest upload is refused before any of it is read or parsed.
    "gigbridge.web.bodysize.DeclaredSizeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last (as axes requires): turns a sign-in that hit the throttle into a 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "gigbridge.urls"
WSGI_APPLICATION = "gigbridge.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "gigbridge.web.context.navigation",
            ],
            # money, day and moment: one format for amounts and dates in every page and mail.
            "builtins": ["gigbridge.web.templatetags.gb"],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        config.env("DATABASE_URL", f"sqlite:///{DATA_DIR / 'gigbridge.sqlite3'}"),
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and scheduler share one SQLite file: WAL lets readers run beside the writer,
    # IMMEDIATE transactions take the write lock up front instead of failing half-way.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(DATA_DIR / "test.sqlite3")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Login is pluggable: OIDC arrives as another backend; local accounts stay for break-glass admins.
AUTHENTICATION_BACKENDS = [
    # First: refuses throttled callers before any password is checked (gigbridge/web/signin.py).
    "gigbridge.web.signin.ThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
    "gigbridge.web.oidc.OIDCBackend",
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = BASE_URL.startswith("https://")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"  # decision links carry tokens: never sent elsewhere
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# HSTS whenever the public URL is https (gigbridge.web.security sends it also behind a proxy).
SECURE_HSTS_SECONDS = config.env_int(
    "GIGBRIDGE_HSTS_SECONDS", 31536000 if BASE_URL.startswith("https://") else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = config.env_bool("GIGBRIDGE_HSTS_INCLUDE_SUBDOMAINS", False)
# Opt-in: only when every request comes through a proxy that sets X-Forwarded-Proto and appends
# the client to X-Forwarded-For. Trusting those headers otherwise lets anyone forge them.
GIGBRIDGE_BEHIND_PROXY = config.env_bool("GIGBRIDGE_BEHIND_PROXY", False)
if GIGBRIDGE_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# gigbridge.web.security: no inline script or style anywhere (templates use static files).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)

# Sign-in throttling (django-axes, gigbridge/web/signin.py): password form, API tokens, OIDC.
SIGNIN_ACCOUNT_LIMIT = config.env_int("GIGBRIDGE_SIGNIN_ACCOUNT_LIMIT", 5)
SIGNIN_ADDRESS_LIMIT = config.env_int("GIGBRIDGE_SIGNIN_ADDRESS_LIMIT", 20)
AXES_FAILURE_LIMIT = SIGNIN_ACCOUNT_LIMIT
AXES_COOLOFF_TIME = dt.timedelta(minutes=config.env_int("GIGBRIDGE_SIGNIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "gigbridge.web.signin.Handler"
AXES_LOCKOUT_CALLABLE = "gigbridge.web.signin.lockout_response"
AXES_CLIENT_IP_CALLABLE = "gigbridge.web.signin.client_address"
AXES_RESET_ON_SUCCESS = True  # that account's typos at that address only (signin.Handler)
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # a lock ends on time; rows stay small
AXES_DISABLE_ACCESS_LOG = True  # successful sign-ins: OIDC ones are audited, no second table
AXES_VERBOSE = False
if SIGNIN_ACCOUNT_LIMIT < 1 or SIGNIN_ADDRESS_LIMIT < SIGNIN_ACCOUNT_LIMIT:
    raise config.ConfigError(
        "GIGBRIDGE_SIGNIN_ACCOUNT_LIMIT must be at least 1 and GIGBRIDGE_SIGNIN_ADDRESS_LIMIT "
        "at least as large"
    )

LANGUAGE_CODE = "en"
# Dates print as 2026-12-03 wherever a template forgets the `day` filter.
FORMAT_MODULE_PATH = ["gigbridge.formats"]
TIME_ZONE = config.env("GIGBRIDGE_TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Third-party front-end files come from node_modules (installed from the npm registry by
# `npm ci`); WhiteNoise serves them through the finders, so no collectstatic step is needed.
STATICFILES_DIRS = [
    ("vendor/htmx", PROJECT_DIR / "node_modules" / "htmx.org" / "dist"),
    ("vendor/pico", PROJECT_DIR / "node_modules" / "@picocss" / "pico" / "css"),
    ("vendor/swagger-ui", PROJECT_DIR / "node_modules" / "swagger-ui-dist"),
    ("vendor/chartjs", PROJECT_DIR / "node_modules" / "chart.js" / "dist"),
]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Mail: in the embedded default every mail lands as a file in the data folder.
EMAIL_BACKEND = config.env(
    "GIGBRIDGE_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = DATA_DIR / "mail"
EMAIL_HOST = config.env("GIGBRIDGE_SMTP_HOST", "localhost")
EMAIL_PORT = config.env_int("GIGBRIDGE_SMTP_PORT", 25)
EMAIL_HOST_USER = config.env("GIGBRIDGE_SMTP_USER", "")
EMAIL_HOST_PASSWORD = config.env("GIGBRIDGE_SMTP_PASSWORD", "")
EMAIL_USE_TLS = config.env_bool("GIGBRIDGE_SMTP_STARTTLS", False)
DEFAULT_FROM_EMAIL = config.env("GIGBRIDGE_MAIL_FROM", "gigbridge@localhost")

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Durable work: how long a claimed outbox job may run before the sweeper assumes its worker died.
GIGBRIDGE_JOB_LEASE_SECONDS = config.env_int("GIGBRIDGE_JOB_LEASE_SECONDS", 300)
GIGBRIDGE_JOB_MAX_ATTEMPTS = config.env_int("GIGBRIDGE_JOB_MAX_ATTEMPTS", 8)
GIGBRIDGE_SCHEDULER_INTERVAL = config.env_int("GIGBRIDGE_SCHEDULER_INTERVAL", 30)

# Audit anchoring (docs/operations.md): events are HMAC-SHA256 with this key, so database access
# alone cannot recompute a consistent chain; keep it apart from the database (GIGBRIDGE_AUDIT_
# KEY_FILE, a secret store). Signed checkpoints are appended to a file outside the database.
GIGBRIDGE_AUDIT_KEY = audit_key(DATA_DIR)
GIGBRIDGE_AUDIT_CHECKPOINT_DIR = Path(
    config.env("GIGBRIDGE_AUDIT_CHECKPOINT_DIR", str(DATA_DIR / "audit"))
)
GIGBRIDGE_AUDIT_CHECKPOINT_MINUTES = config.env_int("GIGBRIDGE_AUDIT_CHECKPOINT_MINUTES", 60)
GIGBRIDGE_AUDIT_CHECKPOINT_MAIL = config.env_bool("GIGBRIDGE_AUDIT_CHECKPOINT_MAIL", False)

# Microsoft 365 (Graph, app-only). Unset tenant or client id = no tenant connected: access work
# waits (nothing is lost, the reconciler is level-triggered) and mail goes through EMAIL_BACKEND.
GRAPH = {
    "tenant_id": config.env("GIGBRIDGE_GRAPH_TENANT_ID"),
    "client_id": config.env("GIGBRIDGE_GRAPH_CLIENT_ID"),
    "client_secret": config.env("GIGBRIDGE_GRAPH_CLIENT_SECRET"),
    "authority_host": config.env("GIGBRIDGE_GRAPH_AUTHORITY_HOST", "login.microsoftonline.com"),
    "base_url": config.env("GIGBRIDGE_GRAPH_BASE_URL", "https://graph.microsoft.com/v1.0"),
    "ca_bundle": config.env("GIGBRIDGE_GRAPH_CA_BUNDLE"),
    "rate": float(config.env("GIGBRIDGE_GRAPH_RATE", "10")),
    "burst": float(config.env("GIGBRIDGE_GRAPH_BURST", "20")),
    "mail_sender": config.env("GIGBRIDGE_GRAPH_MAIL_SENDER"),
    "invite_redirect_url": config.env(
        "GIGBRIDGE_GRAPH_INVITE_REDIRECT_URL", "https://teams.microsoft.com"
    ),
    # Where Graph delivers change notifications; default: GIGBRIDGE_BASE_URL + /hooks/graph.
    # Graph only calls https URLs (the sandbox also accepts http on loopback).
    "notification_url": config.env("GIGBRIDGE_GRAPH_NOTIFICATION_URL"),
}

# Upwork (OAuth2 + GraphQL; docs/upwork.md). Unset client id = no marketplace connected. The
# tokens live encrypted in the database (key from GIGBRIDGE_TOKEN_KEY, else SECRET_KEY).
UPWORK = {
    "client_id": config.env("GIGBRIDGE_UPWORK_CLIENT_ID"),
    "client_secret": config.env("GIGBRIDGE_UPWORK_CLIENT_SECRET"),
    "grant": config.env("GIGBRIDGE_UPWORK_GRANT", "authorization_code"),
    "authorize_url": config.env(
        "GIGBRIDGE_UPWORK_AUTHORIZE_URL",
        "https://www.upwork.com/ab/account-security/oauth2/authorize",
    ),
    "token_url": config.env(
        "GIGBRIDGE_UPWORK_TOKEN_URL", "https://www.upwork.com/api/v3/oauth2/token"
    ),
    "graphql_url": config.env("GIGBRIDGE_UPWORK_GRAPHQL_URL", "https://api.upwork.com/graphql"),
    "redirect_uri": config.env("GIGBRIDGE_UPWORK_REDIRECT_URI"),
    "organization_id": config.env("GIGBRIDGE_UPWORK_ORGANIZATION_ID"),
    "ca_bundle": config.env("GIGBRIDGE_UPWORK_CA_BUNDLE"),
    "rate": float(config.env("GIGBRIDGE_UPWORK_RATE", "9")),
    "burst": float(config.env("GIGBRIDGE_UPWORK_BURST", "9")),
    "refresh_margin": config.env_int("GIGBRIDGE_UPWORK_REFRESH_MARGIN", 300),
    "timeout": config.env_int("GIGBRIDGE_UPWORK_TIMEOUT", 30),
    # How often each organization is polled (Upwork has no webhooks): the lag of its events.
    "sync_every_minutes": config.env_int("GIGBRIDGE_UPWORK_SYNC_MINUTES", 1),
    "token_key": config.env("GIGBRIDGE_TOKEN_KEY"),
}

# The Teams bot (docs/teams.md): its Azure Bot / Entra app id and secret. Unset app id or password
# = no bot: notices go by mail only and /hooks/teams refuses everything. The defaults are the
# public Bot Framework's; the sandbox points them at itself (gigbridge.sandbox.connect.teams_env).
TEAMS = {
    "app_id": config.env("GIGBRIDGE_TEAMS_APP_ID"),
    "app_password": config.env("GIGBRIDGE_TEAMS_APP_PASSWORD"),
    # The bot's tenant (single-tenant bot); unset = botframework.com (a legacy multi-tenant bot).
    "tenant_id": config.env("GIGBRIDGE_TEAMS_TENANT_ID"),
    "authority_host": config.env("GIGBRIDGE_TEAMS_AUTHORITY_HOST", "login.microsoftonline.com"),
    # Where the Bot Connector's signing keys are published (inbound JWTs are checked against them).
    "openid_metadata": config.env(
        "GIGBRIDGE_TEAMS_OPENID_METADATA",
        "https://login.botframework.com/v1/.well-known/openidconfiguration",
    ),
    # The Connector used to start conversations (later calls use the serviceUrl Teams sent).
    "service_url": config.env(
        "GIGBRIDGE_TEAMS_SERVICE_URL", "https://smba.trafficmanager.net/teams/"
    ),
    "ca_bundle": config.env("GIGBRIDGE_TEAMS_CA_BUNDLE"),
    "timeout": config.env_int("GIGBRIDGE_TEAMS_TIMEOUT", 30),
}

# Deliverables (docs/deliverables.md): where infected files are kept. The drive of this Microsoft
# 365 group (private, its members the program's security reviewers) holds a folder per engagement
# under GIGBRIDGE_QUARANTINE_FOLDER. Unset = infected files are recorded and reported, not moved
# (the health page says so); the sandbox sets it to its "Security Review" group.
FILES = {
    "quarantine_group_id": config.env("GIGBRIDGE_QUARANTINE_GROUP_ID"),
    "quarantine_folder": config.env("GIGBRIDGE_QUARANTINE_FOLDER", "Quarantine"),
}

# The program hub (docs/hub.md): the SharePoint site (its Graph id, "host,collection-id,web-id")
# the hub is published to as a site page. Unset = the hub's Publish button says how to set it;
# the sandbox sets it to its "Contoso Intranet" site.
HUB = {
    "site_id": config.env("GIGBRIDGE_HUB_SITE_ID"),
    "page_name": config.env("GIGBRIDGE_HUB_PAGE_NAME", "freelance-program-hub.aspx"),
}

# The virus scanner (docs/scanning.md): a clamd reached at unix:///path.sock or tcp://host:port.
# Unset = no scanner: deliverables cannot be scanned (the health page says "not configured").
# `gigbridge up` starts its own clamd (Debian's clamav-daemon, test signatures) when it is unset.
CLAMAV = {
    "address": config.env("GIGBRIDGE_CLAMD_ADDRESS"),
    # Seconds clamd may stay silent (connect, each chunk, the verdict of a large file).
    "timeout": config.env_int("GIGBRIDGE_CLAMD_TIMEOUT", 300),
    # Bytes read from a download and sent to clamd at a time: memory stays flat whatever the size.
    "chunk_bytes": config.env_int("GIGBRIDGE_CLAMD_CHUNK_BYTES", 1024 * 1024),
}

# Web sign-in through OpenID Connect (gigbridge/web/oidc.py): Entra ID or the sandbox tenant.
# Unset authority or client id = off (only local accounts). The authority names the tenant, e.g.
# https://login.microsoftonline.com/<tenant-id>; discovery is {authority}/v2.0/.well-known/...
OIDC = {
    "authority": config.env("GIGBRIDGE_OIDC_AUTHORITY"),
    "client_id": config.env("GIGBRIDGE_OIDC_CLIENT_ID"),
    "client_secret": config.env("GIGBRIDGE_OIDC_CLIENT_SECRET"),
    "ca_bundle": config.env("GIGBRIDGE_OIDC_CA_BUNDLE"),
    "create_users": config.env_bool("GIGBRIDGE_OIDC_CREATE_USERS", False),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": config.env("GIGBRIDGE_LOG_LEVEL", "INFO")},
    # httpx logs full URLs (query strings with addresses, upload URLs with credentials): keep it
    # quiet; the Graph client logs one sanitised line per call instead.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "msal": {"level": "WARNING"},
        # The Agents SDK logs conversation ids at INFO, every refused call again at ERROR and
        # a malformed activity with its content: gigbridge.integrations.teams logs one line each.
        "microsoft_agents": {"level": "WARNING"},
        "microsoft_agents.activity.activity": {"level": "CRITICAL"},
        "microsoft_agents.hosting.core.connector": {"level": "CRITICAL"},
        # Authlib logs PKCE code verifiers at DEBUG.
        "authlib": {"level": "WARNING"},
        # axes logs each failure with its own wording; gigbridge.security has one line each.
        "axes": {"level": "ERROR"},
    },
}
