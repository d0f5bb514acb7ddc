"""CouponHub settings: every knob comes from the environment, with loud failures in production.

DJANGO_ENV      development (default) | test | production
SECRET_KEY      required in production
FIELD_ENCRYPTION_KEY  master key(s), comma separated, newest first; required in prod.
DATABASE_URL    PostgreSQL; default: the checkout's own server in var/postgres
REDIS_URL       when set: Celery broker and cache; else Celery over kombu's filesystem transport
ALLOWED_HOSTS   comma separated; required in production
LOG_FORMAT      json (default in production: one JSON object per line) | text
LOG_LEVEL       INFO by default
METRICS_TOKEN   bearer token that may read /metrics from anywhere
METRICS_ALLOWED_NETWORKS  comma-separated networks that may read /metrics without the token
                (default: loopback only)
PASSWORD_LINK_HOURS  how long an administrator's one-time password link works (default 24)
CELERY_VISIBILITY_TIMEOUT  seconds before Redis hands an unacknowledged task to another worker
"""

import base64
import hashlib
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("COUPONHUB_VAR_DIR", BASE_DIR / "var"))

DJANGO_ENV = os.environ.get("DJANGO_ENV", "development")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(
        f"DJANGO_ENV must be development, test or production, not {DJANGO_ENV!r}"
    )
PRODUCTION = DJANGO_ENV == "production"


def _required(name: str, dev_default: str) -> str:
    value = os.environ.get(name, "")
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_ENV=production")
    return dev_default


SECRET_KEY = _required("SECRET_KEY", "dev-only-insecure-key-" + "x" * 40)
DEBUG = not PRODUCTION and os.environ.get("DEBUG", "1") == "1"
ALLOWED_HOSTS = [
    h.strip()
    for h in _required("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]

# Secrets at rest (API client secrets, pickup passwords, outside-shop secrets) are sealed with
# AES-CCM under an AES key derived (HKDF) from each of these master keys (couponhub.core.crypto);
# the first seals, all open, so a key is rotated by prepending a new one. A master key is written
# as url-safe base64 of 32 random bytes (`Fernet.generate_key()` makes one): values sealed before
# AES-CCM are Fernet tokens under the same keys, and still open.
_dev_master_key = base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()
FIELD_ENCRYPTION_KEYS = [
    k.strip() for k in _required("FIELD_ENCRYPTION_KEY", _dev_master_key).split(",") if k.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Django's widget templates for FORM_RENDERER below
    "django.forms",
    "django_filters",
    "django_tables2",
    "axes",
    # the API docs page (/api/v1/docs) then serves Swagger UI from ninja's static files, not a CDN
    "ninja",
    # ours, in dependency order (seed_demo and navigation follow this order)
    "couponhub.core",
    "members",
    "products",
    "coupons",
    "redemption",
    "pickup",
    "promocodes",
    "staff",
    "messaging",
    "reports",
    "api",
]

MIDDLEWARE = [
    "couponhub.core.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "couponhub.core.middleware.PrivateNoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "couponhub.core.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "api.middleware.ApiErrorBodyMiddleware",
]

ROOT_URLCONF = "couponhub.urls"
WSGI_APPLICATION = "couponhub.wsgi.application"

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
                "couponhub.core.context_processors.navigation",
            ],
        },
    },
]

# PostgreSQL only. Without DATABASE_URL, the checkout's own server (couponhub.local_postgres), so
# `make run` and `make test` run on what production runs.
if os.environ.get("DATABASE_URL") or PRODUCTION:
    DATABASES = {"default": dj_database_url.parse(_required("DATABASE_URL", ""))}
