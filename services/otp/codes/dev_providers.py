"""The development SMS providers, behind the same delivery record as the real ones (codes.delivery):
`console` logs one line per message on logger `sms` (the fake SMS inbox); `inbox` also keeps the
last messages per phone in Redis for the dev inbox. Production accepts neither (config/settings.py),
but the console behind SMS_CONSOLE_IN_PRODUCTION=unsafe-log-masked: with SMS_LOG_MASKED the line
masks the code and the middle of the number, `SMS to +7999*****67: Your sign-in code: ****`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import redis
from django.conf import settings

from codes import store
from codes.providers import InDoubt, NotSent, Sms

logger = logging.getLogger("sms")


def masked_phone(phone: str) -> str:
    """`+79991234567` → `+7999*****67`: the country and the operator's first digits, the last two."""
    return phone[:5] + "*" * max(len(phone) - 7, 0) + phone[-2:]


def _log(sms: Sms) -> None:
    phone, text = sms.phone, sms.text
    if settings.SMS_LOG_MASKED:
        phone, text = masked_phone(phone), text.replace(sms.code, "*" * len(sms.code))
    logger.info("SMS to %s: %s", phone, text)


def console_send(sms: Sms) -> str:
    """Log the message; returns its message id as the provider's id. Never fails."""
    _log(sms)
    return sms.message_id


def inbox_send(sms: Sms) -> str:
    """Keep the message in the dev inbox (codes.store.inbox_add) and log it; returns its message id.

    Raises NotSent when Redis could not be reached (nothing was written), InDoubt when it gave no
    answer (the message may be in the inbox)."""
    message = {
        "id": sms.message_id,
        "phone": sms.phone,
        "text": sms.text,
        "code": sms.code,
        "requested_at": sms.requested_at,
        "sent_at": datetime.now(UTC).isoformat(),
    }
    try:
        store.inbox_add(phone=sms.phone, message=message)
    except redis.ConnectionError as exc:
        raise NotSent("inbox", f"redis unavailable: {exc}") from exc
    except redis.RedisError as exc:
        raise InDoubt("inbox", f"no answer from redis: {exc}") from exc
    _log(sms)
    return sms.message_id
