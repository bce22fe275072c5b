"""Delivery: the SMS is queued with a 1–2 s countdown; nothing ever sleeps for the delay."""

import logging
from datetime import UTC, datetime

import redis
from celery import shared_task
from celery.signals import task_failure
from django.conf import settings

from codes.delivery import provider_deliver
from codes.delivery_log import delivery_log
from codes.message import message_text
from codes.metrics import SMS_DELIVERED, SMS_DELIVERY_LAG, SMS_FAILED, SMS_REFUSED
from codes.sealing import SealExpired, SealRefused, unseal
from codes.sms import sms_send

logger = logging.getLogger(__name__)


@shared_task(
    bind=True,
    name="codes.deliver_sms",
    acks_late=True,
    ignore_result=True,
    autoretry_for=(redis.RedisError, OSError),
    retry_backoff=1,
    retry_backoff_max=30,
    retry_jitter=True,
    max_retries=8,
)
def deliver_sms(
    self,
    *,
    message_id: str,
    phone: str,
    sealed_code: str,
    requested_at: str,
    language: str = "en",
    provider_index: int = 0,
    attempt: int = 1,
    calls: int = 1,
) -> bool:
    """Idempotent by message id: a redelivered message (worker killed, retried) is sent once. A
    message whose sealed code was not sealed for its own message id and phone is never sent
    (codes.sealing: counted in otp_sms_refused_total, logged without the code).
    With provider backends, `provider_index`/`attempt`/`calls` say where this retry stands (see
    codes.delivery); the retry is this task again with a countdown, never a sleep."""
    try:
        code = unseal(sealed_code, message_id=message_id, phone=phone)
    except SealRefused as exc:
        # Not ours to send: the message id is the publisher's word, cut short for the log.
        logger.warning("SMS %.64r refused: its sealed code does not open for it (%s)", message_id, exc.reason)
        SMS_REFUSED.labels(reason=exc.reason).inc()
        return False
    except SealExpired:
        logger.warning("SMS %s dropped: its code has expired", message_id)
        SMS_FAILED.labels(reason="code_expired").inc()
        return False
    text = message_text(code=code, language=language)
    if not settings.SMS_PROVIDERS:
        sent = sms_send(message_id=message_id, phone=phone, text=text, code=code, requested_at=requested_at)
        delivery_log(
            message_id=message_id,
            provider=settings.SMS_BACKEND,
            attempt=self.request.retries + 1,
            status="sent" if sent else "skipped",
            requested_at=requested_at,
        )
        if not sent:
            return False
        _count_delivered(requested_at, settings.SMS_BACKEND)
        return True
    step = provider_deliver(
        message_id=message_id,
        phone=phone,
        text=text,
        requested_at=requested_at,
        provider_index=provider_index,
        attempt=attempt,
        calls=calls,
    )
    if step.action == "retry":
        kwargs = {**self.request.kwargs, "provider_index": step.provider_index, "attempt": step.attempt}
        raise self.retry(
            kwargs={**kwargs, "calls": calls + 1},
            countdown=step.countdown,
            max_retries=len(settings.SMS_PROVIDERS) * settings.SMS_PROVIDER_ATTEMPTS,
            # As in otp_send: no copy of the phone and sealed code in the retried message's headers.
            argsrepr="",
            kwargsrepr=message_id,
        )
    if step.outcome == "sent":
        _count_delivered(requested_at, step.provider)
    elif step.outcome in ("failed", "in_doubt"):
        SMS_FAILED.labels(reason="providers_exhausted" if step.outcome == "failed" else "in_doubt").inc()
    return step.sent


def _count_delivered(requested_at: str, backend: str) -> None:
    SMS_DELIVERED.labels(backend=backend).inc()
    SMS_DELIVERY_LAG.observe((datetime.now(UTC) - datetime.fromisoformat(requested_at)).total_seconds())


@task_failure.connect(sender=deliver_sms)
def _count_undelivered(**_kwargs) -> None:
    """A delivery that failed for good (its retries spent or an unexpected error)."""
    SMS_FAILED.labels(reason="retries_exhausted").inc()
