"""Settings, read from the environment once.

Every variable is listed with its default in `.env.example`. A `.env` file beside `manage.py` is
read first when it exists; variables already set in the environment win over it.
"""
import os
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _load_dotenv(path: Path) -> None:
    """Put `KEY=value` lines of `path` into os.environ, without overriding what is already set."""
    if not path.is_file():
        return
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ImproperlyConfigured(f"{path}:{number}: expected KEY=value")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        os.environ.setdefault(key.strip(), value)


_load_dotenv(BASE_DIR / ".env")


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_choice(name: str, default: str, choices: dict[str, str]) -> str:
    """One of `choices` (what may be written -> the value it means)."""
    raw = (os.environ.get(name) or default).strip().lower()
    if raw not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(sorted(choices))}, not {raw!r}")
    return choices[raw]


def env_number(name: str, default: float, cast=float, minimum: float = 0):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = cast(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {raw!r}")
    return value


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_path(name: str, default: Path) -> Path:
    """A directory; a relative one is taken from the project's directory, not the current one."""
    raw = env_str(name)
    return (BASE_DIR / Path(raw).expanduser()).resolve() if raw else default


def env_seconds_range(name: str, default: str) -> tuple[float, float]:
    """`30` or `20,60`: a pause drawn at random between the two."""
    raw = env_str(name) or default
    try:
        bounds = [float(part) for part in raw.split(",")]
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be seconds or min,max seconds, not {raw!r}") from None
    if len(bounds) == 1:
        bounds *= 2
    if len(bounds) != 2 or not 0 <= bounds[0] <= bounds[1]:
        raise ImproperlyConfigured(f"{name} must be seconds or min,max seconds with 0 <= min <= max, not {raw!r}")
    return bounds[0], bounds[1]


DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it in the environment or in .env "
            "(`make run` writes one), or set DJANGO_DEBUG=true for local development."
        )
    SECRET_KEY = "insecure-debug-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from here: no CDN
    "accounts",
    "postings",
    "webhooks",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
            ],
        },
    },
]

# Database: a SQLite file by default, PostgreSQL (or anything dj-database-url knows) through
# DATABASE_URL. SQLite runs in WAL mode with a busy timeout and IMMEDIATE transactions: the web
# server and a posting worker (another process) write at once, and a DEFERRED transaction that
# reads first and writes later fails at once with "database is locked" instead of waiting.
SQLITE_BUSY_TIMEOUT_SECONDS = 20
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=0,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON",
    }
    # A file, not memory, so that subprocesses started by tests see the same database; one per
    # test run, so that two runs in one checkout do not delete each other's.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"marketplace-poster-test-{os.getpid()}.sqlite3")
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# Files. Media (listing photos, error screenshots) is never served publicly: each file is served
# by an endpoint that checks its owner. Session files hold credentials and live outside MEDIA_ROOT.
MEDIA_URL = "/media/"
MEDIA_ROOT = env_path("MEDIA_ROOT", BASE_DIR / "media")
LOG_DIR = env_path("LOG_DIR", BASE_DIR / "logs")
SESSIONS_DIR = env_path("SESSIONS_DIR", BASE_DIR / "sessions")
if SESSIONS_DIR == MEDIA_ROOT or MEDIA_ROOT in SESSIONS_DIR.parents:
    raise ImproperlyConfigured("SESSIONS_DIR must not be inside MEDIA_ROOT: session files are secrets")

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_IMAGES_PER_POST = 10