else:
    from couponhub.local_postgres import local_database

    DATABASES = {"default": local_database(VAR_DIR)}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL database (postgres://…)")
DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("DB_CONN_MAX_AGE", "60"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lock an account+address pair out after 5 failures for 30 minutes.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
# An administrator's one-time password link (staff.services.make_password_link) lasts this long;
# Django's token generator reads the timeout in seconds.
PASSWORD_LINK_HOURS = int(os.environ.get("PASSWORD_LINK_HOURS", "24"))
if PASSWORD_LINK_HOURS < 1:
    raise ImproperlyConfigured("PASSWORD_LINK_HOURS must be at least 1")
PASSWORD_RESET_TIMEOUT = PASSWORD_LINK_HOURS * 3600

LANGUAGE_CODE = "zh-hans"
# Every page is Chinese whatever the browser asks for; msgids stay English in the code.
LANGUAGES = [("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The front-end pieces are npm packages installed by `make install` (package-lock.json pins them)
# and served from their own dist folders: nothing copied into the tree, no CDN. Icons are read
# from lucide-static by the {% icon %} tag (couponhub/core/templatetags/ui.py) and inlined.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/tom-select/js", NODE_MODULES / "tom-select" / "dist" / "js"),
    ("vendor/tom-select/css", NODE_MODULES / "tom-select" / "dist" / "css"),
    ("vendor/flatpickr", NODE_MODULES / "flatpickr" / "dist"),
]
STATIC_ROOT = VAR_DIR / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# "default" keeps private files (exports, imports): only their owners download them, through
# views that check. "public" keeps what any page may show (the pickup logo): served at
# /media/public/ by couponhub.core.views.public_media in every environment, so `make run` and
# gunicorn alike show it; production may point PUBLIC_MEDIA_ROOT at a shared volume.
PUBLIC_MEDIA_URL = f"/{MEDIA_URL}public/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "public": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": Path(os.environ.get("PUBLIC_MEDIA_ROOT", MEDIA_ROOT / "public")),
            "base_url": PUBLIC_MEDIA_URL,
        },
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content-Security-Policy (django-csp): scripts and styles only from our own files, no inline
# <script>, on…= handler or style= attribute (tests/core/test_security_headers.py looks for them);
# server values reach scripts through data- attributes or json_script. Images: our own (QR codes
# are PNG/SVG from our URLs) plus data: URIs, which Swagger UI's stylesheet uses for its icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "1") == "1"
    # health checks and Prometheus speak plain HTTP to the process itself
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = [f"https://{h}" for h in ALLOWED_HOSTS if not h.startswith(".")]

# Celery: Redis in production/CI; a filesystem broker by default, so `make run` needs no server.
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
else:
    _broker_dir = VAR_DIR / "celery"
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "control_folder": str(_broker_dir / "control"),
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
# Two queues, a worker (or more) on each: "interactive" for what a person waits for (SMS, small
# jobs, outbox events, the minute-by-minute housekeeping) and "bulk" for generation, imports,
# exports and report builds, so a ten-million-code batch never delays a verification code.
# A job goes to the queue its runner was registered for (couponhub.core.jobs.job_runner).
CELERY_TASK_DEFAULT_QUEUE = "interactive"
CELERY_TASK_QUEUES = {"interactive": {}, "bulk": {}}
CELERY_TASK_ROUTES = {
    "couponhub.core.tasks.deliver_sms_task": {"queue": "interactive"},
    "*events*": {"queue": "interactive"},
    "reports.tasks.build_nightly_facts_task": {"queue": "bulk"},
}
# A task is acknowledged when it ends, so a task whose worker died is delivered again (a pool
# child killed: at once; the whole worker: after the visibility timeout, Redis). Jobs claim
# their row (couponhub.core.jobs), SMS their message (couponhub.core.sms), so a second delivery
# never does the work twice. One task at a time per worker process: a bulk task in hand holds
# no second one back from an idle worker.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
if REDIS_URL:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))
    }
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "0") == "1"
# Beat sends its schedule from one process even when two are started (a Redis or file lock).
CELERY_BEAT_SCHEDULER = "couponhub.core.beat.LockedScheduler"
CELERY_BEAT_SCHEDULE = {
    "reports-nightly-facts": {
        "task": "reports.tasks.build_nightly_facts_task",
        "schedule": crontab(hour=1, minute=0),
    },
    "pickup-complete-shipped-orders": {
        "task": "pickup.tasks.complete_shipped_orders_task",
        "schedule": crontab(hour=2, minute=0),
    },
    "pickup-track-shipped-orders": {
        "task": "pickup.tasks.track_shipped_orders_task",
        "schedule": crontab(minute="*/30"),
    },
    "api-purge-old-nonces": {
        "task": "api.tasks.purge_old_nonces_task",
        "schedule": crontab(minute="*/10"),
    },
    "core-deliver-due-events": {
        "task": "couponhub.core.events.deliver_due_events_task",
        "schedule": crontab(minute="*"),
    },
    "core-purge-old-events": {
        "task": "couponhub.core.events.purge_old_events_task",
        "schedule": crontab(hour=3, minute=30),
    },
    "core-recover-orphaned-jobs": {
        "task": "couponhub.core.tasks.recover_orphaned_jobs_task",
        "schedule": crontab(minute="*"),
    },
}

