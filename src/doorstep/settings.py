"""One settings module, configured by the environment.

DATABASE_URL   postgres://user@host:5432/name (production); unset -> SQLite under DATA_DIR
DATABASE_REPLICA_URL  a streaming replica of DATABASE_URL for reads that may be seconds old
               (directory, figures, big screen); REPLICA_MAX_LAG_SECONDS (5),
               REPLICA_FRESH_SECONDS (5), REPLICA_CHECK_SECONDS (1): see docs/scaling.md
DATABASE_POOLED  1 behind PgBouncer in transaction mode: nothing prepared, no server-side
               cursors, no `options` startup parameter (set jit=off on the role or database)
DATABASE_PREPARED  1 (default): PostgreSQL statements are bound and prepared on the server;
               0 behind a pooler in transaction mode (PgBouncer < 1.21), see docs/performance.md
SECRET_KEY     signs tickets, poster codes, sessions; unset -> a random key kept in DATA_DIR
SECRET_KEY_FALLBACKS  comma-separated earlier keys, still accepted (key rotation)
DEBUG          1/true to enable debug pages (default off)
ALLOWED_HOSTS  comma-separated (default 127.0.0.1,localhost)
TIME_ZONE      default Asia/Shanghai
DATA_DIR       where the SQLite file and generated data live (default ./data)
SMS_SENDER     dotted path of the sign-in code sender (default: print codes to the console)
NOTICE_SENDER  dotted path of the inbox's SMS/email sender (default: print to the console)
VISIT_DEDUPE_MINUTES, VISIT_DEFAULT_DWELL_MINUTES, VISIT_CODE_GRACE_MINUTES,
VISIT_DEVICE_PER_HOUR, VISIT_NETWORK_PER_HOUR, VISIT_SUSPECT_PER_HOUR  see docs/visits.md
VISIT_RETENTION_MONTHS  months of raw visits and service records kept (default 25: this month
               and the 24 before; 0 keeps all); the rollups stay (docs/scaling.md)
DIRECTORY_CACHE_SECONDS  how long a directory API answer may be reused (default 90; 0 = off)
TOKEN_CACHE_SECONDS  how long a process trusts a bearer token it verified (default 30; 0 = off):
               the bound within which a revocation reaches every process
REDIS_URL      redis://host:6379/0 for the shared rate-limit counters (default: the database)
HTTPS          1 when served over HTTPS: Secure cookies, HSTS (HSTS_SECONDS), redirect to https
PROXY_SSL_HEADER  META key of the proxy's scheme header, e.g. HTTP_X_FORWARDED_PROTO
CLIENT_IP_HEADER  META key of a trusted proxy's client-address header, e.g. HTTP_X_REAL_IP
"""

import os
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = PACKAGE_DIR.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG")
DATA_DIR = Path(os.environ.get("DATA_DIR", BASE_DIR / "data"))


def stored_secret_key(data_dir: Path) -> str:
    """This installation's own random key, made on first start and kept in DATA_DIR.

    Made whole in a private temporary file (mode 0600) and linked into place, which fails if
    the key exists: of two processes starting together, one makes it and both read it. A key
    file that others can read is narrowed to 0600.
    """
    path = data_dir / "secret_key"
    data_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd, tmp = tempfile.mkstemp(dir=data_dir, prefix=".secret_key.")  # mode 0600
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(50) + "\n")
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    key = path.read_text().strip()
    if len(key) < 32:
        raise RuntimeError(f"{path} holds no usable key: delete it to make a new one")
    return key


# No key is built in: SECRET_KEY from the environment, or this installation's own.
SECRET_KEY = os.environ.get("SECRET_KEY", "").strip() or stored_secret_key(DATA_DIR)
# Keys being rotated out: what they signed (tickets, poster codes, sessions) stays valid.
SECRET_KEY_FALLBACKS = [
    k.strip() for k in os.environ.get("SECRET_KEY_FALLBACKS", "").split(",") if k.strip()
]
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]
NODE_MODULES = Path(os.environ.get("NODE_MODULES", BASE_DIR / "node_modules"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "axes",
    "doorstep.core",
    "doorstep.accounts",
    "doorstep.centers",
    "doorstep.heritage",
    "doorstep.rooms",
    "doorstep.activities",
    "doorstep.visits",
    "doorstep.meals",
    "doorstep.figures",
    "doorstep.inbox",
    "doorstep.deliberation",
    "doorstep.legislation",
    # Last of the apps: its catalogue never overrides another app's words.
    "doorstep.cases",
    "doorstep.volunteers",
    "doorstep.gym",
    "doorstep.city",
    "doorstep.screen",
    "doorstep.ops",
]
AUTH_USER_MODEL = "accounts.User"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "doorstep.core.audit.AuditMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "doorstep.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "doorstep.accounts.language.RememberLanguageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "doorstep.core.replica.ReplicaMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its answer.
    "axes.middleware.AxesMiddleware",
]

