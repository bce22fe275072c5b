"""The delivery log: one structured line per attempt, for providers and the development backends
alike, with its metrics; never the code."""

from __future__ import annotations

import json
import logging
import time
import uuid

import pytest
from prometheus_client import REGISTRY
from werkzeug import Response

from codes import services
from codes.tests.test_providers import TWILIO_CREATED, TWILIO_PATH

CODE = "9517"
FIELDS = {"message_id", "provider", "attempt", "status", "lag_ms"}


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _lines(caplog) -> list[dict]:
    lines = [r.getMessage() for r in caplog.records if r.name == "sms.delivery"]
    assert all(line.startswith("sms_attempt {") for line in lines), lines
    parsed = [json.loads(line.split(" ", 1)[1]) for line in lines]
    for fields in parsed:  # ids and numbers may hold the code's digits by chance: every other value
        words = [str(v) for k, v in fields.items() if k != "message_id" and not isinstance(v, int)]
        assert not any(CODE in word for word in words), fields
    return parsed


@pytest.fixture
def log(caplog):
    caplog.set_level(logging.INFO, logger="sms.delivery")
    return caplog


def test_provider_attempts_are_logged_and_counted(providers, httpserver, phone, log, run_delivery):
    providers.SMS_PROVIDERS = ["twilio"]
    httpserver.expect_ordered_request(TWILIO_PATH).respond_with_json({"code": 20500}, status=500)
    httpserver.expect_ordered_request(TWILIO_PATH).respond_with_json(TWILIO_CREATED, status=201)
    before = {
        "not_sent": _value("otp_sms_attempts_total", provider="twilio", status="not_sent"),
        "sent": _value("otp_sms_attempts_total", provider="twilio", status="sent"),
        "delivered": _value("otp_sms_delivered_total", backend="twilio"),
        "calls": _value("otp_sms_provider_call_seconds_count", provider="twilio"),
    }
    message_id = uuid.uuid4().hex

    assert run_delivery(message_id, phone, CODE) is True

    first, second = _lines(log)
    assert set(first) >= FIELDS and set(second) >= FIELDS
    assert (first["status"], first["attempt"], first["error_code"], first["next"]) == ("not_sent", 1, "20500", "retry")
    assert (second["status"], second["attempt"], second["provider_id"]) == ("sent", 2, TWILIO_CREATED["sid"])
    assert first["message_id"] == second["message_id"] == message_id
    assert second["lag_ms"] > 0 and second["ms"] >= 0
    assert _value("otp_sms_attempts_total", provider="twilio", status="not_sent") - before["not_sent"] == 1
    assert _value("otp_sms_attempts_total", provider="twilio", status="sent") - before["sent"] == 1
    assert _value("otp_sms_delivered_total", backend="twilio") - before["delivered"] == 1
    assert _value("otp_sms_provider_call_seconds_count", provider="twilio") - before["calls"] == 2


def test_a_message_no_provider_would_take_is_counted_as_failed(providers, httpserver, phone, log, run_delivery):
    httpserver.expect_request(TWILIO_PATH).respond_with_json({"code": 21610}, status=400)
    httpserver.expect_request("/sms/send").respond_with_json({"status": "ERROR", "status_code": 200})
    before = _value("otp_sms_failed_total", reason="providers_exhausted")

    assert run_delivery(uuid.uuid4().hex, phone, CODE) is False

    lines = _lines(log)
    assert [(x["provider"], x["status"], x["error_code"], x["next"]) for x in lines] == [
        ("twilio", "rejected", "21610", "retry"),
        ("smsru", "rejected", "200", "failed"),
    ]
    assert _value("otp_sms_failed_total", reason="providers_exhausted") - before == 1


def test_an_unanswered_call_is_counted_in_doubt(providers, httpserver, phone, log, run_delivery):
    providers.SMS_PROVIDERS = ["twilio"]

    def slow(request):
        time.sleep(1.0)
        return Response(json.dumps(TWILIO_CREATED), status=201, content_type="application/json")

    httpserver.expect_request(TWILIO_PATH).respond_with_handler(slow)
    before = _value("otp_sms_failed_total", reason="in_doubt")

    assert run_delivery(uuid.uuid4().hex, phone, CODE) is False

    (line,) = _lines(log)
    assert line["status"] == "in_doubt" and "Read timed out" in line["reason"]
    assert _value("otp_sms_failed_total", reason="in_doubt") - before == 1


@pytest.mark.parametrize("backend", ["console", "inbox"])
def test_the_development_backends_log_each_attempt_without_the_code(settings, phone, log, backend, run_delivery):
    settings.SMS_BACKEND, settings.SMS_PROVIDERS = backend, [backend]
    before = _value("otp_sms_attempts_total", provider=backend, status="skipped")
    message_id = uuid.uuid4().hex

    assert run_delivery(message_id, phone, CODE) is True
    assert run_delivery(message_id, phone, CODE) is False  # redelivered

    assert [(x["provider"], x["status"], x["message_id"]) for x in _lines(log)] == [
        (backend, "sent", message_id),
        (backend, "skipped", message_id),
    ]
    assert _value("otp_sms_attempts_total", provider=backend, status="skipped") - before == 1


def test_test_number_uses_are_counted(settings, phone, monkeypatch):
    settings.OTP_TEST_NUMBERS = {phone: "1234"}
    monkeypatch.setattr(services.deliver_sms, "apply_async", lambda **options: None)
    before = (
        _value("otp_test_number_uses_total", action="send"),
        _value("otp_test_number_uses_total", action="verify"),
    )
    services.otp_send(phone=phone)
    services.otp_verify(phone=phone, code="1234")
    after = (_value("otp_test_number_uses_total", action="send"), _value("otp_test_number_uses_total", action="verify"))
    assert (after[0] - before[0], after[1] - before[1]) == (1, 1)
