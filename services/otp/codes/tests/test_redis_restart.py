"""Redis restarted the way compose's Redis is (append-only file on a volume): between a code request
and its SMS, and between the SMS and the sign-in. The SMS arrives once and the code still works.
The worker runs under a restart policy, as in compose (see RestartedWorker)."""

from __future__ import annotations

import random
import time

import pytest
import requests

from codes.tests.processes import RestartedWorker, otp_web, private_redis, service_env, wait_until

pytestmark = pytest.mark.faults
TOKEN = {"Authorization": "Bearer fault-token"}


def _inbox(url: str, phone: str) -> list[dict]:
    return requests.get(f"{url}/v1/inbox/", params={"phone": phone}, timeout=5).json()["messages"]


def test_restarts_before_delivery_and_before_sign_in_lose_nothing_and_send_once():
    phone = f"+7996{random.randrange(10_000_000):07d}"
    with private_redis(appendonly=True) as redis:
        env = service_env(
            redis.url,
            SMS_DELAY_MIN_SECONDS="2",
            SMS_DELAY_MAX_SECONDS="2",
            CELERY_VISIBILITY_TIMEOUT="4",
            CELERY_RESTORE_INTERVAL="1",
        )
        with otp_web(env) as url:
            worker = RestartedWorker(env)
            try:
                warm_up = f"+7995{random.randrange(10_000_000):07d}"
                requests.post(f"{url}/v1/codes/", json={"phone": warm_up}, headers=TOKEN, timeout=5)
                assert wait_until(lambda: _inbox(url, warm_up), 20), "the worker never started consuming"

                sent = requests.post(f"{url}/v1/codes/", json={"phone": phone}, headers=TOKEN, timeout=5)
                assert sent.status_code == 202
                redis.stop()  # the SMS is still waiting for its 2 s countdown
                redis.start()

                def arrived() -> bool:
                    worker.check()
                    return bool(_inbox(url, phone))

                assert wait_until(arrived, 30, interval=0.25), "the SMS was lost with the restart"
                time.sleep(6)  # past another visibility timeout: a redelivered message would show now
                worker.check()
                messages = _inbox(url, phone)
                assert len(messages) == 1, "the SMS arrived more than once"

                redis.stop()
                redis.start()
                verify = requests.post(
                    f"{url}/v1/codes/verify/",
                    json={"phone": phone, "code": messages[0]["code"]},
                    headers=TOKEN,
                    timeout=5,
                )
                assert verify.status_code == 200, verify.text
                assert verify.json() == {"verified": True}
                assert all(status != 0 for status in worker.exits), "a stopped worker must exit non-zero"
            finally:
                worker.stop()
