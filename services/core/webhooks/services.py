"""Signed webhooks for the product's own systems (rewards, CRM): `user.registered` and
`referral.activated`, POSTed to every WEBHOOK_URLS endpoint.

An event is recorded in the caller's transaction (one WebhookDelivery row per endpoint) and handed to
Celery only once that transaction commits, so an activation that rolls back sends nothing. Each try
is signed per the Standard Webhooks specification v1 (https://www.standardwebhooks.com/, "Signature
scheme"): headers `webhook-id` (the event id, the same on every try), `webhook-timestamp` (the try's
Unix seconds) and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of `id.timestamp.body` under the
base64 secret after `whsec_`), computed by the `standardwebhooks` package. A try that gets no 2xx is
retried on the spec's suggested schedule, cut to 24 hours after the event.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import urllib3
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from webhooks.models import WebhookDelivery

logger = logging.getLogger(__name__)

USER_REGISTERED = "user.registered"
REFERRAL_ACTIVATED = "referral.activated"

# Seconds to wait before each retry: the Standard Webhooks suggestion (5 s, 5 min, 30 min, 2 h, 5 h,
# 10 h), then one more try just before the 24 hours run out.
RETRY_SCHEDULE = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 6 * 3600)
RETRY_WINDOW = timedelta(hours=24)
USER_AGENT = "referrals-webhooks/1"

_http = urllib3.PoolManager(num_pools=4, maxsize=4, retries=False)


@dataclass(frozen=True)
class Attempt:
    status: str  # WebhookDelivery.Status
    retry_in: int | None = None  # seconds until the next try; None: no more tries


def webhook_event_emit(*, event_type: str, data: dict[str, Any]) -> uuid.UUID | None:
    """Record `event_type` with `data` for every endpoint and queue its delivery for when the current
    transaction commits (at once outside one). Returns the event id, None when no endpoint is set."""
    if not settings.WEBHOOK_URLS:
        return None
    event_id = uuid.uuid4()
    payload = {"type": event_type, "timestamp": _iso(timezone.now()), "data": data}
    deliveries = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(event_id=event_id, event_type=event_type, payload=payload, url=url)
        for url in settings.WEBHOOK_URLS
    )
    ids = [delivery.pk for delivery in deliveries]
    # robust: a broker outage at this moment must not fail the committed sign-in or activation; the
    # rows stay pending in the log (and are logged here).
    transaction.on_commit(lambda: _enqueue(ids), robust=True)
    return event_id


def _enqueue(ids: list[int]) -> None:
    from webhooks.tasks import webhook_deliver  # the task module imports this one

    for delivery_id in ids:
        webhook_deliver.delay(delivery_id=delivery_id)


def _iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def webhook_headers(*, event_id: str, body: str, moment) -> dict[str, str]:
    """The Standard Webhooks headers of one try of `body` (the exact bytes sent, as text)."""
    signature = Webhook(settings.WEBHOOK_SECRET).sign(msg_id=event_id, timestamp=moment, data=body)
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": event_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
    }


def webhook_delivery_attempt(*, delivery_id: int) -> Attempt:
    """One try of one delivery: POST it signed, record the answer, say whether and when to try again.

    Idempotent: the row is locked for the try, and a delivery already delivered or failed is left
    alone (a redelivered Celery message sends nothing twice)."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
            return Attempt(status=delivery.status if delivery else WebhookDelivery.Status.FAILED)
        moment = timezone.now()
        if moment > delivery.created_at + RETRY_WINDOW:  # e.g. the worker or database was away that long
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.save(update_fields=["status"])
            return Attempt(status=delivery.status)
        body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
        headers = webhook_headers(event_id=str(delivery.event_id), body=body, moment=moment)
        timeout = urllib3.Timeout(connect=settings.WEBHOOK_TIMEOUT_SECONDS, read=settings.WEBHOOK_TIMEOUT_SECONDS)
        delivery.attempts += 1
        delivery.last_attempt_at = moment
        try:
            response = _http.request(
                "POST", delivery.url, body=body.encode(), headers=headers, timeout=timeout, redirect=False
            )
        except urllib3.exceptions.HTTPError as exc:
            delivery.last_status_code, delivery.last_error = None, f"{type(exc).__name__}: {exc}"[:500]
        else:
            delivery.last_status_code, delivery.last_error = response.status, ""
        if delivery.last_status_code is not None and 200 <= delivery.last_status_code < 300:
            delivery.status, delivery.delivered_at = WebhookDelivery.Status.DELIVERED, timezone.now()
            retry_in = None
        else:
            retry_in = _next_retry(delivery, now=moment)
            if retry_in is None:
                delivery.status = WebhookDelivery.Status.FAILED
                logger.warning(
                    "webhook %s to %s failed for good after %d tries",
                    delivery.event_id,
                    delivery.url,
                    delivery.attempts,
                )
        delivery.save()
    return Attempt(status=delivery.status, retry_in=retry_in)


def _next_retry(delivery: WebhookDelivery, *, now) -> int | None:
    if delivery.attempts > len(RETRY_SCHEDULE):
        return None
    wait = RETRY_SCHEDULE[delivery.attempts - 1]
    if now + timedelta(seconds=wait) > delivery.created_at + RETRY_WINDOW:
        return None
    return wait
