"""A webhook receiver (pytest-httpserver: a real HTTP server in a thread), secrets of our own, and
the dispatcher's work done in this thread (`deliver_due`) for tests that look at one try at a time."""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from webhooks.delivery import Attempt, webhook_endpoint_deliver_next
from webhooks.models import WebhookDelivery
from webhooks.selectors import webhook_endpoints_due


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


SECRET = new_secret()


@pytest.fixture
def webhook_settings(settings, httpserver):
    settings.WEBHOOK_URLS = [httpserver.url_for("/hooks/referrals")]
    settings.WEBHOOK_SECRETS = [SECRET]
    settings.WEBHOOK_TIMEOUT_SECONDS = 3.0
    return settings


def received(httpserver, secret: str = SECRET) -> list[dict]:
    """Every POST the receiver got, verified with the library as a receiver would: the payload,
    its webhook-id, and the answer the receiver gave."""
    events = []
    for request, response in httpserver.log:
        payload = Webhook(secret).verify(request.get_data(as_text=True), dict(request.headers))
        events.append({"id": request.headers["webhook-id"], "payload": payload, "status": response.status_code})
    return events


def deliver_due() -> list[Attempt]:
    """Every try that is due now, endpoint by endpoint, as the dispatcher's lanes would make them."""
    attempts = []
    for endpoint_id in webhook_endpoints_due():
        while attempt := webhook_endpoint_deliver_next(endpoint_id=endpoint_id):
            attempts.append(attempt)
    return attempts


def make_due(**filters) -> None:
    """As if the wait before the next try had passed: pending deliveries due now."""
    WebhookDelivery.objects.filter(status="pending", **filters).update(next_attempt_at=timezone.now())


def age(delivery: WebhookDelivery, seconds: float) -> None:
    """Move a delivery's retry window `seconds` back in time (its schedule counts from there)."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        retry_window_start=delivery.retry_window_start - timedelta(seconds=seconds)
    )
