"""OTP service settings: everything comes from the environment (see .env.example)."""

import re
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

from svckit.phones import InvalidPhone, country_codes, strict_e164
from svckit.settings import (
    celery_settings,
    env_app_environment,
    env_otp_length,
    env_redis_url,
    env_secret,
    env_sms_policy,
    logging_config,
    refuse_shared_secrets,
    refuse_unsafe_production,
)

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

APP_ENV, PRODUCTION = env_app_environment()
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env_secret(
    "SECRET_KEY",
    dev_default="dev-only-otp-secret-key-not-for-production",
    production=PRODUCTION,
    set_as="OTP_SECRET_KEY",
)
OTP_SECRET = env_secret("OTP_SECRET", dev_default="dev-only-otp-hmac-secret", production=PRODUCTION)
OTP_SERVICE_TOKEN = env_secret("OTP_SERVICE_TOKEN", dev_default="dev-otp-service-token", production=PRODUCTION)
refuse_shared_secrets(
    production=PRODUCTION, SECRET_KEY=SECRET_KEY, OTP_SECRET=OTP_SECRET, OTP_SERVICE_TOKEN=OTP_SERVICE_TOKEN
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "otp", "[::1]"])
refuse_unsafe_production(production=PRODUCTION, debug=DEBUG, allowed_hosts=ALLOWED_HOSTS)

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_yasg",
    "codes",
    "django_prometheus",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES: dict = {}  # the OTP service keeps everything in Redis
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "static/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024

# --- Redis: codes on one DB index, the Celery broker on another ---------------------------
REDIS_URL = env_redis_url("REDIS_URL", default="redis://127.0.0.1:6379", production=PRODUCTION).rstrip("/")
OTP_REDIS_DB = env.int("OTP_REDIS_DB", default=0)
OTP_KEY_PREFIX = env.str("OTP_KEY_PREFIX", default="otp:")
REDIS_TIMEOUT_SECONDS = env.float("REDIS_TIMEOUT_SECONDS", default=0.3)

# --- One-time codes -----------------------------------------------------------------------
OTP_LENGTH = env_otp_length()
OTP_TTL_SECONDS = env.int("OTP_TTL_SECONDS", default=300)
OTP_MAX_ATTEMPTS = env.int("OTP_MAX_ATTEMPTS", default=5)
OTP_RESEND_COOLDOWN_SECONDS = env.int("OTP_RESEND_COOLDOWN_SECONDS", default=60)
OTP_MAX_SENDS_PER_HOUR = env.int("OTP_MAX_SENDS_PER_HOUR", default=5)
# Test phone numbers, as Firebase has them: "+79990000001:1234,+79990000002:5678". Each gets its fixed
# code: no SMS, no cooldown or hourly cap, every use logged; its wrong guesses count as any number's.
# Production refuses them unless explicitly allowed (app-store review accounts).
OTP_TEST_NUMBERS: dict[str, str] = {}
for _entry in env.list("OTP_TEST_NUMBERS", default=[]):
    _number, _, _code = _entry.strip().partition(":")
    try:
        OTP_TEST_NUMBERS[strict_e164(_number)] = _code
    except InvalidPhone:
        raise ImproperlyConfigured(f"OTP_TEST_NUMBERS: {_number!r} is not a valid E.164 number") from None
    if not re.fullmatch(rf"[0-9]{{{OTP_LENGTH}}}", _code):
        raise ImproperlyConfigured(f"OTP_TEST_NUMBERS: the code of {_number} must be {OTP_LENGTH} digits")
OTP_TEST_NUMBERS_IN_PRODUCTION = env.bool("OTP_TEST_NUMBERS_IN_PRODUCTION", default=False)
if PRODUCTION and OTP_TEST_NUMBERS and not OTP_TEST_NUMBERS_IN_PRODUCTION:
    raise ImproperlyConfigured(
        "OTP_TEST_NUMBERS is refused when APP_ENV=production unless OTP_TEST_NUMBERS_IN_PRODUCTION=true"
    )
# Wrong guesses per phone in a sliding 24 h, across codes; then every guess is refused (429).
OTP_MAX_FAILURES_PER_DAY = env.int("OTP_MAX_FAILURES_PER_DAY", default=10)
# Which numbers may be sent a code: phonenumbers type names, ISO 3166 codes (empty: every country).
SMS_ALLOWED_NUMBER_TYPES, SMS_ALLOWED_COUNTRIES = env_sms_policy()

# --- SMS-pumping guard (codes/guard.py) ---------------------------------------------------
SMS_GUARD_MODE = env.str("SMS_GUARD_MODE", default="enforce")
if SMS_GUARD_MODE not in {"enforce", "shadow"}:
    raise ImproperlyConfigured("SMS_GUARD_MODE must be 'enforce' or 'shadow'")
