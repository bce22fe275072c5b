"""Delivery through a real Celery worker on the real Redis broker, 1–2 s after the request."""

from __future__ import annotations

import logging
import random
import time
from datetime import datetime

import pytest

from codes import services, store
from codes.tasks import deliver_sms


def _wait_for_inbox(phone: str, timeout: float) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = store.inbox_list(phone=phone)
        if messages:
            return messages
        time.sleep(0.02)
    return []


@pytest.mark.worker
def test_a_sent_code_arrives_in_the_inbox_one_to_two_seconds_later(celery_worker, inbox_backend, phone, known_code):
    known_code("6543")
    started = time.monotonic()
    services.otp_send(phone=phone)
    assert time.monotonic() - started < 0.5, "the request must not wait for the delivery"

    messages = _wait_for_inbox(phone, timeout=3)
    arrived = time.monotonic() - started
    assert messages, "the SMS never arrived"
    assert 1.0 <= arrived <= 2.5
    assert messages[0]["text"] == "Your sign-in code: 6543" and messages[0]["code"] == "6543"
    lag = datetime.fromisoformat(messages[0]["sent_at"]) - datetime.fromisoformat(messages[0]["requested_at"])
    assert lag.total_seconds() >= 1.0


@pytest.mark.worker
def test_a_hundred_sends_at_once_all_arrive_within_three_seconds(celery_worker, inbox_backend):
    phones = [f"+7998{n:07d}" for n in random.sample(range(10_000_000), 100)]
    started = time.monotonic()
    for phone in phones:
        services.otp_send(phone=phone)
    pending = set(phones)
    while pending and time.monotonic() - started < 3.0:
        pending = {p for p in pending if not store.inbox_list(phone=p)}
        time.sleep(0.05)
    assert not pending, f"{len(pending)} of 100 SMS did not arrive within 3 s"


@pytest.mark.worker
def test_the_sms_arrives_in_the_requested_language(celery_worker, inbox_backend, phone, known_code):
    known_code("8642")
    services.otp_send(phone=phone, language="ru")
    messages = _wait_for_inbox(phone, timeout=3)
    assert messages and messages[0]["text"] == "Код для входа: 8642"


def test_delivery_is_idempotent_by_message_id(inbox_backend, phone, run_delivery):
    assert run_delivery("msg-1-" + phone, phone, "1234") is True
    assert run_delivery("msg-1-" + phone, phone, "1234") is False
    assert [m["code"] for m in store.inbox_list(phone=phone)] == ["1234"]


def test_inbox_keeps_the_last_ten_messages_newest_first(inbox_backend, phone, run_delivery):
    for n in range(12):
        run_delivery(f"msg-{n}-{phone}", phone, f"{n:04d}")
    assert [m["code"] for m in store.inbox_list(phone=phone)] == [f"{n:04d}" for n in range(11, 1, -1)]


def test_console_backend_logs_one_line_per_sms_and_keeps_no_inbox(settings, phone, caplog, run_delivery):
    settings.SMS_BACKEND, settings.SMS_PROVIDERS = "console", ["console"]
    with caplog.at_level(logging.INFO, logger="sms"):
        assert run_delivery("console-" + phone, phone, "9876") is True
        assert run_delivery("console-" + phone, phone, "9876") is False
    assert [r.getMessage() for r in caplog.records if r.name == "sms"] == [f"SMS to {phone}: Your sign-in code: 9876"]
    assert store.inbox_list(phone=phone) == []


def test_a_tampered_payload_is_dropped(inbox_backend, phone):
    result = deliver_sms.apply(
        kwargs={
            "message_id": "bad-" + phone,
            "phone": phone,
            "sealed_code": "not-a-token",
            "requested_at": "2026-01-01T00:00:00+00:00",
        }
    ).get()
    assert result is False
    assert store.inbox_list(phone=phone) == []
