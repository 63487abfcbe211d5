"""Settings, read from the environment in this one place (see .env.example for every variable).

Production safety comes from configuration: DEBUG is off unless the environment turns it on, and
SECRET_KEY is then required.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-used-with-debug-on"  # noqa: S105
# Keys SECRET_KEY replaced, still accepted while their signatures and sealed webhook secrets
# (webhooks.signing) are around: rotate by moving the old key here.
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "guardian",
    "django_celery_beat",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "django_htmx",
    "units",
    "documents",
    "workflow",
    "web",
    # Before drf_spectacular: api/templates overrides its Swagger UI page (no inline style, for the CSP).
    "api",
    "webhooks",
    "exchange",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "web.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF, whose check reads the form: refuses an upload past UPLOAD_MAX_REQUEST_BYTES (413).
    "web.uploads.UploadLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Outside the two below, so that their redirects carry the header too. django-otp's own
    # OTPMiddleware is not used: SecondFactorMiddleware keeps the verified state in the session.
    "web.middleware.PrivateCacheMiddleware",
    "web.middleware.SessionLimitsMiddleware",
    "web.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "web.context_processors.navigation",
            ],
        },
    },
]

# The embedded default is a SQLite file in the project folder; tests and deployments use PostgreSQL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Web, worker and beat share the file: take the write lock at BEGIN so that two writers never
    # both read the audit chain head and then fail to upgrade their lock.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }


def _postgres(database: dict) -> dict:
    """A PostgreSQL alias's connection settings: the primary's and the replica's alike."""
    database.setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    database["CONN_HEALTH_CHECKS"] = True
    # No JIT compilation: it pays off for long analytical queries, not for this short OLTP work. A
    # visibility check whose plan is estimated costly (the EXISTS over the unit tree) spent 1.1 s
    # compiling to run in 1 ms (make bench, receipts). A DATABASE_URL ?options=... still wins.
    database.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    # Prepared statements: psycopg prepares a statement the connection has run PG_PREPARE_THRESHOLD
    # times, and PostgreSQL then skips planning it. The doors and role checks are planned in about
    # 1 ms and run in 0.2 ms; prepared, the whole query takes 0.2 ms (make bench, receipts). It needs
    # server-side parameters and a connection that lives (CONN_MAX_AGE). Set 0 behind a pooler in
    # transaction mode (pgbouncer), which cannot keep a statement prepared (README: Deployment).
    prepare_threshold = env.int("PG_PREPARE_THRESHOLD", default=5)
    if prepare_threshold > 0:
        database["OPTIONS"].update(server_side_binding=True, prepare_threshold=prepare_threshold)
    else:
        database["OPTIONS"]["prepare_threshold"] = None  # psycopg 3: never prepare
    # Behind a pooler in transaction mode a server-side cursor (QuerySet.iterator()) may outlive the
    # transaction's server connection: DISABLE_SERVER_SIDE_CURSORS=1 there.
    database["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DISABLE_SERVER_SIDE_CURSORS", default=False)
    return database


