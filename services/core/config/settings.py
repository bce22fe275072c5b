"""Core service settings: everything comes from the environment (each variable is described in .env.example)."""

import contextlib
import re
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from svckit.settings import (
    celery_settings,
    env_app_environment,
    env_otp_length,
    env_redis_url,
    env_secret,
    env_secret_fallbacks,
    env_sms_policy,
    logging_config,
    refuse_shared_secrets,
    refuse_unsafe_production,
)

BASE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BASE_DIR.parent.parent
env = environ.Env()

APP_ENV, PRODUCTION = env_app_environment()
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env_secret(
    "SECRET_KEY",
    dev_default="dev-only-core-secret-key-not-for-production",
    production=PRODUCTION,
    set_as="CORE_SECRET_KEY",
)
# Former keys, still accepted for sessions signed before a rotation (docs/secrets.md).
SECRET_KEY_FALLBACKS = env_secret_fallbacks("SECRET_KEY_FALLBACKS", production=PRODUCTION)
# The API's JWTs have a key of their own: rotating SECRET_KEY keeps them, rotating this ends them.
JWT_SIGNING_KEY = env_secret(
    "JWT_SIGNING_KEY", dev_default="dev-only-core-jwt-signing-key-not-for-production", production=PRODUCTION
)
OTP_SERVICE_TOKEN = env_secret("OTP_SERVICE_TOKEN", dev_default="dev-otp-service-token", production=PRODUCTION)
refuse_shared_secrets(
    production=PRODUCTION, SECRET_KEY=SECRET_KEY, JWT_SIGNING_KEY=JWT_SIGNING_KEY, OTP_SERVICE_TOKEN=OTP_SERVICE_TOKEN
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "core", "[::1]"])
refuse_unsafe_production(production=PRODUCTION, debug=DEBUG, allowed_hosts=ALLOWED_HOSTS)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- CORS: browser apps on other origins call the API (/api/v1/) with a Bearer token ---------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
for _origin in CORS_ALLOWED_ORIGINS:
    if not re.fullmatch(r"https?://[^/?#\s*]+", _origin) or (PRODUCTION and not _origin.startswith("https://")):
        raise ImproperlyConfigured(
            f"CORS_ALLOWED_ORIGINS: {_origin!r} is not an origin; set scheme://host[:port] without a path "
            "(https:// when APP_ENV=production), comma-separated, e.g. https://app.example.com"
        )
CORS_URLS_REGEX = r"^/api/v1/.*$"  # the pages are same-origin only
# The API's credential is the JWT in Authorization; cookies (the pages' session) never cross origins.
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = ("accept", "accept-language", "authorization", "content-type")
CORS_EXPOSE_HEADERS = ("Retry-After", "Content-Disposition")

INSTALLED_APPS = [
    "users.admin_apps.StaffAdminConfig",  # django.contrib.admin whose site asks staff for a TOTP too
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_yasg",
    "corsheaders",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "users",
    "invites",
    "webhooks",
    "web",
    "django_prometheus",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything that can answer: a preflight gets its CORS headers (django-cors-headers).
    "corsheaders.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",  # the pages' language: cookie (the switch), else Accept-Language
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): the admin's second factor
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "web.middleware.PagesContentSecurityPolicy",
    "axes.middleware.AxesMiddleware",  # it turns a locked-out admin login into the 429 page
    # Requests by view, method and status, with latency (GET /metrics, internal only): svckit.http_metrics.
    "svckit.http_metrics.RequestMetrics",
]
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
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
            ]
        },
    }
]
AUTH_USER_MODEL = "users.User"
# django-axes in front of the model backend: the admin login's password guesses are limited.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesBackend", "django.contrib.auth.backends.ModelBackend"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "web" / "locale"]
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024

# --- Files: var/ holds the embedded SQLite database and collected static files ------------------
VAR_DIR = Path(env.str("VAR_DIR", default=str(REPO_DIR / "var")))
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
# whitenoise serves admin/Swagger assets itself, straight from the apps: no collectstatic step needed.
WHITENOISE_USE_FINDERS = True
with contextlib.suppress(OSError):  # whitenoise warns on every start while STATIC_ROOT is missing
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- Database: PostgreSQL from DATABASE_URL; `make run` without it uses SQLite in var/ ----------
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db_url("DATABASE_URL")}
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "core.sqlite3",
            # Write transactions take the lock up front, so concurrent ones wait instead of failing.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A server that does not answer fails the request (503) in seconds instead of holding a worker
    # thread for the system's TCP timeout; `?connect_timeout=N` in DATABASE_URL overrides it.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)

