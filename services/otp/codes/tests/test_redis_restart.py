"""Redis restarted the way compose's Redis is (append-only file on a volume): between a code request
and its SMS, and between the SMS and the sign-in. The SMS arrives once and the code still works.
The worker runs under a restart policy, as in compose (Stack.revive)."""

from __future__ import annotations

import random
import time

import pytest
import requests
from devstack import wait_until
from devstack.inbox import messages as _inbox

pytestmark = pytest.mark.faults
TOKEN = {"Authorization": "Bearer fault-token"}


def test_restarts_before_delivery_and_before_sign_in_lose_nothing_and_send_once(redelivering_stack, persistent_redis):
    phone = f"+7996{random.randrange(10_000_000):07d}"
    stack, redis = redelivering_stack, persistent_redis
    url = stack.config.otp_url
    sent = requests.post(f"{url}/v1/codes/", json={"phone": phone}, headers=TOKEN, timeout=5)
    assert sent.status_code == 202
    redis.stop()  # the SMS is still waiting for its 2 s countdown
    redis.start()

    def arrived() -> bool:
        stack.revive("otp-worker")
        return bool(_inbox(url, phone))

    assert wait_until(arrived, 30, interval=0.25), "the SMS was lost with the restart"
    time.sleep(6)  # past another visibility timeout: a redelivered message would show now
    stack.revive("otp-worker")
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
    assert all(status != 0 for status in stack.exits), "a stopped worker must exit non-zero"
