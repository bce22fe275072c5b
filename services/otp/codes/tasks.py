"""Delivery: the SMS is queued with a 1–2 s countdown; nothing ever sleeps for the delay."""

import logging
from datetime import UTC, datetime

from celery import shared_task
from celery.signals import task_failure
from django.conf import settings

from codes.delivery import RECORD_RETRIES, provider_deliver
from codes.message import message_text
from codes.metrics import SMS_DELIVERED, SMS_DELIVERY_LAG, SMS_FAILED, SMS_REFUSED
from codes.providers import Sms
from codes.sealing import SealExpired, SealRefused, unseal

logger = logging.getLogger(__name__)


@shared_task(bind=True, name="codes.deliver_sms", acks_late=True, ignore_result=True)
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
    outages: int = 0,
) -> bool:
    """Send one code's SMS through the SMS_BACKEND's providers (codes.delivery); True if it was sent.

    Idempotent by message id: a redelivered message (worker killed, retried) is sent once, whatever
    the backend, since every one goes through the same delivery record. A message whose sealed code
    was not sealed for its own message id and phone is never sent (codes.sealing: counted in
    otp_sms_refused_total, logged without the code).

    One retry policy: the task runs again with a countdown (exponential backoff with jitter,
    codes.delivery._backoff, below the broker's visibility timeout), never a sleep, when
      a provider did not accept the message for a transient reason (NotSent): the same provider up
        to SMS_PROVIDER_ATTEMPTS times, then the next one at once (`provider_index`, `attempt`,
        `calls` say where the message stands);
      Redis could not hold the delivery record: the same attempt, up to RECORD_RETRIES times
        (`outages`).
    Nothing else is retried: a refusal moves to the next provider, an in-doubt call is never
    repeated, and an unexpected error fails the message (otp_sms_failed_total{retries_exhausted})."""
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
    sms = Sms(
        message_id=message_id,
        phone=phone,
        text=message_text(code=code, language=language),
        code=code,
        requested_at=requested_at,
    )
    step = provider_deliver(sms=sms, provider_index=provider_index, attempt=attempt, calls=calls, outages=outages)
    if step.action == "retry":
        where = {"provider_index": step.provider_index, "attempt": step.attempt, "calls": step.calls}
        raise self.retry(
            kwargs={**self.request.kwargs, **where, "outages": step.outages},
            countdown=step.countdown,
            max_retries=len(settings.SMS_PROVIDERS) * settings.SMS_PROVIDER_ATTEMPTS + RECORD_RETRIES,
            # As in otp_send: no copy of the phone and sealed code in the retried message's headers.
            argsrepr="",
            kwargsrepr=message_id,
        )
    if step.outcome == "sent":
        SMS_DELIVERED.labels(backend=step.provider).inc()
        SMS_DELIVERY_LAG.observe((datetime.now(UTC) - datetime.fromisoformat(requested_at)).total_seconds())
    elif step.outcome in ("failed", "in_doubt"):
        SMS_FAILED.labels(reason="providers_exhausted" if step.outcome == "failed" else "in_doubt").inc()
    return step.sent


@task_failure.connect(sender=deliver_sms)
def _count_undelivered(**_kwargs) -> None:
    """A delivery that failed for good (its retries spent or an unexpected error)."""
    SMS_FAILED.labels(reason="retries_exhausted").inc()
