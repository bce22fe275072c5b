"""Verification is atomic: real threads hitting the real Redis at the same instant."""

from __future__ import annotations

import threading
from collections import Counter

from codes import services, store
from codes.errors import InvalidCode, TooManyAttempts, TooManyRequests


def _race(n: int, fn) -> list[str]:
    barrier = threading.Barrier(n)
    results: list[str] = []
    lock = threading.Lock()

    def run():
        barrier.wait()
        try:
            outcome = fn()
        except (InvalidCode, TooManyAttempts, TooManyRequests) as exc:
            outcome = f"{exc.code}:{exc.details.get('attempts_left', '')}"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_twenty_concurrent_verifies_of_the_right_code_succeed_exactly_once(phone, known_code):
    known_code("8080")
    services.otp_send(phone=phone)
    results = _race(20, lambda: services.otp_verify(phone=phone, code="8080") or "ok")
    assert results.count("ok") == 1
    assert Counter(results)["invalid_code:0"] == 19


def test_twenty_concurrent_wrong_guesses_are_counted_exactly(phone, known_code, settings):
    settings.OTP_MAX_ATTEMPTS = 25
    settings.OTP_MAX_FAILURES_PER_DAY = 100  # the code's own count here (the phone's: test_failure_budget)
    known_code("8080")
    services.otp_send(phone=phone)
    results = _race(20, lambda: services.otp_verify(phone=phone, code="0000"))
    assert sorted(results) == sorted(f"invalid_code:{left}" for left in range(5, 25))
    assert store.client().hget(f"{settings.OTP_KEY_PREFIX}{{{phone}}}:code", "a") == "20"


def test_parallel_wrong_guesses_never_exceed_the_allowed_attempts(phone, known_code):
    known_code("8080")
    services.otp_send(phone=phone)
    results = _race(20, lambda: services.otp_verify(phone=phone, code="0000"))
    counts = Counter(r.split(":")[0] for r in results)
    assert counts == {"invalid_code": 5, "too_many_attempts": 15}


def test_concurrent_sends_to_one_phone_store_one_code(phone):
    results = _race(20, lambda: services.otp_send(phone=phone) and "sent")
    assert results.count("sent") == 1
    assert Counter(r.split(":")[0] for r in results)["too_many_requests"] == 19