# API requests judged by their bearer token, or without any cookie (doorstep.wsgi): no
# session, CSRF, messages or sign-in middleware; the same headers, language and audit address.
API_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "doorstep.core.middleware.StaticPolicyMiddleware",
    "doorstep.core.audit.AuditMiddleware",
    "doorstep.core.middleware.NoSessionMiddleware",
    "doorstep.core.middleware.LanguageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "doorstep.core.replica.ReplicaMiddleware",
]

ROOT_URLCONF = "doorstep.urls"
WSGI_APPLICATION = "doorstep.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "doorstep.core.context_processors.ui",
                "doorstep.inbox.context_processors.inbox",
            ],
        },
    },
]

_database_url = os.environ.get("DATABASE_URL", "").strip()
if _database_url:
    _db = dj_database_url.parse(_database_url, conn_max_age=600, conn_health_checks=True)
    _pooled = env_bool("DATABASE_POOLED")
    if _db["ENGINE"].endswith("postgresql") and _pooled:
        # PgBouncer in transaction mode (docs/scaling.md): a connection is the server's only for
        # one transaction, so nothing may outlive it. PgBouncer before 1.21 cannot carry
        # prepared statements; a server-side cursor (QuerySet.iterator()) lives across
        # fetches; and it refuses the `options` startup parameter.
        _db["DISABLE_SERVER_SIDE_CURSORS"] = True
        _db.setdefault("OPTIONS", {})["prepare_threshold"] = None
    elif _db["ENGINE"].endswith("postgresql"):
        # JIT pays off for long analytical queries, never for a 20 ms request: one costly
        # plan estimate once cost ~1 s of compilation per statement (docs/performance.md).
        _db.setdefault("OPTIONS", {})["options"] = "-c jit=off"
        if env_bool("DATABASE_PREPARED", default=True):
            # Server-side binding, and every statement prepared from its first run: planning
            # cost 2-5x the execution of the hot statements (docs/performance.md). Each
            # connection keeps its 100 most recent statements prepared (psycopg's default).
            _db["OPTIONS"].update(server_side_binding=True, prepare_threshold=1)
    if os.environ.get("DATABASE_TEST_TEMPLATE"):
        # CI clones the test database from one created with a UTF-8 LC_CTYPE (for pg_trgm).
        _db["TEST"] = {"TEMPLATE": os.environ["DATABASE_TEST_TEMPLATE"]}
else:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    _db = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "doorstep.sqlite3",
        # A file, not memory, for tests too: threads then share one database with the same
        # locking (WAL, IMMEDIATE) as production, so concurrency tests mean something.
        "TEST": {"NAME": str(DATA_DIR / "test-doorstep.sqlite3")},
        "OPTIONS": {
            # Writers queue for the lock instead of failing with "database is locked".
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
            ),
        },
    }