# SMS: the backend is a dotted path; the price of one message is charged to the SMS account.
SMS_BACKEND = os.environ.get(
    "SMS_BACKEND",
    "couponhub.core.sms_backends.MemoryBackend"
    if DJANGO_ENV == "test"
    else "couponhub.core.sms_backends.ConsoleBackend",
)
SMS_BACKEND_OPTIONS = {
    "access_key_id": os.environ.get("SMS_ACCESS_KEY_ID", ""),
    "access_key_secret": os.environ.get("SMS_ACCESS_KEY_SECRET", ""),
    "sign_name": os.environ.get("SMS_SIGN_NAME", ""),
}
SMS_PRICE = "0.05"

# Gift-card pickup: the red-packet payment backend (dotted path; the default records payouts as
# pending), and the request header holding the consumer's address behind a proxy ("" = REMOTE_ADDR;
# e.g. HTTP_X_FORWARDED_FOR: its last entry, the one our proxy appended, is the address used).
PICKUP_PAYOUT_BACKEND = os.environ.get("PICKUP_PAYOUT_BACKEND", "pickup.payouts.RecordingBackend")
PICKUP_CLIENT_IP_HEADER = os.environ.get("PICKUP_CLIENT_IP_HEADER", "")
# Top-ups of the SMS and red-packet accounts, paid online: the payment backend's dotted path
# (the default records orders and lets a developer simulate the payment) and its options.
# WeChat Pay Native: PICKUP_PAYMENT_BACKEND=pickup.payment_backends.WechatPayNativeBackend with
# WECHATPAY_MCHID, WECHATPAY_APPID, WECHATPAY_SERIAL_NO, WECHATPAY_PRIVATE_KEY_FILE (the
# merchant's PEM key), WECHATPAY_API_V3_KEY, WECHATPAY_PLATFORM_KEY_FILE (the platform's public
# key, PEM) and WECHATPAY_PLATFORM_SERIAL_NO; PICKUP_PAYMENT_NOTIFY_URL is the public https URL
# of /pickup/payments/notify/ (default: built from the request).
PICKUP_PAYMENT_BACKEND = os.environ.get(
    "PICKUP_PAYMENT_BACKEND", "pickup.payment_backends.RecordingBackend"
)
PICKUP_PAYMENT_NOTIFY_URL = os.environ.get("PICKUP_PAYMENT_NOTIFY_URL", "")


def _file_text(variable: str) -> str:
    path = os.environ.get(variable, "")
    if not path:
        return ""
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise ImproperlyConfigured(f"{variable}: cannot read {path}: {exc}") from exc


