"""A real worker process killed while a provider call is under way: the message is redelivered to
another worker, which must not call the provider again (the first call may have been accepted)."""

from __future__ import annotations

import json
import signal
import threading
import time

import pytest
import redis as redis_lib
import requests
from devstack import wait_until
from werkzeug import Response

pytestmark = pytest.mark.faults
TWILIO_SID = "AC0123456789abcdef0123456789abcdef"
TWILIO_PATH = f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"


def test_a_worker_killed_mid_send_never_sends_twice(httpserver, phone, private_redis, otp_stack):
    arrived, release = threading.Event(), threading.Event()

    def held_answer(request):
        arrived.set()
        release.wait(30)
        return Response(json.dumps({"sid": "SM1", "status": "queued"}), status=201, content_type="application/json")

    httpserver.expect_request(TWILIO_PATH, method="POST").respond_with_handler(held_answer)
    redis = private_redis
    stack = otp_stack(
        redis,
        "otp-web",
        SMS_BACKEND="twilio",
        TWILIO_API_BASE=httpserver.url_for("").rstrip("/"),
        TWILIO_ACCOUNT_SID=TWILIO_SID,
        TWILIO_AUTH_TOKEN="fault-twilio-token",
        TWILIO_FROM="+15005550006",
        OTP_CELERY_VISIBILITY_TIMEOUT="2",
        OTP_CELERY_RESTORE_INTERVAL="1",
        LOG_LEVEL="INFO",
    )
    url = stack.config.otp_url
    stack.start("otp-worker")
    time.sleep(3)  # let it connect and start consuming
    sent = requests.post(
        f"{url}/v1/codes/", json={"phone": phone}, headers={"Authorization": "Bearer fault-token"}, timeout=5
    )
    assert sent.status_code == 202
    assert arrived.wait(15), "the worker never called the provider"
    stack.stop("otp-worker", sig=signal.SIGKILL)  # killed while the call is open
    release.set()

    log = stack.log("otp-worker")
    first_worker = log.stat().st_size  # the second one logs after it
    stack.start("otp-worker")
    assert wait_until(
        lambda: '"status": "skipped"' in log.read_bytes()[first_worker:].decode(errors="replace"),
        30,
        interval=0.25,
    ), "the message never came back to the second worker"
    time.sleep(1)
    stack.stop("otp-worker")
    client = redis_lib.Redis.from_url(redis.url)
    marks = [json.loads(client.get(key) or "") for key in client.keys("*otp:sms:*")]
    assert len(httpserver.log) == 1
    assert marks == [{"status": "sending", "provider": "twilio", "attempts": 1, "token": marks[0]["token"]}]
