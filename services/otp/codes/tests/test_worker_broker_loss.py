"""A Redis outage while the worker holds an SMS whose countdown has not run out yet (which is most of
the time: every SMS waits 1-2 s). When Redis is back, every SMS is delivered, each exactly once.

Celery alone may not carry on: on the lost connection kombu closes the channel and puts the held
message back (`restore_unacked`) through a connection it has already let go of: AttributeError
("'NoneType' object has no attribute 'hostname'"), which Celery treats as an "Unrecoverable error".
Then bin/worker exits non-zero and the orchestrator starts it again (compose's
`restart: unless-stopped`; here Stack.revive plays that part); the held message is still in Redis
(late acks, append-only file) and comes back after the visibility timeout."""

from __future__ import annotations

import random
import time

import pytest
import requests
from devstack import inbox, wait_until

pytestmark = pytest.mark.faults
TOKEN = {"Authorization": "Bearer fault-token"}


def _phone() -> str:
    return f"+7997{random.randrange(10_000_000):07d}"


def _messages(url: str, phone: str) -> int:
    return len(inbox.messages(url, phone))


def _send(url: str, phone: str) -> None:
    assert requests.post(f"{url}/v1/codes/", json={"phone": phone}, headers=TOKEN, timeout=5).status_code == 202


def test_every_sms_arrives_once_after_redis_drops_while_the_worker_holds_a_countdown(
    redelivering_stack, persistent_redis
):
    stack, redis = redelivering_stack, persistent_redis
    url = stack.config.otp_url
    held = _phone()
    _send(url, held)
    time.sleep(0.5)  # the worker has it now, waiting for its countdown
    redis.stop()
    time.sleep(1)
    redis.start()

    after = _phone()
    _send(url, after)

    def delivered() -> bool:
        stack.revive("otp-worker")
        return _messages(url, held) >= 1 and _messages(url, after) >= 1

    assert wait_until(delivered, 30, interval=0.25), "an SMS was lost in the outage"
    time.sleep(6)  # past another visibility timeout: a redelivered message would show now
    stack.revive("otp-worker")
    assert (_messages(url, held), _messages(url, after)) == (1, 1)
    assert all(status != 0 for status in stack.exits), "a stopped worker must exit non-zero"
