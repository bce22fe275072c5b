"""A PostgreSQL failover under the core running in granian: the pooled connections are dropped and
the new ones land on a server that takes no writes; later a backend is killed in the middle of an
activation. Each write answers 503 `database_unavailable` with Retry-After, nothing is half-written,
and once the server takes writes again everything works without a restart. The backends killed are
this test's core's own, found by their application_name."""

from __future__ import annotations

import re
import threading
import uuid

import pytest
import requests
from devstack import wait_until
from devstack.fixtures import stack_config
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.utils import timezone
from webhooks.models import WebhookDelivery

from users.models import User
from users.tests.factories import UserFactory
from users.tokens import token_pair_issue

pytestmark = pytest.mark.faults

TOKEN_URL = "/api/v1/auth/token/"
INVITE_URL = "/api/v1/profile/invite/"
REFRESH_URL = "/api/v1/auth/token/refresh/"
LOGOUT_URL = "/api/v1/auth/logout/"
PROFILE_URL = "/api/v1/profile/"
NEW_PHONE, PAGE_PHONE = "+79995550201", "+79995550202"
CODE = "1234"  # the fake OTP service takes any code


def _assert_database_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "database_unavailable"
    assert response.headers["Retry-After"] == "5"
    assert "read-only" not in response.text and "psycopg" not in response.text


def _terminate(application_name: str, *, waiting: bool = False) -> int:
    """Kill the core's backends (only those waiting on a lock when `waiting`): how many."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # a transaction sees one snapshot unless told
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = %s AND (NOT %s OR wait_event_type = 'Lock')",
            [application_name, waiting],
        )
        return cursor.fetchone()[0]


class Pages:
    """A browser on the core's pages: a session cookie and the CSRF token of its forms."""

    def __init__(self, url: str) -> None:
        self.url, self.session = url, requests.Session()
        form = self.session.get(f"{url}/login/", timeout=10).text
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
        assert match
        self.csrf = match.group(1)

    def post(self, path: str, data: dict) -> requests.Response:
        body = {**data, "csrfmiddlewaretoken": self.csrf}
        return self.session.post(f"{self.url}{path}", data=body, allow_redirects=False, timeout=10)


@pytest.mark.django_db(transaction=True)
def test_a_failover_onto_a_read_only_server_is_a_503_and_nothing_is_half_written(
    test_database_url, start_stack, read_only_database, fake_otp
):
    root, user = UserFactory(), UserFactory()
    owner = UserFactory(invited_by=root, invite_activated_at=timezone.now())
    pair = token_pair_issue(user=user)
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {pair.access}"
    application_name = f"core-read-only-{uuid.uuid4().hex[:8]}"
    core_env = {
        "SECRET_KEY": django_settings.SECRET_KEY,
        "CORE_WEB_WORKERS": "2",
        "OTP_SERVICE_URL": fake_otp.url,
        "WEBHOOK_URLS": "http://127.0.0.1:9/hooks",
        "WEBHOOK_SECRET": "whsec_" + "A" * 43 + "=",
    }
    database = test_database_url(application_name=application_name)
    url = start_stack(stack_config("core", database_url=database, core_env=core_env), "core-web").config.core_url
    pages = Pages(url)
    assert pages.post("/login/", {"phone": PAGE_PHONE}).status_code == 302  # the code is on its way
    calls = {
        "sign-in": lambda: requests.post(f"{url}{TOKEN_URL}", json={"phone": NEW_PHONE, "code": CODE}, timeout=10),
        "activation": lambda: api.post(f"{url}{INVITE_URL}", json={"invite_code": owner.invite_code}, timeout=10),
        "refresh": lambda: requests.post(f"{url}{REFRESH_URL}", json={"refresh": pair.refresh}, timeout=10),
        "logout": lambda: requests.post(f"{url}{LOGOUT_URL}", json={"refresh": pair.refresh}, timeout=10),
    }

    read_only_database.on()
    assert _terminate(application_name) >= 1  # the failover drops every connection
    for call in calls.values():
        _assert_database_unavailable(call())
    page = pages.post("/login/code/", {"code": CODE})
    assert page.status_code == 503 and page.headers["Content-Type"].startswith("text/html")
    assert page.headers["Retry-After"] == "5" and "Temporarily unavailable" in page.text
    assert api.get(f"{url}{PROFILE_URL}", timeout=10).status_code == 200, "reads still work"
    ready = requests.get(f"{url}/readyz", timeout=10)
    assert ready.status_code == 503 and ready.json()["error"]["details"] == {"database": "unavailable"}
    assert not User.objects.filter(phone__in=[NEW_PHONE, PAGE_PHONE]).exists()
    assert not WebhookDelivery.objects.exists()

    read_only_database.off()
    _terminate(application_name)  # and back: the connections opened read-only are dropped too

    # Killed mid-activation: the user's row is already updated, the owner's count waits on our lock.
    answers: list[requests.Response] = []
    with transaction.atomic():
        User.objects.select_for_update().get(pk=owner.pk)
        activating = threading.Thread(target=lambda: answers.append(calls["activation"]()))
        activating.start()
        assert wait_until(lambda: _terminate(application_name, waiting=True), 10)
    activating.join(10)
    _assert_database_unavailable(answers[0])
    user.refresh_from_db()
    owner.refresh_from_db()
    assert (user.invited_by_id, owner.referrals_count) == (None, 0), "rolled back as a whole"
    assert not WebhookDelivery.objects.exists(), "the webhook row went with it"

    # Writable again, no restart: every call that was refused now works.
    assert requests.get(f"{url}/readyz", timeout=10).status_code == 200
    signed_in = calls["sign-in"]()
    assert signed_in.status_code == 200 and signed_in.json()["is_new_user"] is True
    assert calls["activation"]().status_code == 200
    refreshed = calls["refresh"]()
    assert refreshed.status_code == 200, "the refused refresh did not use the token up"
    logout = requests.post(f"{url}{LOGOUT_URL}", json={"refresh": refreshed.json()["refresh"]}, timeout=10)
    assert logout.status_code == 204
    signed_in_page = pages.post("/login/code/", {"code": CODE})
    assert (signed_in_page.status_code, signed_in_page.headers["Location"]) == (302, "/profile/")
    owner.refresh_from_db()
    assert owner.referrals_count == 1
    assert sorted(WebhookDelivery.objects.values_list("event_type", flat=True)) == [
        "referral.activated",
        "user.registered",
        "user.registered",
    ]
