"""A webhook receiver (pytest-httpserver: a real HTTP server in a thread) and a secret of our own."""

from __future__ import annotations

import base64
import secrets

import pytest
from standardwebhooks.webhooks import Webhook

SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture
def webhook_settings(settings, httpserver):
    settings.WEBHOOK_URLS = [httpserver.url_for("/hooks/referrals")]
    settings.WEBHOOK_SECRET = SECRET
    settings.WEBHOOK_TIMEOUT_SECONDS = 3.0
    return settings


def received(httpserver) -> list[dict]:
    """Every POST the receiver got, verified with the library as a receiver would: the payload,
    its webhook-id, and the answer the receiver gave."""
    events = []
    for request, response in httpserver.log:
        payload = Webhook(SECRET).verify(request.get_data(as_text=True), dict(request.headers))
        events.append({"id": request.headers["webhook-id"], "payload": payload, "status": response.status_code})
    return events