# The posting engine.
MARKETPLACE_BASE_URL = env_str("MARKETPLACE_BASE_URL", "https://www.facebook.com").rstrip("/")
MARKETPLACE_SELECTORS_FILE = env_str("MARKETPLACE_SELECTORS_FILE")
BROWSER_EXECUTABLE = env_str("BROWSER_EXECUTABLE")
BROWSER_HEADLESS = env_bool("BROWSER_HEADLESS", True)
BROWSER_TIMEOUT_SECONDS = env_number("BROWSER_TIMEOUT_SECONDS", 30.0, minimum=1)
# A Playwright trace of every post, kept (cookie values scrubbed) only when the post fails: "on"
# records actions, DOM snapshots and network; "full" adds screenshots (Playwright's film strip);
# "off" records nothing. Costs per listing are in the README's benchmarks.
BROWSER_TRACE = env_choice("BROWSER_TRACE", "on", {
    "on": "on", "true": "on", "full": "full", "off": "off", "false": "off",
})


# Between two posts of one account: random in [min, max]. The default is gentle enough for the
# real site ("We limit how often you can post"); tests set 0.
POSTING_DELAY_SECONDS = env_seconds_range("POSTING_DELAY_SECONDS", "45,120")
POSTING_MAX_ATTEMPTS = env_number("POSTING_MAX_ATTEMPTS", 3, int, 1)
POSTING_RETRY_BACKOFF_SECONDS = env_number("POSTING_RETRY_BACKOFF_SECONDS", 5.0)
# Posting budgets per account (an account's own daily_post_limit / hourly_post_limit win; 0: no
# limit), counting every listing it published or tried to publish in the last 24 h / 60 min.
# Facebook blocks accounts after about 120 page loads an hour, and a post loads 3-5 pages (the
# form, its steps' requests, the page it lands on): 6 an hour stays at a quarter of that, leaving
# room for the operator's own use of the account. Facebook gives no number for its daily limits
# (facebook.md: new accounts have one): 20 a day is a cautious guess, meant to be raised per account.
ACCOUNT_DAILY_POST_LIMIT = env_number("ACCOUNT_DAILY_POST_LIMIT", 20, int, 0)
ACCOUNT_HOURLY_POST_LIMIT = env_number("ACCOUNT_HOURLY_POST_LIMIT", 6, int, 0)
# A listing past its account's budget waits for the account's next slot if it comes within this
# many minutes (60: an hourly budget always waits, a full day's mostly not), else it is left pending.
BUDGET_WAIT_MAX_MINUTES = env_number("BUDGET_WAIT_MAX_MINUTES", 60.0)
# After a block (rate_limit) no job posts with the account for this long: posting on deepens a block.
ACCOUNT_BLOCK_PAUSE_HOURS = env_number("ACCOUNT_BLOCK_PAUSE_HOURS", 24.0)
# How often the server's timekeeper starts scheduled jobs, reaps dead workers' jobs and sends
# what is due (config/timekeeper.py): a scheduled job starts at most this late.
TIMEKEEPER_SECONDS = env_number("TIMEKEEPER_SECONDS", 5.0, minimum=0.1)
JOB_HEARTBEAT_SECONDS = env_number("JOB_HEARTBEAT_SECONDS", 5.0, minimum=0.1)
JOB_STALE_SECONDS = env_number("JOB_STALE_SECONDS", 60.0, minimum=1)
# How many posts are in flight at the same time on one host, across all its jobs, and how many
# threads (lanes) a job posts its accounts with: each account a browser context of its own in the
# job's shared Chromium. 1 is the sequential runner (one account at a time, interleaved). Default:
# the host's CPUs, since a form is CPU-bound (bench/throughput.py: on 2 cores, 3 or 4 lanes post no
# faster than 2 and cost 35-45 MB more per account).
_CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1  # usable ones
POSTING_CONCURRENCY = env_number("POSTING_CONCURRENCY", _CPUS, int, 1)
# Where this host's browser slots are (lock files): one directory per host, never a shared mount.
BROWSER_SLOTS_DIR = env_path("BROWSER_SLOTS_DIR", Path(tempfile.gettempdir()) / "marketplace-poster-browser-slots")
# Who runs jobs: "subprocess" (start-posting starts `manage.py post_to_marketplace` on this host)
# or "procrastinate" (a task on Procrastinate's PostgreSQL queue, run by `manage.py procrastinate
# worker` on any machine that shares the database and the files).
JOB_RUNNER = env_choice("JOB_RUNNER", "subprocess", {"subprocess": "subprocess", "procrastinate": "procrastinate"})
if JOB_RUNNER == "procrastinate":
    if not DATABASES["default"]["ENGINE"].endswith(("postgresql", "postgis")):
        raise ImproperlyConfigured(
            "JOB_RUNNER=procrastinate needs PostgreSQL: Procrastinate's queue is a SQL schema of its own "
            "(tables, functions, triggers) and its workers are woken by LISTEN/NOTIFY, neither of which "
            "SQLite has. Set DATABASE_URL to a PostgreSQL database (postgres://user:pass@host:5432/name), "
            "or set JOB_RUNNER=subprocess (the default) to run jobs on this machine."
        )
    # Its app brings its migrations (PostgreSQL-only), so they exist only where it is on.
    INSTALLED_APPS.append("procrastinate.contrib.django")
    # A worker takes at most as many jobs at once as its host has browsers, leaving the rest in the
    # queue for other machines; a job that succeeded is dropped from the queue (its PostingJob stays).
    PROCRASTINATE_WORKER_DEFAULTS = {"concurrency": POSTING_CONCURRENCY, "delete_jobs": "successful"}
