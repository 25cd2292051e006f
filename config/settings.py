"""Settings, all from the environment.

Unset, they give the embedded default: a SQLite file in the project and Celery in eager mode,
so that ``make run`` needs nothing but Python. Production sets ``DATABASE_URL`` (PostgreSQL),
``REDIS_URL``, ``SECRET_KEY`` and ``ALLOWED_HOSTS``; ``DEBUG`` is off unless ``DEBUG=1``.
"""

import os
from datetime import datetime, timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_time(name: str, default: str) -> datetime:
    """An ISO 8601 time with its UTC offset (``2000-01-01T00:00:00Z``)."""
    moment = datetime.fromisoformat(os.environ.get(name, default))
    if moment.tzinfo is None:
        raise ImproperlyConfigured(f"{name} needs a UTC offset, e.g. 2000-01-01T00:00:00Z.")
    return moment


DEBUG = env_bool("DEBUG")

_INSECURE_DEV_KEY = "django-insecure-dev-only-key-never-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY") or _INSECURE_DEV_KEY
if SECRET_KEY == _INSECURE_DEV_KEY and not DEBUG and not env_bool("ALLOW_INSECURE_SECRET_KEY"):
    raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=1 for local development).")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_countries",
    "django_filters",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's and ReDoc's assets, served from here (no CDN)
    "axes",
    "simple_history",  # reference data history: who changed what, old and new values
    "recyclers",
    "custody",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # API bodies over API_MAX_BODY_BYTES are refused (413) before anything reads them.
    "custody.api.middleware.BodyLimits",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Django's, without the slash-appending redirect of API writes (it turns a POST into a GET).
    "custody.api.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Names the signed-in user on every history record of reference data an admin edit writes.
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a login refused for too many failures into a 429 page.
    "axes.middleware.AxesMiddleware",
]

if not DEBUG:
    # Serves the collected static files (the admin's CSS) from gunicorn, compressed and cached.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

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
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so that two writers queue instead of
    # failing with "database is locked" when a read inside a transaction upgrades to a write.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth, i18n, static -----------------------------------------------------------------------
# Admin login throttling (django-axes): after ADMIN_LOGIN_FAILURE_LIMIT failed logins for one
# username from one address, that pair is refused for ADMIN_LOGIN_COOLOFF_MINUTES (a failure
# during the cool-off starts it again; a success clears the count). Addresses are REMOTE_ADDR:
# behind a proxy every login shares the proxy's, so the lockout is per username. API keys never
# go through Django's authenticate() and are not counted. Operators see and clear lockouts in the
# admin (Axes > Access attempts) or with `manage.py axes_reset`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("ADMIN_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("ADMIN_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no banner on every command; failures and lockouts are still logged

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Reports (certificates, ledger exports, audit packs) go to the default storage: local files
# here by default, kept out of the repository; any django-storages backend in production.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "media")
MEDIA_URL = os.environ.get("MEDIA_URL", "media/")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security (all on unless DEBUG) -------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env_bool("SECURE_PROXY_SSL_HEADER"):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Cache (API throttling counts): Redis when there is one, shared by every process -------
REDIS_URL = os.environ.get("REDIS_URL", "")
# How long a request waits on Redis (a throttle count, a task's publish) before it goes on
# without it: the throttle then counts in-process, the outbox's sweeper sends the webhooks.
REDIS_TIMEOUT_SECONDS = float(os.environ.get("REDIS_TIMEOUT_SECONDS", "1"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        }
    }

# --- Partner API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "custody.api.auth.OrganizationAPIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["custody.api.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "custody.api.pagination.CursorPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_THROTTLE_CLASSES": ["custody.api.throttling.PerKeyThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "partner": os.environ.get("API_THROTTLE_RATE", "1200/min"),
        # The public verification of a certificate, per address: each request checks the
        # certificate's whole upstream ledger again (seconds for a batch of 10,000 lots).
        "verification": os.environ.get("VERIFY_THROTTLE_RATE", "30/min"),
    },
    "EXCEPTION_HANDLER": "custody.api.errors.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# How long a partner may retry a write and get its first answer back.
IDEMPOTENCY_TTL = timedelta(hours=int(os.environ.get("IDEMPOTENCY_TTL_HOURS", "24")))
# The largest request body the API reads (JSON or CSV); a larger one is a 413.
API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", str(8 * 1024 * 1024)))
SPECTACULAR_SETTINGS = {
    "TITLE": "Rare-earth custody ledger: partner API",
    "DESCRIPTION": (
        "Record and read the chain of custody of rare-earth recycling lots. Authenticate with "
        "`Authorization: Api-Key <key>`. Errors are RFC 9457 problem documents."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "EventKindEnum": "custody.models.EventKind",
        "ReportKindEnum": "custody.models.ReportKind",
        "TransformationKindEnum": ["split", "merge", "process"],
    },
    # Swagger UI and ReDoc from drf-spectacular-sidecar's static files: /api/docs/ works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "custody.api.schema.add_problem_responses",
    ],
}

