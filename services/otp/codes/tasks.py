"""Delivery: the SMS is queued with a 1–2 s countdown; nothing ever sleeps for the delay."""

import logging

import redis
from celery import shared_task
from cryptography.fernet import InvalidToken

from codes.sealing import unseal
from codes.sms import sms_send

logger = logging.getLogger(__name__)


@shared_task(
    name="codes.deliver_sms",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(redis.RedisError, OSError),
    retry_backoff=1,
    retry_backoff_max=30,
    retry_jitter=True,
    max_retries=8,
)
def deliver_sms(*, message_id: str, phone: str, sealed_code: str, requested_at: str) -> bool:
    """Idempotent by message id: a redelivered message (worker killed, retried) is sent once."""
    try:
        code = unseal(sealed_code)
    except InvalidToken:
        logger.warning("SMS %s dropped: the sealed code is not valid or has expired", message_id)
        return False
    sent = sms_send(
        message_id=message_id, phone=phone, text=f"Your code is {code}", code=code, requested_at=requested_at
    )
    if not sent:
        logger.info("SMS %s was already delivered; skipped", message_id)
    return sent
