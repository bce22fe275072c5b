"""One delivery path: every backend, the development ones included, goes through the same delivery
record (codes.delivery) and the task's one retry policy, which also covers Redis being unable to
hold that record."""

from __future__ import annotations

import json
import logging
import socket
import time
import uuid

import pytest
import requests
from devstack import wait_until
from devstack.inbox import messages as inbox_messages
from prometheus_client import REGISTRY

from codes import store
from codes.delivery import RECORD_RETRIES
from codes.sealing import seal
from codes.tasks import deliver_sms


@pytest.mark.parametrize("backend", ["console", "inbox"])
def test_the_development_backends_settle_the_same_record_as_the_providers(settings, phone, backend, run_delivery):
    settings.SMS_BACKEND, settings.SMS_PROVIDERS = backend, [backend]
    message_id = uuid.uuid4().hex
    assert run_delivery(message_id, phone, "2580") is True
    record = json.loads(store.sms_mark(message_id=message_id) or "")
    assert record == {
        "status": "sent",
        "provider": backend,
        "provider_id": message_id,
        "attempts": 1,
        "sent_at": record["sent_at"],
        "lag_ms": record["lag_ms"],
    }
    assert run_delivery(message_id, phone, "2580") is False  # redelivered: the record says sent


def test_a_message_an_earlier_release_delivered_is_not_sent_again(inbox_backend, phone, run_delivery):
    """Its console and inbox marked a delivered message with "1"; the record reads it as taken."""
    message_id = uuid.uuid4().hex
    store.client().set(f"{inbox_backend.OTP_KEY_PREFIX}sms:{message_id}", "1", ex=60)
    assert run_delivery(message_id, phone) is False
    assert store.inbox_list(phone=phone) == []


@pytest.fixture
def unreachable_redis(settings):
    """The codes' Redis (the delivery record's) refuses connections: a port just freed on loopback."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{port}"
    store.client.cache_clear()
    store._script.cache_clear()
    yield
    store.client.cache_clear()
    store._script.cache_clear()


def test_redis_unable_to_hold_the_record_is_retried_then_the_message_fails(settings, phone, caplog, unreachable_redis):
    settings.SMS_BACKEND, settings.SMS_PROVIDERS = "console", ["console"]
    exhausted = REGISTRY.get_sample_value("otp_sms_failed_total", {"reason": "retries_exhausted"}) or 0.0
    message_id = uuid.uuid4().hex
    kwargs = {
        "message_id": message_id,
        "phone": phone,
        "sealed_code": seal(message_id=message_id, phone=phone, code="1357"),
    }
    with caplog.at_level(logging.INFO, logger="sms"):
        result = deliver_sms.apply(kwargs={**kwargs, "requested_at": "2026-01-01T00:00:00+00:00"})  # retries at once
    assert result.failed()
    lines = [r.getMessage() for r in caplog.records if r.name == "sms.delivery"]
    assert len(lines) == RECORD_RETRIES and all("delivery record unavailable" in line for line in lines)
    assert [r for r in caplog.records if r.name == "sms"] == []  # nothing was sent without its record
    after = REGISTRY.get_sample_value("otp_sms_failed_total", {"reason": "retries_exhausted"}) or 0.0
    assert after - exhausted == 1


@pytest.mark.faults
def test_an_sms_waiting_while_the_codes_redis_is_down_arrives_once_when_it_is_back(
    persistent_redis, private_redis, otp_stack, phone
):
    """The codes' Redis goes away while the SMS waits for its countdown (the broker stays): the
    worker retries the delivery with backoff and sends it once Redis is back."""
    stack = otp_stack(
        persistent_redis,
        SMS_DELAY_MIN_SECONDS="1",
        SMS_DELAY_MAX_SECONDS="1",
        OTP_CELERY_BROKER_URL=f"{private_redis.url}/1",
        LOG_LEVEL="INFO",
    )
    url = stack.config.otp_url
    sent = requests.post(
        f"{url}/v1/codes/", json={"phone": phone}, headers={"Authorization": "Bearer fault-token"}, timeout=5
    )
    assert sent.status_code == 202
    persistent_redis.stop()
    time.sleep(3)  # the countdown runs out and the first retries find no Redis
    persistent_redis.start()

    assert wait_until(lambda: inbox_messages(url, phone), 30, interval=0.25), "the SMS was lost"
    time.sleep(1)
    assert len(inbox_messages(url, phone)) == 1
    log = stack.log("otp-worker").read_text(errors="replace")
    assert "delivery record unavailable" in log
