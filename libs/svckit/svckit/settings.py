"""Start-up rules both services' settings share: APP_ENV, secrets that have no default outside
development and are refused in production when weak or public, a production that refuses DEBUG and
wildcard hosts, and how their Celery runs."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import unquote, urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

from svckit import phones
from svckit.broker import broker_transport

_env = environ.Env()


def env_app_environment() -> tuple[str, bool]:
    """APP_ENV ('development' or 'production') and whether it is production."""
    name = _env.str("APP_ENV", default="development")
    if name not in {"development", "production"}:
        raise ImproperlyConfigured("APP_ENV must be 'development' or 'production'")
    return name, name == "production"


# At least 256 bits' worth of key for HS256 (RFC 7518, section 3.2) from a generator that gives
# 6 bits a character; Django's deployment check asks for 5 different characters in SECRET_KEY.
SECRET_MIN_LENGTH = 32
SECRET_MIN_UNIQUE_CHARACTERS = 5
GENERATE_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'
# Public values: every development default of the services' settings (a test holds them to this
# set) and whatever the repository's examples and libs/devstack hand the services.
DEVELOPMENT_SECRETS = frozenset(
    {
        "dev-only-core-secret-key-not-for-production",
        "dev-only-core-jwt-signing-key-not-for-production",
        "dev-only-otp-secret-key-not-for-production",
        "dev-only-otp-hmac-secret",
        "dev-otp-service-token",
    }
)


def _normalised(value: str) -> str:
    """A secret as the refusals compare it: a public value in another case, or with the blank a
    copy or a file's last newline adds, is still that public value."""
    return value.strip().casefold()


_DEVELOPMENT_NORMALISED = frozenset(_normalised(value) for value in DEVELOPMENT_SECRETS)


def env_secret(
    name: str, *, dev_default: str, production: bool, used: bool = True, set_as: str = "", prefix: str = ""
) -> str:
    """The secret in environment variable `name`: in development its value, else `dev_default`.

    In production, when `used` (False: the feature that needs it is off, and the value is returned
    as given), the value must be at least SECRET_MIN_LENGTH characters with SECRET_MIN_UNIQUE_CHARACTERS
    different ones, and none of DEVELOPMENT_SECRETS (every `dev_default` is one). `set_as` names the
    variable that docker compose and Kubernetes map onto `name` (CORE_SECRET_KEY for SECRET_KEY);
    `prefix` is a fixed label the format puts first (WEBHOOK_SECRET's whsec_), left out of the checks.
    Raises ImproperlyConfigured naming the variable and saying what to set."""
    value = _env.str(name, default="")
    if not production:
        return value or dev_default
    if used:
        label = f"{name} (set as {set_as} under docker compose and Kubernetes)" if set_as else name
        _refuse_weak(label, value.removeprefix(prefix) if prefix and value.startswith(prefix) else value)
    return value


def env_secret_fallbacks(name: str, *, production: bool, prefix: str = "") -> list[str]:
    """Secrets in environment variable `name` (comma-separated: Django's SECRET_KEY_FALLBACKS, or
    WEBHOOK_SECRETS), each held in production to env_secret's rules, `prefix` left out as there;
    [] when unset. Raises ImproperlyConfigured naming the variable."""
    values = _env.list(name, default=[])
    if production:
        for value in values:
            _refuse_weak(name, value.removeprefix(prefix) if prefix and value.startswith(prefix) else value)
    return values


def _refuse_weak(label: str, value: str) -> None:
    advice = f"set a random value of at least {SECRET_MIN_LENGTH} characters, e.g. from {GENERATE_SECRET}"
    if not value:
        raise ImproperlyConfigured(f"{label} must be set when APP_ENV=production: {advice}")
    if _normalised(value) in _DEVELOPMENT_NORMALISED:
        raise ImproperlyConfigured(f"{label} is a development value, public in the repository: {advice}")
    value = value.strip()
    if len(value) < SECRET_MIN_LENGTH:
        raise ImproperlyConfigured(f"{label} is too short for a secret ({len(value)} characters): {advice}")
    if len(set(value)) < SECRET_MIN_UNIQUE_CHARACTERS:
        raise ImproperlyConfigured(
            f"{label} has fewer than {SECRET_MIN_UNIQUE_CHARACTERS} different characters: {advice}"
        )


