"""The SMS-pumping guard: caps on how many codes go to one number prefix, one country and the
whole service, and a conversion tripwire — checked once per code that is about to be sent.

SMS pumping (toll fraud): bots request codes for ranges of numbers whose operator shares the SMS
fee with them. They never verify, and they spread over client addresses and numbers, so the
per-phone and per-address limits do not see them; a number's prefix and country do. See the
OWASP Automated Threats handbook (OAT-009 "SMS pumping") and Twilio's "SMS pumping fraud" guide."""

from __future__ import annotations

import logging

from django.conf import settings

from codes import metrics, store
from svckit import phones
from svckit.otp import SmsLimitReached

logger = logging.getLogger(__name__)


def sms_guard_check(*, phone: str, send_id: str) -> None:
    """Count one code about to be sent to `phone` (E.164) in every scope, atomically.

    Scopes: `conversion` (the prefix's tripwire: SMS_GUARD_MIN_SENDS sends in the last hour, fewer
    than SMS_GUARD_MIN_CONVERSION of them verified → the prefix is refused for an hour), `prefix`
    (SMS_PREFIX_MAX_PER_HOUR), `country` (SMS_COUNTRY_MAX_PER_DAY, or the country's override),
    `service` (SMS_MAX_PER_DAY). A tripped scope is logged (warning) and counted in the metrics;
    with SMS_GUARD_MODE=enforce it raises SmsLimitReached (429, Retry-After, details.scope) and
    nothing is counted, with `shadow` the code is sent and counted all the same.
    Raises redis.RedisError when Redis is down (the caller's 503)."""
    prefix, country = phones.number_prefix(phone), phones.number_country(phone)
    enforce = settings.SMS_GUARD_MODE == "enforce"
    verdict = store.sms_guard_hit(
        prefix=prefix,
        country=country,
        send_id=send_id,
        prefix_limit=settings.SMS_PREFIX_MAX_PER_HOUR,
        country_limit=settings.SMS_COUNTRY_MAX_PER_DAY_OVERRIDES.get(country, settings.SMS_COUNTRY_MAX_PER_DAY),
        service_limit=settings.SMS_MAX_PER_DAY,
        min_sends=settings.SMS_GUARD_MIN_SENDS,
        min_conversion=settings.SMS_GUARD_MIN_CONVERSION,
        enforce=enforce,
    )
    if verdict.scope is None:
        return
    metrics.SMS_GUARD_TRIPS.labels(scope=verdict.scope, mode=settings.SMS_GUARD_MODE).inc()
    logger.warning(
        "SMS guard %s: %s limit reached for prefix %s (country %s), retry in %d s",
        "refused a code" if enforce else "would refuse a code (shadow mode, sent)",
        verdict.scope,
        prefix,
        country,
        verdict.wait_ms // 1000,
    )
    if enforce:
        raise SmsLimitReached(retry_after=verdict.wait_ms / 1000, details={"scope": verdict.scope})


def sms_guard_verified(*, phone: str) -> None:
    """Count a verified code towards its prefix's conversion (the tripwire's numerator)."""
    store.sms_guard_verified(prefix=phones.number_prefix(phone))
