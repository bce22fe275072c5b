"""Start-up rules both services' settings share: APP_ENV, secrets that have no default outside
development, and a production that refuses DEBUG and wildcard hosts."""

from __future__ import annotations

import environ
from django.core.exceptions import ImproperlyConfigured

from svckit import phones

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

    Returns (phonenumbers type names, ISO 3166 codes — empty for every country)."""
    try:
        types = phones.number_type_names(
            _env.list("SMS_ALLOWED_NUMBER_TYPES", default=list(phones.SMS_NUMBER_TYPES_DEFAULT))
        )
        countries = phones.country_codes(_env.list("SMS_ALLOWED_COUNTRIES", default=[]))
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
