"""Settings for the practice web app: one file, driven by environment variables.

With no variable set the app runs on embedded defaults (SQLite and a
file-system Celery broker under ``var/``, email to the console), so a fresh
checkout starts with no services. Production sets ``DEBUG=false`` and must then
give every secret explicitly; a missing or malformed value stops the process at
start with a message that names the variable.
"""

from __future__ import annotations

import base64
import secrets
import tempfile
from collections.abc import Callable
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()


def _require(name: str, value: str | None) -> str:
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off.")
    return value


def _url_setting(
    name: str, parse: Callable[[str], dict[str, Any]], default: str, key: str, allowed: set[str]
) -> dict[str, Any]:
    """Parse a URL variable; production must give it, and a bad one names itself."""
    value = env.str(name, default="")
    if not DEBUG:
        _require(name, value)
    try:
        parsed = parse(value or default)
    except Exception as exc:  # environ raises several kinds for a malformed URL
        raise ImproperlyConfigured(f"{name} is not a valid URL: {exc}") from exc
    if parsed.get(key) not in allowed:
        raise ImproperlyConfigured(f"{name} has a scheme this app does not support.")
    return parsed


DEBUG = env.bool("DEBUG", default=True)

VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))


def _var_dir_ready() -> None:
    # The quick start writes its database, job queue and keys under VAR_DIR;
    # a directory it cannot write is said plainly here, at start, rather than
    # as a traceback from whichever write comes first. (Production may run
    # from a read-only image: it is only asked that the directory exist.)
    try:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        if DEBUG:
            with tempfile.TemporaryFile(dir=VAR_DIR):
                pass
    except OSError as exc:
        raise ImproperlyConfigured(
            f"VAR_DIR {VAR_DIR} cannot be written ({exc.strerror}). The app keeps its "
            "database, job queue and keys there: make that directory writable for the "
            "user that runs the app, or set VAR_DIR to a directory that user can write."
        ) from exc


_var_dir_ready()


def _dev_secret_key() -> str:
    # Kept on disk so sessions survive a restart of the quick start.
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="") or _dev_secret_key()
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
else:
    SECRET_KEY = _require("SECRET_KEY", env.str("SECRET_KEY", default=""))
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 random characters.")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off.")


def _dev_field_encryption_key() -> str:
    # The quick start's key for clinical text, kept beside the database it
    # protects; production gives its own (see the README).
    key_file = VAR_DIR / "field_encryption_key"
    if not key_file.exists():
        key_file.write_text(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
        key_file.chmod(0o600)
    return key_file.read_text().strip()


# Fernet keys for clinical text (practice.encryption), newest first: the first
# encrypts, every one decrypts, so a new key can be put in front of the old.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
if not FIELD_ENCRYPTION_KEYS:
    if not DEBUG:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS must be set when DEBUG is off.")
    FIELD_ENCRYPTION_KEYS = [_dev_field_encryption_key()]
for _key in FIELD_ENCRYPTION_KEYS:
    try:
        _key_ok = len(base64.urlsafe_b64decode(_key.encode())) == 32
    except ValueError:
        _key_ok = False
    if not _key_ok:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be Fernet keys (32 bytes, url-safe base64), comma-separated"
        )

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# The public address of the site, used to build absolute links in emails and
# feeds, which are sent outside any request.
# Unset, it is the local server `make run` starts (on PORT, 8000 by default).
_LOCAL_PORT = env.int("PORT", default=8000)
SITE_URL = env.str("SITE_URL", default=f"http://localhost:{_LOCAL_PORT}").rstrip("/")

INSTALLED_APPS = [
    "practice",
    "consultations",
    "kap_sessions",
    "newsletter",
    # Django's admin, arranged as the therapist's workspace (practice/admin_site.py).
    "practice.admin_apps.WorkspaceAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "django.contrib.sites",
    "django.contrib.syndication",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "practice.middleware.StaffMFARequiredMiddleware",
    "practice.middleware.StaffSessionLimitsMiddleware",
    "practice.middleware.NoStoreMiddleware",
]

ROOT_URLCONF = "practice.urls"
WSGI_APPLICATION = "practice.wsgi.application"
SITE_ID = 1

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
                "practice.context_processors.practice",
            ],
        },
    },
]
# Labels without a trailing colon on the site; the admin keeps its own (practice/forms.py).
FORM_RENDERER = "practice.forms.PracticeFormRenderer"

