"""Faults: Redis going away and coming back, the worker down or killed. Each test runs its own
private Redis, OTP web process and workers; the machine's shared servers are never touched."""

from __future__ import annotations

import random
import signal
import time

import pytest
import requests
from devstack import wait_until
from devstack.inbox import messages as _inbox

pytestmark = pytest.mark.faults
TOKEN = {"Authorization": "Bearer fault-token"}


def _phones(n: int) -> list[str]:
    return [f"+7997{x:07d}" for x in random.sample(range(10_000_000), n)]


def _send(url: str, phone: str) -> requests.Response:
    return requests.post(f"{url}/v1/codes/", json={"phone": phone}, headers=TOKEN, timeout=5)


def test_redis_down_answers_503_fast_and_recovers_without_a_restart(private_redis, otp_stack):
    url = otp_stack(private_redis, "otp-web").config.otp_url
    assert _send(url, _phones(1)[0]).status_code == 202

    private_redis.stop()
    for path, body in (
        ("/v1/codes/", {"phone": _phones(1)[0]}),
        ("/v1/codes/verify/", {"phone": "+79990000000", "code": "1234"}),
    ):
        started = time.monotonic()
        response = requests.post(f"{url}{path}", json=body, headers=TOKEN, timeout=5)
        assert time.monotonic() - started < 1.0
        assert response.status_code == 503 and response.json()["error"]["code"] == "unavailable"
    assert requests.get(f"{url}/readyz", timeout=5).status_code == 503
    assert requests.get(f"{url}/healthz", timeout=5).status_code == 200

    private_redis.start()
    assert wait_until(lambda: requests.get(f"{url}/readyz", timeout=5).status_code == 200, 5)
    assert _send(url, _phones(1)[0]).status_code == 202


def test_codes_sent_while_the_worker_is_down_arrive_once_when_it_is_back(private_redis, otp_stack):
    stack = otp_stack(private_redis, "otp-web")
    url = stack.config.otp_url
    phones = _phones(5)
    for phone in phones:
        assert _send(url, phone).status_code == 202
    time.sleep(2.5)
    assert all(_inbox(url, p) == [] for p in phones), "nothing can arrive without a worker"

    stack.start("otp-worker")
    assert wait_until(lambda: all(_inbox(url, p) for p in phones), 15)
    time.sleep(1)
    assert [len(_inbox(url, p)) for p in phones] == [1] * 5


def test_a_worker_killed_before_delivery_loses_nothing_and_sends_once(private_redis, otp_stack):
    stack = otp_stack(private_redis, OTP_CELERY_VISIBILITY_TIMEOUT="2")
    url = stack.config.otp_url
    time.sleep(3)  # let it connect and start consuming
    phones = _phones(5)
    for phone in phones:
        assert _send(url, phone).status_code == 202
    time.sleep(0.5)  # the worker now holds them, waiting for their countdown
    stack.stop("otp-worker", sig=signal.SIGKILL)
    assert all(_inbox(url, p) == [] for p in phones)

    stack.start("otp-worker")
    assert wait_until(lambda: all(_inbox(url, p) for p in phones), 30, interval=0.25)
    time.sleep(1)
    assert [len(_inbox(url, p)) for p in phones] == [1] * 5
