"""The dispatcher in this process (real threads, the real database): each endpoint with due rows
gets its own lane, so a slow receiver never delays another's deliveries, and several dispatchers
at once (replicas) send each delivery once."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from devstack import wait_until

from users.services import user_get_or_create_by_phone
from webhooks.dispatcher import WebhookDispatcher
from webhooks.models import WebhookDelivery
from webhooks.tests.receivers import RawReceiver, slow

pytestmark = pytest.mark.django_db(transaction=True)


def _delivered(url: str) -> int:
    return WebhookDelivery.objects.filter(endpoint__url=url, status="delivered").count()


def test_a_slow_receiver_does_not_delay_another(webhook_settings, httpserver):
    httpserver.expect_request("/fast", method="POST").respond_with_data("", status=204)
    with RawReceiver(slow(2.0)) as sluggish:
        fast = httpserver.url_for("/fast")
        webhook_settings.WEBHOOK_URLS = [sluggish.url, fast]
        webhook_settings.WEBHOOK_TIMEOUT_SECONDS = 5.0
        for n in range(3):
            user_get_or_create_by_phone(phone=f"+7999123400{n}")
        dispatcher = WebhookDispatcher(interval_seconds=0.1).start()
        try:
            started = time.monotonic()
            assert wait_until(lambda: _delivered(fast) == 3, 10, 0.05)
            fast_done = time.monotonic() - started
            assert fast_done < 1.5, f"the fast endpoint waited {fast_done:.2f} s"
            assert _delivered(sluggish.url) == 0  # the slow one is still on its first answer
            assert wait_until(lambda: _delivered(sluggish.url) == 3, 20, 0.1)
        finally:
            dispatcher.stop()
    print(f"fast endpoint: 3 deliveries in {fast_done:.2f} s; slow endpoint: 2 s per answer")


def test_several_dispatchers_at_once_send_each_delivery_once(webhook_settings, httpserver):
    httpserver.expect_request("/hooks/referrals", method="POST").respond_with_data("", status=204)
    events = 30
    for n in range(events):
        user_get_or_create_by_phone(phone=f"+799912350{n:02d}")
    replicas = [WebhookDispatcher(interval_seconds=0.05) for _ in range(3)]
    for replica in replicas:
        replica.start()
    try:
        assert wait_until(lambda: WebhookDelivery.objects.filter(status="delivered").count() == events, 30, 0.1)
        time.sleep(0.5)  # any second send would have come by now
    finally:
        for replica in replicas:
            replica.stop()
    ids = Counter(request.headers["webhook-id"] for request, _ in httpserver.log)
    assert len(ids) == events and set(ids.values()) == {1}
    assert set(WebhookDelivery.objects.values_list("attempts", flat=True)) == {1}


def test_after_stop_nothing_more_is_sent(webhook_settings, httpserver):
    httpserver.expect_request("/hooks/referrals", method="POST").respond_with_data("", status=204)
    dispatcher = WebhookDispatcher(interval_seconds=0.05).start()
    dispatcher.stop()
    user_get_or_create_by_phone(phone="+79991236000")
    time.sleep(0.3)
    assert httpserver.log == []
    assert WebhookDelivery.objects.get().status == "pending"