# --- Database ----------------------------------------------------------------

DATABASES = {
    "default": _url_setting(
        "DATABASE_URL",
        environ.Env.db_url_config,
        f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        key="ENGINE",
        allowed={"django.db.backends.postgresql", "django.db.backends.sqlite3"},
    ),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE makes every transaction take the write lock at BEGIN, so a
    # check-then-insert (booking a slot) is serialised across processes.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Django turns psycopg's prepared statements off (None) for the sake of
    # connection poolers. A threshold no statement reaches keeps the ORM's
    # queries unprepared but lets practice/prepared.py prepare the few hot
    # statements that ask for it.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 2**31 - 1
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, broker, Celery ---------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
if not DEBUG:
    # The file-system broker and cache only work for processes on one disk.
    _require("REDIS_URL", REDIS_URL)
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured("REDIS_URL must start with redis://, rediss:// or unix://.")

# After a failed call to Redis, a process skips it for this long (see
# practice/cache.py).
CACHE_OUTAGE_BACKOFF_SECONDS = env.float("CACHE_OUTAGE_BACKOFF_SECONDS", default=5.0)

if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis cache, skipping Redis while it is down (a page
            # never fails because of it).
            "BACKEND": "practice.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="practice"),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        # Longer than any task may take, so an unacknowledged task is only
        # redelivered when its worker is really gone.
        "visibility_timeout": 3600,
    }
else:
    # A file cache is shared by the web and worker processes of the quick
    # start, which the rate limits of allauth need.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }
    _broker_dir = VAR_DIR / "broker"
    (_broker_dir / "queue").mkdir(parents=True, exist_ok=True)
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    (_broker_dir / "control").mkdir(parents=True, exist_ok=True)
    # A host in the URL, though the transport ignores it, spares a warning.
    CELERY_BROKER_URL = "filesystem://localhost//"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Broadcast (pidbox) exchanges; kombu's default is ./control.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
# A task is acknowledged only once it has run, so a killed worker's task is
# delivered again; every task is written to be idempotent for that reason.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Task modules outside an app's tasks.py (which autodiscovery finds).
CELERY_IMPORTS = ["practice.outbox.tasks"]
# How often beat queues the outbox's sweep and the agenda's planner, in
# seconds: each run is safe to repeat, so a test (or a practice that wants
# retries sooner) may shorten them.
OUTBOX_SWEEP_SECONDS = env.float("OUTBOX_SWEEP_SECONDS", default=60.0)
KAP_AGENDA_PLAN_SECONDS = env.float("KAP_AGENDA_PLAN_SECONDS", default=300.0)
# The one beat schedule. Leaf apps are reached only by task name.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "worker-heartbeat": {"task": "practice.heartbeat", "schedule": 30.0},
    "newsletter-dispatch-campaigns": {"task": "newsletter.dispatch_campaigns", "schedule": 60.0},
    "newsletter-tidy-unconfirmed": {"task": "newsletter.tidy_unconfirmed", "schedule": 3600.0},
    # The outbox's sweep: every email that is due and unsent (reminders at
    # their time, anything whose wake-up was lost), one loop for all of them.
    "outbox-sweep": {"task": "practice.outbox.sweep", "schedule": OUTBOX_SWEEP_SECONDS},
    "outbox-purge": {"task": "practice.outbox.purge", "schedule": 24 * 3600.0},
    # The therapist's morning agenda: plans the next one (one row per day,
    # by its key), so every few minutes is safe and a missed run costs nothing.
    "kap-agenda-plan": {"task": "kap_sessions.agenda_plan", "schedule": KAP_AGENDA_PLAN_SECONDS},
    # The audit lines written since the last run sealed onto the hash chain
    # (practice/audit.py): each line rings for its own sealing after commit,
    # and this picks up whatever a lost or coalesced ring left behind.
    "practice-seal-audit": {"task": "practice.audit_seal", "schedule": 10.0},
    # The audit trail's hash chain checked end to end (practice/audit.py);
    # the result shows on Today, which warns when no check ran for two days.
    "practice-verify-audit": {"task": "practice.verify_audit", "schedule": 24 * 3600.0},
    # Retention (practice/privacy.py): closed client records past
    # CLIENT_RETENTION_YEARS and unconverted consultation requests past
    # CONSULTATION_RETENTION_MONTHS; daily, and a missed run only waits a day.
    "practice-purge-expired": {"task": "practice.purge_expired", "schedule": 24 * 3600.0},
}
# How old the worker heartbeat may be before /healthz calls the worker down.
WORKER_HEARTBEAT_MAX_AGE = env.int("WORKER_HEARTBEAT_MAX_AGE", default=120)

