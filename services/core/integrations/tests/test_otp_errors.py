"""The OTP contract's errors round-trip: what the OTP service renders (svckit.handlers, the handler it
renders every error with) comes back from the real client, over HTTP, as the same class with the
same details and Retry-After; anything outside svckit.otp.OTP_ERRORS is otp_unavailable, never a 500."""

import json

import pytest
from django.test import RequestFactory
from rest_framework.renderers import JSONRenderer

from integrations import otp_client
from svckit.errors import ApplicationError, ServiceUnavailable, TooManyRequests
from svckit.handlers import exception_handler
from svckit.otp import OTP_ERRORS, InvalidCode, SmsLimitReached, TooManyAttempts, TooManyFailures
from svckit.phones import NOT_E164, InvalidPhone, PhoneHasLetters, UnsupportedCountry, UnsupportedNumber

VERIFY = "/v1/codes/verify/"

# One or more per registered class, each declared detail field set: as the OTP service raises them.
RAISED = [
    InvalidCode(details={"attempts_left": 2}),
    InvalidCode(details={"attempts_left": 0}),
    InvalidCode(),
    InvalidPhone(NOT_E164),
    UnsupportedNumber(details={"number_type": "premium_rate"}),
    UnsupportedCountry(details={"country": "KZ"}),
    TooManyAttempts(retry_after=42, details={"scope": "code"}),
    TooManyFailures(retry_after=86000, details={"scope": "phone"}),
    SmsLimitReached(retry_after=1800, details={"scope": "prefix"}),
    TooManyRequests("Too many codes requested for this phone. Try again later.", retry_after=57),
]


def _render(error: ApplicationError) -> tuple[int, bytes, dict[str, str]]:
    """(status, body, headers) as the OTP service answers when `error` is raised in a view."""
    request = RequestFactory().post(VERIFY)
    response = exception_handler(error, {"request": request, "view": None})
    assert response is not None
    headers = {"Retry-After": response["Retry-After"]} if response.has_header("Retry-After") else {}
    return response.status_code, JSONRenderer().render(response.data), headers


def _read_back(fake_otp, status: int, body: bytes, headers: dict[str, str] | None = None) -> ApplicationError:
    fake_otp.answer(VERIFY, status, raw=body, headers=headers or {})
    with pytest.raises(ApplicationError) as caught:
        otp_client.otp_code_verify(phone="+79991234567", code="1234")
    return caught.value


def test_every_registered_class_and_detail_field_is_exercised():
    assert {type(error) for error in RAISED} >= set(OTP_ERRORS.values())
    for error_class in {type(error) for error in RAISED}:
        sent = set().union(*(error.details for error in RAISED if type(error) is error_class))
        assert sent == set(error_class.detail_fields), error_class


@pytest.mark.parametrize("raised", RAISED, ids=lambda error: f"{error.code}-{sorted(error.details.items())}")
def test_what_the_otp_service_renders_the_client_raises_again(fake_otp, raised):
    status, body, headers = _render(raised)
    read = _read_back(fake_otp, status, body, headers)
    assert type(read) is type(raised)
    assert (read.code, read.status, read.details, read.retry_after) == (
        raised.code,
        raised.status,
        raised.details,
        raised.retry_after,
    )


def test_a_subclass_sharing_a_code_reads_back_as_what_the_wire_says(fake_otp):
    """PhoneHasLetters renders invalid_phone; the core tells its client the same: InvalidPhone."""
    status, body, _ = _render(PhoneHasLetters())
    assert type(_read_back(fake_otp, status, body)) is InvalidPhone


def test_a_429_without_retry_after_still_says_when_to_retry(fake_otp):
    status, body, _ = _render(TooManyAttempts(details={"scope": "code"}))
    assert _read_back(fake_otp, status, body).retry_after == otp_client.DEFAULT_RETRY_AFTER


@pytest.mark.parametrize(
    "details",
    [
        {"attempts_left": "2"},
        {"attempts_left": True},
        {"attempts_left": None},
        {"attempts_left": 2.5},
        {"something": "else"},
        ["not", "a", "dict"],
        "text",
        None,
    ],
)
def test_mistyped_or_undeclared_details_are_dropped(fake_otp, details):
    body = json.dumps({"error": {"code": "invalid_code", "message": "", "details": details}}).encode()
    read = _read_back(fake_otp, 400, body)
    assert (type(read), read.details) == (InvalidCode, {})


def test_an_unknown_scope_of_too_many_attempts_is_the_burned_code(fake_otp):
    body = json.dumps({"error": {"code": "too_many_attempts", "details": {"scope": "galaxy"}}}).encode()
    read = _read_back(fake_otp, 429, body, {"Retry-After": "5"})
    assert (type(read), read.details, read.retry_after) == (TooManyAttempts, {"scope": "code"}, 5)


def _envelope(code: object) -> bytes:
    return json.dumps({"error": {"code": code, "message": "m", "details": {}}}).encode()


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, _envelope("no_such_code")),
        (429, _envelope("no_such_code")),
        (400, _envelope(None)),
        (400, _envelope(["invalid_code"])),
        (400, _envelope({"invalid_code": 1})),
        (400, _envelope("too_many_attempts")),  # a registered code under another status than its class's
        (429, _envelope("invalid_code")),
        (503, _render(ServiceUnavailable())[1]),
        (400, b'{"error": "invalid_code"}'),
        (400, b'{"code": "invalid_code"}'),
        (400, b"[]"),
        (400, b"null"),
        (400, b""),
        (400, b"\xff\xfe not utf-8"),
        (400, b"<html>Bad request</html>"),
        (429, b'{"error": {"code": "too_many_requests"'),
    ],
)
def test_an_unknown_code_or_a_malformed_body_is_otp_unavailable(fake_otp, status, body):
    read = _read_back(fake_otp, status, body)
    assert type(read) is otp_client.OtpUnavailable
    assert (read.status, read.code) == (503, "otp_unavailable")


@pytest.mark.django_db
@pytest.mark.parametrize("body", [_envelope("no_such_code"), b"\x00garbage", b'{"error": {"code": 7}}'])
def test_through_the_api_a_strange_otp_answer_is_the_documented_503(api, fake_otp, body):
    fake_otp.answer(VERIFY, 429, raw=body)
    response = api.post("/api/v1/auth/token/", {"phone": "+79991234567", "code": "1234"}, format="json")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "otp_unavailable"