if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    _postgres(DATABASES["default"])
# A read replica (a streaming standby of the primary), optional: the read-only pages read from it,
# everything else and every write from the primary (config/routers.py). Unset: no "replica" alias,
# every query on "default", as before. The tests make it a mirror of the default test database.
REPLICA_DATABASE_URL = env.str("REPLICA_DATABASE_URL", default="")
DATABASE_ROUTERS = []
if REPLICA_DATABASE_URL:
    DATABASES["replica"] = _postgres(env.db_url_config(REPLICA_DATABASE_URL))
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["config.routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First, as django-axes requires: refuses a locked-out login before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Guardian's anonymous user is not used: anonymous visitors see nothing.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "inbox"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after SESSION_IDLE_MINUTES without a request the person made (background refreshes
# do not count) and SESSION_MAX_HOURS after the login, whatever happens (web.middleware). The cookie
# and the stored session live as long as the longest a session may last.
SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=30)
SESSION_MAX_HOURS = env.int("SESSION_MAX_HOURS", default=12)
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
# Password reset by email is off unless turned on: then its URLs exist, and each address and each
# email address may ask for at most so many reset mails an hour (web.accounts).
PASSWORD_RESET_ENABLED = env.bool("PASSWORD_RESET_ENABLED", default=False)
PASSWORD_RESET_ADDRESS_LIMIT = env.int("PASSWORD_RESET_ADDRESS_LIMIT", default=5)
PASSWORD_RESET_ACCOUNT_LIMIT = env.int("PASSWORD_RESET_ACCOUNT_LIMIT", default=3)
PASSWORD_RESET_TIMEOUT = 3600
# Second factor (TOTP, django-otp): anyone may enrol at /accounts/otp/; people holding one of these
# roles on any unit must (e.g. "signer,auditor"). Empty: optional for everyone.
OTP_REQUIRED_ROLES = env.list("OTP_REQUIRED_ROLES", default=[])
OTP_TOTP_ISSUER = "公文流转"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# Brute-force protection (django-axes). AXES_FAILURE_LIMIT wrong passwords for one username from one
# address lock that (username, address) pair for AXES_COOLOFF_MINUTES: the same person at another
# address is not locked out, so nobody can lock a chosen clerk out from afar. AXES_IP_FAILURE_LIMIT
# failures from one address, whatever the usernames, lock the address itself (rotating usernames does
# not help). web.lockout holds the two limits; a successful login clears only its own pair's count.
# Behind a reverse proxy, set AXES_IPWARE_PROXY_COUNT so the client's address is the one counted;
# offices behind one NAT address share the address's count.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_IP_FAILURE_LIMIT = env.int("AXES_IP_FAILURE_LIMIT", default=50)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "web.lockout.PairAndAddressLockoutHandler"
AXES_IPWARE_PROXY_COUNT = env.int("AXES_IPWARE_PROXY_COUNT", default=0) or None
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Not verbose: no start-up banner, and the client named by the lockout parameters only (see LOGGING).
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# A directory of licensed faces (方正小标宋简体, 仿宋_GB2312, 楷体_GB2312, 黑体) that the official layout's
# PDF prints with instead of the free Fandol faces (documents.faces). Empty: the Fandol faces.
OFFICIAL_FONTS_DIR = env.str("OFFICIAL_FONTS_DIR", default="")

# Attachments: what a clerk may attach to a document, checked before anything is stored.
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=20 * 1024 * 1024)
ATTACHMENT_ALLOWED_EXTENSIONS = env.list(
    "ATTACHMENT_ALLOWED_EXTENSIONS", default=["pdf", "ofd", "docx", "xlsx", "txt", "png", "jpg", "jpeg"]
)
# The files of one request together (拟稿 or 办结 with several attachments), counted as they arrive by
# web.uploads: Django bounds a request's form fields, not its files. Twice the largest attachment, so
# one file of the largest size still goes with its companions, while a web worker never spools more
# than this to temporary files for one request (4 × 19 MB went through before).
UPLOAD_MAX_REQUEST_BYTES = env.int("UPLOAD_MAX_REQUEST_BYTES", default=2 * ATTACHMENT_MAX_BYTES)
if UPLOAD_MAX_REQUEST_BYTES < ATTACHMENT_MAX_BYTES:
    raise ImproperlyConfigured("UPLOAD_MAX_REQUEST_BYTES must be at least ATTACHMENT_MAX_BYTES.")
FILE_UPLOAD_HANDLERS = [
    "web.uploads.UploadLimitHandler",  # first, so that it sees every chunk before it is kept
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# Import from files (import_document): the largest file read, text or .docx (a text of a few hundred
# pages is well under a megabyte), which also bounds the characters of text a .docx may yield; the
# bytes a .docx's parts may inflate to; and its zip members. Only the XML the text needs is inflated,
# never the images. With every character in a run of its own (about 200 bytes of XML each), the
# document.xml of a 100-page document (22 lines of 28 characters a page) is about 12 MB; a Word file
# has a dozen parts plus one per image, header and footer.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
IMPORT_MAX_UNPACKED_BYTES = env.int("IMPORT_MAX_UNPACKED_BYTES", default=32 * 1024 * 1024)
IMPORT_MAX_ZIP_MEMBERS = env.int("IMPORT_MAX_ZIP_MEMBERS", default=1000)
IMPORT_MAX_PAGES = env.int("IMPORT_MAX_PAGES", default=200)
IMPORT_MAX_PIXELS = env.int("IMPORT_MAX_PIXELS", default=40_000_000)
IMPORT_OCR_SECONDS = env.int("IMPORT_OCR_SECONDS", default=300)

# EMAIL_URL: smtp://user:password@host:25, smtp+tls://…, consolemail://, filemail:///path, dummymail://
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
# filemail:///var/mail/gongwen names an absolute path (django-environ drops the leading slash).
EMAIL_FILE_PATH = "/" + _email["EMAIL_FILE_PATH"].lstrip("/") if _email.get("EMAIL_FILE_PATH") else None
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="公文流转 <gongwen@localhost>")

