"""A try claims its row in a short transaction, calls with no transaction open, and records the
outcome in another: the row is never locked while a receiver takes its time, and a second worker
(a redelivered message) does not send it again meanwhile. In production plain http:// is refused."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import psycopg2.extensions
import pytest
from django.db import connections, transaction
from django.utils import timezone
from werkzeug import Request, Response

from webhooks.delivery import PLAIN_HTTP_REFUSED, RETRY_SCHEDULE, webhook_delivery_attempt
from webhooks.models import WebhookDelivery
from webhooks.tests.receivers import RawReceiver, trickling

HOOK = "/hooks/referrals"


def _delivery(url: str) -> WebhookDelivery:
    """A pending delivery as webhook_event_emit writes it (without handing it to Celery)."""
    payload = {"type": "user.registered", "timestamp": "2026-12-01T10:00:00Z", "data": {"user": {"id": 1}}}
    return WebhookDelivery.objects.create(event_type="user.registered", payload=payload, url=url)


@pytest.mark.django_db(transaction=True)
def test_no_transaction_is_open_and_the_row_is_not_locked_while_the_receiver_works(webhook_settings, httpserver):
    delivery = _delivery(webhook_settings.WEBHOOK_URLS[0])
    worker = connections["default"]  # this thread's connection: the one the try uses
    seen: dict[str, object] = {}

    def receiver(request: Request) -> Response:
        # Runs while the worker waits for this answer, on the receiver's own connection.
        try:
            seen["in_atomic_block"] = worker.in_atomic_block
            seen["transaction_status"] = worker.connection.get_transaction_status()
            with transaction.atomic():
                row = WebhookDelivery.objects.select_for_update(nowait=True).get(pk=delivery.pk)
                WebhookDelivery.objects.filter(pk=row.pk).update(event_type="user.registered.v2")
            seen["row_updated"] = True
        finally:
            connections.close_all()
        return Response("", status=204)

    httpserver.expect_request(HOOK, method="POST").respond_with_handler(receiver)
    assert webhook_delivery_attempt(delivery_id=delivery.pk).status == "delivered"
    assert seen == {
        "in_atomic_block": False,
        "transaction_status": psycopg2.extensions.TRANSACTION_STATUS_IDLE,
        "row_updated": True,
    }
    delivery.refresh_from_db()
    # The outcome touched only the fields a try owns: the concurrent update stands.
    assert (delivery.status, delivery.event_type, delivery.claimed_until) == ("delivered", "user.registered.v2", None)


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_delivery_send_it_once(webhook_settings, httpserver):
    delivery = _delivery(webhook_settings.WEBHOOK_URLS[0])

    def slow_receiver(request: Request) -> Response:
        time.sleep(0.5)  # both workers are in flight by now
        return Response("", status=204)

    httpserver.expect_request(HOOK, method="POST").respond_with_handler(slow_receiver)
    barrier = threading.Barrier(2)
    attempts: list = []

    def worker() -> None:
        try:
            barrier.wait(timeout=5)
            attempts.append(webhook_delivery_attempt(delivery_id=delivery.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(httpserver.log) == 1
    assert sorted(a.status for a in attempts) == ["delivered", "pending"]
    waiting = next(a for a in attempts if a.status == "pending")
    assert 1 <= waiting.retry_in <= webhook_settings.WEBHOOK_TIMEOUT_SECONDS + 30  # after the claim, not never
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)


@pytest.mark.django_db
def test_a_trickling_receiver_is_a_failed_try_cut_at_the_deadline(webhook_settings):
    webhook_settings.WEBHOOK_TIMEOUT_SECONDS = 1.0
    with RawReceiver(trickling(b"HTTP/1.1 200 OK\r\n")) as receiver:
        delivery = _delivery(receiver.url)
        started = time.monotonic()
        attempt = webhook_delivery_attempt(delivery_id=delivery.pk)
        assert time.monotonic() - started < 1.5
    assert (attempt.status, attempt.retry_in) == ("pending", RETRY_SCHEDULE[0])
    delivery.refresh_from_db()
    assert (delivery.last_status_code, delivery.last_error) == (None, "no answer within the 1 s deadline")
    assert delivery.claimed_until is None and delivery.attempts == 1


@pytest.mark.django_db
def test_a_claim_left_by_a_dead_worker_runs_out(webhook_settings, httpserver):
    httpserver.expect_request(HOOK, method="POST").respond_with_data("", status=204)
    delivery = _delivery(webhook_settings.WEBHOOK_URLS[0])
    WebhookDelivery.objects.filter(pk=delivery.pk).update(claimed_until=timezone.now() + timedelta(seconds=20))
    early = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert early.status == "pending" and 19 <= early.retry_in <= 20 and httpserver.log == []
    WebhookDelivery.objects.filter(pk=delivery.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert webhook_delivery_attempt(delivery_id=delivery.pk).status == "delivered"


@pytest.mark.django_db
def test_production_refuses_to_send_over_plain_http(webhook_settings, httpserver):
    webhook_settings.PRODUCTION = True
    delivery = _delivery(webhook_settings.WEBHOOK_URLS[0])  # http://localhost:…, from before the change
    attempt = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert (attempt.status, attempt.retry_in) == ("failed", None)
    assert httpserver.log == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error, delivery.attempts) == ("failed", PLAIN_HTTP_REFUSED, 0)