DATABASES = {"default": _db}
_replica_url = os.environ.get("DATABASE_REPLICA_URL", "").strip()
if _replica_url and _db["ENGINE"].endswith("postgresql"):
    # A hot standby of the primary (docs/scaling.md): same options, a short connect timeout
    # so a stopped replica costs one second before reads fall back to the primary.
    _replica = dj_database_url.parse(_replica_url, conn_max_age=600, conn_health_checks=True)
    _replica["OPTIONS"] = {**_db.get("OPTIONS", {}), "connect_timeout": 1}
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
DATABASE_ROUTERS = ["doorstep.core.replica.Router"]
REPLICA_MAX_LAG_SECONDS = float(os.environ.get("REPLICA_MAX_LAG_SECONDS", "5"))
REPLICA_FRESH_SECONDS = float(os.environ.get("REPLICA_FRESH_SECONDS", "5"))
REPLICA_CHECK_SECONDS = float(os.environ.get("REPLICA_CHECK_SECONDS", "1"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "").strip()
CACHES = {
    # Derived answers each worker may keep for itself (directory answers, choice lists).
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Rate-limit counters, shared by every worker and kept across restarts (core/limits.py):
    # Redis when REDIS_URL is set, else a table in the database.
    "limits": (
        {
            "BACKEND": "doorstep.core.limits.LimitsRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "doorstep",
        }
        if REDIS_URL
        else {
            "BACKEND": "doorstep.core.limits.LimitsDatabaseCache",
            "LOCATION": "doorstep_limits",
        }
    ),
}
# Directory API answers are cached until the directory changes or the minute turns
# (centers/cache.py); 0 turns that off.
DIRECTORY_CACHE_SECONDS = int(os.environ.get("DIRECTORY_CACHE_SECONDS", "90"))
TOKEN_CACHE_SECONDS = int(os.environ.get("TOKEN_CACHE_SECONDS", "30"))

# Visits (docs/visits.md): repeat scans within this window count once; open visits close
# after the default dwell (or at closing time) and are marked estimated; yesterday's poster
# code is still accepted this long after midnight.
VISIT_DEDUPE_MINUTES = int(os.environ.get("VISIT_DEDUPE_MINUTES", "120"))
VISIT_DEFAULT_DWELL_MINUTES = int(os.environ.get("VISIT_DEFAULT_DWELL_MINUTES", "120"))
VISIT_CODE_GRACE_MINUTES = int(os.environ.get("VISIT_CODE_GRACE_MINUTES", "120"))
# Anonymous poster check-ins per hour at one center (docs/visits.md, "Abuse"): scans from one
# device, and check-ins from one network past which they are refused; past SUSPECT they are
# kept but marked a suspicious burst and left out of the figures.
VISIT_DEVICE_PER_HOUR = int(os.environ.get("VISIT_DEVICE_PER_HOUR", "12"))
VISIT_NETWORK_PER_HOUR = int(os.environ.get("VISIT_NETWORK_PER_HOUR", "60"))
VISIT_SUSPECT_PER_HOUR = int(os.environ.get("VISIT_SUSPECT_PER_HOUR", "10"))
# Raw visits (who came, when) serve the rollups and the return rate; past two years they have
# served their purpose and go, a month at a time (visits/partitions.py), the counts stay.
VISIT_RETENTION_MONTHS = int(os.environ.get("VISIT_RETENTION_MONTHS", "25"))
# Where inbox notices also go (SMS/email, by each resident's choice): a dotted class path.
NOTICE_SENDER = os.environ.get("NOTICE_SENDER", "doorstep.inbox.senders.ConsoleNoticeSender")

# Staff password sign-in (the staff page and /admin/login/) locks after repeated failures, per
# account and per address, with django-axes (docs/security.md). Residents sign in by code.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks, each on its own
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # keep failed attempts only: least personal data
AXES_CLIENT_IP_CALLABLE = "doorstep.accounts.auth.client_ip"
AXES_LOCKOUT_CALLABLE = "doorstep.accounts.views.staff_locked_out"
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [
    PACKAGE_DIR / "static",
    ("vendor/leaflet", NODE_MODULES / "leaflet" / "dist"),
    ("vendor/leaflet.markercluster", NODE_MODULES / "leaflet.markercluster" / "dist"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/chart.js", NODE_MODULES / "chart.js" / "dist"),
    # The door's QR reader where the browser has none (iOS Safari, WeChat, desktop Chromium):
    # ZXing-C++ in WebAssembly, the same decoder the tests use (zxing-cpp).
    ("vendor/barcode-detector", NODE_MODULES / "barcode-detector" / "dist" / "iife"),
    ("vendor/zxing-wasm", NODE_MODULES / "zxing-wasm" / "dist" / "reader"),
]
# Serve straight from the finders: no collectstatic step before `make run`.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# Uploads (topic photos) live beside the database; they are served by a view that checks them.
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "media/"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

# Served over HTTPS (docs/security.md): HTTPS=1 marks the session and CSRF cookies Secure and
# sends HSTS; behind a reverse proxy that ends TLS, PROXY_SSL_HEADER names the header it sets
# (e.g. HTTP_X_FORWARDED_PROTO, which must then be "https") so Django knows the request was
# secure. Plain http://127.0.0.1 (make run) keeps working with both unset.
HTTPS = env_bool("HTTPS")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", "31536000")) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS")
SECURE_SSL_REDIRECT = HTTPS and env_bool("HTTPS_REDIRECT", True)
if os.environ.get("PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = (os.environ["PROXY_SSL_HEADER"], "https")

# Content-Security-Policy (django-csp): scripts and styles only from this site's own files,
# no inline script, no inline style, no eval; nothing from another origin (front-end libraries
# are served locally). Images may be data: URIs (QR codes, map markers).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "media-src": ["'self'", "blob:"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

NINJA_PAGINATION_MAX_LIMIT = 100

# Sign-in codes go through this class (see doorstep/accounts/senders.py).
SMS_SENDER = os.environ.get("SMS_SENDER", "doorstep.accounts.senders.ConsoleSender")
# An online payment provider for meal orders (meals/payments.py); none is shipped, and
# without one residents pay at pickup or on delivery.
PAYMENT_PROVIDER = os.environ.get("PAYMENT_PROVIDER", "")
# Behind a reverse proxy: the META key of the header it sets to the client's address.
CLIENT_IP_HEADER = os.environ.get("CLIENT_IP_HEADER", "")
LOGIN_URL = "accounts:sign_in"
LOGIN_REDIRECT_URL = "accounts:home"