# --- Celery -------------------------------------------------------------------------------------
# With REDIS_URL unset (the embedded default) the broker is kombu's filesystem transport: messages
# are files under var/broker, so web, worker and beat talk without any server running.
REDIS_URL = env.str("REDIS_URL", default="")
# Runs that share a Redis keep their keys apart by this prefix; each of pytest-xdist's workers (and
# the Celery workers a test starts, which inherit its environment) adds its own name to it. Set by
# pytest-xdist itself, never by an operator: not a setting of the product.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
BROKER_KEY_PREFIX = env.str("BROKER_KEY_PREFIX", default="") + (f"{_XDIST_WORKER}:" if _XDIST_WORKER else "")
BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Far below Celery's one-hour default: a message whose worker died comes back in minutes.
        # Every task finishes well inside it (routing 10^5 units takes seconds).
        "visibility_timeout": env.int("BROKER_VISIBILITY_TIMEOUT", default=300),
        "global_keyprefix": BROKER_KEY_PREFIX,
    }
else:
    CELERY_BROKER_URL = "filesystem://localhost/"
    for _folder in ("queue", "processed", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "routine"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing gives up quickly when the broker is down: the work is in the database and the sweep
# enqueues it again, so a request never hangs on a dead broker.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# How often the sweep looks for routing or notification work that a lost message left unfinished,
# and how old an enqueued job must be before the sweep enqueues it again.
SWEEP_INTERVAL_SECONDS = env.int("SWEEP_INTERVAL_SECONDS", default=60)
SWEEP_STALE_SECONDS = env.int("SWEEP_STALE_SECONDS", default=120)
# Starts of a dispatch's routing (or notification) after which it is left for a person to look at:
# a dispatch that crashes its worker every time is not re-run forever.
DISPATCH_MAX_ATTEMPTS = env.int("DISPATCH_MAX_ATTEMPTS", default=10)
# Periodic work, stored by django-celery-beat's DatabaseScheduler (visible in the admin). Every
# entry runs on the control queue, so a routine backlog never delays it.
# 催办: how often the beat looks for deliveries past a deadline, how long a unit has after one
# reminder before the next, and after how many reminders the parent unit's clerks are told too
# (once per delivery). A sweep handles REMINDER_BATCH_SIZE deliveries per transaction.
REMINDER_SWEEP_SECONDS = env.int("REMINDER_SWEEP_SECONDS", default=60)
REMINDER_INTERVAL_MINUTES = env.int("REMINDER_INTERVAL_MINUTES", default=240)
REMINDER_ESCALATE_AFTER = env.int("REMINDER_ESCALATE_AFTER", default=3)
REMINDER_BATCH_SIZE = env.int("REMINDER_BATCH_SIZE", default=1000)
# Office hours (Asia/Shanghai, on working days of the calendar) for the sweep's reminders of 加急,
# 平急 and 普通 documents: a deadline that ends at midnight is urged when the office opens, not at
# 00:00. 特提 and 特急 are urged around the clock. Empty: every urgency around the clock.
REMINDER_OFFICE_HOURS = env.str("REMINDER_OFFICE_HOURS", default="08:00-18:00")
# Signed checkpoints of the audit log (workflow.checkpoints), kept outside the database: the
# Ed25519 private key (a file, never a table; `manage.py audit_keygen PATH` writes one; unset: no
# checkpoint is written), the published public keys (PEM; unset: derived from the private key), the
# directory that receives one file per checkpoint (empty: none), where copies go, and how often the
# beat writes one.
AUDIT_SIGNING_KEY_FILE = env.str("AUDIT_SIGNING_KEY_FILE", default="")
AUDIT_PUBLIC_KEY_FILE = env.str("AUDIT_PUBLIC_KEY_FILE", default="")
AUDIT_CHECKPOINT_DIR = env.str("AUDIT_CHECKPOINT_DIR", default=str(VAR_DIR / "checkpoints"))
AUDIT_CHECKPOINT_URL = env.str("AUDIT_CHECKPOINT_URL", default="")
AUDIT_CHECKPOINT_EMAILS = env.list("AUDIT_CHECKPOINT_EMAILS", default=[])
AUDIT_CHECKPOINT_SECONDS = env.int("AUDIT_CHECKPOINT_SECONDS", default=3600)
# 公文交换 with other installations (exchange/): this installation's name as its peers know it
# (empty: the exchange is off, its endpoint answers 404), its Ed25519 key (a file; `manage.py
# exchange_keygen PATH` writes one), and how far a message's timestamp may be from now.
EXCHANGE_INSTALLATION = env.str("EXCHANGE_INSTALLATION", default="")
EXCHANGE_SIGNING_KEY_FILE = env.str("EXCHANGE_SIGNING_KEY_FILE", default="")
EXCHANGE_REPLAY_SECONDS = env.int("EXCHANGE_REPLAY_SECONDS", default=300)
# Sending: seconds an attempt may take to connect, and again to answer; the first retry after about
# EXCHANGE_RETRY_SECONDS, each next about twice as late (with jitter, at most a quarter of the
# window), until EXCHANGE_RETRY_WINDOW_SECONDS after the consignment was made (then it has failed
# and the sending clerks are told); how often the beat enqueues the consignments that are due.
EXCHANGE_TIMEOUT_SECONDS = env.float("EXCHANGE_TIMEOUT_SECONDS", default=10.0)
EXCHANGE_RETRY_SECONDS = env.float("EXCHANGE_RETRY_SECONDS", default=30.0)
EXCHANGE_RETRY_WINDOW_SECONDS = env.float("EXCHANGE_RETRY_WINDOW_SECONDS", default=3 * 24 * 3600.0)
EXCHANGE_SWEEP_SECONDS = env.float("EXCHANGE_SWEEP_SECONDS", default=5.0)
# Reports (转发情况) of the chain below a consignment taken in: at most one per consignment in this
# many seconds, however busy its chain (each carries the whole subtree; the changes between wait for
# the next, made by the sweep once it is due).
EXCHANGE_REPORT_SECONDS = env.float("EXCHANGE_REPORT_SECONDS", default=30.0)
# Files: a consignment carries its files inline up to EXCHANGE_INLINE_BYTES in all; larger, each
# file goes ahead in chunks of EXCHANGE_CHUNK_BYTES (PUT /exchange/v1/files/<sha256>), resumed
# where the peer's copy ends after a cut.
EXCHANGE_INLINE_BYTES = env.int("EXCHANGE_INLINE_BYTES", default=1024 * 1024)
EXCHANGE_CHUNK_BYTES = env.int("EXCHANGE_CHUNK_BYTES", default=4 * 1024 * 1024)
# TLS to peers (https exchange addresses): the authorities that sign their server certificates
# (PEM; empty: the system's), and this installation's client certificate and key (PEM), presented
# to a peer whose web server asks for one (mutual TLS; empty: none).
EXCHANGE_TLS_CA_FILE = env.str("EXCHANGE_TLS_CA_FILE", default="")
EXCHANGE_TLS_CERT_FILE = env.str("EXCHANGE_TLS_CERT_FILE", default="")
EXCHANGE_TLS_KEY_FILE = env.str("EXCHANGE_TLS_KEY_FILE", default="")
CELERY_BEAT_SCHEDULE = {
    "sweep unfinished routing and notification": {
        "task": "workflow.sweep",
        "schedule": float(SWEEP_INTERVAL_SECONDS),
        "options": {"queue": "control", "expires": SWEEP_INTERVAL_SECONDS * 5},
    },
    "remind overdue deliveries (催办)": {
        "task": "workflow.remind_overdue",
        "schedule": float(REMINDER_SWEEP_SECONDS),
        "options": {"queue": "control", "expires": REMINDER_SWEEP_SECONDS * 5},
    },
    # 承办催办 inside the recipient units: an overdue assignment is urged at most once a working day
    # (workflow.services.inunit), so a sweep every REMINDER_SWEEP_SECONDS finds little to do.
    "remind overdue assignments (承办催办)": {
        "task": "workflow.remind_assignments",
        "schedule": float(REMINDER_SWEEP_SECONDS),
        "options": {"queue": "control", "expires": REMINDER_SWEEP_SECONDS * 5},
    },
    # The outbox's sweep: what no run enqueued on commit sent. At most 1000 emails a run, so that
    # the control queue stays short; the bulk goes out in the runs on the work's own queue.
    "email unsent notifications": {
        "task": "workflow.email_notifications",
        "schedule": float(SWEEP_INTERVAL_SECONDS),
        "kwargs": {"limit": 1000},
        "options": {"queue": "control", "expires": SWEEP_INTERVAL_SECONDS * 5},
    },
    "verify the audit chain": {
        "task": "workflow.verify_audit",
        "schedule": 3600.0,
        "options": {"queue": "control", "expires": 3600},
    },
    # Idempotency keys older than API_IDEMPOTENCY_HOURS (a key is also treated as absent once that
    # old, so the purge only keeps the table small).
    "forget old idempotency keys": {
        "task": "api.purge_idempotency_keys",
        "schedule": 3600.0,
        "options": {"queue": "control", "expires": 3600},
    },
    "write a signed audit checkpoint": {
        "task": "workflow.audit_checkpoint",
        "schedule": float(AUDIT_CHECKPOINT_SECONDS),
        "options": {"queue": "control", "expires": AUDIT_CHECKPOINT_SECONDS},
    },
}
# Deliveries created per transaction while routing a dispatch.
ROUTING_CHUNK_SIZE = env.int("ROUTING_CHUNK_SIZE", default=2000)
# Above this many deliveries the chain page stops drawing the whole tree and shows its figures per
# level and per branch, from the dispatch figures (web.selectors.chain_big_page, issue 18).
CHAIN_TREE_LIMIT = env.int("CHAIN_TREE_LIMIT", default=10_000)

# --- Webhooks (webhooks/) -------------------------------------------------------------------------
# Where calls may go: host names, IP addresses and networks (CIDR). A subscription's host must be a
# listed name or a listed address; every address the name resolves to, when subscribing and again
# at each call, must be public or inside a listed network (so that DNS cannot turn a call towards an
# internal address). Empty: no webhooks at all. Calls use https, except to the hosts listed in
# WEBHOOK_PLAIN_HTTP_HOSTS (a receiver on the same machine, the tests' loopback).
WEBHOOK_ALLOWED_HOSTS = env.list("WEBHOOK_ALLOWED_HOSTS", default=[])
WEBHOOK_PLAIN_HTTP_HOSTS = env.list("WEBHOOK_PLAIN_HTTP_HOSTS", default=[])
# Seconds a call may take to connect, and again to answer.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# Retries: the first after about WEBHOOK_RETRY_SECONDS, each next one about twice as late (with
# jitter, at most a quarter of the window), until WEBHOOK_RETRY_WINDOW_SECONDS after the call was
# first due; then the call is dead (its admin may send it again).
WEBHOOK_RETRY_SECONDS = env.float("WEBHOOK_RETRY_SECONDS", default=5.0)
WEBHOOK_RETRY_WINDOW_SECONDS = env.float("WEBHOOK_RETRY_WINDOW_SECONDS", default=24 * 3600.0)
# How often the beat turns new audit events into calls and sends the calls that are due.
WEBHOOK_SWEEP_SECONDS = env.float("WEBHOOK_SWEEP_SECONDS", default=5.0)
CELERY_BEAT_SCHEDULE["derive webhook events from the audit log"] = {
    "task": "webhooks.derive_events",
    "schedule": WEBHOOK_SWEEP_SECONDS,
    "options": {"queue": "webhooks", "expires": WEBHOOK_SWEEP_SECONDS * 5},
}
CELERY_BEAT_SCHEDULE["send the consignments to peers that are due (公文交换)"] = {
    "task": "exchange.sweep",
    "schedule": EXCHANGE_SWEEP_SECONDS,
    "options": {"queue": "control", "expires": EXCHANGE_SWEEP_SECONDS * 5},
}
CELERY_BEAT_SCHEDULE["send webhook calls that are due"] = {
    "task": "webhooks.send_calls",
    "schedule": WEBHOOK_SWEEP_SECONDS,
    "options": {"queue": "webhooks", "expires": WEBHOOK_SWEEP_SECONDS * 5},
}

# --- Security -----------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): every script, style, image and font comes from this site;
# no inline script or style, no eval (htmx is configured without it in the base template).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # WeasyPrint logs every layout step at INFO: one line per page of every PDF printed. django-axes
    # logs four INFO lines per login (the login, two clean-ups, the reset of the count) and two per
    # logout; the access log table keeps every login already (the admin's Axes pages). Its warnings
    # stay: every failed login and every lockout.
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# --- The JSON API under /api/v1/ (api/) --------------------------------------------------------------
# Bearer tokens or client keys only (api.authentication): no session, so no CSRF and no cookie a
# browser would add by itself. JSON out, Chinese kept as UTF-8 (DRF's UNICODE_JSON); the browsable
# renderer only with DEBUG on. Every error is RFC 9457 problem+json (api.problems).
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser", "api.parsers.MultiPartParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["api.authentication.BearerAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.ScopeRequired"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.PerMinuteThrottle"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Cursor",
    "DEFAULT_SCHEMA_CLASS": "api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
    # No OPTIONS metadata (405): what a route accepts is in the schema.
    "DEFAULT_METADATA_CLASS": None,
    "UNICODE_JSON": True,
    "COMPACT_JSON": True,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "公文流转 API",
    "DESCRIPTION": _(
        "公文流转的接口，供其他系统（OA、档案、督查、机要终端）使用：与页面经过同样的访问控制和业务服务。"
        "认证：Authorization: Bearer <令牌>，个人访问令牌（manage.py api_token）或接口客户端密钥（gwk_…，"
        "系统管理员在管理后台创建）。错误按 RFC 9457 以 application/problem+json 返回，默认中文，"
        "Accept-Language: en 时为英文。列表一律游标分页。每个 POST 可带 Idempotency-Key。"
    ),
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SORT_OPERATIONS": False,
    # The schema and the docs are public (they describe the API, they show no data).
    "SERVE_AUTHENTICATION": [],
    # Choice sets that share a field name (`state`, `kind`) get a name each.
    "ENUM_NAME_OVERRIDES": {
        "DeliveryState": "workflow.models.Delivery.State",
        "DocumentState": "documents.models.Document.State",
        "DocumentKind": "documents.elements.Kind",
        "UnitKind": "units.models.Unit.Kind",
        "NotificationKind": "workflow.models.Notification.Kind",
    },
    # Swagger UI's files from drf-spectacular-sidecar, served by the app (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# Requests a minute: each client has its own limit (ApiClient.rate_limit_per_minute); a person using a
# token has this one. Counted in Redis when REDIS_URL is set, so that every web worker shares one
# count; in the process otherwise (the demo, one web process).
API_PERSON_RATE_LIMIT_PER_MINUTE = env.int("API_PERSON_RATE_LIMIT_PER_MINUTE", default=600)
# How long an Idempotency-Key is remembered (api.idempotency): a retry within it gets the first answer.
API_IDEMPOTENCY_HOURS = 24
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "api": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api"},
}
# The broker's key prefix: runs that share a Redis (the test runs) keep their counts apart.
CACHES["api"]["KEY_PREFIX"] = BROKER_KEY_PREFIX + "api"

# This system is not an approved channel for classified (涉密) documents unless deployed as one.
CLASSIFIED_ALLOWED = env.bool("CLASSIFIED_ALLOWED", default=False)
# The address people use to reach the site, for links in emails.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
