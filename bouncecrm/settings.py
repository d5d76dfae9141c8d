"""BounceCRM settings: one file, read from the environment, with defaults that run at once.

With no configuration the app runs on SQLite with Celery tasks executed eagerly in-process and
DEBUG on (a trial or development checkout). Production differs only by environment values: see
`.env.example` and the README's configuration table.
"""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def envbool(name: str, default: bool) -> bool:
    """Return a boolean variable; refuse anything but a clear true/false spelling."""
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from exc


def envsecret(name: str, default: str = "") -> str:
    """Return a secret from NAME, or from the file named by NAME_FILE (Docker/systemd secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DJANGO_DEBUG", True)

SECRET_KEY = envsecret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) is required when DEBUG is off")
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "django_tables2",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "anymail",
    "axes",
    "records",
    "bounces",
    "reports",
    "records.imports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # 400 for NUL bytes in parameters; CSP and no-store headers (bouncecrm/middleware.py).
    "bouncecrm.middleware.BadParametersMiddleware",
    "bouncecrm.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: answers a locked-out login with its page (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "bouncecrm.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

WSGI_APPLICATION = "bouncecrm.wsgi.application"

# --- Database: SQLite unless DATABASE_URL says otherwise --------------------------------------
_sqlite_path = BASE_DIR / "db.sqlite3"
DATABASES = {
    "default": dj_database_url.config(
        env="DATABASE_URL",
        default=f"sqlite:///{_sqlite_path}",
        conn_max_age=envint("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file-backed test database, so a real Celery worker process can see what a test committed.
    # One file per test run (not a shared name), so parallel runs never collide.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("SQLITE_TEST_NAME")
        or os.path.join(tempfile.gettempdir(), f"bouncecrm-test-{os.getpid()}.sqlite3")
    }
    DATABASES["default"].setdefault("OPTIONS", {})
    # Wait for a lock rather than fail at once when the web process and a worker write together.
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    DATABASES["default"]["CONN_MAX_AGE"] = 0

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Short OLTP statements: JIT compilation cost more than it saved (0.4 s on a 1M-row UPDATE).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")

# The bounce report's reads on a replica (reports.routers): its roll-ups and the rows it counts.
# Writes never go there; tests mirror it onto the main test database.
REPORTS_DATABASE_URL = os.environ.get("REPORTS_DATABASE_URL", "")
if REPORTS_DATABASE_URL:
    DATABASES["reports"] = dj_database_url.parse(
        REPORTS_DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 60), conn_health_checks=True
    )
    DATABASES["reports"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["reports.routers.ReportsRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Login throttling (django-axes): per account and per client address, site and admin ------
AUTHENTICATION_BACKENDS = [
    "bouncecrm.auth.ThrottledLoginBackend",
    "bouncecrm.auth.PermissionBackend",  # Django's ModelBackend, one permissions query
]
# After this many failed logins for one user name, or from one client address, further
# attempts are refused (HTTP 429, a page saying why) until the cool-off has passed.
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=envint("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks, separately
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "bouncecrm.auth.lockout_response"
AXES_CLIENT_IP_CALLABLE = "bouncecrm.auth.client_ip"
AXES_VERBOSE = False
# Proxies in front of the app that append to X-Forwarded-For (0: use the peer address).
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- Languages ---------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files: served by the app itself (WhiteNoise), never from a CDN ---------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"
DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"

# --- Email -------------------------------------------------------------------------------------
# SMTP whenever EMAIL_HOST is set (DEBUG on or off); without it the console in DEBUG.
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG and not os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envsecret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "BounceCRM <noreply@bouncecrm.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The domain of VERP return paths (bounces+<token>@BOUNCE_DOMAIN).
BOUNCE_DOMAIN = os.environ.get("BOUNCE_DOMAIN", "bounces.bouncecrm.local")

# --- Celery: eager in-process without a broker, a real worker with one -------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND") or None
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Idempotent tasks only: a task is acknowledged after it ran, and re-queued if its worker dies.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A web request must never hang on a dead broker: fail within seconds instead.
# Measured (tests/hardening/test_broker_down.py): a refused connection used to take 6.6 s (kombu
# retried it), a hung broker 5 s; now about 1 s and 2 s. Queued rows and jobs are swept later.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": 2,
    "socket_connect_timeout": 2,
    # Connection attempts when a message is sent (not the worker's reconnect loop).
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
    # An unacknowledged task (its worker killed) is redelivered after this long: the longest
    # task time limit (the bulk job's 2 h) plus a margin would be safest, but tasks here are
    # idempotent and the sweepers re-queue their rows anyway, so 15 minutes bounds recovery.
    "visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 900),
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # The six-monthly review is a daily scan for blocks whose review is due, never a long countdown
    # (a broker redelivers unacknowledged messages after its visibility timeout).
    "review-due-blocks": {
        "task": "bounces.tasks.review_due_blocks",
        "schedule": crontab(hour=3, minute=17),
    },
    # Bounce-rate alerts: every 10 minutes, so admins hear of a bad mailing while it is still
    # sending (its bounces arrive within minutes), yet cheap (it reads the daily roll-ups only).
    "check-bounce-rates": {
        "task": "reports.tasks.check_bounce_rates",
        "schedule": crontab(minute="*/10"),
    },
    # Closed months are final: materialise their top recipient domains once (the report then
    # reads a few hundred rows per month instead of every domain).
    "close-report-months": {
        "task": "reports.tasks.close_report_months",
        "schedule": crontab(hour=0, minute=23),
    },
}

# --- Production hardening (effective whenever DEBUG is off) ------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false"],
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler on "django" as well as the root's printed every line
        # twice (runserver's "Watching for file changes" among them): "django" propagates to
        # the root's console only.
        "django": {"handlers": ["mail_admins"], "level": "INFO", "propagate": True},
        "django.db.backends": {"level": "INFO"},
    },
}

# --- BounceCRM ----------------------------------------------------------------------------------
# Key for encrypting stored secrets (IMAP passwords); derived from SECRET_KEY when not set.
FIELD_ENCRYPTION_KEY = envsecret("FIELD_ENCRYPTION_KEY")
# Upper bound for one raw bounce message accepted over HTTP, the pipe or IMAP.
BOUNCE_MAX_MESSAGE_BYTES = envint("BOUNCE_MAX_MESSAGE_BYTES", 10 * 1024 * 1024)
# Periodic block review: our sending domains ("domain" or "domain:dkimselector[:…]") checked for
# SPF/DKIM; BOUNCECRM_DNS_FIXTURE: a JSON file of DNS answers used instead of DNS (tests, offline).
BOUNCECRM_SENDING_DOMAINS = envlist("BOUNCECRM_SENDING_DOMAINS")
BOUNCECRM_DNS_FIXTURE = os.environ.get("BOUNCECRM_DNS_FIXTURE", "")
# A bulk unblock of more records than this runs as a background job with a progress page; smaller
# ones run in the request (about 2 s for 10,000 at 1M contacts: `python -m bench.record_lists
# bulk`).
BULK_UNBLOCK_SYNC_LIMIT = envint("BULK_UNBLOCK_SYNC_LIMIT", 10000)
# Bounce-rate alerts judge only mailings and senders with at least this many sent emails: two
# bounces out of ten say little about a list.
REPORTS_ALERT_MIN_SENT = envint("REPORTS_ALERT_MIN_SENT", 20)

# Sending (bounces.sending): the first retry of a message the mail server did not take waits
# this long, doubling each time (at most 30 minutes; 6 attempts); a mailing pauses on its bounce
# rate only after this many messages were sent (the reports' alert minimum by default).
SENDING_RETRY_BASE_SECONDS = envint("SENDING_RETRY_BASE_SECONDS", 30)
SENDING_PAUSE_MIN_SENT = envint("SENDING_PAUSE_MIN_SENT", REPORTS_ALERT_MIN_SENT)
# SMTP connections one worker keeps open at once while sending a chunk (their round trips
# overlap); 1 sends one message after the other.
SENDING_SMTP_CONNECTIONS = envint("SENDING_SMTP_CONNECTIONS", 4)
# A mailing to more recipients than this has its rows written by the worker, not the request.
SENDING_CONFIRM_SYNC_LIMIT = envint("SENDING_CONFIRM_SYNC_LIMIT", 2000)
# The pre-send check's MX/A lookups stop after this many seconds (unchecked domains: not risky).
SENDING_DNS_BUDGET_SECONDS = envint("SENDING_DNS_BUDGET_SECONDS", 5)

ANYMAIL = {
    "WEBHOOK_SECRET": envsecret("ANYMAIL_WEBHOOK_SECRET"),
    "MAILGUN_WEBHOOK_SIGNING_KEY": envsecret("MAILGUN_WEBHOOK_SIGNING_KEY"),
    "POSTMARK_SERVER_TOKEN": envsecret("POSTMARK_SERVER_TOKEN"),
    "SENDGRID_API_KEY": envsecret("SENDGRID_API_KEY"),
}

# --- Bounce ingestion (bounces.ingestion) --------------------------------------------------------
# Only these SNS topics may post to the Amazon SES webhook (comma-separated ARNs; empty: any topic
# that knows the webhook's basic-auth secret).
BOUNCE_SES_TOPIC_ARNS = envlist("BOUNCE_SES_TOPIC_ARNS")
# Verify the SNS signature of every SES webhook post (off by default only with DEBUG, where no
# SNS can reach the app); certificates and subscription links only from URLs matching the pattern.
BOUNCE_SNS_VERIFY = envbool("BOUNCE_SNS_VERIFY", not DEBUG)
BOUNCE_SNS_URL_PATTERN = os.environ.get("BOUNCE_SNS_URL_PATTERN", "")
# Largest ESP webhook body (a SendGrid batch of 10,000 events is about 3.5 MB).
BOUNCE_WEBHOOK_MAX_BYTES = envint("BOUNCE_WEBHOOK_MAX_BYTES", 32 * 1024 * 1024)
CELERY_BEAT_SCHEDULE.update(
    {
        # Sending's safety net: re-queue mailings whose task was lost and retries that are due,
        # and fail rows a dead worker left claimed. Every minute: retries wait at least 30 s.
        "sending-sweep": {"task": "bounces.tasks.sending_sweep", "schedule": 60},
        # Bounces are not urgent to the second, but a mailing's bounce rate should show within a
        # minute or two; one poll a minute is also gentle on the mail server.
        "poll-bounce-mailboxes": {
            "task": "bounces.tasks.poll_mailboxes",
            "schedule": envint("BOUNCE_POLL_SECONDS", 60),
        },
        # Re-queue inbox rows left pending for 3+ minutes (a task lost with a dead worker or a
        # broker outage). Every 2 minutes: a lost row waits at most ~5 minutes.
        "sweep-pending-inbound": {
            "task": "bounces.tasks.sweep_inbound",
            "schedule": 120,
        },
        # Background bulk unblocks started while the broker was unreachable stay queued; send
        # them again every 2 minutes (a duplicate is harmless: only one worker claims a job).
        "requeue-bulk-unblock-jobs": {
            "task": "bounces.tasks.requeue_bulk_unblock_jobs",
            "schedule": 120,
        },
    }
)

# --- Imports (records/imports/) -----------------------------------------------------------
# Uploaded files wait here for the worker (web and worker must share this folder).
IMPORT_UPLOAD_DIR = Path(os.environ.get("IMPORT_UPLOAD_DIR", BASE_DIR / "var" / "imports"))
# A bigger upload is refused from its Content-Length, before its body is read.
IMPORT_MAX_FILE_BYTES = envint("IMPORT_MAX_FILE_BYTES", 50 * 1024 * 1024)
IMPORT_MAX_ROWS = envint("IMPORT_MAX_ROWS", 500_000)
IMPORT_MAX_LINE_CHARS = envint("IMPORT_MAX_LINE_CHARS", 1024 * 1024)
# XLSX is a zip: refuse one that unpacks to more than this (a zip bomb).
IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES = envint("IMPORT_XLSX_MAX_UNCOMPRESSED_BYTES", 500 * 1024 * 1024)
CELERY_BEAT_SCHEDULE.update(
    {
        # Uploads never confirmed keep a file of up to IMPORT_MAX_FILE_BYTES on disk; once an
        # hour keeps an abandoned one at most a day and an hour.
        "discard-stale-import-uploads": {
            "task": "imports.tasks.discard_stale_uploads",
            "schedule": 3600,
        },
    }
)
