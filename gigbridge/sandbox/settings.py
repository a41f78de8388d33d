"""Django settings for the sandbox process (``gigbridge.sandbox.wsgi``), apart from the product's.

Own database and secret key under ``$GIGBRIDGE_DATA_DIR/sandbox/``: the sandbox stands in for
outside services, so it must share nothing with the product but the network.
"""

from urllib.parse import urlsplit

from gigbridge import config
from gigbridge.config import read_or_create

from .paths import new_secret, sandbox_dir

SANDBOX_DIR = sandbox_dir()

# Never GIGBRIDGE_SECRET_KEY: the sandbox is a different party and keeps its own key.
SECRET_KEY = read_or_create(SANDBOX_DIR / "secret_key", new_secret)
DEBUG = config.env_bool("GIGBRIDGE_SANDBOX_DEBUG", False)
# Loopback only (the runner refuses any other bind address); "[::1]" is how Django sees ::1.
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]

# Where clients reach the sandbox; the runner sets it from --host/--port. Token issuers and
# discovery documents use it, so they stay the same whichever name a client connected with.
SANDBOX_URL = (config.env("GIGBRIDGE_SANDBOX_URL", "https://127.0.0.1:8443") or "").rstrip("/")


def _files_url(graph_url: str) -> str:
    """The same server under its other loopback name: 127.0.0.1 (or [::1]) <-> localhost."""
    parts = urlsplit(graph_url)
    other = "127.0.0.1" if (parts.hostname or "").lower() == "localhost" else "localhost"
    return f"{parts.scheme}://{other}{f':{parts.port}' if parts.port else ''}"


# Where SharePoint's side of files is served (upload and download URLs, webUrl): another host
# name than Graph's, as on Microsoft 365 (graph.microsoft.com vs {tenant}.sharepoint.com), so a
# client that sends its Graph token only to Graph's host sends none there. The same process
# answers both names; the certificate covers both (ca.SERVER_NAMES, ca.SERVER_IPS).
SANDBOX_FILES_URL = (
    config.env("GIGBRIDGE_SANDBOX_FILES_URL", "") or _files_url(SANDBOX_URL)
).rstrip("/")

INSTALLED_APPS = [
    "gigbridge.sandbox",
    # Graph part 2: Planner, drives and files, subscriptions (own models and migrations).
    "gigbridge.sandbox.m365files",
    # Graph part 3: SharePoint sites and their pages (own models and migrations).
    "gigbridge.sandbox.sites",
    # Upwork marketplace: OAuth2, GraphQL, simulated freelancers (own models and migrations).
    "gigbridge.sandbox.upwork",
    "gigbridge.sandbox.botconnector",  # Teams: Bot Connector emulator and the Teams view
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "gigbridge.sandbox.urls"
WSGI_APPLICATION = "gigbridge.sandbox.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": ["django.template.context_processors.request"],
            # |when: one date format on every sandbox page.
            "builtins": ["gigbridge.sandbox.templatetags.sandbox_time"],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": SANDBOX_DIR / "sandbox.sqlite3",
        # Several gunicorn workers share the file: WAL lets readers run beside the writer,
        # IMMEDIATE takes the write lock up front instead of failing half-way.
        "OPTIONS": {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Served over HTTPS only, so the CSRF cookie of the user picker can be Secure.
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

USE_I18N = False
USE_TZ = True
TIME_ZONE = "UTC"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": config.env("GIGBRIDGE_LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
