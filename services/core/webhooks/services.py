"""Signed webhooks for the product's own systems (rewards, CRM): `user.registered` and
`referral.activated`, POSTed to every WEBHOOK_URLS endpoint.

An event is recorded in the caller's transaction (one WebhookDelivery row per endpoint) and handed to
Celery only once that transaction commits, so an activation that rolls back sends nothing. Each try
is signed per the Standard Webhooks specification v1 (https://www.standardwebhooks.com/, "Signature
scheme"): headers `webhook-id` (the event id, the same on every try), `webhook-timestamp` (the try's
Unix seconds) and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of `id.timestamp.body` under the
base64 secret after `whsec_`), computed by the `standardwebhooks` package. A try that gets no 2xx is
retried on the spec's suggested schedule, cut to 24 hours after the event (webhooks/delivery.py).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from webhooks.models import WebhookDelivery

USER_REGISTERED = "user.registered"
REFERRAL_ACTIVATED = "referral.activated"

USER_AGENT = "referrals-webhooks/1"


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
