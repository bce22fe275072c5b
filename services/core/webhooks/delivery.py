"""One try of one due delivery, in three steps that never hold a transaction across the network:
claim the endpoint's next due row (a short transaction: `FOR UPDATE SKIP LOCKED`, so a row another
worker holds is passed over, then its next_attempt_at moved past the call's deadline: the claim),
POST outside any transaction (webhooks/transport.py: a total deadline, a capped answer), then record
the outcome (one UPDATE, only if the claim is still ours) and the endpoint's health. A worker that
dies mid-call leaves a claim that runs out on its own; nothing waits on a lock meanwhile.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import webhook_headers
from webhooks.transport import Answer, webhook_post

logger = logging.getLogger(__name__)

# Seconds to wait before each retry: the Standard Webhooks suggestion (5 s, 5 min, 30 min, 2 h, 5 h,
# 10 h), then one more try just before the 24 hours run out.
RETRY_SCHEDULE = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 6 * 3600)
RETRY_WINDOW = timedelta(hours=24)
CLAIM_MARGIN = timedelta(seconds=10)  # beyond the deadline: time to record the outcome
PLAIN_HTTP_REFUSED = "refused: plain http:// in production (WEBHOOK_URLS must be https://)"


@dataclass(frozen=True)
class Attempt:
    delivery_id: int
    status: str  # WebhookDelivery.Status after the try
    retry_at: datetime | None = None  # when it is due again; None: no more tries


@dataclass(frozen=True)
class _Claim:
    delivery: WebhookDelivery
    moment: datetime  # the try's time (its signature's timestamp)
    until: datetime  # the claim's end, written to next_attempt_at: the outcome is recorded only if it is still there


def webhook_endpoint_deliver_next(*, endpoint_id: int) -> Attempt | None:
    """Try the endpoint's next due delivery (the longest due first), unless the endpoint is paused.
    Returns the Attempt, None when nothing is due (or all that is due is claimed elsewhere).
    Call it outside any transaction, or the claim's lock lasts as long as the caller's transaction.

    Raises the database's errors (the dispatcher logs them and tries again on its next tick)."""
    claimed = _claim(endpoint_id)
    if claimed is None or isinstance(claimed, Attempt):
        return claimed
    delivery = claimed.delivery
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
    answer = webhook_post(
        url=delivery.endpoint.url,
        body=body.encode(),
        headers=webhook_headers(event_id=str(delivery.event_id), body=body, moment=claimed.moment),
        deadline_seconds=settings.WEBHOOK_TIMEOUT_SECONDS,
    )
    return _record(claimed, answer)


def _claim(endpoint_id: int) -> _Claim | Attempt | None:
    with transaction.atomic():
        now = timezone.now()
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint")
            .filter(
                endpoint_id=endpoint_id,
                endpoint__paused_at__isnull=True,
                status=WebhookDelivery.Status.PENDING,
                next_attempt_at__lte=now,
            )
            .order_by("next_attempt_at", "pk")
            .first()
        )
        if delivery is None:
            return None
        if now > delivery.retry_window_start + RETRY_WINDOW:  # e.g. every worker or the database was away that long
            return _give_up(delivery, error=delivery.last_error)
        if settings.PRODUCTION and urlsplit(delivery.endpoint.url).scheme != "https":
            logger.error("webhook %s to %s not sent: %s", delivery.event_id, delivery.endpoint.url, PLAIN_HTTP_REFUSED)
            return _give_up(delivery, error=PLAIN_HTTP_REFUSED)
        until = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS) + CLAIM_MARGIN
        delivery.attempts += 1
        delivery.last_attempt_at, delivery.next_attempt_at = now, until
        delivery.save(update_fields=["attempts", "last_attempt_at", "next_attempt_at"])
    return _Claim(delivery=delivery, moment=now, until=until)


def _give_up(delivery: WebhookDelivery, *, error: str) -> Attempt:
    delivery.status, delivery.next_attempt_at, delivery.last_error = WebhookDelivery.Status.FAILED, None, error
    delivery.save(update_fields=["status", "next_attempt_at", "last_error"])
    return Attempt(delivery_id=delivery.pk, status=delivery.status)


def _record(claim: _Claim, answer: Answer) -> Attempt:
    """Write the try's outcome in one UPDATE of the fields a try owns, if the claim is still ours (a
    replay meanwhile makes a new schedule that stands); then the endpoint's health."""
    delivery, now = claim.delivery, timezone.now()
    delivered = answer.status is not None and 200 <= answer.status < 300
    retry_at = None if delivered else _next_try(delivery, now=claim.moment)
    status = WebhookDelivery.Status.PENDING
    changes: dict[str, object] = {"last_status_code": answer.status, "next_attempt_at": retry_at}
    if delivered:
        status = WebhookDelivery.Status.DELIVERED
        changes |= {"status": status, "delivered_at": now, "last_error": ""}
    else:
        changes["last_error"] = (answer.error or answer.body.decode(errors="replace"))[:500]
        if retry_at is None:
            status = changes["status"] = WebhookDelivery.Status.FAILED
            logger.warning(
                "webhook %s to %s failed for good after %d tries",
                delivery.event_id,
                delivery.endpoint.url,
                delivery.attempts,
            )
    ours = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=WebhookDelivery.Status.PENDING, next_attempt_at=claim.until
    ).update(**changes)
    if not ours:
        logger.info("webhook %s: replayed or claimed again during its try; outcome not recorded", delivery.event_id)
    _endpoint_health(delivery.endpoint, healthy=delivered, now=now)
    return Attempt(delivery_id=delivery.pk, status=str(status), retry_at=retry_at)


def _next_try(delivery: WebhookDelivery, *, now: datetime) -> datetime | None:
    if delivery.attempts > len(RETRY_SCHEDULE):
        return None
    due = now + timedelta(seconds=RETRY_SCHEDULE[delivery.attempts - 1])
    return due if due <= delivery.retry_window_start + RETRY_WINDOW else None


def _endpoint_health(endpoint: WebhookEndpoint, *, healthy: bool, now: datetime) -> None:
    """A success clears the failing streak; a failure starts one, and pauses an endpoint whose streak
    has lasted WEBHOOK_DISABLE_AFTER_HOURS (each UPDATE decides alone: no lock, no double pause)."""
    endpoints = WebhookEndpoint.objects.filter(pk=endpoint.pk)
    if healthy:
        endpoints.update(failing_since=None, last_success_at=now)
        return
    endpoints.filter(failing_since__isnull=True).update(failing_since=now)
    cutoff = now - timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
    if endpoints.filter(paused_at__isnull=True, failing_since__lte=cutoff).update(
        paused_at=now, pause_count=F("pause_count") + 1
    ):
        logger.error(
            "webhook endpoint %s paused: failing since %s (WEBHOOK_DISABLE_AFTER_HOURS=%s); resume it in the admin",
            endpoint.url,
            WebhookEndpoint.objects.values_list("failing_since", flat=True).get(pk=endpoint.pk),
            settings.WEBHOOK_DISABLE_AFTER_HOURS,
        )