SMS_PREFIX_MAX_PER_HOUR = env.int("SMS_PREFIX_MAX_PER_HOUR", default=20)
SMS_COUNTRY_MAX_PER_DAY = env.int("SMS_COUNTRY_MAX_PER_DAY", default=1000)
try:  # e.g. RU=20000,KZ=500: a country's own daily cap instead of SMS_COUNTRY_MAX_PER_DAY
    SMS_COUNTRY_MAX_PER_DAY_OVERRIDES = {
        country.upper(): int(limit)
        for country, limit in env.dict("SMS_COUNTRY_MAX_PER_DAY_OVERRIDES", default={}).items()
    }
    country_codes(SMS_COUNTRY_MAX_PER_DAY_OVERRIDES)
except ValueError as exc:
    raise ImproperlyConfigured(f"SMS_COUNTRY_MAX_PER_DAY_OVERRIDES must look like RU=20000,KZ=500: {exc}") from exc
SMS_MAX_PER_DAY = env.int("SMS_MAX_PER_DAY", default=20000)
SMS_GUARD_MIN_SENDS = env.int("SMS_GUARD_MIN_SENDS", default=10)
SMS_GUARD_MIN_CONVERSION = env.float("SMS_GUARD_MIN_CONVERSION", default=0.2)

# --- SMS delivery -------------------------------------------------------------------------
# "console" or "inbox" (development), or real providers tried in order: "twilio", "smsru", "twilio,smsru".
SMS_BACKEND = env.str("SMS_BACKEND", default="console").replace(" ", "")
SMS_PROVIDERS = SMS_BACKEND.split(",")
if SMS_PROVIDERS not in (["console"], ["inbox"]) and (
    set(SMS_PROVIDERS) - {"twilio", "smsru"} or len(set(SMS_PROVIDERS)) != len(SMS_PROVIDERS)
):
    raise ImproperlyConfigured("SMS_BACKEND must be 'console', 'inbox' or a list of 'twilio' and 'smsru'")
SMS_CONNECT_TIMEOUT_SECONDS = env.float("SMS_CONNECT_TIMEOUT_SECONDS", default=3.0)
SMS_READ_TIMEOUT_SECONDS = env.float("SMS_READ_TIMEOUT_SECONDS", default=10.0)
SMS_PROVIDER_ATTEMPTS = env.int("SMS_PROVIDER_ATTEMPTS", default=3)
SMS_RETRY_BACKOFF_SECONDS = env.float("SMS_RETRY_BACKOFF_SECONDS", default=1.0)
# Kept under the broker's visibility timeout, so a retry's countdown is not redelivered meanwhile.
SMS_RETRY_BACKOFF_MAX_SECONDS = env.float("SMS_RETRY_BACKOFF_MAX_SECONDS", default=20.0)
# Twilio Programmable Messaging: https://www.twilio.com/docs/messaging/api/message-resource
TWILIO_API_BASE = env.str("TWILIO_API_BASE", default="https://api.twilio.com").rstrip("/")
TWILIO_ACCOUNT_SID = env.str("TWILIO_ACCOUNT_SID", default="")
TWILIO_AUTH_TOKEN = env.str("TWILIO_AUTH_TOKEN", default="")
TWILIO_FROM = env.str("TWILIO_FROM", default="")
TWILIO_MESSAGING_SERVICE_SID = env.str("TWILIO_MESSAGING_SERVICE_SID", default="")
# SMS.ru: https://sms.ru/api/send
SMSRU_API_BASE = env.str("SMSRU_API_BASE", default="https://sms.ru").rstrip("/")
SMSRU_API_ID = env.str("SMSRU_API_ID", default="")
SMSRU_FROM = env.str("SMSRU_FROM", default="")
SMSRU_TEST = env.bool("SMSRU_TEST", default=False)
# A provider named without its credentials could never deliver: refuse to start, in every APP_ENV.
if "twilio" in SMS_PROVIDERS and not (
    TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and (TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID)
):
    raise ImproperlyConfigured(
        "SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID"
    )
if "smsru" in SMS_PROVIDERS and not SMSRU_API_ID:
    raise ImproperlyConfigured("SMS_BACKEND=smsru needs SMSRU_API_ID")
# The dev inbox shows every code to whoever reaches the service: production must name a real backend.
if PRODUCTION and SMS_BACKEND == "inbox":
    raise ImproperlyConfigured("SMS_BACKEND must not be 'inbox' when APP_ENV=production: name a real SMS backend")
