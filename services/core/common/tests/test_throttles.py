"""Throttles count in Redis (shared by all workers), answer 429 + Retry-After, and trust
X-Forwarded-For only as far as TRUSTED_PROXY_COUNT says."""

import copy
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.cache import cache

from common.throttles import rate_hit
from users.tests.factories import UserFactory, client_for

CODE_URL = "/api/v1/auth/code/"


def _send(api, **headers):
    return api.post(CODE_URL, {"phone": "89991234567"}, format="json", **headers)


def test_auth_endpoints_are_limited_per_ip(api, fake_otp, settings):
    settings.THROTTLE_AUTH_PER_IP = "3/min"
    assert [_send(api).status_code for _ in range(3)] == [202] * 3
    response = _send(api)
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "too_many_requests"
    assert 1 <= int(response["Retry-After"]) <= 60
    assert len(fake_otp.requests) == 3  # the throttled request never reached the OTP service
    # Another address has its own budget.
    assert _send(api, REMOTE_ADDR="10.0.0.9").status_code == 202


@pytest.mark.django_db
def test_code_and_token_endpoints_have_separate_buckets(api, fake_otp, settings):
    settings.THROTTLE_AUTH_PER_IP = "1/min"
    assert _send(api).status_code == 202
    assert api.post("/api/v1/auth/token/", {"phone": "89991234567", "code": "1"}, format="json").status_code == 200


def test_counters_live_in_the_shared_redis_cache(api, fake_otp, settings):
    settings.THROTTLE_AUTH_PER_IP = "5/min"
    _send(api)
    keys = cache.keys(  # type: ignore[attr-defined]  # django-redis
        "throttle_auth_ip:code_*"
    )
    assert keys == ["throttle_auth_ip:code_127.0.0.1"]


def test_x_forwarded_for_is_ignored_without_trusted_proxies(api, fake_otp, settings):
    settings.THROTTLE_AUTH_PER_IP = "1/min"
    assert _send(api, HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 202
    assert _send(api, HTTP_X_FORWARDED_FOR="2.2.2.2").status_code == 429  # same socket address


def test_x_forwarded_for_names_the_client_behind_a_trusted_proxy(api, fake_otp, settings):
    settings.THROTTLE_AUTH_PER_IP = "1/min"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    assert _send(api, HTTP_X_FORWARDED_FOR="6.6.6.6, 1.1.1.1").status_code == 202
    assert _send(api, HTTP_X_FORWARDED_FOR="6.6.6.6, 2.2.2.2").status_code == 202  # a different client
    assert _send(api, HTTP_X_FORWARDED_FOR="7.7.7.7, 2.2.2.2").status_code == 429  # spoofed left part ignored


@pytest.mark.django_db
def test_invite_activation_is_limited_per_user(settings):
    settings.THROTTLE_INVITE_PER_USER = "2/min"
    me, other = UserFactory(), UserFactory()
    mine, theirs = client_for(me), client_for(other)
    codes = [mine.post("/api/v1/profile/invite/", {"invite_code": "ZZZZZZ"}, format="json") for _ in range(3)]
    assert [r.status_code for r in codes] == [404, 404, 429]
    assert codes[-1].json()["error"]["code"] == "too_many_requests" and codes[-1]["Retry-After"]
    assert theirs.post("/api/v1/profile/invite/", {"invite_code": "ZZZZZZ"}, format="json").status_code == 404


def test_throttling_fails_open_when_redis_is_down(api, fake_otp, settings):
    # The production setting: the OTP service still limits codes per phone, so availability wins.
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["LOCATION"] = "redis://127.0.0.1:1/2"
    caches["default"]["OPTIONS"]["IGNORE_EXCEPTIONS"] = True
    settings.CACHES = caches
    settings.THROTTLE_AUTH_PER_IP = "1/min"
    assert [_send(api).status_code for _ in range(3)] == [202] * 3


def test_parallel_hits_on_one_counter_let_exactly_the_limit_through():
    # DRF's own throttle reads the history and writes it back: parallel requests all saw room.
    barrier = threading.Barrier(20)

    def hit(_):
        barrier.wait(timeout=5)
        return rate_hit(key="throttle_race_test", limit=5, window_seconds=60)

    with ThreadPoolExecutor(20) as pool:
        waits = list(pool.map(hit, range(20)))
    assert waits.count(0) == 5
    assert all(0 < wait <= 60 for wait in waits if wait)
