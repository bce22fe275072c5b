"""Real provider backends against local fakes of their documented APIs (pytest-httpserver): the exact
request, retries on 5xx/429/connect timeouts, no retry on 4xx, failover, and never a second call for
one message id. The Celery task runs eagerly here (a retry runs at once); test_provider_worker.py
runs it on a real worker with its real countdowns."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid

import pytest
from werkzeug import Response

from codes import store
from codes.delivery import _backoff

TWILIO_PATH = "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json"
TWILIO_CREATED = {"sid": "SM0123456789abcdef0123456789abcdef", "status": "queued", "error_code": None}


def _smsru_ok(phone: str, sms_id: str = "000000-10000001") -> dict:
    number = phone.removeprefix("+")
    return {"status": "OK", "status_code": 100, "sms": {number: {"status": "OK", "status_code": 100, "sms_id": sms_id}}}


def _mark(message_id: str) -> dict:
    return json.loads(store.sms_mark(message_id=message_id) or "")


def _requests(httpserver) -> list:
    return [request for request, _ in httpserver.log]


@pytest.fixture
def message_id() -> str:
    return uuid.uuid4().hex


def test_twilio_request_is_the_documented_one(providers, httpserver, phone, message_id, run_delivery):
    providers.SMS_PROVIDERS = ["twilio"]
    httpserver.expect_request(TWILIO_PATH, method="POST").respond_with_json(TWILIO_CREATED, status=201)

    assert run_delivery(message_id, phone, "4321") is True

    (request,) = _requests(httpserver)
    assert request.authorization.type == "basic"
    assert request.authorization.username == providers.TWILIO_ACCOUNT_SID
    assert request.authorization.password == "twilio-test-token"
    assert request.mimetype == "application/x-www-form-urlencoded"
    assert request.form.to_dict() == {"To": phone, "Body": "Your sign-in code: 4321", "From": "+15005550006"}
    mark = _mark(message_id)
    assert mark == {
        "status": "sent",
        "provider": "twilio",
        "provider_id": TWILIO_CREATED["sid"],
        "attempts": 1,
        "sent_at": mark["sent_at"],
        "lag_ms": mark["lag_ms"],
    }


def test_twilio_messaging_service_replaces_from(providers, httpserver, phone, message_id, run_delivery):
    providers.SMS_PROVIDERS = ["twilio"]
    providers.TWILIO_MESSAGING_SERVICE_SID = "MG0123456789abcdef0123456789abcdef"
    httpserver.expect_request(TWILIO_PATH, method="POST").respond_with_json(TWILIO_CREATED, status=201)

    assert run_delivery(message_id, phone) is True
    form = _requests(httpserver)[0].form.to_dict()
    assert form["MessagingServiceSid"] == "MG0123456789abcdef0123456789abcdef" and "From" not in form


def test_smsru_request_is_the_documented_one(providers, httpserver, phone, message_id, run_delivery):
    providers.SMS_PROVIDERS = ["smsru"]
    providers.SMSRU_FROM = "Referrals"
    httpserver.expect_request("/sms/send", method="POST").respond_with_json(_smsru_ok(phone, "201-555"))

    assert run_delivery(message_id, phone, "8765") is True

    (request,) = _requests(httpserver)
    assert request.form.to_dict() == {
        "api_id": "smsru-test-api-id",
        "to": phone.removeprefix("+"),
        "msg": "Your sign-in code: 8765",
        "json": "1",
        "from": "Referrals",
    }
    assert _mark(message_id)["provider_id"] == "201-555"


@pytest.mark.parametrize("status", [500, 503, 429])
def test_twilio_5xx_and_429_are_retried(providers, httpserver, phone, message_id, status, run_delivery):
    providers.SMS_PROVIDERS = ["twilio"]
    httpserver.expect_ordered_request(TWILIO_PATH).respond_with_json({"code": 20500, "status": status}, status=status)
    httpserver.expect_ordered_request(TWILIO_PATH).respond_with_json(TWILIO_CREATED, status=201)

    assert run_delivery(message_id, phone) is True
    assert len(_requests(httpserver)) == 2
    assert _mark(message_id)["status"] == "sent" and _mark(message_id)["attempts"] == 2


def test_smsru_try_later_code_is_retried(providers, httpserver, phone, message_id, run_delivery):
    providers.SMS_PROVIDERS = ["smsru"]
    later = {"status": "ERROR", "status_code": 220, "status_text": "Service temporarily unavailable"}
    httpserver.expect_ordered_request("/sms/send").respond_with_json(later)
    httpserver.expect_ordered_request("/sms/send").respond_with_json(_smsru_ok(phone))

    assert run_delivery(message_id, phone) is True
    assert len(_requests(httpserver)) == 2


def test_a_4xx_is_not_retried_and_logged_with_the_providers_code(
    providers, httpserver, phone, message_id, caplog, run_delivery
):
    providers.SMS_PROVIDERS = ["twilio"]
    invalid = {"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400}
    httpserver.expect_request(TWILIO_PATH).respond_with_json(invalid, status=400)

    with caplog.at_level(logging.INFO, logger="sms.delivery"):
        assert run_delivery(message_id, phone) is False
    assert len(_requests(httpserver)) == 1
    assert _mark(message_id)["status"] == "failed" and _mark(message_id)["error_code"] == "21211"
    (line,) = [r.getMessage() for r in caplog.records if r.name == "sms.delivery"]
    assert line.startswith("sms_attempt ") and json.loads(line.split(" ", 1)[1])["error_code"] == "21211"


def test_smsru_refusal_in_a_200_answer_is_not_retried(providers, httpserver, phone, message_id, run_delivery):
    providers.SMS_PROVIDERS = ["smsru"]
    number = phone.removeprefix("+")
    refused = {"status": "OK", "status_code": 100, "sms": {number: {"status": "ERROR", "status_code": 207}}}
    httpserver.expect_request("/sms/send").respond_with_json(refused)

    assert run_delivery(message_id, phone) is False
    assert len(_requests(httpserver)) == 1
    assert _mark(message_id)["error_code"] == "207"


def test_transient_failures_stop_after_the_attempts_per_provider(
    providers, httpserver, phone, message_id, run_delivery
):
    providers.SMS_PROVIDERS = ["twilio"]
    httpserver.expect_request(TWILIO_PATH).respond_with_json({"code": 20500}, status=500)

    assert run_delivery(message_id, phone) is False
    assert len(_requests(httpserver)) == 3
    assert _mark(message_id) == {"status": "failed", "provider": "twilio", "attempts": 3, "error_code": "20500"}


def test_a_connect_timeout_is_retried_then_fails_over(
    providers, httpserver, unanswered_url, phone, message_id, run_delivery
):
    providers.TWILIO_API_BASE = unanswered_url
    httpserver.expect_request("/sms/send").respond_with_json(_smsru_ok(phone))

    started = time.monotonic()
    assert run_delivery(message_id, phone) is True
    assert time.monotonic() - started >= 3 * 0.3, "three connect attempts, each cut at the connect timeout"
    assert len(_requests(httpserver)) == 1
    assert _mark(message_id)["provider"] == "smsru" and _mark(message_id)["attempts"] == 4


def test_a_4xx_fails_over_to_the_next_provider_at_once(providers, httpserver, phone, message_id, run_delivery):
    httpserver.expect_request(TWILIO_PATH).respond_with_json({"code": 21408, "status": 400}, status=400)
    httpserver.expect_request("/sms/send").respond_with_json(_smsru_ok(phone, "77-1"))

    assert run_delivery(message_id, phone) is True
    assert [r.path for r in _requests(httpserver)] == [TWILIO_PATH, "/sms/send"]
    assert _mark(message_id)["provider_id"] == "77-1"


def test_a_read_timeout_is_in_doubt_and_never_sent_again(
    providers, httpserver, phone, message_id, caplog, run_delivery
):
    def slow(request):
        time.sleep(1.0)
        return Response(json.dumps(TWILIO_CREATED), status=201, content_type="application/json")

    httpserver.expect_request(TWILIO_PATH).respond_with_handler(slow)
    httpserver.expect_request("/sms/send").respond_with_json(_smsru_ok(phone))

    with caplog.at_level(logging.INFO, logger="sms.delivery"):
        assert run_delivery(message_id, phone) is False
        assert run_delivery(message_id, phone) is False  # redelivered: still no second call
    deadline = time.monotonic() + 3
    while not httpserver.log and time.monotonic() < deadline:  # the fake logs once its slow answer is out
        time.sleep(0.05)
    assert [r.path for r in _requests(httpserver)] == [TWILIO_PATH]
    assert _mark(message_id) == {"status": "in_doubt", "provider": "twilio", "attempts": 1}


def test_a_delivered_message_is_never_sent_again(providers, httpserver, phone, message_id, run_delivery):
    providers.SMS_PROVIDERS = ["twilio"]
    httpserver.expect_request(TWILIO_PATH).respond_with_json(TWILIO_CREATED, status=201)

    assert run_delivery(message_id, phone) is True
    assert run_delivery(message_id, phone) is False
    assert len(_requests(httpserver)) == 1


def test_concurrent_deliveries_of_one_message_make_one_call(providers, httpserver, phone, message_id, run_delivery):
    providers.SMS_PROVIDERS = ["twilio"]
    httpserver.expect_request(TWILIO_PATH).respond_with_json(TWILIO_CREATED, status=201)
    barrier = threading.Barrier(8)
    results: list[bool] = []

    def deliver() -> None:
        barrier.wait()
        results.append(run_delivery(message_id, phone))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]
    assert len(_requests(httpserver)) == 1


def test_log_lines_never_hold_the_code_or_the_text(providers, httpserver, phone, message_id, caplog, run_delivery):
    providers.SMS_PROVIDERS = ["twilio"]
    httpserver.expect_ordered_request(TWILIO_PATH).respond_with_json({"code": 20500}, status=500)
    httpserver.expect_ordered_request(TWILIO_PATH).respond_with_json(TWILIO_CREATED, status=201)

    with caplog.at_level(logging.DEBUG):
        assert run_delivery(message_id, phone, "9517") is True
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("sms")]
    assert len(lines) == 2
    # Ids and numbers may hold those digits by chance: look at every other value.
    for line in lines:
        fields = json.loads(line.split(" ", 1)[1])
        words = [str(v) for k, v in fields.items() if k != "message_id" and not isinstance(v, int)]
        assert not any("9517" in word for word in words), fields


@pytest.mark.parametrize(("attempt", "low", "high"), [(1, 0.5, 1.0), (2, 1.0, 2.0), (3, 2.0, 4.0), (9, 10.0, 20.0)])
def test_backoff_doubles_with_jitter_and_is_capped(providers, attempt, low, high):
    providers.SMS_RETRY_BACKOFF_SECONDS = 1.0
    providers.SMS_RETRY_BACKOFF_MAX_SECONDS = 20.0
    delays = {_backoff(attempt, 0.0) for _ in range(50)}
    assert all(low <= d <= high for d in delays) and len(delays) > 1


def test_backoff_honours_retry_after_up_to_the_cap(providers):
    providers.SMS_RETRY_BACKOFF_MAX_SECONDS = 20.0
    assert _backoff(1, 7.0) == 7.0
    assert _backoff(1, 120.0) == 20.0
