"""Delivery end to end: the core's real worker process (services/core/bin/worker, whose dispatcher
reads this run's PostgreSQL) POSTs to real receivers, which verify every signature with the
standardwebhooks library; then the faults: a worker killed with due rows or in the middle of a try,
and Redis gone when the event commits."""

from __future__ import annotations

import dataclasses
import signal
import threading
import time

import pytest
from devstack import wait_until
from devstack.fixtures import stack_config
from django.db import DatabaseError, connections, transaction
from werkzeug import Request, Response

from invites.services import invite_activate
from users.services import user_get_or_create_by_phone
from users.tests.factories import UserFactory
from webhooks.models import WebhookDelivery
from webhooks.tests.conftest import SECRET, received
from webhooks.tests.receivers import RawReceiver

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

HOOK = "/hooks/referrals"
TICK = 0.5  # WEBHOOK_DISPATCH_INTERVAL_SECONDS of the worker under test
DEADLINE = 2.0  # its WEBHOOK_TIMEOUT_SECONDS


class Rollback(Exception):
    pass


@pytest.fixture
def start_worker(settings, test_database_url, start_stack):
    """start_worker(url, redis_url=None) → the core worker (bin/worker) sending to `url` (where this
    process's events go too), reading this run's test database; its Celery broker on the shared
    Redis (own key prefix) or on `redis_url`."""

    def start(url: str, redis_url: str | None = None):
        settings.WEBHOOK_URLS, settings.WEBHOOK_SECRETS = [url], [SECRET]
        core_env = {
            "WEBHOOK_URLS": url,
            "WEBHOOK_SECRETS": SECRET,
            "WEBHOOK_DISPATCH_INTERVAL_SECONDS": str(TICK),
            "WEBHOOK_TIMEOUT_SECONDS": str(DEADLINE),
            "CORE_WORKER_CONCURRENCY": "1",
            "LOG_LEVEL": "INFO",
        }
        config = stack_config("core", database_url=test_database_url(), core_env=core_env)
        if redis_url:
            config = dataclasses.replace(config, redis_url=redis_url)
        return start_stack(config, "core-worker")

    return start


def _dispatching(stack) -> bool:
    return "webhook dispatcher started" in stack.log("core-worker").read_text(errors="replace")


def test_the_worker_delivers_a_signed_event_after_the_commit(start_worker, httpserver):
    start_worker(httpserver.url_for(HOOK))
    httpserver.expect_request(HOOK, method="POST").respond_with_data("", status=204)
    user, _ = user_get_or_create_by_phone(phone="+79995550001")
    assert wait_until(lambda: httpserver.log, 60, 0.1), "no webhook arrived (is the dispatcher running?)"
    [event] = received(httpserver)
    assert event["payload"]["type"] == "user.registered"
    assert event["payload"]["data"]["user"] == {"id": user.pk, "phone": "+79995550001"}
    assert wait_until(lambda: WebhookDelivery.objects.filter(status="delivered").exists(), 10)


def test_the_receiver_sees_a_retry_after_it_answers_500(start_worker, httpserver):
    start_worker(httpserver.url_for(HOOK))
    httpserver.expect_ordered_request(HOOK, method="POST").respond_with_data("down", status=500)
    httpserver.expect_ordered_request(HOOK, method="POST").respond_with_data("", status=200)
    user_get_or_create_by_phone(phone="+79995550002")
    # The first retry is due 5 s after the failed try: next_attempt_at in the row, found by a tick.
    assert wait_until(lambda: len(httpserver.log) >= 2, 60, 0.1), f"{len(httpserver.log)} tries arrived"
    first, second = received(httpserver)
    assert (first["status"], second["status"]) == (500, 200)
    assert first["id"] == second["id"]  # the stable event id a receiver drops duplicates by
    assert first["payload"] == second["payload"]
    assert wait_until(lambda: WebhookDelivery.objects.get().status == "delivered", 10)
    assert WebhookDelivery.objects.get().attempts == 2


def test_a_rolled_back_activation_sends_nothing(start_worker, httpserver):
    start_worker(httpserver.url_for(HOOK))
    httpserver.expect_request(HOOK, method="POST").respond_with_data("", status=204)
    inviter, first, second = UserFactory(), UserFactory(), UserFactory()
    with pytest.raises(Rollback), transaction.atomic():
        invite_activate(user=first, invite_code=inviter.invite_code)
        raise Rollback()
    first.refresh_from_db()
    assert first.invited_by_id is None
    # A committed activation after it: when its event has arrived, the rolled-back one would have too.
    invite_activate(user=second, invite_code=inviter.invite_code)
    assert wait_until(lambda: httpserver.log, 60, 0.1), "no webhook arrived (is the dispatcher running?)"
    assert not wait_until(lambda: len(httpserver.log) > 1, 3, 0.2)
    [event] = received(httpserver)
    assert event["payload"]["type"] == "referral.activated"
    assert event["payload"]["data"]["referral"]["id"] == second.pk
    assert WebhookDelivery.objects.count() == 1