SESSION_MAX_AGE_DAYS = env_number("SESSION_MAX_AGE_DAYS", 30.0)

# Webhooks (webhooks/): how long a receiver may take to answer one delivery, and how many attempts a
# delivery gets (backing off from 10 s to 2 h between them) before it is given up.
WEBHOOK_TIMEOUT_SECONDS = env_number("WEBHOOK_TIMEOUT_SECONDS", 10.0, minimum=0.1)
WEBHOOK_MAX_ATTEMPTS = env_number("WEBHOOK_MAX_ATTEMPTS", 5, int, 1)

# The job status stream: how often the shared watcher reads the watched jobs, the silence after
# which a comment keeps the connection open, and the reconnection delay suggested to clients.
SSE_POLL_SECONDS = env_number("SSE_POLL_SECONDS", 0.5, minimum=0.01)
SSE_HEARTBEAT_SECONDS = env_number("SSE_HEARTBEAT_SECONDS", 15.0, minimum=0.1)
SSE_RETRY_MILLISECONDS = env_number("SSE_RETRY_MILLISECONDS", 3000, int, 0)

# API.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerOrCookieJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.PageNumberPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "EXCEPTION_HANDLER": "config.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_number("JWT_ACCESS_MINUTES", 60, int, 1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_number("JWT_REFRESH_DAYS", 7, int, 1)),
    "AUTH_HEADER_TYPES": ("Bearer",),
}
# The access token is also set as this cookie (httpOnly, SameSite=Lax) and accepted on GET/HEAD
# only: an EventSource or an <img> from the dashboard's origin can read, nothing can write.
AUTH_COOKIE_NAME = "mp_access"
AUTH_COOKIE_SECURE = env_bool("AUTH_COOKIE_SECURE", not DEBUG)

SPECTACULAR_SETTINGS = {
    "TITLE": "Marketplace Poster API",
    "DESCRIPTION": "Posts listings to Facebook Marketplace through a real browser, for operators "
    "who run several Facebook accounts.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "HealthStatusEnum": ["healthy", "warning", "error"],
        "WebhookEventEnum": "webhooks.models.Event",
        "DeliveryStateEnum": "webhooks.models.WebhookDelivery.State",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.add_plain_views",
        "config.schema.add_error_responses",
    ],
}

# CORS for the dashboard: an explicit list of origins with credentials, never a wildcard.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", "http://localhost:3000")
CORS_ALLOW_CREDENTIALS = True
CSRF_TRUSTED_ORIGINS = CORS_ALLOWED_ORIGINS
SESSION_COOKIE_SECURE = AUTH_COOKIE_SECURE
CSRF_COOKIE_SECURE = AUTH_COOKIE_SECURE

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
