"""The OTP client against a real HTTP server on a free port: every answer mapped, never a hang."""

import socket
import time

import pytest

from common.errors import TooManyRequests
from integrations import otp_client
from integrations.otp_client import InvalidCode, OtpUnavailable, TooManyAttempts
from svckit.otp import SmsLimitReached, TooManyFailures
from svckit.phones import InvalidPhone


def test_send_returns_the_timings_and_sends_the_service_token(fake_otp, settings):
    settings.OTP_SERVICE_TOKEN = "token-for-this-test"
    sent = otp_client.otp_code_send(phone="+79991234567")
    assert (sent.expires_in, sent.resend_in) == (300, 60)
    request = fake_otp.requests[-1]
    assert request["method"] == "POST"
    assert request["headers"]["Authorization"] == "Bearer token-for-this-test"
    assert fake_otp.json_bodies("/v1/codes/") == [{"phone": "+79991234567", "language": "en"}]


@pytest.mark.parametrize(("language", "sent"), [("ru", "ru"), ("en-us", "en"), ("RU", "ru"), ("uk", "en")])
def test_send_passes_the_sms_language_on(fake_otp, language, sent):
    otp_client.otp_code_send(phone="+79991234567", language=language)
    assert fake_otp.json_bodies("/v1/codes/")[-1]["language"] == sent


def test_verify_passes_a_right_code(fake_otp):
    otp_client.otp_code_verify(phone="+79991234567", code="1234")
    assert fake_otp.json_bodies("/v1/codes/verify/") == [{"phone": "+79991234567", "code": "1234"}]


def test_one_pooled_session_keeps_the_connection_alive(fake_otp):
    for _ in range(3):
        otp_client.otp_code_send(phone="+79991234567")
    assert otp_client._pool() is otp_client._pool()
    assert fake_otp.requests[-1]["headers"].get("Connection", "keep-alive").lower() == "keep-alive"


def _error(code: str, **details) -> dict:
    return {"error": {"code": code, "message": "…", "details": details}}


def test_a_wrong_code_passes_attempts_left_on(fake_otp):
    fake_otp.answer("/v1/codes/verify/", 400, _error("invalid_code", attempts_left=3))
    with pytest.raises(InvalidCode) as caught:
        otp_client.otp_code_verify(phone="+79991234567", code="0000")
    assert (caught.value.status, caught.value.details) == (400, {"attempts_left": 3})


def test_a_burned_code_is_too_many_attempts_with_the_same_retry_after(fake_otp):
    fake_otp.answer("/v1/codes/verify/", 429, _error("too_many_attempts"), headers={"Retry-After": "42"})
    with pytest.raises(TooManyAttempts) as caught:
        otp_client.otp_code_verify(phone="+79991234567", code="0000")
    assert (caught.value.status, caught.value.retry_after) == (429, 42)


def test_a_cooldown_is_too_many_requests_with_the_same_retry_after(fake_otp):
    fake_otp.answer("/v1/codes/", 429, _error("too_many_requests"), headers={"Retry-After": "57"})
    with pytest.raises(TooManyRequests) as caught:
        otp_client.otp_code_send(phone="+79991234567")
    assert (caught.value.code, caught.value.retry_after) == ("too_many_requests", 57)


def test_a_429_without_retry_after_still_says_when_to_retry(fake_otp):
    fake_otp.answer("/v1/codes/", 429, _error("too_many_requests"))
    with pytest.raises(TooManyRequests) as caught:
        otp_client.otp_code_send(phone="+79991234567")
    assert caught.value.retry_after == otp_client.DEFAULT_RETRY_AFTER


def test_a_phone_the_otp_service_refuses_is_invalid_phone(fake_otp):
    fake_otp.answer("/v1/codes/", 400, _error("invalid_phone"))
    with pytest.raises(InvalidPhone):
        otp_client.otp_code_send(phone="+79991234567")


@pytest.mark.parametrize(
    ("status", "body", "raw"),
    [
        (500, _error("internal_error"), None),
        (503, _error("unavailable"), None),
        (502, None, b"<html>Bad gateway</html>"),
        (401, _error("not_authenticated"), None),  # OTP_SERVICE_TOKEN mismatch
        (400, _error("validation_error"), None),
        (404, _error("not_found"), None),
        (202, {"unexpected": True}, None),
        (202, None, b"not json"),
        (200, None, b"[]"),
    ],
)
def test_anything_unexpected_is_otp_unavailable(fake_otp, status, body, raw):
    fake_otp.answer("/v1/codes/", status, body, raw=raw)
    with pytest.raises(OtpUnavailable) as caught:
        otp_client.otp_code_send(phone="+79991234567")
    assert (caught.value.status, caught.value.code) == (503, "otp_unavailable")


def test_a_verify_answer_without_verified_true_is_otp_unavailable(fake_otp):
    fake_otp.answer("/v1/codes/verify/", 200, {"verified": False})
    with pytest.raises(OtpUnavailable):
        otp_client.otp_code_verify(phone="+79991234567", code="1234")


def test_a_server_slower_than_the_read_timeout_is_otp_unavailable_within_3_seconds(fake_otp):
    fake_otp.answer("/v1/codes/", 202, {"expires_in": 300, "resend_in": 60}, delay=5)
    started = time.monotonic()
    with pytest.raises(OtpUnavailable):
        otp_client.otp_code_send(phone="+79991234567")
    assert time.monotonic() - started < 3


def test_nothing_listening_is_otp_unavailable(settings):
    with socket.socket() as probe:  # a port that was free a moment ago: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.OTP_SERVICE_URL = f"http://127.0.0.1:{port}"
    with pytest.raises(OtpUnavailable):
        otp_client.otp_code_send(phone="+79991234567")
    assert otp_client.otp_ready() is False


def test_readiness_follows_the_otp_readyz(fake_otp):
    assert otp_client.otp_ready() is True
    fake_otp.answer("/readyz", 503, _error("unavailable"))
    assert otp_client.otp_ready() is False


def test_the_sms_guard_is_sms_limit_reached_with_its_scope_and_retry_after(fake_otp):
    body = {"error": {"code": "sms_limit_reached", "message": "", "details": {"scope": "prefix"}}}
    fake_otp.answer("/v1/codes/", 429, body, headers={"Retry-After": "1800"})
    with pytest.raises(SmsLimitReached) as caught:
        otp_client.otp_code_send(phone="+79991234567")
    assert (caught.value.code, caught.value.status, caught.value.retry_after) == ("sms_limit_reached", 429, 1800)
    assert caught.value.details == {"scope": "prefix"}


def test_a_spent_failure_budget_is_too_many_failures_with_the_same_retry_after(fake_otp):
    body = {"error": {"code": "too_many_attempts", "message": "", "details": {"scope": "phone"}}}
    fake_otp.answer("/v1/codes/verify/", 429, body, headers={"Retry-After": "86000"})
    with pytest.raises(TooManyFailures) as caught:
        otp_client.otp_code_verify(phone="+79991234567", code="1234")
    assert (caught.value.code, caught.value.retry_after) == ("too_many_attempts", 86000)
    assert caught.value.details == {"scope": "phone"}
