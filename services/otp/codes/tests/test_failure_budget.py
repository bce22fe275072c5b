"""The failure budget: OTP_MAX_FAILURES_PER_DAY wrong guesses per phone in a sliding 24 h, across
codes (a new code does not reset it, NIST SP 800-63B 5.2.2); then every guess is refused, the
right code included; a successful sign-in clears it. Real Redis, real threads."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from codes import services, store
from codes.errors import InvalidCode, TooManyAttempts, TooManyFailures

DAY_S = 86_400


@pytest.fixture
def budget(settings):
    """Defaults spelled out: 5 guesses a code, 10 failures a day; sends unlimited for the test."""
    settings.OTP_MAX_ATTEMPTS = 5
    settings.OTP_MAX_FAILURES_PER_DAY = 10
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    settings.OTP_MAX_SENDS_PER_HOUR = 1000
    return settings


def _failures_key(settings, phone: str) -> str:
    return f"{settings.OTP_KEY_PREFIX}{{{phone}}}:failures"


def _guess(phone: str, code: str) -> str:
    try:
        services.otp_verify(phone=phone, code=code)
    except TooManyFailures as exc:
        return f"locked:{exc.retry_after}"
    except TooManyAttempts:
        return "burned"
    except InvalidCode as exc:
        return f"wrong:{exc.details['attempts_left']}"
    return "ok"


def _new_code_then_wrong_guesses(phone: str, known_code, code: str, wrong: int) -> None:
    known_code(code)
    services.otp_send(phone=phone)
    for _ in range(wrong):
        _guess(phone, "0000")


def test_a_new_code_does_not_reset_the_failures(budget, phone, known_code):
    known_code("1111")
    services.otp_send(phone=phone)
    assert [_guess(phone, "0000") for _ in range(5)] == [f"wrong:{n}" for n in (4, 3, 2, 1, 0)]
    known_code("2222")
    services.otp_send(phone=phone)
    # attempts_left is what is left of the code's 5 and the phone's 10, whichever is smaller.
    assert [_guess(phone, "0000") for _ in range(5)] == [f"wrong:{n}" for n in (4, 3, 2, 1, 0)]
    known_code("3333")
    services.otp_send(phone=phone)
    locked = _guess(phone, "3333")  # the right code, at the budget
    assert locked.startswith("locked:")
    assert DAY_S - 10 <= int(locked.split(":")[1]) <= DAY_S


def test_attempts_left_counts_down_the_phones_budget(budget, phone, known_code):
    _new_code_then_wrong_guesses(phone, known_code, "1111", 5)
    _new_code_then_wrong_guesses(phone, known_code, "2222", 3)
    _new_code_then_wrong_guesses(phone, known_code, "3333", 0)
    assert _guess(phone, "0000") == "wrong:1"  # 9 of 10 failures spent
    assert _guess(phone, "0000") == "wrong:0"
    assert _guess(phone, "0000").startswith("locked:")


def test_a_successful_sign_in_clears_the_failures(budget, phone, known_code):
    _new_code_then_wrong_guesses(phone, known_code, "1111", 4)
    _new_code_then_wrong_guesses(phone, known_code, "2222", 5)
    _new_code_then_wrong_guesses(phone, known_code, "3333", 0)
    assert _guess(phone, "3333") == "ok"  # the 10th guess is the right one
    assert not store.client().exists(_failures_key(budget, phone))
    known_code("4444")
    services.otp_send(phone=phone)
    assert [_guess(phone, "0000") for _ in range(5)] == [f"wrong:{n}" for n in (4, 3, 2, 1, 0)]


def test_the_window_slides_failures_older_than_a_day_are_forgotten(budget, phone, known_code):
    budget.OTP_MAX_FAILURES_PER_DAY = 3
    known_code("1111")
    services.otp_send(phone=phone)
    assert [_guess(phone, "0000") for _ in range(3)] == ["wrong:2", "wrong:1", "wrong:0"]
    assert _guess(phone, "1111").startswith("locked:")
    # Age the two oldest failures past 24 h (by Redis's clock, which the script reads).
    redis = store.client()
    key = _failures_key(budget, phone)
    now_ms = int(redis.time()[0]) * 1000
    for member in redis.zrange(key, 0, 1):
        redis.zadd(key, {str(member): now_ms - DAY_S * 1000 - 1}, xx=True)
    assert _guess(phone, "0000") == "wrong:1"  # one failure left in the window, one more now
    assert _guess(phone, "1111") == "ok"


def test_the_budget_is_a_setting(budget, phone, known_code):
    budget.OTP_MAX_FAILURES_PER_DAY = 2
    known_code("1111")
    services.otp_send(phone=phone)
    assert [_guess(phone, "0000") for _ in range(2)] == ["wrong:1", "wrong:0"]
    assert _guess(phone, "1111").startswith("locked:")


def test_fifty_parallel_guessers_over_several_codes_get_exactly_the_budget(budget, phone):
    """50 threads guess at once; whoever finds the code burned asks for a new one and goes on, until
    the phone is locked. A code burns after 3 guesses, so the 10 failures land on at least 4 codes:
    exactly 10 guesses are judged wrong, and every thread ends locked out."""
    budget.OTP_MAX_ATTEMPTS = 3
    threads, barrier, lock = 50, threading.Barrier(50), threading.Lock()
    outcomes: Counter[str] = Counter()
    services.otp_send(phone=phone)

    def guesser():
        barrier.wait()
        while True:
            outcome = _guess(phone, "not a code").split(":")[0]  # never right, whatever code is live
            with lock:
                outcomes[outcome] += 1
            if outcome == "locked":
                return
            if outcome == "burned":
                services.otp_send(phone=phone)

    workers = [threading.Thread(target=guesser) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not any(worker.is_alive() for worker in workers)
    assert outcomes["wrong"] == 10, outcomes
    assert outcomes["locked"] == threads, outcomes
    assert store.client().zcard(_failures_key(budget, phone)) == 10


def test_test_numbers_keep_the_failure_budget(budget, phone):
    budget.OTP_TEST_NUMBERS = {phone: "1234"}
    budget.OTP_MAX_FAILURES_PER_DAY = 2
    services.otp_send(phone=phone)
    assert [_guess(phone, "0000") for _ in range(2)] == ["wrong:1", "wrong:0"]
    services.otp_send(phone=phone)
    assert _guess(phone, "0000").startswith("locked:")
    assert _guess(phone, "1234").startswith("locked:")  # the right code too