PICKUP_PAYMENT_OPTIONS = {}
if PICKUP_PAYMENT_BACKEND.endswith("WechatPayNativeBackend"):
    PICKUP_PAYMENT_OPTIONS = {
        "mchid": os.environ.get("WECHATPAY_MCHID", ""),
        "appid": os.environ.get("WECHATPAY_APPID", ""),
        "merchant_serial_no": os.environ.get("WECHATPAY_SERIAL_NO", ""),
        "merchant_private_key": _file_text("WECHATPAY_PRIVATE_KEY_FILE"),
        "api_v3_key": os.environ.get("WECHATPAY_API_V3_KEY", ""),
        "platform_public_key": _file_text("WECHATPAY_PLATFORM_KEY_FILE"),
        "platform_serial_no": os.environ.get("WECHATPAY_PLATFORM_SERIAL_NO", ""),
    }
    if not all(v for k, v in PICKUP_PAYMENT_OPTIONS.items() if k != "platform_serial_no"):
        raise ImproperlyConfigured(
            "WechatPayNativeBackend needs WECHATPAY_MCHID, WECHATPAY_APPID, WECHATPAY_SERIAL_NO, "
            "WECHATPAY_PRIVATE_KEY_FILE, WECHATPAY_API_V3_KEY and WECHATPAY_PLATFORM_KEY_FILE"
        )

# Courier tracking (an order completes when its parcel is signed for): the backend's dotted path
# (the default records queries and reports parcels in transit) and its options; 快递100:
# PICKUP_TRACKING_BACKEND=pickup.tracking.Kuaidi100Backend with KUAIDI100_CUSTOMER, KUAIDI100_KEY.
PICKUP_TRACKING_BACKEND = os.environ.get(
    "PICKUP_TRACKING_BACKEND", "pickup.tracking.RecordingBackend"
)
PICKUP_TRACKING_OPTIONS = {
    "customer": os.environ.get("KUAIDI100_CUSTOMER", ""),
    "key": os.environ.get("KUAIDI100_KEY", ""),
}
if PICKUP_TRACKING_BACKEND.endswith("Kuaidi100Backend") and not all(
    PICKUP_TRACKING_OPTIONS.values()
):
    raise ImproperlyConfigured("Kuaidi100Backend needs KUAIDI100_CUSTOMER and KUAIDI100_KEY")

# Outbound events (couponhub/core/events.py): subscribers' URLs must be https in production;
# a failed delivery is retried after EVENT_RETRY_BASE_SECONDS, doubling, for a day.
EVENTS_ALLOW_HTTP = not PRODUCTION
EVENT_RETRY_BASE_SECONDS = int(os.environ.get("EVENT_RETRY_BASE_SECONDS", "30"))

# Card sheets: the TrueType font they embed and the chain's logo (a PNG/JPEG; "" prints the
# group's name as a word mark).
CARD_FONT_PATH = os.environ.get("CARD_FONT_PATH", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
CARD_LOGO_PATH = os.environ.get("CARD_LOGO_PATH", "")

# U-value (U享值) units per yuan, as the seed's screens show (≈100 U = ¥1).
U_VALUE_PER_YUAN = int(os.environ.get("U_VALUE_PER_YUAN", "100"))

# Logs: every line carries the request id (couponhub.core.logs) and has mobile numbers masked;
# in production one JSON object per line. The web's access log is RequestContextMiddleware's
# "couponhub.request" line (route, not the path with its query string), not gunicorn's.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json" if PRODUCTION else "text")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or text, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "couponhub.core.logs.ContextFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s %(task_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # ISO 8601, UTC
            "json_ensure_ascii": False,
        },
        "text": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# /metrics (Prometheus): readable from these networks, or anywhere with the bearer token.
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_ALLOWED_NETWORKS = [
    n.strip()
    for n in os.environ.get("METRICS_ALLOWED_NETWORKS", "127.0.0.1/32,::1/128").split(",")
    if n.strip()
]

DJANGO_TABLES2_TEMPLATE = "tables/table.html"
DJANGO_TABLES2_TABLE_ATTRS = {"class": "table"}
# a list filter's empty choice reads 全部, not django-filter's "---------"
FILTERS_EMPTY_CHOICE_LABEL = _("All")
# Widgets render through our templates first: a form select's empty choice reads 请选择 instead
# of Django's "---------" (templates/django/forms/widgets/select_option.html)
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

SITE_TITLE = _("CouponHub")
AUTH_USER_MODEL = "core.User"
