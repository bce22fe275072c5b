"""A Redis outage while the worker holds an SMS whose countdown has not run out yet (which is most of
the time: every SMS waits 1-2 s). When Redis is back, the worker delivers again by itself.

Celery alone does not: on the lost connection kombu closes the channel and puts the held message
back (`restore_unacked`) through a connection it has already let go of: AttributeError ("'NoneType'
object has no attribute 'hostname'"), which Celery treats as an "Unrecoverable error" and stops.
bin/worker starts it again; this test keeps it that way."""

from __future__ import annotations

import random
import time

import pytest
import requests

from codes.tests.processes import otp_web, private_redis, service_env, start_worker, stop, wait_until

pytestmark = pytest.mark.faults
TOKEN = {"Authorization": "Bearer fault-token"}


def _phone() -> str:
    return f"+7997{random.randrange(10_000_000):07d}"


def _delivered(url: str, phone: str) -> bool:
    return bool(requests.get(f"{url}/v1/inbox/", params={"phone": phone}, timeout=5).json()["messages"])


def _send(url: str, phone: str) -> None:
    assert requests.post(f"{url}/v1/codes/", json={"phone": phone}, headers=TOKEN, timeout=5).status_code == 202


def test_the_worker_delivers_again_after_redis_drops_while_it_holds_a_countdown():
    with private_redis() as redis:
        env = service_env(redis.url, SMS_DELAY_MIN_SECONDS="2", SMS_DELAY_MAX_SECONDS="2")
        with otp_web(env) as url:
            worker = start_worker(env)
            try:
                warm_up = _phone()
                _send(url, warm_up)
                assert wait_until(lambda: _delivered(url, warm_up), 20), "the worker never started consuming"

                _send(url, _phone())
                time.sleep(0.5)  # the worker has it now, waiting for its countdown
                redis.stop()
                time.sleep(1)
                redis.start()

                after = _phone()
                _send(url, after)
                wait_until(lambda: worker.poll() is not None or _delivered(url, after), 15)
                assert worker.poll() is None, "bin/worker stopped"
                assert _delivered(url, after), "nothing is delivered after the outage"
            finally:
                stop([worker])