def env_redis_url(name: str, *, default: str, production: bool) -> str:
    """The Redis URL in environment variable `name`, else `default` (e.g. derived from REDIS_URL).

    In production it must carry a password (redis://:PASSWORD@host:6379, or user:PASSWORD@ for an
    ACL user; rediss:// alike) held to env_secret's rules: Redis answers whoever reaches its port,
    and tries passwords as fast as it answers anything (https://redis.io/docs/latest/operate/oss_and_stack/management/security/).
    Raises ImproperlyConfigured naming the variable."""
    url = _env.str(name, default="") or default
    if production:
        password = unquote(urlsplit(url).password or "")
        if not password:
            raise ImproperlyConfigured(
                f"{name} must carry a password when APP_ENV=production (redis://:PASSWORD@host:6379, "
                f"rediss:// for TLS): set Redis's requirepass, or an ACL user, to a random value, e.g. from "
                f"{GENERATE_SECRET}"
            )
        _refuse_weak(f"{name}'s password", password)
    return url


def refuse_shared_secrets(*, production: bool, **secrets: str) -> None:
    """In production, each of `secrets` (variable name=value) must differ from the others: one leaked
    value must not open what another secret guards (compared as _normalised: a copy with another
    case or a trailing blank is the same value). Raises ImproperlyConfigured naming both."""
    if not production:
        return
    seen: dict[str, str] = {}
    for name, value in secrets.items():
        value = _normalised(value)
        if value and value in seen:
            advice = f"give each secret its own random value, e.g. from {GENERATE_SECRET}"
            raise ImproperlyConfigured(f"{name} must differ from {seen[value]}: {advice}")
        seen.setdefault(value, name)


def refuse_unsafe_production(*, production: bool, debug: bool, allowed_hosts: list[str]) -> None:
    if not production:
        return
    if debug:
        raise ImproperlyConfigured("DEBUG must be off when APP_ENV=production")
    if any("*" in host for host in allowed_hosts):
        raise ImproperlyConfigured("ALLOWED_HOSTS must name the hosts when APP_ENV=production, not '*'")


def env_sms_policy() -> tuple[frozenset[str], frozenset[str]]:
    """SMS_ALLOWED_NUMBER_TYPES and SMS_ALLOWED_COUNTRIES (comma-separated), checked at start-up.

    SMS_ALLOWED_COUNTRIES lists ISO 3166 codes, or is `*` for every country on purpose; empty means
    every country in development and is refused with APP_ENV=production, where every country is
    what SMS pumping needs (a premium range abroad costs per SMS).
    Returns (phonenumbers type names, ISO 3166 codes — empty for every country).
    Raises ImproperlyConfigured naming the variable."""
    _, production = env_app_environment()
    countries_named = [code.strip() for code in _env.list("SMS_ALLOWED_COUNTRIES", default=[]) if code.strip()]
    if "*" in countries_named and countries_named != ["*"]:
        raise ImproperlyConfigured("SMS_ALLOWED_COUNTRIES must be ISO 3166 codes (e.g. RU,KZ) or * alone")
    if production and not countries_named:
        raise ImproperlyConfigured(
            "SMS_ALLOWED_COUNTRIES must be set when APP_ENV=production: the ISO 3166 codes of the countries "
            "whose numbers may be sent a code (e.g. RU,KZ), or * for every country"
        )
    try:
        types = phones.number_type_names(
            _env.list("SMS_ALLOWED_NUMBER_TYPES", default=list(phones.SMS_NUMBER_TYPES_DEFAULT))
        )
        countries = phones.country_codes([] if countries_named == ["*"] else countries_named)
    except ValueError as exc:
        raise ImproperlyConfigured(f"SMS_ALLOWED_NUMBER_TYPES / SMS_ALLOWED_COUNTRIES: {exc}") from exc
    if not types:
        raise ImproperlyConfigured("SMS_ALLOWED_NUMBER_TYPES must name at least one type, e.g. mobile")
    return types, countries


