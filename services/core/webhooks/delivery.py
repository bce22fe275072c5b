"""One try of one delivery, in three steps that never hold a transaction across the network: claim
the row (a short transaction: lock it, skipping a row another worker holds, and mark it claimed for
the call's deadline), POST outside any transaction (webhooks/transport.py: a total deadline, a capped
answer), then record the outcome (one UPDATE). A worker that dies mid-call leaves a claim that runs
out on its own; nothing waits on a lock meanwhile.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webhooks.models import WebhookDelivery
from webhooks.services import webhook_headers
from webhooks.transport import Answer, webhook_post

logger = logging.getLogger(__name__)

# Seconds to wait before each retry: the Standard Webhooks suggestion (5 s, 5 min, 30 min, 2 h, 5 h,
# 10 h), then one more try just before the 24 hours run out.
RETRY_SCHEDULE = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 6 * 3600)
RETRY_WINDOW = timedelta(hours=24)
CLAIM_MARGIN = timedelta(seconds=30)  # beyond the deadline: time to record the outcome
LOCKED_RETRY_SECONDS = 5  # another worker is claiming the row at this very moment
PLAIN_HTTP_REFUSED = "refused: plain http:// in production (WEBHOOK_URLS must be https://)"


@dataclass(frozen=True)
class Attempt:
    status: str  # WebhookDelivery.Status
    retry_in: int | None = None  # seconds until the next try; None: no more tries


def webhook_delivery_attempt(*, delivery_id: int) -> Attempt:
    """One try of one delivery: claim it, POST it signed, record the answer, say whether and when to
    try again. Idempotent: a delivery already delivered or failed is left alone, and one claimed by
    another worker is tried again once that claim runs out (a redelivered Celery message sends
    nothing twice while a try is under way). In production a plain http:// URL fails at once.
    Call it outside any transaction, or the claim's lock lasts as long as the caller's transaction.

    Raises the database's errors (the task retries them)."""
    claimed = _claim(delivery_id)
    if isinstance(claimed, Attempt):
        return claimed
    delivery, moment = claimed
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
    answer = webhook_post(
        url=delivery.url,
        body=body.encode(),
        headers=webhook_headers(event_id=str(delivery.event_id), body=body, moment=moment),
        deadline_seconds=settings.WEBHOOK_TIMEOUT_SECONDS,
    )
    return _record(delivery, answer, moment=moment)


def _claim(delivery_id: int) -> Attempt | tuple[WebhookDelivery, object]:
    """The row, counted as tried and claimed for the call; or the Attempt saying why there is no call."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update(skip_locked=True).filter(pk=delivery_id).first()
        if delivery is None:
            if WebhookDelivery.objects.filter(pk=delivery_id).exists():
                return Attempt(status=WebhookDelivery.Status.PENDING, retry_in=LOCKED_RETRY_SECONDS)
            return Attempt(status=WebhookDelivery.Status.FAILED)
        if delivery.status != WebhookDelivery.Status.PENDING:
            return Attempt(status=delivery.status)
        moment = timezone.now()
        if delivery.claimed_until is not None and delivery.claimed_until > moment:
            wait = math.ceil((delivery.claimed_until - moment).total_seconds())
            return Attempt(status=delivery.status, retry_in=wait)
        if moment > delivery.created_at + RETRY_WINDOW:  # e.g. the worker or database was away that long
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.save(update_fields=["status"])
            return Attempt(status=delivery.status)
        if settings.PRODUCTION and urlsplit(delivery.url).scheme != "https":
            delivery.status, delivery.last_error = WebhookDelivery.Status.FAILED, PLAIN_HTTP_REFUSED
            delivery.save(update_fields=["status", "last_error"])
            logger.error("webhook %s to %s not sent: %s", delivery.event_id, delivery.url, PLAIN_HTTP_REFUSED)
            return Attempt(status=delivery.status)
        delivery.attempts += 1
        delivery.last_attempt_at = moment
        delivery.claimed_until = moment + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS) + CLAIM_MARGIN
        delivery.save(update_fields=["attempts", "last_attempt_at", "claimed_until"])
    return delivery, moment


def _record(delivery: WebhookDelivery, answer: Answer, *, moment) -> Attempt:
    """Write the try's outcome in one UPDATE of the fields a try owns; say when to try again."""
    changes: dict[str, object] = {"claimed_until": None, "last_status_code": answer.status}
    if answer.status is None:
        changes["last_error"] = answer.error[:500]
    else:
        changes["last_error"] = "" if 200 <= answer.status < 300 else answer.body.decode(errors="replace")[:500]
    retry_in = None
    if answer.status is not None and 200 <= answer.status < 300:
        changes["status"], changes["delivered_at"] = WebhookDelivery.Status.DELIVERED, timezone.now()
    else:
        retry_in = _next_retry(delivery, now=moment)
        if retry_in is None:
            changes["status"] = WebhookDelivery.Status.FAILED
            logger.warning(
                "webhook %s to %s failed for good after %d tries", delivery.event_id, delivery.url, delivery.attempts
            )
    WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.PENDING).update(**changes)
    return Attempt(status=str(changes.get("status", WebhookDelivery.Status.PENDING)), retry_in=retry_in)


def _next_retry(delivery: WebhookDelivery, *, now) -> int | None:
    if delivery.attempts > len(RETRY_SCHEDULE):
        return None
    wait = RETRY_SCHEDULE[delivery.attempts - 1]
    if now + timedelta(seconds=wait) > delivery.created_at + RETRY_WINDOW:
        return None
    return wait
