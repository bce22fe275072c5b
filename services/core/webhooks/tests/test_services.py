"""Events, signatures and the retry schedule, one try at a time against a real HTTP receiver.
(The Celery worker that drives the tries is exercised in test_delivery.py, how a try holds no
transaction and no second try in test_claims.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from invites.services import invite_activate
from users.services import user_get_or_create_by_phone
from users.tests.factories import UserFactory
from webhooks.delivery import RETRY_SCHEDULE, RETRY_WINDOW, webhook_delivery_attempt
from webhooks.models import WebhookDelivery
from webhooks.tests.conftest import received

pytestmark = pytest.mark.django_db

HOOK = "/hooks/referrals"


def _try_all() -> list:
    return [webhook_delivery_attempt(delivery_id=pk) for pk in WebhookDelivery.objects.values_list("pk", flat=True)]


def test_a_first_sign_in_is_a_signed_user_registered_event(
    webhook_settings, httpserver, django_capture_on_commit_callbacks
):
    httpserver.expect_request(HOOK, method="POST").respond_with_data("", status=204)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        user, created = user_get_or_create_by_phone(phone="+79991234567")
    assert created and len(queued) == 1  # handed to Celery only once the account is committed
    _try_all()
    [event] = received(httpserver)
    assert event["payload"]["type"] == "user.registered"
    assert event["payload"]["data"] == {
        "user": {"id": user.pk, "phone": "+79991234567"},
        "invite_code": user.invite_code,
    }
    assert event["payload"]["timestamp"].endswith("Z")
    delivery = WebhookDelivery.objects.get()
    assert event["id"] == str(delivery.event_id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 204)


def test_an_activation_is_a_referral_activated_event(webhook_settings, httpserver, django_capture_on_commit_callbacks):
    httpserver.expect_request(HOOK, method="POST").respond_with_data("ok")
    inviter, invited = UserFactory(), UserFactory()
    with django_capture_on_commit_callbacks(execute=False):
        invite_activate(user=invited, invite_code=inviter.invite_code.lower())
    _try_all()
    [event] = received(httpserver)
    invited.refresh_from_db()
    assert event["payload"]["type"] == "referral.activated"
    assert event["payload"]["data"] == {
        "referral": {"id": invited.pk, "phone": invited.phone},
        "inviter": {"id": inviter.pk, "phone": inviter.phone},
        "invite_code": inviter.invite_code,
        "activated_at": invited.invite_activated_at.isoformat().replace("+00:00", "Z"),
    }


def test_a_refused_activation_is_no_event(webhook_settings, httpserver):
    user = UserFactory()
    with pytest.raises(Exception):  # noqa: B017, PT011 - any refusal
        invite_activate(user=user, invite_code=user.invite_code)
    assert not WebhookDelivery.objects.exists()


def test_a_wrong_secret_does_not_verify(webhook_settings, httpserver):
    httpserver.expect_request(HOOK, method="POST").respond_with_data("")
    user_get_or_create_by_phone(phone="+79991234568")
    _try_all()
    request, _ = httpserver.log[0]
    other = Webhook("whsec_" + "A" * 43 + "=")
    with pytest.raises(WebhookVerificationError):
        other.verify(request.get_data(as_text=True), dict(request.headers))


def test_a_failed_try_is_retried_with_the_same_event_id(webhook_settings, httpserver):
    httpserver.expect_ordered_request(HOOK, method="POST").respond_with_data("busy", status=500)
    httpserver.expect_ordered_request(HOOK, method="POST").respond_with_data("", status=200)
    user_get_or_create_by_phone(phone="+79991234569")
    delivery = WebhookDelivery.objects.get()

    first = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert (first.status, first.retry_in) == ("pending", RETRY_SCHEDULE[0])
    second = webhook_delivery_attempt(delivery_id=delivery.pk)
    assert (second.status, second.retry_in) == ("delivered", None)
    again = webhook_delivery_attempt(delivery_id=delivery.pk)  # a redelivered message sends nothing
    assert again.status == "delivered"

    events = received(httpserver)
    assert [e["status"] for e in events] == [500, 200]
    assert events[0]["id"] == events[1]["id"] == str(delivery.event_id)
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (2, 200, "")


def test_a_refusal_keeps_the_start_of_the_receivers_answer(webhook_settings, httpserver):
    httpserver.expect_request(HOOK, method="POST").respond_with_data("quota exceeded " * 100, status=429)
    user_get_or_create_by_phone(phone="+79991234574")
    _try_all()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == ("pending", 429)
    assert delivery.last_error == ("quota exceeded " * 100)[:400]
    assert delivery.claimed_until is None


def test_an_unreachable_endpoint_is_recorded_and_retried(webhook_settings):
    webhook_settings.WEBHOOK_URLS = ["http://127.0.0.1:9/closed"]
    user_get_or_create_by_phone(phone="+79991234570")
    attempt = _try_all()[0]
    assert attempt.retry_in == RETRY_SCHEDULE[0]
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_status_code is None and delivery.last_error


def test_the_retries_end_within_twenty_four_hours(webhook_settings, httpserver):
    assert timedelta(seconds=sum(RETRY_SCHEDULE)) < RETRY_WINDOW == timedelta(hours=24)
    httpserver.expect_request(HOOK, method="POST").respond_with_data("", status=503)
    user_get_or_create_by_phone(phone="+79991234571")
    delivery = WebhookDelivery.objects.get()
    waits = []
    while (attempt := webhook_delivery_attempt(delivery_id=delivery.pk)).retry_in is not None:
        waits.append(attempt.retry_in)
        # As if the countdown had passed: move the event back in time by the wait.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            created_at=delivery.created_at - timedelta(seconds=sum(waits))
        )
    assert waits == list(RETRY_SCHEDULE)
    assert attempt.status == "failed"
    assert len(httpserver.log) == len(RETRY_SCHEDULE) + 1


def test_an_event_older_than_a_day_is_not_sent(webhook_settings, httpserver):
    user_get_or_create_by_phone(phone="+79991234572")
    WebhookDelivery.objects.update(created_at=timezone.now() - RETRY_WINDOW - timedelta(minutes=1))
    assert _try_all()[0].status == "failed"
    assert httpserver.log == []


def test_without_endpoints_nothing_is_recorded(settings):
    settings.WEBHOOK_URLS = []
    user_get_or_create_by_phone(phone="+79991234573")
    assert not WebhookDelivery.objects.exists()
