"""Delivery end to end: the core's real Celery worker (services/core/bin/worker) on the real Redis
broker POSTs to a real receiver, which verifies every signature with the standardwebhooks library."""

from __future__ import annotations

import dataclasses

import pytest
from devstack import wait_until
from devstack.fixtures import stack_config
from django.db import DatabaseError, connections, transaction
from werkzeug import Request, Response

from config.celery import app as celery_app
from invites.services import invite_activate
from users.services import user_get_or_create_by_phone
from users.tests.factories import UserFactory
from webhooks.models import WebhookDelivery
from webhooks.tests.conftest import SECRET, received

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

HOOK = "/hooks/referrals"


class Rollback(Exception):
    pass


@pytest.fixture(scope="module")
def broker():
    """This module's own broker keys on the shared Redis, for this process's publisher and the worker.
    Set before the publisher's first connection (nothing earlier in the run publishes)."""
    config = stack_config("core")
    saved = (celery_app.conf.broker_url, celery_app.conf.broker_transport_options)
    celery_app.conf.broker_url = f"{config.redis_url}/{config.core_broker_db}"
    celery_app.conf.broker_transport_options = {**saved[1], "global_keyprefix": f"{config.prefix}celery:"}
    yield config
    celery_app.conf.broker_url, celery_app.conf.broker_transport_options = saved
    config.forget_keys()


@pytest.fixture
def worker(broker, webhook_settings, settings, test_database_url, start_stack):
    """The core worker (bin/worker) on this module's broker keys, reading this run's test database.
    Its keys outlive it (prefix ""): the publisher here declared the queue's binding once."""
    webhooks = {"WEBHOOK_URLS": ",".join(settings.WEBHOOK_URLS), "WEBHOOK_SECRET": SECRET}
    core_env = {**webhooks, "CELERY_KEY_PREFIX": f"{broker.prefix}celery:", "CORE_WORKER_CONCURRENCY": "2"}
    config = dataclasses.replace(broker, prefix="", database_url=test_database_url(), core_env=core_env)
    return start_stack(config, "core-worker")


def test_the_worker_delivers_a_signed_event_after_the_commit(worker, httpserver):
    httpserver.expect_request(HOOK, method="POST").respond_with_data("", status=204)
    user, _ = user_get_or_create_by_phone(phone="+79995550001")
    assert wait_until(lambda: httpserver.log, 60, 0.2), "no webhook arrived (is the worker consuming?)"
    [event] = received(httpserver)
    assert event["payload"]["type"] == "user.registered"
    assert event["payload"]["data"]["user"] == {"id": user.pk, "phone": "+79995550001"}
    assert wait_until(lambda: WebhookDelivery.objects.filter(status="delivered").exists(), 10)


def test_the_receiver_sees_a_retry_after_it_answers_500(worker, httpserver):
    httpserver.expect_ordered_request(HOOK, method="POST").respond_with_data("down", status=500)
    httpserver.expect_ordered_request(HOOK, method="POST").respond_with_data("", status=200)
    user_get_or_create_by_phone(phone="+79995550002")
    # The first retry comes 5 s after the failed try (a countdown held by the broker consumer).
    assert wait_until(lambda: len(httpserver.log) >= 2, 60, 0.2), f"{len(httpserver.log)} tries arrived"
    first, second = received(httpserver)
    assert (first["status"], second["status"]) == (500, 200)
    assert first["id"] == second["id"]  # the stable event id a receiver drops duplicates by
    assert first["payload"] == second["payload"]
    delivery = WebhookDelivery.objects.get()
    assert wait_until(lambda: WebhookDelivery.objects.get().status == "delivered", 10)
    delivery.refresh_from_db()
    assert delivery.attempts == 2


def test_a_rolled_back_activation_sends_nothing(worker, httpserver):
    httpserver.expect_request(HOOK, method="POST").respond_with_data("", status=204)
    inviter, first, second = UserFactory(), UserFactory(), UserFactory()
    with pytest.raises(Rollback), transaction.atomic():
        invite_activate(user=first, invite_code=inviter.invite_code)
        raise Rollback()
    first.refresh_from_db()
    assert first.invited_by_id is None
    # A committed activation after it: when its event has arrived, the rolled-back one (queued
    # earlier, had it been queued) would have too.
    invite_activate(user=second, invite_code=inviter.invite_code)
    assert wait_until(lambda: httpserver.log, 60, 0.2), "no webhook arrived (is the worker consuming?)"
    assert not wait_until(lambda: len(httpserver.log) > 1, 3, 0.2)
    [event] = received(httpserver)
    assert event["payload"]["type"] == "referral.activated"
    assert event["payload"]["data"]["referral"]["id"] == second.pk
    assert WebhookDelivery.objects.count() == 1


def test_the_worker_holds_no_lock_on_the_row_while_the_receiver_works(worker, httpserver):
    seen: dict[str, object] = {}

    def receiver(request: Request) -> Response:
        try:  # a concurrent transaction, while the worker waits for this answer
            with transaction.atomic():
                row = WebhookDelivery.objects.select_for_update(nowait=True).get()
                seen["claimed"] = row.claimed_until is not None
                WebhookDelivery.objects.filter(pk=row.pk).update(event_type="user.registered.seen")
        except DatabaseError as exc:
            seen["error"] = exc
        finally:
            connections.close_all()
        return Response("", status=204)

    httpserver.expect_request(HOOK, method="POST").respond_with_handler(receiver)
    user_get_or_create_by_phone(phone="+79995550003")
    assert wait_until(lambda: WebhookDelivery.objects.filter(status="delivered").exists(), 60, 0.2)
    assert seen == {"claimed": True}
    assert WebhookDelivery.objects.get().event_type == "user.registered.seen"