def env_otp_length() -> int:
    """OTP_LENGTH, digits in a one-time code (default 4): the OTP service makes codes this long and
    the core's sign-in page asks for exactly this many."""
    return _env.int("OTP_LENGTH", default=4)


def logging_config(*, level: str) -> dict:
    """One plain line per record on stderr (the worker's `SMS to …` lines are the fake inbox)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {"django.request": {"level": "ERROR"}},
    }


# Celery takes these from the process environment over its own settings (celery.app.utils.Settings'
# broker_url, broker_read_url, broker_write_url and result_backend properties), so a CELERY_BROKER_URL
# meant for one service, in the one .env compose hands to all, would move the other's worker too.
CELERY_ENVIRONMENT_OVERRIDES = (
    "CELERY_BROKER_URL",
    "CELERY_BROKER_READ_URL",
    "CELERY_BROKER_WRITE_URL",
    "CELERY_RESULT_BACKEND",
)


def celery_ignore_environment() -> None:
    """Drop CELERY_ENVIRONMENT_OVERRIDES from os.environ, so the service's Celery app (config/celery.py,
    which calls this before it is made) takes its broker from its own settings only; `celery --broker`
    sets the same variable and is ignored alike."""
    for name in CELERY_ENVIRONMENT_OVERRIDES:
        os.environ.pop(name, None)


def celery_settings(
    *, broker_url: str, visibility_timeout: int, publish_max_retries: int, restore_interval: int | None = None
) -> dict[str, Any]:
    """The CELERY_* settings (Celery's Django namespace) of a service's worker and its publishers.

    Both services run Celery alike: JSON only, no results, acks_late with a killed worker's task
    handed out again, Redis sockets that give up in seconds, CELERY_KEY_PREFIX on every broker key
    and svckit.broker's transport. What differs is given: `visibility_timeout` (seconds before an
    unacknowledged message is handed out again: longer than any countdown the service uses),
    `restore_interval` (seconds between kombu's sweeps for abandoned messages; None: kombu's own,
    about 100 s) and `publish_max_retries` (further tries of a publish that hits a broken broker
    connection, 0.2 s apart: each one costs the caller's request that long).
    Returns {setting name: value}, for the settings module's globals()."""
    options: dict[str, Any] = {
        "visibility_timeout": visibility_timeout,
        "global_keyprefix": _env.str("CELERY_KEY_PREFIX", default=""),
        "socket_timeout": 2,
        "socket_connect_timeout": 1,
    }
    if restore_interval is not None:
        options |= {"unacked_restore_interval": restore_interval, "unacked_restore_throttle": 1}
    return {
        "CELERY_BROKER_URL": broker_url,
        "CELERY_BROKER_TRANSPORT_OPTIONS": options,
        "CELERY_BROKER_TRANSPORT": broker_transport(broker_url),
        "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP": True,
        "CELERY_TASK_SERIALIZER": "json",
        "CELERY_ACCEPT_CONTENT": ["json"],
        "CELERY_TASK_IGNORE_RESULT": True,
        "CELERY_RESULT_BACKEND": None,
        "CELERY_TASK_ACKS_LATE": True,
        "CELERY_TASK_REJECT_ON_WORKER_LOST": True,
        "CELERY_WORKER_HIJACK_ROOT_LOGGER": False,
        "CELERY_TASK_PUBLISH_RETRY_POLICY": {
            "max_retries": publish_max_retries,
            "interval_start": 0,
            "interval_step": 0.2,
        },
    }
