"""A try claims its row in a short transaction, calls with no transaction open, and records the
outcome in another: the row is never locked while a receiver takes its time, and a second worker
(another lane, another replica) does not send it again meanwhile. In production plain http:// is
refused."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import psycopg2.extensions
import pytest
from django.db import connections, transaction
from django.utils import timezone
from werkzeug import Request, Response

from webhooks.delivery import CLAIM_MARGIN, PLAIN_HTTP_REFUSED, RETRY_SCHEDULE, webhook_endpoint_deliver_next
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import webhook_delivery_replay
from webhooks.tests.receivers import RawReceiver, trickling

HOOK = "/hooks/referrals"


def _delivery(url: str) -> WebhookDelivery:
    """A due delivery as webhook_event_emit writes it."""
    endpoint, _ = WebhookEndpoint.objects.get_or_create(url=url)
    payload = {"type": "user.registered", "timestamp": "2026-12-01T10:00:00Z", "data": {"user": {"id": 1}}}
    return WebhookDelivery.objects.create(event_type="user.registered", payload=payload, endpoint=endpoint)


def _next(delivery: WebhookDelivery):
    return webhook_endpoint_deliver_next(endpoint_id=delivery.endpoint_id)


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
    assert _next(delivery).status == "delivered"
    assert seen == {
        "in_atomic_block": False,
        "transaction_status": psycopg2.extensions.TRANSACTION_STATUS_IDLE,
        "row_updated": True,
    }
    delivery.refresh_from_db()
    # The outcome touched only the fields a try owns: the concurrent update stands.
    assert (delivery.status, delivery.event_type, delivery.next_attempt_at) == ("delivered", "user.registered.v2", None)


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_due_delivery_send_it_once(webhook_settings, httpserver):
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
            attempts.append(_next(delivery))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(httpserver.log) == 1
    assert [a.status if a else None for a in attempts].count("delivered") == 1
    assert attempts.count(None) == 1  # the other found the row claimed (locked, then not due)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)


@pytest.mark.django_db
def test_a_trickling_receiver_is_a_failed_try_cut_at_the_deadline(webhook_settings):
    webhook_settings.WEBHOOK_TIMEOUT_SECONDS = 1.0
    with RawReceiver(trickling(b"HTTP/1.1 200 OK\r\n")) as receiver:
        delivery = _delivery(receiver.url)
        started = time.monotonic()
        attempt = _next(delivery)
        assert time.monotonic() - started < 1.5
    delivery.refresh_from_db()
    assert attempt.status == "pending"
    assert attempt.retry_at == delivery.last_attempt_at + timedelta(seconds=RETRY_SCHEDULE[0])
    assert (delivery.last_status_code, delivery.last_error) == (None, "no answer within the 1 s deadline")
    assert delivery.attempts == 1


@pytest.mark.django_db
def test_a_claim_left_by_a_dead_worker_runs_out(webhook_settings, httpserver):
    httpserver.expect_request(HOOK, method="POST").respond_with_data("", status=204)
    delivery = _delivery(webhook_settings.WEBHOOK_URLS[0])
    claim_end = timezone.now() + timedelta(seconds=webhook_settings.WEBHOOK_TIMEOUT_SECONDS) + CLAIM_MARGIN
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=claim_end, attempts=1)
    assert _next(delivery) is None and httpserver.log == []  # claimed: not due
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())  # the claim ran out
    assert _next(delivery).status == "delivered"
    delivery.refresh_from_db()
    assert delivery.attempts == 2  # the lost try counts


@pytest.mark.django_db(transaction=True)
def test_a_replay_during_a_try_keeps_its_new_schedule(webhook_settings, httpserver):
    delivery = _delivery(webhook_settings.WEBHOOK_URLS[0])

    def receiver(request: Request) -> Response:
        try:
            webhook_delivery_replay(delivery_ids=[delivery.pk])  # staff click while the try is out
        finally:
            connections.close_all()
        return Response("down", status=500)

    httpserver.expect_request(HOOK, method="POST").respond_with_handler(receiver)
    _next(delivery)
    delivery.refresh_from_db()
    # The failed try does not push the replay back by its 5 s retry: it is due now, counted from zero.
    assert (delivery.status, delivery.attempts) == ("pending", 0)
    assert delivery.next_attempt_at <= timezone.now()


@pytest.mark.django_db
def test_production_refuses_to_send_over_plain_http(webhook_settings, httpserver):
    webhook_settings.PRODUCTION = True
    delivery = _delivery(webhook_settings.WEBHOOK_URLS[0])  # http://localhost:…, from before the change
    attempt = _next(delivery)
    assert (attempt.status, attempt.retry_at) == ("failed", None)
    assert httpserver.log == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error, delivery.attempts) == ("failed", PLAIN_HTTP_REFUSED, 0)
