"""CouponHub settings: every knob comes from the environment, with loud failures in production.

DJANGO_ENV      development (default) | test | production
SECRET_KEY      required in production
FIELD_ENCRYPTION_KEY  master key(s), comma separated, newest first; required in prod.
DATABASE_URL    PostgreSQL; default: the checkout's own server in var/postgres
REDIS_URL       when set: Celery broker and cache; else Celery over kombu's filesystem transport
ALLOWED_HOSTS   comma separated; required in production
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
    "coupons",
    "redemption",
    "pickup",
    "promocodes",
    "reports",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "couponhub.core.middleware.PrivateNoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
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

LANGUAGE_CODE = "zh-hans"
# Every page is Chinese whatever the browser asks for; msgids stay English in the code.
LANGUAGES = [("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
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
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "0") == "1"
CELERY_BEAT_SCHEDULE = {
    "reports-nightly-facts": {
        "task": "reports.tasks.build_nightly_facts_task",
        "schedule": crontab(hour=1, minute=0),
    },
    "pickup-complete-shipped-orders": {
        "task": "pickup.tasks.complete_shipped_orders_task",
        "schedule": crontab(hour=2, minute=0),
    },
    "api-purge-old-nonces": {
        "task": "api.tasks.purge_old_nonces_task",
        "schedule": crontab(minute="*/10"),
    },
    "core-mark-stalled-jobs": {
        "task": "couponhub.core.tasks.mark_stalled_jobs_task",
        "schedule": crontab(minute="*/5"),
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
# pending), and the request header holding the consumer's address behind a proxy ("" = REMOTE_ADDR).
PICKUP_PAYOUT_BACKEND = os.environ.get("PICKUP_PAYOUT_BACKEND", "pickup.payouts.RecordingBackend")
PICKUP_CLIENT_IP_HEADER = os.environ.get("PICKUP_CLIENT_IP_HEADER", "")

# U-value (U享值) units per yuan, as the seed's screens show (≈100 U = ¥1).
U_VALUE_PER_YUAN = int(os.environ.get("U_VALUE_PER_YUAN", "100"))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

DJANGO_TABLES2_TEMPLATE = "tables/table.html"
DJANGO_TABLES2_TABLE_ATTRS = {"class": "table"}
# a list filter's empty choice reads 全部, not django-filter's "---------"
FILTERS_EMPTY_CHOICE_LABEL = _("All")
# Widgets render through our templates first: a form select's empty choice reads 请选择 instead
# of Django's "---------" (templates/django/forms/widgets/select_option.html)
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

SITE_TITLE = _("CouponHub")
AUTH_USER_MODEL = "core.User"
