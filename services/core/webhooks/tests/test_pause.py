"""An endpoint failing for WEBHOOK_DISABLE_AFTER_HOURS is paused: logged, counted, shown in the
admin, and sent nothing (its deliveries wait, pending) until staff resume it; staff replay any
delivery from the admin with the same webhook-id."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from users.services import user_get_or_create_by_phone
from users.tests.staff import staff_client as sign_in_staff
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.selectors import webhook_endpoints_due
from webhooks.tests.conftest import deliver_due, make_due, received

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_endpoints(webhook_settings, httpserver):
    webhook_settings.WEBHOOK_URLS = [httpserver.url_for("/down"), httpserver.url_for("/up")]
    webhook_settings.WEBHOOK_DISABLE_AFTER_HOURS = 72
    httpserver.expect_request("/down", method="POST").respond_with_data("down", status=503)
    httpserver.expect_request("/up", method="POST").respond_with_data("", status=204)
    return webhook_settings


def _endpoint(httpserver, path: str) -> WebhookEndpoint:
    return WebhookEndpoint.objects.get(url=httpserver.url_for(path))


def _posts(httpserver, path: str) -> int:
    return sum(1 for request, _ in httpserver.log if request.path == path)


def test_a_failure_starts_a_streak_and_a_success_ends_it(two_endpoints, httpserver):
    user_get_or_create_by_phone(phone="+79991230001")
    deliver_due()
    down, up = _endpoint(httpserver, "/down"), _endpoint(httpserver, "/up")
    assert down.failing_since is not None and down.paused_at is None
    assert up.failing_since is None and up.last_success_at is not None


def test_failing_for_the_whole_period_pauses_the_endpoint(two_endpoints, httpserver, caplog):
    user_get_or_create_by_phone(phone="+79991230002")
    deliver_due()
    down = _endpoint(httpserver, "/down")
    WebhookEndpoint.objects.filter(pk=down.pk).update(failing_since=timezone.now() - timedelta(hours=71))
    make_due()
    with caplog.at_level(logging.ERROR, logger="webhooks.delivery"):
        deliver_due()
    assert _endpoint(httpserver, "/down").paused_at is None  # 71 h: not yet
    WebhookEndpoint.objects.filter(pk=down.pk).update(failing_since=timezone.now() - timedelta(hours=72, minutes=1))
    make_due()
    with caplog.at_level(logging.ERROR, logger="webhooks.delivery"):
        deliver_due()
    down.refresh_from_db()
    assert down.paused_at is not None and down.pause_count == 1
    assert [r.getMessage() for r in caplog.records if "paused" in r.getMessage()] == [
        f"webhook endpoint {down.url} paused: failing since {down.failing_since} (WEBHOOK_DISABLE_AFTER_HOURS=72); "
        "resume it in the admin"
    ]

    # Paused: its deliveries wait, the other endpoint's keep going.
    before = _posts(httpserver, "/down")
    user_get_or_create_by_phone(phone="+79991230003")
    make_due()
    assert webhook_endpoints_due() == [_endpoint(httpserver, "/up").pk]
    deliver_due()
    assert _posts(httpserver, "/down") == before
    assert _posts(httpserver, "/up") == 2
    held = WebhookDelivery.objects.filter(endpoint=down, status="pending")
    assert held.count() == 2


def _pause(httpserver) -> WebhookEndpoint:
    user_get_or_create_by_phone(phone="+79991230004")
    deliver_due()
    down = _endpoint(httpserver, "/down")
    WebhookEndpoint.objects.filter(pk=down.pk).update(failing_since=timezone.now() - timedelta(hours=80))
    make_due()
    deliver_due()
    down.refresh_from_db()
    assert down.paused_at is not None
    return down


@pytest.fixture
def staff_client(client):
    return sign_in_staff(client)


def test_the_admin_shows_a_paused_endpoint_and_resuming_sends_what_it_held(two_endpoints, httpserver, staff_client):
    down = _pause(httpserver)
    page = staff_client.get("/admin/webhooks/webhookendpoint/").content.decode()
    assert "PAUSED" in page and down.url in page

    httpserver.clear_all_handlers()
    httpserver.expect_request("/down", method="POST").respond_with_data("", status=204)  # fixed on their side
    answer = staff_client.post(
        "/admin/webhooks/webhookendpoint/", {"action": "resume", "_selected_action": [down.pk]}, follow=True
    )
    assert "resumed: 1 held deliveries are due now" in answer.content.decode()
    down.refresh_from_db()
    assert (down.paused_at, down.failing_since, down.pause_count) == (None, None, 1)
    [attempt] = deliver_due()
    assert attempt.status == "delivered"
    assert received(httpserver)[-1]["status"] == 204


def test_staff_replay_a_delivery_from_the_admin_with_the_same_webhook_id(two_endpoints, httpserver, staff_client):
    user_get_or_create_by_phone(phone="+79991230005")
    deliver_due()
    delivered = WebhookDelivery.objects.get(endpoint__url=httpserver.url_for("/up"))
    assert delivered.status == "delivered"
    answer = staff_client.post(
        "/admin/webhooks/webhookdelivery/", {"action": "replay", "_selected_action": [delivered.pk]}, follow=True
    )
    assert "1 deliveries are due now." in answer.content.decode()
    deliver_due()
    ids = [request.headers["webhook-id"] for request, _ in httpserver.log if request.path == "/up"]
    assert ids == [str(delivered.event_id)] * 2
    history = staff_client.get(f"/admin/webhooks/webhookdelivery/{delivered.pk}/history/").content.decode()
    assert "Replayed" in history


def test_staff_without_the_change_permission_get_no_actions(two_endpoints, httpserver, client):
    user_get_or_create_by_phone(phone="+79991230006")
    deliver_due()
    delivered = WebhookDelivery.objects.get(endpoint__url=httpserver.url_for("/up"))
    views = ["webhooks.view_webhookdelivery", "webhooks.view_webhookendpoint"]
    viewer = sign_in_staff(client, phone="+79970000010", permissions=views)
    assert 'value="resume"' not in viewer.get("/admin/webhooks/webhookendpoint/").content.decode()
    page = viewer.get("/admin/webhooks/webhookdelivery/")
    assert page.status_code == 200 and 'value="replay"' not in page.content.decode()
    viewer.post("/admin/webhooks/webhookdelivery/", {"action": "replay", "_selected_action": [delivered.pk]})
    delivered.refresh_from_db()
    assert (delivered.status, delivered.attempts) == ("delivered", 1)  # the forged action did nothing