# --- The transparency log (custody/services/transparency_log.py) -----------------------------
# The log's name, the first line of every checkpoint and the name of its signing key.
LOG_ORIGIN = os.environ.get("LOG_ORIGIN", "ree-custody.example/ledger")
# The Ed25519 private key that signs checkpoints: base64 of its 32 bytes, from the environment
# or a file. Required in production (a deploy check says so); with DEBUG=1, a key is made on
# first use into log-signing.key (kept out of the repository, .gitignore).
LOG_SIGNING_KEY = os.environ.get("LOG_SIGNING_KEY", "")
LOG_SIGNING_KEY_FILE = os.environ.get("LOG_SIGNING_KEY_FILE") or (
    str(BASE_DIR / "log-signing.key") if DEBUG else ""
)
# --- Certificates of origin (custody/services/certificates.py) ---------------------------------
# The platform's public address: the credentials' issuer (did:web of it) and the verification
# URL of each certificate (its QR code). Production sets its https address (a deploy check).
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# The Ed25519 key that signs the credentials: not the log's key, so that either may rotate or
# leak without touching the other. Like the log's: base64 of 32 bytes, or a file holding it;
# with DEBUG=1, made on first use into credential-signing.key (kept out of the repository).
CREDENTIAL_SIGNING_KEY = os.environ.get("CREDENTIAL_SIGNING_KEY", "")
CREDENTIAL_SIGNING_KEY_FILE = os.environ.get("CREDENTIAL_SIGNING_KEY_FILE") or (
    str(BASE_DIR / "credential-signing.key") if DEBUG else ""
)
# A report left running this long (its worker killed and its message lost) is queued again by
# the sweep beat runs (custody.tasks.requeue_stalled_reports).
REPORT_STALLED_SECONDS = int(os.environ.get("REPORT_STALLED_SECONDS", "900"))

# How often beat integrates what was committed since (with a worker); eager Celery (make run,
# no REDIS_URL) integrates each write's events as it commits instead.
LOG_INTEGRATE_SECONDS = float(os.environ.get("LOG_INTEGRATE_SECONDS", "2"))
# How many event ids one integration takes (with the ids it skipped before that came since).
LOG_BATCH_EVENTS = int(os.environ.get("LOG_BATCH_EVENTS", "100000"))

# --- Celery ------------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
# A down or silent broker never holds a committed write's answer: a publish tries once and
# gives up after REDIS_TIMEOUT_SECONDS (the outbox's sweeper sends what it did not take). The
# worker and beat keep retrying their own connections (broker_connection_max_retries).
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT_SECONDS
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
    "socket_timeout": REDIS_TIMEOUT_SECONDS,
    "max_retries": 0,  # connecting for a publish
    # A task taken but not acknowledged (acks_late) by a worker that died is delivered again
    # after this long: longer than any task runs, or a slow one would run twice at once.
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT_SECONDS", "3600")),
}
CELERY_TASK_PUBLISH_RETRY = False
# Results nobody reads are not stored: a task that keeps its result says so (verify_ledger).
# Each publish of one would subscribe the web process to its result channel, for good.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "verify-ledger-nightly": {
        "task": "custody.tasks.verify_ledger",
        "schedule": crontab(hour=3, minute=17),
    },
    "integrate-transparency-log": {
        "task": "custody.tasks.integrate_log",
        "schedule": LOG_INTEGRATE_SECONDS,
    },
    "requeue-stalled-reports": {
        "task": "custody.tasks.requeue_stalled_reports",
        "schedule": 300.0,
    },
    "send-due-webhooks": {
        "task": "custody.tasks.send_due_webhooks",
        "schedule": 60.0,
    },
    "reassess-stale-verdicts-hourly": {
        "task": "custody.tasks.reassess_verdicts",
        "schedule": crontab(minute=41),
    },
    "reassess-all-verdicts-nightly": {
        "task": "custody.tasks.reassess_verdicts",
        "schedule": crontab(hour=4, minute=7),
        "kwargs": {"everything": True},
    },
}

# --- The ledger ---------------------------------------------------------------------------------
CUSTODY = {
    # A lot heavier than this is a typo, not a truckload.
    "MAX_LOT_MASS_KG": os.environ.get("CUSTODY_MAX_LOT_MASS_KG", "1000000"),
    # How far ahead of the server clock a partner's occurred_at may be (clock skew).
    "CLOCK_SKEW": timedelta(seconds=int(os.environ.get("CUSTODY_CLOCK_SKEW_SECONDS", "300"))),
    # The earliest occurred_at an event may have: an older one is a typo (or an attack), not
    # a pickup.
    "OCCURRED_AT_FLOOR": env_time("CUSTODY_OCCURRED_AT_FLOOR", "2000-01-01T00:00:00Z"),
    # Most events one batch may record: it holds its lots' row locks until it commits.
    "MAX_BATCH_EVENTS": int(os.environ.get("CUSTODY_MAX_BATCH_EVENTS", "500")),
}

# Webhooks go to https URLs of public addresses only (custody/services/webhook_targets.py). On,
# for local development and tests alone: plain http and loopback and private addresses too.
WEBHOOK_ALLOW_PRIVATE_NETWORKS = env_bool("WEBHOOK_ALLOW_PRIVATE_NETWORKS")

# Reference data history (django-simple-history): the admin shows it and never reverts from it;
# a revert would be an edit like any other, made on the object's own page.
SIMPLE_HISTORY_REVERT_DISABLED = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
if CELERY_TASK_ALWAYS_EAGER:
    # Tasks run in-process after each write (verdict refresh, webhooks): not a line per task in
    # the server's or a command's output, nor kombu's note that the memory broker has no host.
    LOGGING["loggers"] = {
        "celery.app.trace": {"level": "WARNING"},
        "kombu.connection": {"level": "ERROR"},
    }