# The console sends nothing and logs every code: production refuses it unless this names the one
# value that accepts it, and then its line masks the code and the number (codes/dev_providers.py).
SMS_CONSOLE_IN_PRODUCTION = env.str("SMS_CONSOLE_IN_PRODUCTION", default="")
if SMS_CONSOLE_IN_PRODUCTION not in {"", "unsafe-log-masked"}:
    raise ImproperlyConfigured("SMS_CONSOLE_IN_PRODUCTION must be empty or 'unsafe-log-masked'")
if PRODUCTION and SMS_BACKEND == "console" and not SMS_CONSOLE_IN_PRODUCTION:
    raise ImproperlyConfigured(
        "SMS_BACKEND must not be 'console' when APP_ENV=production: it sends no SMS and logs every code. "
        "Name a real SMS backend (twilio, smsru), or set SMS_CONSOLE_IN_PRODUCTION=unsafe-log-masked "
        "for a stack that must start without one (no SMS is sent; the log masks the codes)"
    )
SMS_LOG_MASKED = PRODUCTION
# The message's last line `@<SMS_ORIGIN_DOMAIN> #<code>` lets iOS, Android and the WebOTP API offer
# the code on that site; SMS_ANDROID_APP_HASH (11 characters) lets an Android app's SMS Retriever read it.
SMS_ORIGIN_DOMAIN = env.str("SMS_ORIGIN_DOMAIN", default="").strip().lower()
if SMS_ORIGIN_DOMAIN and not re.fullmatch(
    r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d+)?", SMS_ORIGIN_DOMAIN
):
    raise ImproperlyConfigured("SMS_ORIGIN_DOMAIN must be a host name (e.g. example.com), without a scheme or path")
SMS_ANDROID_APP_HASH = env.str("SMS_ANDROID_APP_HASH", default="").strip()
if SMS_ANDROID_APP_HASH and not re.fullmatch(r"[A-Za-z0-9+/]{11}", SMS_ANDROID_APP_HASH):
    raise ImproperlyConfigured("SMS_ANDROID_APP_HASH must be the app's 11-character hash")
SMS_DELAY_MIN_SECONDS = env.float("SMS_DELAY_MIN_SECONDS", default=1.0)
SMS_DELAY_MAX_SECONDS = env.float("SMS_DELAY_MAX_SECONDS", default=2.0)
SMS_INBOX_SIZE = env.int("SMS_INBOX_SIZE", default=10)
SMS_INBOX_TTL_SECONDS = env.int("SMS_INBOX_TTL_SECONDS", default=600)

# host:port where the worker serves its Prometheus metrics; empty: none (compose: 0.0.0.0:9101).
OTP_WORKER_METRICS_BIND = env.str("OTP_WORKER_METRICS_BIND", default="")

# --- Celery (SMS delivery): its own Redis DB index, apart from the core's broker ---------------
globals().update(
    celery_settings(
        broker_url=env_redis_url(
            "OTP_CELERY_BROKER_URL",
            default=f"{REDIS_URL}/{env.int('OTP_CELERY_REDIS_DB', default=1)}",
            production=PRODUCTION,
        ),
        # Longer than any countdown (2 s) plus delivery; a killed worker's messages come back after it.
        visibility_timeout=env.int("OTP_CELERY_VISIBILITY_TIMEOUT", default=30),
        # Sweep for abandoned messages every few seconds, so a lost SMS is sent again within seconds.
        restore_interval=env.int("OTP_CELERY_RESTORE_INTERVAL", default=5),
        publish_max_retries=1,
    )
)
# Set just above; named here for the type checker, as the tests read it.
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any]

# --- HTTP API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["codes.auth.ServiceTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["svckit.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "svckit.handlers.exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SWAGGER_USE_COMPAT_RENDERERS = False
SWAGGER_SETTINGS = {
    "USE_SESSION_AUTH": False,
    "SECURITY_DEFINITIONS": {
        "ServiceToken": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Bearer <OTP_SERVICE_TOKEN>",
        }
    },
}

LOGGING = logging_config(level=env.str("LOG_LEVEL", default="INFO"))
# The worker's own line per SMS ("SMS to …", the fake inbox) stays; Celery's "received" and
# "succeeded" lines around it only repeat the task id, twice per SMS.
LOGGING["loggers"] |= {name: {"level": "WARNING"} for name in ("celery.worker.strategy", "celery.app.trace")}

# --- Security headers (every answer) and HTTPS ---------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SILENCED_SYSTEM_CHECKS = [
    # The OTP service is internal: the core calls it over plain HTTP on the private network, so it
    # must not redirect to HTTPS (the core's calls would fail). HSTS is sent should TLS be put in front.
    "security.W008",
    # No cookies, sessions or forms: the API is authenticated by a bearer token, which a cross-site
    # request cannot carry, and the dev inbox page is read-only.
    "security.W003",
]
if PRODUCTION:
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
