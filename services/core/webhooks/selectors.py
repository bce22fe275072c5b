"""Reads of the webhook outbox."""

from __future__ import annotations

from django.utils import timezone

from webhooks.models import WebhookDelivery


def webhook_endpoints_due() -> list[int]:
    """Ids of the endpoints, not paused, with at least one pending delivery due now (one index scan:
    webhook_delivery_due_idx)."""
    return list(
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=timezone.now(),
            endpoint__paused_at__isnull=True,
        )
        .order_by()
        .values_list("endpoint_id", flat=True)
        .distinct()
    )