# --- Email -------------------------------------------------------------------
# The outbox (practice/outbox/services.py): how many emails one job sends
# before handing over, how often and how long a refused email is retried, and
# how long sent and voided rows are kept.
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=200)
OUTBOX_SEND_PARALLEL = env.int("OUTBOX_SEND_PARALLEL", default=2)
# A process rings the outbox's doorbell at most once in this many seconds;
# each send job drains once more when as long has passed since it started.
OUTBOX_WAKE_COALESCE_SECONDS = env.float("OUTBOX_WAKE_COALESCE_SECONDS", default=0.5)
OUTBOX_MAX_FAILURES = env.int("OUTBOX_MAX_FAILURES", default=8)
OUTBOX_RETRY_BASE_SECONDS = env.int("OUTBOX_RETRY_BASE_SECONDS", default=60)
OUTBOX_RETRY_MAX_SECONDS = env.int("OUTBOX_RETRY_MAX_SECONDS", default=6 * 3600)
OUTBOX_KEEP_DAYS = env.int("OUTBOX_KEEP_DAYS", default=30)

# --- Retention (practice/privacy.py) ------------------------------------------
# A closed client record (not active, nothing of hers for this long) is purged
# after this many years; a consultation request never converted into a client
# after this many months.
CLIENT_RETENTION_YEARS = env.int("CLIENT_RETENTION_YEARS", default=7)
CONSULTATION_RETENTION_MONTHS = env.int("CONSULTATION_RETENTION_MONTHS", default=12)

vars().update(
    _url_setting(
        "EMAIL_URL",
        environ.Env.email_url_config,
        "consolemail://",
        key="EMAIL_BACKEND",
        allowed={
            "django.core.mail.backends.smtp.EmailBackend",
            "django.core.mail.backends.console.EmailBackend",
            "django.core.mail.backends.filebased.EmailBackend",
            "django.core.mail.backends.locmem.EmailBackend",
            "django.core.mail.backends.dummy.EmailBackend",
        },
    )
)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Practice <hello@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
EMAIL_TIMEOUT = 10

# --- Accounts (django-allauth) -------------------------------------------

AUTH_USER_MODEL = "practice.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
# Where a client lands after signing in: her portal. Staff go to the admin
# (practice.adapters.AccountAdapter.get_login_redirect_url).
LOGIN_REDIRECT_URL = "/portal/"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_ADAPTER = "practice.adapters.AccountAdapter"
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
# allauth's defaults are kept on purpose (they throttle failed logins per IP
# and per account); only the window for failed logins is tightened.
# Proxies in front of the app that the practice runs: the client's address is
# then read from X-Forwarded-For (or from a header the proxy sets). allauth's
# rate limits and practice.client_address read the same two settings.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = env.str("TRUSTED_CLIENT_IP_HEADER", default="") or None
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
}
# Clients get their portal login from the therapist; nobody signs up alone.
ACCOUNT_ALLOW_SIGNUPS = env.bool("ACCOUNT_ALLOW_SIGNUPS", default=False)
# How long the link in a portal invitation works (practice/invitations.py).
CLIENT_INVITATION_DAYS = env.int("CLIENT_INVITATION_DAYS", default=7)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env.str("MFA_TOTP_ISSUER", default="Practice")
# A code typed as its 30 seconds run out (or on a phone a few seconds fast)
# is still taken: one step either side, as RFC 6238 section 5.2 advises.
# Each code still works once (allauth remembers the used ones).
MFA_TOTP_TOLERANCE = 1

# Staff must enrol a second factor before the admin opens. Only the local
# quick start may turn this off; production refuses to.
STAFF_MFA_REQUIRED = env.bool("STAFF_MFA_REQUIRED", default=True)
if not DEBUG and not STAFF_MFA_REQUIRED:
    raise ImproperlyConfigured("STAFF_MFA_REQUIRED cannot be turned off when DEBUG is off.")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Django's database sessions, refusing a malformed key (practice/sessions.py).
