"""Start-up rules both services' settings share: APP_ENV, secrets that have no default outside
development, a production that refuses DEBUG and wildcard hosts, and how their Celery runs."""

from __future__ import annotations

from typing import Any

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


def env_secret(name: str, *, dev_default: str, production: bool) -> str:
    value = _env.str(name, default="")
    if value:
        return value
    if production:
        raise ImproperlyConfigured(f"{name} must be set when APP_ENV=production")
    return dev_default


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
