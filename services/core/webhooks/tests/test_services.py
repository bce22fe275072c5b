"""Events, signatures and the retry schedule, one try at a time against a real HTTP receiver.
(The dispatcher in the real worker is exercised in test_delivery.py, the claims in test_claims.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from invites.services import invite_activate
from users.services import user_get_or_create_by_phone
from users.tests.factories import UserFactory
from webhooks.delivery import RETRY_SCHEDULE, RETRY_WINDOW
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import webhook_delivery_replay
from webhooks.tests.conftest import SECRET, age, deliver_due, make_due, new_secret, received

pytestmark = pytest.mark.django_db

HOOK = "/hooks/referrals"


def test_a_first_sign_in_is_a_signed_user_registered_event(webhook_settings, httpserver):
    httpserver.expect_request(HOOK, method="POST").respond_with_data("", status=204)
    user, created = user_get_or_create_by_phone(phone="+79991234567")
    assert created
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.next_attempt_at <= timezone.now()  # due at once
    deliver_due()
    [event] = received(httpserver)
    assert event["payload"]["type"] == "user.registered"
    assert event["payload"]["data"] == {
        "user": {"id": user.pk, "phone": "+79991234567"},
        "invite_code": user.invite_code,
    }
    assert event["payload"]["timestamp"].endswith("Z")
    delivery.refresh_from_db()
    assert event["id"] == str(delivery.event_id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 204)
    assert delivery.next_attempt_at is None


def test_an_activation_is_a_referral_activated_event(webhook_settings, httpserver):
    httpserver.expect_request(HOOK, method="POST").respond_with_data("ok")
    inviter, invited = UserFactory(), UserFactory()
    invite_activate(user=invited, invite_code=inviter.invite_code.lower())
    deliver_due()
    [event] = received(httpserver)
    invited.refresh_from_db()
    assert event["payload"]["type"] == "referral.activated"
    assert event["payload"]["data"] == {
        "referral": {"id": invited.pk, "phone": invited.phone},
        "inviter": {"id": inviter.pk, "phone": inviter.phone},
        "invite_code": inviter.invite_code,
        "activated_at": invited.invite_activated_at.isoformat().replace("+00:00", "Z"),
    }


def test_a_rolled_back_event_leaves_no_row(webhook_settings, httpserver):
    inviter, invited = UserFactory(), UserFactory()
    before = WebhookDelivery.objects.count()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        invite_activate(user=invited, invite_code=inviter.invite_code)
        1 / 0  # noqa: B018 - anything that rolls the activation back
    assert WebhookDelivery.objects.count() == before


def test_a_refused_activation_is_no_event(webhook_settings, httpserver):
    user = UserFactory()
    with pytest.raises(Exception):  # noqa: B017, PT011 - any refusal
        invite_activate(user=user, invite_code=user.invite_code)
    assert not WebhookDelivery.objects.exists()


def test_a_wrong_secret_does_not_verify(webhook_settings, httpserver):
    httpserver.expect_request(HOOK, method="POST").respond_with_data("")
    user_get_or_create_by_phone(phone="+79991234568")
    deliver_due()
    request, _ = httpserver.log[0]
    other = Webhook("whsec_" + "A" * 43 + "=")
    with pytest.raises(WebhookVerificationError):
        other.verify(request.get_data(as_text=True), dict(request.headers))


def test_each_secret_signs_so_a_receiver_on_either_verifies(webhook_settings, httpserver):
    new = new_secret()
    webhook_settings.WEBHOOK_SECRETS = [new, SECRET]  # rotating: the new one first, the old one kept
    httpserver.expect_request(HOOK, method="POST").respond_with_data("", status=204)
    user_get_or_create_by_phone(phone="+79991234575")
    deliver_due()
    request, _ = httpserver.log[0]
    signatures = request.headers["webhook-signature"].split(" ")
    assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
    assert received(httpserver, SECRET)[0]["payload"]["type"] == "user.registered"  # not yet moved
    assert received(httpserver, new)[0]["payload"]["type"] == "user.registered"  # already moved
    with pytest.raises(WebhookVerificationError):
        received(httpserver, new_secret())


def test_a_failed_try_is_retried_with_the_same_event_id(webhook_settings, httpserver):
    httpserver.expect_ordered_request(HOOK, method="POST").respond_with_data("busy", status=500)
    httpserver.expect_ordered_request(HOOK, method="POST").respond_with_data("", status=200)
    user_get_or_create_by_phone(phone="+79991234569")
    delivery = WebhookDelivery.objects.get()

    [first] = deliver_due()
    delivery.refresh_from_db()
    assert first.status == "pending"
    assert first.retry_at == delivery.next_attempt_at == delivery.last_attempt_at + timedelta(seconds=RETRY_SCHEDULE[0])
    assert (delivery.last_status_code, delivery.last_error) == (500, "busy")
    assert deliver_due() == []  # not due for 5 s
    make_due()
    [second] = deliver_due()
    assert (second.status, second.retry_at) == ("delivered", None)
    assert deliver_due() == []

    events = received(httpserver)
    assert [e["status"] for e in events] == [500, 200]
    assert events[0]["id"] == events[1]["id"] == str(delivery.event_id)
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (2, 200, "")


def test_an_unreachable_endpoint_is_recorded_and_retried(webhook_settings):
    webhook_settings.WEBHOOK_URLS = ["http://127.0.0.1:9/closed"]
    user_get_or_create_by_phone(phone="+79991234570")
    [attempt] = deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert attempt.retry_at == delivery.last_attempt_at + timedelta(seconds=RETRY_SCHEDULE[0])
    assert delivery.last_status_code is None and delivery.last_error.startswith("ConnectionRefusedError")


def test_the_retries_end_within_twenty_four_hours(webhook_settings, httpserver):
    assert timedelta(seconds=sum(RETRY_SCHEDULE)) < RETRY_WINDOW == timedelta(hours=24)
    httpserver.expect_request(HOOK, method="POST").respond_with_data("", status=503)
    user_get_or_create_by_phone(phone="+79991234571")
    waits = []
    while True:
        [attempt] = deliver_due()
        if attempt.retry_at is None:
            break
        delivery = WebhookDelivery.objects.get()
        wait = (attempt.retry_at - delivery.last_attempt_at).total_seconds()
        waits.append(wait)
        age(delivery, wait)  # as if the wait had passed
        make_due()
    assert waits == list(RETRY_SCHEDULE)
    assert attempt.status == "failed"
    assert len(httpserver.log) == len(RETRY_SCHEDULE) + 1
    assert WebhookDelivery.objects.get().next_attempt_at is None


def test_an_event_older_than_a_day_is_not_sent(webhook_settings, httpserver):
    user_get_or_create_by_phone(phone="+79991234572")
    age(WebhookDelivery.objects.get(), (RETRY_WINDOW + timedelta(minutes=1)).total_seconds())
    assert [a.status for a in deliver_due()] == ["failed"]
    assert httpserver.log == []


def test_a_replay_sends_any_delivery_again_with_the_same_webhook_id(webhook_settings, httpserver):
    httpserver.expect_request(HOOK, method="POST").respond_with_data("", status=204)
    user_get_or_create_by_phone(phone="+79991234576")
    deliver_due()
    delivery = WebhookDelivery.objects.get()
    age(delivery, (RETRY_WINDOW + timedelta(hours=1)).total_seconds())  # long past its window
    assert webhook_delivery_replay(delivery_ids=[delivery.pk]) == 1
    [again] = deliver_due()
    assert again.status == "delivered"
    first, second = received(httpserver)
    assert first["id"] == second["id"] == str(delivery.event_id)
    assert first["payload"] == second["payload"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)


def test_endpoints_are_rows_shared_by_their_deliveries(webhook_settings, httpserver):
    webhook_settings.WEBHOOK_URLS = [httpserver.url_for("/a"), httpserver.url_for("/b"), httpserver.url_for("/a")]
    user_get_or_create_by_phone(phone="+79991234577")
    user_get_or_create_by_phone(phone="+79991234578")
    assert sorted(WebhookEndpoint.objects.values_list("url", flat=True)) == [
        httpserver.url_for("/a"),
        httpserver.url_for("/b"),
    ]
    assert WebhookDelivery.objects.count() == 4  # two events, two endpoints each


def test_without_endpoints_nothing_is_recorded(settings):
    settings.WEBHOOK_URLS = []
    user_get_or_create_by_phone(phone="+79991234573")
    assert not WebhookDelivery.objects.exists()