SESSION_ENGINE = "practice.sessions"
# Automatic log-off: a session ends after this long without a request (each
# request moves the deadline on), and when the browser closes; nobody is
# "remembered" on a shared family computer.
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_MINUTES", default=60) * 60
SESSION_SAVE_EVERY_REQUEST = True
ACCOUNT_SESSION_REMEMBER = False
SESSION_COOKIE_HTTPONLY = True
# Staff sessions are shorter (practice.middleware.StaffSessionLimitsMiddleware):
# signed out after this many minutes without a request, and this many hours
# after signing in, however active.
STAFF_SESSION_IDLE_MINUTES = env.int("STAFF_SESSION_IDLE_MINUTES", default=30)
STAFF_SESSION_MAX_HOURS = env.int("STAFF_SESSION_MAX_HOURS", default=12)

# --- Time and language ---------------------------------------------------

LANGUAGE_CODE = "en-us"
PRACTICE_TIME_ZONE = env.str("PRACTICE_TIME_ZONE", default="America/Los_Angeles")
try:
    ZoneInfo(PRACTICE_TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError) as exc:
    raise ImproperlyConfigured(
        f"PRACTICE_TIME_ZONE {PRACTICE_TIME_ZONE!r} is not a known time zone."
    ) from exc
TIME_ZONE = PRACTICE_TIME_ZONE
USE_I18N = True
USE_TZ = True
# "9:00 AM", "Tue, Jan 5, 2027": how the admin writes and reads dates and times.
FORMAT_MODULE_PATH = ["practice.formats"]

# --- Static files ----------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
# Signed consents, letters and uploads about clients: outside MEDIA_ROOT and
# STATIC_ROOT, served only by the audited view (practice/private_files.py,
# whose system check refuses a root inside either). Created on first write.
PRIVATE_FILES_ROOT = Path(env.str("PRIVATE_FILES_ROOT", default=str(VAR_DIR / "private")))
# The largest upload kept, in bytes (checked by content: PDF, PNG, JPEG only).
PRIVATE_UPLOAD_MAX_BYTES = env.int("PRIVATE_UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
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

# --- Security ----------------------------------------------------------------

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = False  # the in-place newsletter form reads it
CSRF_FAILURE_VIEW = "practice.views.csrf_failure"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

# --- Logging ---------------------------------------------------------------
# Log lines carry ids and event names only: no names, emails or answers.

# Error emails go to ADMINS (comma-separated addresses), made by
# practice/error_reports.py: no POST value, frame variable, cookie or upload
# name in them, since those hold clinical text here.
ADMINS = [("Practice admin", address) for address in env.list("ADMINS", default=[])]
DEFAULT_EXCEPTION_REPORTER_FILTER = "practice.error_reports.ClinicalExceptionReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "practice.error_reports.ClinicalExceptionReporter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"require_debug_false": {"()": "django.utils.log.RequireDebugFalse"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.request": {
            "handlers": ["console", "mail_admins"],
            "level": "ERROR",
            "propagate": False,
        },
        # WeasyPrint tells every step of every PDF at INFO (eight lines a PDF).
        "weasyprint.progress": {"level": "WARNING"},
    },
}

# URL modules of the leaf apps, included at the root by practice.urls (the
# core reaches the leaf apps only through settings).
PRACTICE_APP_URLCONFS = ["consultations.urls", "kap_sessions.urls", "newsletter.urls"]

# --- Newsletter ----------------------------------------------------------------
# Everything the newsletter app reads; the defaults suit one practice on a
# transactional mail provider.