# --- Redis (django-redis cache): throttling counters, the profiles' kept reads (users.selectors) -
REDIS_URL = env_redis_url("REDIS_URL", default="redis://127.0.0.1:6379", production=PRODUCTION).rstrip("/")
CORE_REDIS_DB = env.int("CORE_REDIS_DB", default=2)
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": f"{REDIS_URL}/{CORE_REDIS_DB}",
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="core"),
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
            # Throttling fails open when Redis is down: the OTP service keeps its own per-phone limits.
            "IGNORE_EXCEPTIONS": True,
        },
    }
}
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# --- Celery (webhook delivery): its own Redis DB index, apart from the OTP service's broker -------
globals().update(
    celery_settings(
        broker_url=env_redis_url(
            "CORE_CELERY_BROKER_URL",
            default=f"{REDIS_URL}/{env.int('CORE_CELERY_REDIS_DB', default=3)}",
            production=PRODUCTION,
        ),
        # No task waits in this broker for long: webhook tries are scheduled in PostgreSQL (the outbox).
        visibility_timeout=env.int("CORE_CELERY_VISIBILITY_TIMEOUT", default=60),
        publish_max_retries=2,
    )
)

# --- Webhooks: signed events for the product's own systems (webhooks/services.py) ------------
WEBHOOK_URLS = env.list("WEBHOOK_URLS", default=[])
# Several secrets sign each delivery once each (rotation); WEBHOOK_SECRET is the one-secret spelling.
# Either way production refuses a weak or public value (the part after whsec_ is what is checked).
WEBHOOK_SECRETS = env_secret_fallbacks("WEBHOOK_SECRETS", production=PRODUCTION, prefix="whsec_") or [
    secret
    for secret in [
        env_secret("WEBHOOK_SECRET", dev_default="", production=PRODUCTION, used=bool(WEBHOOK_URLS), prefix="whsec_")
    ]
    if secret
]
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
WEBHOOK_DISABLE_AFTER_HOURS = env.int("WEBHOOK_DISABLE_AFTER_HOURS", default=72)
WEBHOOK_DISPATCH_INTERVAL_SECONDS = env.float("WEBHOOK_DISPATCH_INTERVAL_SECONDS", default=1.0)
if WEBHOOK_URLS:
    if any(not re.fullmatch(r"https?://\S+", url) for url in WEBHOOK_URLS):
        raise ImproperlyConfigured("WEBHOOK_URLS must be http(s) URLs, comma-separated")
    if PRODUCTION and any(not url.startswith("https://") for url in WEBHOOK_URLS):
        # The events carry phone numbers: never in clear text, whatever the network in between.
        raise ImproperlyConfigured("WEBHOOK_URLS must all be https:// URLs in production (plain http:// is refused)")
    if not WEBHOOK_SECRETS or any(not re.fullmatch(r"whsec_[A-Za-z0-9+/]{32,}={0,2}", s) for s in WEBHOOK_SECRETS):
        raise ImproperlyConfigured(
            "WEBHOOK_SECRETS must be set with WEBHOOK_URLS: comma-separated whsec_ secrets, each at least "
            "24 random bytes in base64 (or one in WEBHOOK_SECRET)"
        )
if WEBHOOK_DISABLE_AFTER_HOURS < 1:
    raise ImproperlyConfigured("WEBHOOK_DISABLE_AFTER_HOURS must be a whole number of hours, at least 1")
if not 0.05 <= WEBHOOK_DISPATCH_INTERVAL_SECONDS <= 60:
    raise ImproperlyConfigured("WEBHOOK_DISPATCH_INTERVAL_SECONDS must be between 0.05 and 60")

# --- The OTP service ------------------------------------------------------------------------
OTP_LENGTH = env_otp_length()  # the sign-in page asks for codes of this length
OTP_SERVICE_URL = env.str("OTP_SERVICE_URL", default="http://127.0.0.1:8001").rstrip("/")
OTP_CONNECT_TIMEOUT = env.float("OTP_CONNECT_TIMEOUT", default=1.0)
OTP_READ_TIMEOUT = env.float("OTP_READ_TIMEOUT", default=2.0)

