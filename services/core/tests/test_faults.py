"""Faults with real processes: Redis going away under the OTP service and the core's own throttle
counters, and PostgreSQL going away under the core running in granian. Each test brings its own
short-lived Redis, OTP service, core or TCP proxy; the machine's shared servers are never touched
(the backends killed below are this test's own, found by their application_name)."""

from __future__ import annotations

import copy
import time
import uuid

import pytest
import redis
import requests
from devstack import inbox, wait_until
from devstack.fixtures import FAST_SMS, stack_config
from devstack.tcpproxy import TcpProxy
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from users.tests.factories import UserFactory
from users.tokens import token_pair_issue

pytestmark = pytest.mark.faults

CODE_URL = "/api/v1/auth/code/"
TOKEN_URL = "/api/v1/auth/token/"
PROFILE_URL = "/api/v1/profile/"
INVITE_URL = "/api/v1/profile/invite/"


@pytest.mark.django_db
def test_redis_down_is_otp_unavailable_while_profiles_work_and_all_recovers_without_a_restart(
    api, user_api, settings, private_redis, start_stack
):
    otp = start_stack(
        stack_config("core", redis_url=private_redis.url, otp_env=FAST_SMS), "otp-web", "otp-worker"
    ).config
    settings.OTP_SERVICE_URL, settings.OTP_SERVICE_TOKEN = otp.otp_url, otp.token
    # The core's throttle counters on the same Redis, failing open as in production.
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["LOCATION"] = f"{private_redis.url}/2"
    caches["default"]["OPTIONS"]["IGNORE_EXCEPTIONS"] = True
    settings.CACHES = caches
    assert api.post(CODE_URL, {"phone": "+79961000001"}, format="json").status_code == 202
    # Delivered before the outage, so the worker holds nothing: one that holds a not-yet-due SMS
    # may exit and is restarted by the orchestrator (services/otp/codes/tests/test_worker_broker_loss.py).
    inbox.code(otp.otp_url, "+79961000001")
    time.sleep(0.3)  # and acknowledged

    private_redis.stop()
    for path, body in (
        (CODE_URL, {"phone": "+79961000002"}),
        (TOKEN_URL, {"phone": "+79961000001", "code": "0"}),
    ):
        started = time.monotonic()
        response = api.post(path, body, format="json")
        assert time.monotonic() - started < 3
        assert (response.status_code, response.json()["error"]["code"]) == (503, "otp_unavailable")
    assert user_api.get(PROFILE_URL).status_code == 200
    inviter = UserFactory()
    assert user_api.post(INVITE_URL, {"invite_code": inviter.invite_code}, format="json").status_code == 200
    assert api.get("/readyz").status_code == 200  # sign-in is down, the rest is not: the core stays in service

    private_redis.start()  # empty: whatever was stored before is gone
    sent: list[str] = []

    def code_sent() -> bool:
        sent.append(f"+7996200{len(sent):04d}")
        return api.post(CODE_URL, {"phone": sent[-1]}, format="json").status_code == 202

    assert wait_until(code_sent, 10)
    signed_in = api.post(TOKEN_URL, {"phone": sent[-1], "code": inbox.code(otp.otp_url, sent[-1])}, format="json")
    assert signed_in.status_code == 200, "the worker delivers again and the code signs in"
    assert redis.Redis.from_url(f"{private_redis.url}/2").keys("*throttle_auth_ip*"), "the core counts again"


def _assert_database_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "database_unavailable"
    assert "Traceback" not in response.text and "psycopg" not in response.text


@pytest.mark.django_db(transaction=True)
def test_postgres_lost_is_a_json_503_and_the_core_reconnects_by_itself(test_database_url, start_stack):
    user, inviter = UserFactory(), UserFactory()
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token_pair_issue(user=user).access}"
    browser = Client()
    browser.force_login(user)
    pages = requests.Session()
    pages.cookies.set(django_settings.SESSION_COOKIE_NAME, browser.cookies[django_settings.SESSION_COOKIE_NAME].value)
    application_name = f"core-fault-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict

    with TcpProxy(db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)) as proxy:
        database = test_database_url(port=proxy.port, application_name=application_name)
        core_env = {"SECRET_KEY": django_settings.SECRET_KEY, "CORE_WEB_WORKERS": "2"}
        config = stack_config("core", database_url=database, core_env=core_env)
        url = start_stack(config, "core-web").config.core_url  # no OTP service answers on its otp_port
        assert api.get(f"{url}{PROFILE_URL}", timeout=10).status_code == 200
        assert pages.get(f"{url}/profile/", timeout=10).status_code == 200

        proxy.cut()  # the server goes away: connections dropped, new ones closed at once
        for _ in range(3):  # each worker thread finds its connection dead
            _assert_database_unavailable(api.get(f"{url}{PROFILE_URL}", timeout=10))
        invite = {"invite_code": inviter.invite_code}
        _assert_database_unavailable(api.post(f"{url}{INVITE_URL}", json=invite, timeout=10))
        page = pages.get(f"{url}/profile/", timeout=10)
        assert page.status_code == 503 and page.headers["Content-Type"].startswith("text/html")
        assert "Temporarily unavailable" in page.text and "Traceback" not in page.text
        assert requests.get(f"{url}/healthz", timeout=10).status_code == 200
        ready = requests.get(f"{url}/readyz", timeout=10)
        assert ready.status_code == 503 and ready.json()["error"]["details"]["database"] == "unavailable"

        proxy.stall()  # packets lost: connecting hangs until the connect timeout (3 s)
        started = time.monotonic()
        _assert_database_unavailable(api.get(f"{url}{PROFILE_URL}", timeout=10))
        assert time.monotonic() - started < 4.5

        proxy.restore()  # no restart: the next requests connect again
        assert [api.get(f"{url}{PROFILE_URL}", timeout=10).status_code for _ in range(10)] == [200] * 10
        assert pages.get(f"{url}/profile/", timeout=10).status_code == 200
        assert api.post(f"{url}{INVITE_URL}", json=invite, timeout=10).status_code == 200

        # A restart or failover kills the backends under the core's pooled connections: the
        # health check (CONN_HEALTH_CHECKS) notices and the requests succeed on a new one.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
                [application_name],
            )
            assert cursor.fetchone()[0] >= 1
        assert [api.get(f"{url}{PROFILE_URL}", timeout=10).status_code for _ in range(10)] == [200] * 10
