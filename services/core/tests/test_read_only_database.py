"""A failover onto a read-only server: every write is refused (SQLSTATE 25006), and the sign-in,
activation, refresh, logout and login page answer 503 `database_unavailable` with Retry-After, as
for a lost connection; nothing is half-written, and once the server takes writes again all works.
Against the real PostgreSQL (conftest.read_only_database); the real process is in
tests/test_faults.py."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient
from webhooks.models import WebhookDelivery

from users.models import User
from users.tests.factories import UserFactory, client_for
from users.tokens import token_pair_issue

TOKEN_URL = "/api/v1/auth/token/"
INVITE_URL = "/api/v1/profile/invite/"
REFRESH_URL = "/api/v1/auth/token/refresh/"
LOGOUT_URL = "/api/v1/auth/logout/"
NEW_PHONE = "+79995550101"
WEBHOOK_SECRET = "whsec_" + "A" * 43 + "="


def _assert_api_503(response) -> None:
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"] == {
        "code": "database_unavailable",
        "message": "The database is unavailable. Try again shortly.",
        "details": {},
    }
    assert response["Retry-After"] == "5"


def _assert_page_503(response) -> None:
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert "Temporarily unavailable" in body and "read-only" not in body and "Traceback" not in body
    assert response["Retry-After"] == "5"


@pytest.fixture
def webhooks_on(settings):
    settings.WEBHOOK_URLS, settings.WEBHOOK_SECRET = ["https://crm.example/hooks"], WEBHOOK_SECRET


def test_every_write_path_is_a_503_while_read_only_and_works_again_after(read_only_database, fake_otp, webhooks_on):
    user, inviter = UserFactory(), UserFactory()
    activation, pair = client_for(user), token_pair_issue(user=user)
    page = Client(raise_request_exception=False)
    assert page.post("/login/", {"phone": NEW_PHONE}).status_code == 302  # the code is on its way
    api = APIClient(raise_request_exception=False)
    activation.raise_request_exception = False
    calls = {
        "sign-in": lambda: api.post(TOKEN_URL, {"phone": NEW_PHONE, "code": "1234"}, format="json"),
        "activation": lambda: activation.post(INVITE_URL, {"invite_code": inviter.invite_code}, format="json"),
        "refresh": lambda: api.post(REFRESH_URL, {"refresh": pair.refresh}, format="json"),
        "logout": lambda: api.post(LOGOUT_URL, {"refresh": pair.refresh}, format="json"),
    }
    webhooks_before = WebhookDelivery.objects.count()

    read_only_database.on()
    for name, call in calls.items():
        response = call()
        assert response.status_code == 503, name
        _assert_api_503(response)
    _assert_page_503(page.post("/login/code/", {"code": "1234"}))
    assert not User.objects.filter(phone=NEW_PHONE).exists()
    user.refresh_from_db()
    assert user.invited_by_id is None
    assert WebhookDelivery.objects.count() == webhooks_before

    read_only_database.off()
    signed_in = calls["sign-in"]()
    assert signed_in.status_code == 200 and signed_in.json()["is_new_user"] is True
    assert calls["activation"]().status_code == 200
    refreshed = calls["refresh"]()
    assert refreshed.status_code == 200, "the refused refresh did not use the token up"
    assert api.post(LOGOUT_URL, {"refresh": refreshed.json()["refresh"]}, format="json").status_code == 204
    signed_in_page = page.post("/login/code/", {"code": "1234"})
    assert (signed_in_page.status_code, signed_in_page["Location"]) == (302, "/profile/")
    assert set(WebhookDelivery.objects.values_list("event_type", flat=True)) == {
        "user.registered",
        "referral.activated",
    }
