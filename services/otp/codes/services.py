"""OTP business rules: send a code, verify a code, read the dev inbox."""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import secrets
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from django.conf import settings
from kombu.exceptions import KombuError, OperationalError

from codes import store
from codes.errors import (
    InvalidCode,
    ServiceUnavailable,
    SmsLimitReached,
    TooManyAttempts,
    TooManyFailures,
    TooManyRequests,
)
from codes.guard import sms_guard_check, sms_guard_verified
from codes.metrics import CODES_FAILED, CODES_SENT, CODES_VERIFIED, SMS_FAILED, SMS_QUEUED, TEST_NUMBER_USES
from codes.sealing import seal
from codes.tasks import deliver_sms
from svckit.phones import sms_policy_check

logger = logging.getLogger(__name__)
test_numbers_logger = logging.getLogger("codes.test_numbers")


@dataclass(frozen=True)
class CodeSent:
    expires_in: int
    resend_in: int


@contextmanager
def _redis_guard():
    try:
        yield
    except redis.RedisError as exc:
        logger.warning("redis unavailable: %s", exc)
        raise ServiceUnavailable() from exc


def code_digest(*, phone: str, code: str) -> str:
    """HMAC-SHA256(OTP_SECRET, phone + code): the only form of a code that is ever stored."""
    return hmac.new(settings.OTP_SECRET.encode(), f"{phone}{code}".encode(), hashlib.sha256).hexdigest()


def code_generate() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(settings.OTP_LENGTH))


def otp_send(*, phone: str, language: str = "en") -> CodeSent:
    """Store a new code (replacing the previous one) and queue its SMS, in `language` ('en' or
    'ru'), for 1–2 s later. A test number (OTP_TEST_NUMBERS) gets its fixed code instead: no SMS,
    no cooldown or hourly cap, and the failure budget of every number (see _test_number_send).

    Raises UnsupportedNumber / UnsupportedCountry (SMS_ALLOWED_*: checked again here, whoever calls),
    TooManyRequests (cooldown or hourly cap), SmsLimitReached (the SMS-pumping guard, codes/guard.py),
    ServiceUnavailable (Redis or the broker down)."""
    sms_policy_check(
        phone, allowed_types=settings.SMS_ALLOWED_NUMBER_TYPES, allowed_countries=settings.SMS_ALLOWED_COUNTRIES
    )
    if phone in settings.OTP_TEST_NUMBERS:
        return _test_number_send(phone=phone)
    code = code_generate()
    message_id = uuid.uuid4().hex
    with _redis_guard():
        result = store.code_store(phone=phone, digest=code_digest(phone=phone, code=code), send_id=message_id)
    if not result.stored:
        CODES_FAILED.labels(reason="too_many_requests").inc()
        raise TooManyRequests(
            "Too many codes requested for this phone. Try again later.", retry_after=result.wait_ms / 1000
        )
    try:
        with _redis_guard():
            sms_guard_check(phone=phone, send_id=message_id)
    except SmsLimitReached:
        # Nothing will be sent: the phone keeps its cooldown and hourly slot for when there is room.
        CODES_FAILED.labels(reason="sms_limit_reached").inc()
        with _redis_guard():
            store.code_cancel(phone=phone, send_id=message_id)
        raise
    delay = random.uniform(settings.SMS_DELAY_MIN_SECONDS, settings.SMS_DELAY_MAX_SECONDS)
    try:
        deliver_sms.apply_async(
            kwargs={
                "message_id": message_id,
                "phone": phone,
                "sealed_code": seal(message_id=message_id, phone=phone, code=code),
                "requested_at": datetime.now(UTC).isoformat(),
                "language": language,
            },
            countdown=delay,
            # The message's headers carry no copy of the phone and sealed code (Celery would repr the
            # kwargs into them for monitoring tools): the message id is enough to find it.
            argsrepr="",
            kwargsrepr=message_id,
        )
    except (OperationalError, KombuError, redis.RedisError) as exc:
        # No SMS will come: give the phone its cooldown and hourly slot back.
        logger.warning("could not queue SMS %s: %s", message_id, exc)
        SMS_FAILED.labels(reason="not_queued").inc()
        with _redis_guard():
            store.code_cancel(phone=phone, send_id=message_id)
        raise ServiceUnavailable() from exc
    CODES_SENT.inc()
    SMS_QUEUED.inc()
    return CodeSent(expires_in=settings.OTP_TTL_SECONDS, resend_in=settings.OTP_RESEND_COOLDOWN_SECONDS)


def _test_number_send(*, phone: str) -> CodeSent:
    """Firebase-style test number: its fixed code, no SMS, no cooldown or hourly cap. Its guesses
    count as any number's (OTP_MAX_ATTEMPTS, OTP_MAX_FAILURES_PER_DAY): its code is known to the
    store reviewers only, and a code request gives a live fixed code no new guesses."""
    code = settings.OTP_TEST_NUMBERS[phone]
    with _redis_guard():
        life_ms = store.code_store_fixed(phone=phone, digest=code_digest(phone=phone, code=code))
    test_numbers_logger.warning("test number %s: its fixed code is set, no SMS sent", phone)
    TEST_NUMBER_USES.labels(action="send").inc()
    return CodeSent(expires_in=-(-life_ms // 1000), resend_in=0)


def otp_verify(*, phone: str, code: str) -> None:
    """Return if the code is right (and burn it, forgiving the phone's failures).

    Raises InvalidCode (details.attempts_left: what is left of the code's and the phone's budgets,
    whichever is smaller), TooManyAttempts (the code is burned), TooManyFailures (the phone's
    OTP_MAX_FAILURES_PER_DAY is spent: the right code is refused too), ServiceUnavailable."""
    with _redis_guard():
        result = store.code_check(
            phone=phone, digest=code_digest(phone=phone, code=code), fixed=phone in settings.OTP_TEST_NUMBERS
        )
    if phone in settings.OTP_TEST_NUMBERS:
        test_numbers_logger.warning("test number %s: code checked (%s)", phone, result.status)
        TEST_NUMBER_USES.labels(action="verify").inc()
    if result.status == "verified":
        CODES_VERIFIED.inc()
        if phone not in settings.OTP_TEST_NUMBERS:
            with _redis_guard():
                sms_guard_verified(phone=phone)
        return
    if result.status == "locked":
        CODES_FAILED.labels(reason="too_many_failures").inc()
        raise TooManyFailures(retry_after=result.wait_ms / 1000, details={"scope": "phone"})
    if result.status == "burned":
        CODES_FAILED.labels(reason="too_many_attempts").inc()
        raise TooManyAttempts(retry_after=result.wait_ms / 1000, details={"scope": "code"})
    CODES_FAILED.labels(reason="invalid_code").inc()
    raise InvalidCode(details={"attempts_left": result.attempts_left})


def inbox_messages(*, phone: str | None) -> list[dict]:
    """The dev inbox, newest first (all phones when `phone` is None). Raises ServiceUnavailable."""
    with _redis_guard():
        return store.inbox_list(phone=phone)


def redis_ready() -> bool:
    """For /readyz: whether Redis answers a PING; never raises."""
    try:
        return store.ping()
    except redis.RedisError:
        return False
