"""SMS backends. `console` logs one line per message (the fake SMS inbox); `inbox` also keeps the
last messages per phone in Redis for the dev inbox. Both deliver a message id at most once.
With SMS_LOG_MASKED (production, where the console is an explicit opt-in) the line masks the code
and the middle of the number: `SMS to +7999*****67: Your sign-in code: ****`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.conf import settings

from codes import store

logger = logging.getLogger("sms")


def _log(phone: str, text: str, code: str) -> None:
    if settings.SMS_LOG_MASKED:
        phone, text = masked_phone(phone), text.replace(code, "*" * len(code))
    logger.info("SMS to %s: %s", phone, text)


def masked_phone(phone: str) -> str:
    """`+79991234567` → `+7999*****67`: the country and the operator's first digits, the last two."""
    return phone[:5] + "*" * max(len(phone) - 7, 0) + phone[-2:]


def console_send(*, message_id: str, phone: str, text: str, code: str, requested_at: str) -> bool:
    if not store.sms_mark_delivered(message_id=message_id):
        return False
    try:
        _log(phone, text, code)
    except Exception:
        store.sms_unmark_delivered(message_id=message_id)
        raise
    return True


def inbox_send(*, message_id: str, phone: str, text: str, code: str, requested_at: str) -> bool:
    message = {
        "id": message_id,
        "phone": phone,
        "text": text,
        "code": code,
        "requested_at": requested_at,
        "sent_at": datetime.now(UTC).isoformat(),
    }
    if not store.inbox_add(message_id=message_id, phone=phone, message=message):
        return False
    _log(phone, text, code)
    return True


BACKENDS = {"console": console_send, "inbox": inbox_send}


def sms_send(**message: str) -> bool:
    """Deliver through the configured backend; False when this message id was already delivered."""
    return BACKENDS[settings.SMS_BACKEND](**message)