# How long a confirmation link works, in seconds. Unconfirmed sign-ups are
# purged after NEWSLETTER_PURGE_UNCONFIRMED_AFTER, so the link lives as long.
NEWSLETTER_CONFIRM_MAX_AGE = env.int("NEWSLETTER_CONFIRM_MAX_AGE", default=60 * 60 * 24 * 30)
# An unconfirmed address gets one reminder after this long, then is purged.
NEWSLETTER_REMIND_UNCONFIRMED_AFTER = env.int(
    "NEWSLETTER_REMIND_UNCONFIRMED_AFTER", default=60 * 60 * 24 * 3
)
NEWSLETTER_PURGE_UNCONFIRMED_AFTER = env.int(
    "NEWSLETTER_PURGE_UNCONFIRMED_AFTER", default=60 * 60 * 24 * 30
)
# Campaign messages a second across all senders (0: as fast as the mail
# server takes them), how many sender tasks share a campaign, and how many
# messages each sends before handing over to a fresh task.
NEWSLETTER_SEND_RATE = env.float("NEWSLETTER_SEND_RATE", default=20.0)
NEWSLETTER_SEND_PARALLEL = env.int("NEWSLETTER_SEND_PARALLEL", default=2)
NEWSLETTER_SEND_BATCH_SIZE = env.int("NEWSLETTER_SEND_BATCH_SIZE", default=200)
# A sending campaign with no progress for this long is taken up again by beat.
NEWSLETTER_SEND_STALL_AFTER = env.int("NEWSLETTER_SEND_STALL_AFTER", default=120)
# The mailto: half of List-Unsubscribe; empty means the practice's address.
NEWSLETTER_UNSUBSCRIBE_MAILTO = env.str("NEWSLETTER_UNSUBSCRIBE_MAILTO", default="")

# --- Calendar and free consultations -----------------------------------------

# Minutes before an appointment's start that each reminder goes out; the keys
# are practice.calendar.models.ReminderKind values.
CALENDAR_REMINDER_OFFSETS = {
    "day_before": env.int("REMINDER_DAY_BEFORE_MINUTES", default=24 * 60),
    "hour_before": env.int("REMINDER_HOUR_BEFORE_MINUTES", default=60),
}
# Extra reminders some kinds of appointment have, by appointment kind, in
# minutes before the start (practice/calendar/reminders.py): practical
# instructions two days before a long session.
CALENDAR_REMINDER_EXTRA_OFFSETS: dict[str, dict[str, int]] = {
    "dosing": {"two_days_before": env.int("REMINDER_TWO_DAYS_BEFORE_MINUTES", default=48 * 60)},
}


def _time_of_day(name: str, default: str) -> str:
    value = env.str(name, default=default)
    try:
        time.fromisoformat(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} {value!r} is not a time of day (HH:MM).") from exc
    return value


# The therapist's agenda of the day (kap_sessions/course_emails.py) goes out
# at this time of the practice's day; "a short form is ready" on its due date
# at this one (HH:MM, practice time).
KAP_AGENDA_TIME = _time_of_day("KAP_AGENDA_TIME", "07:00")
KAP_FORM_READY_TIME = _time_of_day("KAP_FORM_READY_TIME", "08:00")
# How long a process trusts its copy of the calendar's cache generation before
# asking the shared cache again: another process's booking shows on this
# process's pages at most this much later (the booking itself is always checked
# against the database).
CALENDAR_CACHE_LOCAL_SECONDS = env.float("CALENDAR_CACHE_LOCAL_SECONDS", default=1.0)

# --- Rate limits of the public forms (practice/ratelimit.py) -----------------

# Tries accepted per client address per window, as (limit, window in seconds)
# per scope; a limit of 0 turns that scope off (benchmarks only). The
# environment variables are the ones each limit had before it moved here.
_BOOKINGS_PER_HOUR = env.int("CONSULTATION_BOOKING_RATE_LIMIT", default=5)
RATE_LIMITS: dict[str, tuple[int, int]] = {
    "consultation_book": (_BOOKINGS_PER_HOUR, 60 * 60),
    "waitlist_join": (_BOOKINGS_PER_HOUR, 60 * 60),
    "newsletter_signup": (
        env.int("NEWSLETTER_SIGNUP_RATE_LIMIT", default=10),
        env.int("NEWSLETTER_SIGNUP_RATE_WINDOW", default=60 * 60),
    ),
    # "Send me a new link" on an expired or spent portal invitation.
    "invitation_renew": (env.int("INVITATION_RENEW_RATE_LIMIT", default=5), 60 * 60),
    # Fetches of the therapist's calendar feed (her calendar apps poll it).
    "calendar_feed": (env.int("CALENDAR_FEED_RATE_LIMIT", default=120), 60 * 60),
}