# --- Product rules --------------------------------------------------------------------------
PHONE_DEFAULT_REGION = env.str("PHONE_DEFAULT_REGION", default="RU")
# Which numbers may be sent a code (the OTP service checks the same two settings again).
SMS_ALLOWED_NUMBER_TYPES, SMS_ALLOWED_COUNTRIES = env_sms_policy()
# The site's public address (scheme://host[:port], no path), the base of share links and their QR
# codes. Empty: each link is built from the request's own Host (already checked by ALLOWED_HOSTS).
SITE_URL = env.str("SITE_URL", default="").rstrip("/")
if SITE_URL and not re.fullmatch(r"https?://[^/?#\s]+", SITE_URL):
    raise ImproperlyConfigured("SITE_URL must look like https://example.com (scheme and host, no path)")


def _rate(name: str, default: str) -> str:
    """A DRF rate, N/sec|min|hour|day; checked here so a typo stops the start, not every request."""
    value = env.str(name, default=default)
    if not re.fullmatch(r"\d+/(s|sec|second|m|min|minute|h|hour|d|day)", value):
        raise ImproperlyConfigured(f"{name} must look like 30/min (N/sec, N/min, N/hour or N/day)")
    return value


THROTTLE_AUTH_PER_IP = _rate("THROTTLE_AUTH_PER_IP", "30/min")
THROTTLE_INVITE_PER_USER = _rate("THROTTLE_INVITE_PER_USER", "10/min")

# --- HTTP API -------------------------------------------------------------------------------
# --- Admin login limit (django-axes): failures per username and client address ----------------
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_MAX_FAILURES", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("ADMIN_LOGIN_COOLOFF_MINUTES", default=60))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"  # the admin form's field (USERNAME_FIELD is phone)
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # failures are what is limited; no row for every sign-in
AXES_CLIENT_IP_CALLABLE = "users.admin_lockout.client_address"
AXES_LOCKOUT_CALLABLE = "users.admin_lockout.admin_lockout_response"
# Only the admin's own sign-in forgives its failures: an SMS sign-in on the pages does not.
AXES_HANDLER = "users.admin_lockout.AdminLoginHandler"

# --- Admin second factor (django-otp): a TOTP after the password; enrolment by manage.py -------
# staff_totp_enroll <phone> (docs/admin.md). The issuer names the entry in the authenticator app.
OTP_TOTP_ISSUER = env.str("ADMIN_TOTP_ISSUER", default="Referrals admin")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the secret is shown once, by the command, never in the admin

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework_simplejwt.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["svckit.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "svckit.handlers.exception_handler",
    # How many X-Forwarded-For entries (from the right) come from proxies we trust; 0 = socket address.
    "NUM_PROXIES": env.int("TRUSTED_PROXY_COUNT", default=0),
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY,
}
SWAGGER_SETTINGS = {
    "USE_SESSION_AUTH": False,
    "SECURITY_DEFINITIONS": {
        "Bearer": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Bearer <access token>` from POST /api/v1/auth/token/",
        }
    },
    "SECURITY_REQUIREMENTS": [{"Bearer": []}],
}
SWAGGER_USE_COMPAT_RENDERERS = False

# --- Web pages (web/): session sign-in with CSRF; the API keeps JWT ---------------------------
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:profile"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=14 * 24 * 3600)
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = LANGUAGE_COOKIE_SAMESITE = "Lax"
# No script reads a cookie: the CSRF token travels in the forms, the language in the switch.
SESSION_COOKIE_HTTPONLY = CSRF_COOKIE_HTTPONLY = LANGUAGE_COOKIE_HTTPONLY = True
# Secure cookies need HTTPS in front of the web server: on by default in production.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=PRODUCTION)
# The OTP service's dev SMS inbox page, linked from the code page; empty hides the link.
DEV_SMS_INBOX_URL = env.str("DEV_SMS_INBOX_URL", default="" if PRODUCTION else "http://127.0.0.1:8001/inbox/")

LOGGING = logging_config(level=env.str("LOG_LEVEL", default="INFO"))

# --- Security headers (every answer) and HTTPS ---------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION and SESSION_COOKIE_SECURE:
    # Secure cookies mean the site is HTTPS only: plain HTTP is redirected, and browsers are told
    # (HSTS) never to try it. The orchestrator's probes stay plain HTTP.
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
if REST_FRAMEWORK["NUM_PROXIES"]:
    # Behind trusted proxies that end TLS (compose's Caddy, in development too), the request was
    # HTTPS if the proxy says so: it sets X-Forwarded-Proto itself, never passes on the client's.
    # CSRF's origin check compares the page's https:// origin with this.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