def test_the_worker_holds_no_lock_on_the_row_while_the_receiver_works(start_worker, httpserver):
    start_worker(httpserver.url_for(HOOK))
    seen: dict[str, object] = {}

    def receiver(request: Request) -> Response:
        try:  # a concurrent transaction, while the worker waits for this answer
            with transaction.atomic():
                row = WebhookDelivery.objects.select_for_update(nowait=True).get()
                seen["claimed"] = row.attempts == 1 and row.next_attempt_at is not None
                WebhookDelivery.objects.filter(pk=row.pk).update(event_type="user.registered.seen")
        except DatabaseError as exc:
            seen["error"] = exc
        finally:
            connections.close_all()
        return Response("", status=204)

    httpserver.expect_request(HOOK, method="POST").respond_with_handler(receiver)
    user_get_or_create_by_phone(phone="+79995550003")
    assert wait_until(lambda: WebhookDelivery.objects.filter(status="delivered").exists(), 60, 0.1)
    assert seen == {"claimed": True}
    assert WebhookDelivery.objects.get().event_type == "user.registered.seen"


def test_rows_due_while_the_worker_was_killed_go_out_within_a_tick_of_its_restart(start_worker, httpserver):
    httpserver.expect_request(HOOK, method="POST").respond_with_data("", status=204)
    stack = start_worker(httpserver.url_for(HOOK))
    assert wait_until(lambda: _dispatching(stack), 60, 0.1)
    stack.stop("core-worker", sig=signal.SIGKILL)
    for n in range(5):
        user_get_or_create_by_phone(phone=f"+7999555001{n}")
    time.sleep(1)
    assert httpserver.log == [] and WebhookDelivery.objects.filter(status="pending").count() == 5

    stack.log("core-worker").write_text("")
    restarted = time.monotonic()
    stack.start("core-worker")
    assert wait_until(lambda: _dispatching(stack), 60, 0.05)
    dispatching = time.monotonic()
    assert wait_until(lambda: WebhookDelivery.objects.filter(status="delivered").count() == 5, 30, 0.05)
    delivered = time.monotonic()
    print(
        f"restart → dispatcher {dispatching - restarted:.2f} s; "
        f"dispatcher → 5 delivered {delivered - dispatching:.2f} s"
    )
    assert delivered - dispatching < TICK + 2  # the first tick, and five quick answers
    assert len(httpserver.log) == 5


def test_a_try_in_flight_when_the_worker_is_killed_is_made_again_after_its_claim(start_worker):
    answered = threading.Event()

    def first_hangs(conn, receiver: RawReceiver) -> None:
        if receiver.requests == 1:  # no answer: the worker dies waiting (its end of the socket closes)
            conn.recv(1)
            return
        receiver.send(conn, b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        answered.set()

    with RawReceiver(first_hangs) as receiver:
        stack = start_worker(receiver.url)
        user_get_or_create_by_phone(phone="+79995550020")
        assert wait_until(lambda: receiver.requests == 1, 60, 0.05)
        killed = time.monotonic()
        stack.stop("core-worker", sig=signal.SIGKILL)
        delivery = WebhookDelivery.objects.get()
        # Killed mid-try: claimed and counted, no outcome recorded.
        assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 1, "")
        stack.start("core-worker")
        assert answered.wait(60), "the lost try was not made again"
        again = time.monotonic() - killed
    assert wait_until(lambda: WebhookDelivery.objects.get().status == "delivered", 10)
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    print(f"killed mid-try → tried again after {again:.2f} s (claim: deadline {DEADLINE} s + 10 s)")
    assert again < DEADLINE + 10 + TICK + 15  # the claim's end, a tick, and a worker start


def test_redis_down_when_the_event_commits_delays_nothing(start_worker, httpserver, private_redis):
    httpserver.expect_request(HOOK, method="POST").respond_with_data("", status=204)
    stack = start_worker(httpserver.url_for(HOOK), redis_url=private_redis.url)
    assert wait_until(lambda: _dispatching(stack), 60, 0.1)
    private_redis.stop()
    try:
        user_get_or_create_by_phone(phone="+79995550030")  # the commit needs no broker
        assert wait_until(lambda: WebhookDelivery.objects.filter(status="delivered").exists(), 30, 0.1)
        assert len(httpserver.log) == 1
    finally:
        private_redis.start()
    # Redis back: nothing is sent twice, and the worker carries on.
    user_get_or_create_by_phone(phone="+79995550031")
    assert wait_until(lambda: WebhookDelivery.objects.filter(status="delivered").count() == 2, 30, 0.1)
    time.sleep(1)
    assert len(httpserver.log) == 2
    assert len({request.headers["webhook-id"] for request, _ in httpserver.log}) == 2
