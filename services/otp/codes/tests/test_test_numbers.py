"""Test phone numbers (OTP_TEST_NUMBERS): a fixed code, no SMS, no cooldown or hourly cap, every use
logged; their guesses count against the same budgets as any number's, since the fixed code of a
store reviewers' account is only as safe as those budgets."""

from __future__ import annotations

import logging
import time

import pytest

from codes import services, store
from codes.errors import InvalidCode, SmsLimitReached, TooManyAttempts, TooManyFailures


@pytest.fixture
def test_number(settings, phone) -> str:
    settings.OTP_TEST_NUMBERS = {phone: "1234"}
    return phone


@pytest.fixture
def queued(monkeypatch) -> list[dict]:
    calls: list[dict] = []
    monkeypatch.setattr(services.deliver_sms, "apply_async", lambda **options: calls.append(options))
    return calls


def test_a_test_number_gets_its_fixed_code_and_no_sms(test_number, queued, caplog):
    with caplog.at_level(logging.INFO, logger="codes.test_numbers"):
        sent = services.otp_send(phone=test_number)
        services.otp_verify(phone=test_number, code="1234")
    assert queued == []
    assert (sent.expires_in, sent.resend_in) == (300, 0)
    assert [r.getMessage() for r in caplog.records if r.name == "codes.test_numbers"] == [
        f"test number {test_number}: its fixed code is set, no SMS sent",
        f"test number {test_number}: code checked (verified)",
    ]


def test_a_test_number_has_no_cooldown_or_hourly_cap(test_number, queued, api_client, settings):
    for _ in range(settings.OTP_MAX_SENDS_PER_HOUR * 3):
        response = api_client.post("/v1/codes/", {"phone": test_number}, format="json")
        assert response.status_code == 202 and response.json()["resend_in"] == 0
    api_client.post("/v1/codes/", {"phone": test_number}, format="json")
    assert api_client.post("/v1/codes/verify/", {"phone": test_number, "code": "1234"}, format="json").json() == {
        "verified": True
    }
    assert queued == []


def test_wrong_guesses_still_count_for_a_test_number(test_number, queued):
    services.otp_send(phone=test_number)
    with pytest.raises(InvalidCode) as wrong:
        services.otp_verify(phone=test_number, code="4321")
    assert wrong.value.details == {"attempts_left": 4}
    services.otp_verify(phone=test_number, code="1234")
    with pytest.raises(InvalidCode):  # used up, like any code
        services.otp_verify(phone=test_number, code="1234")


def test_other_numbers_keep_their_limits_and_their_sms(test_number, queued, api_client):
    other = test_number[:-1] + str((int(test_number[-1]) + 1) % 10)
    assert api_client.post("/v1/codes/", {"phone": other}, format="json").status_code == 202
    assert api_client.post("/v1/codes/", {"phone": other}, format="json").status_code == 429
    assert len(queued) == 1


@pytest.mark.worker
def test_a_real_worker_never_texts_a_test_number(celery_worker, inbox_backend, test_number):
    services.otp_send(phone=test_number)
    time.sleep(2.5)  # past the longest SMS delay
    assert store.inbox_list(phone=test_number) == []


def test_a_test_number_skips_the_sms_pumping_guard(test_number, queued, settings):
    settings.SMS_GUARD_MODE = "enforce"
    settings.SMS_PREFIX_MAX_PER_HOUR = settings.SMS_MAX_PER_DAY = 0  # no SMS at all may go out
    other = test_number[:-1] + str((int(test_number[-1]) + 1) % 10)
    with pytest.raises(SmsLimitReached):
        services.otp_send(phone=other)
    for _ in range(3):
        assert services.otp_send(phone=test_number).resend_in == 0
    services.otp_verify(phone=test_number, code="1234")
    assert queued == []


def _guess(phone: str, code: str) -> str:
    try:
        services.otp_verify(phone=phone, code=code)
    except TooManyFailures:
        return "locked"
    except TooManyAttempts:
        return "burned"
    except InvalidCode:
        return "wrong"
    return "ok"


def _expire_code(settings, phone: str) -> None:
    store.client().delete(f"{settings.OTP_KEY_PREFIX}{{{phone}}}:code")


def test_guessing_a_test_numbers_code_ends_in_too_many_attempts(test_number, queued, api_client, settings):
    """The attack: ask for the code again before every guess, 70 wrong guesses, then the right code;
    again once the code has expired, until the phone's daily budget is spent."""
    settings.OTP_MAX_ATTEMPTS, settings.OTP_MAX_FAILURES_PER_DAY = 5, 10

    def attack(guesses: int) -> list:
        answers = []
        for n in range(guesses):
            api_client.post("/v1/codes/", {"phone": test_number}, format="json")
            guess = {"phone": test_number, "code": f"{n + 5000}"}
            answers.append(api_client.post("/v1/codes/verify/", guess, format="json"))
        right = api_client.post("/v1/codes/verify/", {"phone": test_number, "code": "1234"}, format="json")
        return [(r.status_code, r.json()["error"]["code"], r.json()["error"]["details"]) for r in [*answers, right]]

    burned = (429, "too_many_attempts", {"scope": "code"})
    assert attack(70) == [(400, "invalid_code", {"attempts_left": n}) for n in (4, 3, 2, 1, 0)] + [burned] * 66
    _expire_code(settings, test_number)
    locked = (429, "too_many_attempts", {"scope": "phone"})
    assert attack(70) == [(400, "invalid_code", {"attempts_left": n}) for n in (4, 3, 2, 1, 0)] + [locked] * 66
    _expire_code(settings, test_number)
    api_client.post("/v1/codes/", {"phone": test_number}, format="json")
    right = api_client.post("/v1/codes/verify/", {"phone": test_number, "code": "1234"}, format="json")
    assert (right.status_code, right.json()["error"]["details"]) == (429, {"scope": "phone"})
    assert int(right["Retry-After"]) > 23 * 3600  # until the oldest wrong guess is a day old
    assert queued == []


def test_a_new_request_gives_a_burned_test_code_no_new_guesses(test_number, queued, settings):
    settings.OTP_MAX_ATTEMPTS, settings.OTP_MAX_FAILURES_PER_DAY = 5, 10
    services.otp_send(phone=test_number)
    assert [_guess(test_number, "0000") for _ in range(6)] == ["wrong"] * 5 + ["burned"]
    again = services.otp_send(phone=test_number)
    assert 0 < again.expires_in <= settings.OTP_TTL_SECONDS and again.resend_in == 0
    assert _guess(test_number, "1234") == "burned"
    with pytest.raises(TooManyAttempts) as burned:
        services.otp_verify(phone=test_number, code="1234")
    assert 0 < burned.value.retry_after <= settings.OTP_TTL_SECONDS  # until the fixed code expires
    _expire_code(settings, test_number)
    services.otp_send(phone=test_number)
    assert _guess(test_number, "1234") == "ok"
