"""Signed webhooks for the product's own systems (rewards, CRM): `user.registered` and
`referral.activated`, POSTed to every WEBHOOK_URLS endpoint.

An event is one WebhookDelivery row per endpoint, written in the caller's transaction (the outbox):
an activation that rolls back leaves nothing, one that commits is due at once, and the dispatcher
(webhooks/dispatcher.py) sends it. Each try is signed per the Standard Webhooks specification v1
(https://www.standardwebhooks.com/, "Signature scheme"): headers `webhook-id` (the event id, the
same on every try), `webhook-timestamp` (the try's Unix seconds) and `webhook-signature`: for each of
WEBHOOK_SECRETS, `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` under the base64 secret after
`whsec_`, computed by the `standardwebhooks` package and joined by spaces (the spec's list, so a
secret can be rotated without a moment when receivers refuse). Staff replay deliveries and resume
paused endpoints here (from the admin).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from webhooks.models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

USER_REGISTERED = "user.registered"
REFERRAL_ACTIVATED = "referral.activated"
USER_AGENT = "referrals-webhooks/1"


def webhook_event_emit(*, event_type: str, data: dict[str, Any]) -> uuid.UUID | None:
    """Record `event_type` with `data` for every WEBHOOK_URLS endpoint, due at once, in the current
    transaction (nothing is published anywhere: the dispatcher finds the rows once they commit).
    Returns the event id, None when no endpoint is set."""
    if not settings.WEBHOOK_URLS:
        return None
    event_id = uuid.uuid4()
    now = timezone.now()
    payload = {"type": event_type, "timestamp": _iso(now), "data": data}
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            event_id=event_id,
            event_type=event_type,
            payload=payload,
            endpoint=endpoint,
            next_attempt_at=now,
            retry_window_start=now,
        )
        for endpoint in _endpoints(settings.WEBHOOK_URLS)
    )
    return event_id


def _endpoints(urls: list[str]) -> list[WebhookEndpoint]:
    """The endpoint rows of `urls`, created on first use (two writers at once: the constraint decides)."""
    known = {endpoint.url: endpoint for endpoint in WebhookEndpoint.objects.filter(url__in=urls)}
    if missing := [url for url in urls if url not in known]:
        WebhookEndpoint.objects.bulk_create([WebhookEndpoint(url=url) for url in missing], ignore_conflicts=True)
        known = {endpoint.url: endpoint for endpoint in WebhookEndpoint.objects.filter(url__in=urls)}
    return [known[url] for url in dict.fromkeys(urls)]


def _iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def webhook_headers(*, event_id: str, body: str, moment) -> dict[str, str]:
    """The Standard Webhooks headers of one try of `body` (the exact bytes sent, as text): one
    signature per WEBHOOK_SECRETS entry, space-separated."""
    signatures = " ".join(
        Webhook(secret).sign(msg_id=event_id, timestamp=moment, data=body) for secret in settings.WEBHOOK_SECRETS
    )
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": event_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signatures,
    }


def webhook_delivery_replay(*, delivery_ids: Iterable[int]) -> int:
    """Send these deliveries again, whatever their status, with the same `webhook-id`: each is due at
    once with a fresh retry window (its tries count from zero). One whose endpoint is paused waits
    for the resume. Returns how many were found."""
    now = timezone.now()
    count = WebhookDelivery.objects.filter(pk__in=list(delivery_ids)).update(
        status=WebhookDelivery.Status.PENDING, next_attempt_at=now, retry_window_start=now, attempts=0
    )
    logger.info("webhook deliveries replayed: %d", count)
    return count


@transaction.atomic
def webhook_endpoint_resume(*, endpoint_id: int) -> int:
    """Resume a paused endpoint: it counts as healthy again, and every delivery it held (pending) is
    due at once with a fresh retry window. Returns how many deliveries were held. A no-op (0) for
    an endpoint that is not paused."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
    if endpoint.paused_at is None:
        return 0
    endpoint.paused_at, endpoint.failing_since = None, None
    endpoint.save(update_fields=["paused_at", "failing_since"])
    now = timezone.now()
    held = WebhookDelivery.objects.filter(endpoint=endpoint, status=WebhookDelivery.Status.PENDING).update(
        next_attempt_at=now, retry_window_start=now, attempts=0
    )
    logger.warning("webhook endpoint %s resumed by staff; %d held deliveries due now", endpoint.url, held)
    return held
