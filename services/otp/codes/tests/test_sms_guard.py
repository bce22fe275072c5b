"""The SMS-pumping guard (codes/guard.py): per prefix per hour, per country per day (with
overrides), for the whole service per day, the conversion tripwire; enforce and shadow modes.
Real Redis; the SMS queue is the real Celery broker (no worker: what is queued is counted)."""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter

import pytest

from codes import metrics, services
from codes.errors import SmsLimitReached, TooManyRequests

HOUR_S, DAY_S = 3600, 86_400


@pytest.fixture
def guard(settings):
    """Generous limits but for the one a test sets."""
    settings.SMS_GUARD_MODE = "enforce"
    settings.SMS_PREFIX_MAX_PER_HOUR = 1000
    settings.SMS_COUNTRY_MAX_PER_DAY = 100_000
    settings.SMS_COUNTRY_MAX_PER_DAY_OVERRIDES = {}
    settings.SMS_MAX_PER_DAY = 1_000_000
    settings.SMS_GUARD_MIN_SENDS = 1000
    settings.SMS_GUARD_MIN_CONVERSION = 0.2
    return settings


@pytest.fixture
def queued(monkeypatch) -> list[str]:
    """The phones whose SMS was queued (counted here instead of delivered)."""
    phones: list[str] = []
    monkeypatch.setattr("codes.services.deliver_sms.apply_async", lambda kwargs, **_: phones.append(kwargs["phone"]))
    return phones


# Each block once per run, in random order: two tests drawing the same block would share its windows
# and phones (a birthday collision, about 1 run in 20 with independent draws).
_BLOCKS = iter(random.sample(range(1000), 1000))


def _block() -> str:
    """A fresh number block (prefix) of this run: `+7995` and 3 random digits; add 4 more for a phone."""
    return f"+7995{next(_BLOCKS):03d}"


def _send(phone: str) -> str:
    try:
        services.otp_send(phone=phone)
    except SmsLimitReached as exc:
        return f"{exc.details['scope']}:{exc.retry_after}"
    except TooManyRequests:
        return "cooldown"
    return "sent"


def _trips(scope: str, mode: str) -> float:
    return metrics.SMS_GUARD_TRIPS.labels(scope=scope, mode=mode)._value.get()


def test_a_prefix_gets_its_hourly_limit_then_429_with_retry_after(guard, caplog, queued):
    guard.SMS_PREFIX_MAX_PER_HOUR = 3
    block, trips = _block(), _trips("prefix", "enforce")
    assert [_send(f"{block}{n:04d}") for n in range(3)] == ["sent"] * 3
    with caplog.at_level(logging.WARNING, logger="codes.guard"):
        refused = _send(f"{block}0003")
    scope, retry_after = refused.split(":")
    assert scope == "prefix" and HOUR_S - 10 <= int(retry_after) <= HOUR_S
    assert "prefix limit reached" in caplog.text and block in caplog.text
    assert _trips("prefix", "enforce") == trips + 1
    assert len(queued) == 3
    assert _send(f"{_block()}0000") == "sent"  # another prefix is not affected


def test_a_refused_code_leaves_the_phone_free_to_try_again(guard, queued):
    guard.SMS_PREFIX_MAX_PER_HOUR = 1
    block = _block()
    assert _send(f"{block}0000") == "sent"
    assert _send(f"{block}0001").startswith("prefix:")
    guard.SMS_PREFIX_MAX_PER_HOUR = 2  # an operator raises the limit: no cooldown was spent
    assert _send(f"{block}0001") == "sent"


def test_a_country_gets_its_daily_limit_with_per_country_overrides(guard, queued):
    guard.SMS_COUNTRY_MAX_PER_DAY = 1000
    guard.SMS_COUNTRY_MAX_PER_DAY_OVERRIDES = {"KZ": 2}
    kazakh = [f"+7701{random.randrange(10**7):07d}" for _ in range(3)]
    assert [_send(phone).split(":")[0] for phone in kazakh] == ["sent", "sent", "country"]
    refused = _send(f"+7702{random.randrange(10**7):07d}")
    assert refused.startswith("country:") and DAY_S - 10 <= int(refused.split(":")[1]) <= DAY_S
    assert _send(f"{_block()}0000") == "sent"  # Russia has the default 1000


def test_the_whole_service_gets_its_daily_limit(guard, queued):
    guard.SMS_MAX_PER_DAY = 0  # a run's windows are shared by its tests: 0 refuses whatever came before
    assert _send(f"{_block()}0000").startswith("service:")
    assert queued == []


def _four_sent_to_a_guarded_block(guard, known_code) -> str:
    """A fresh number block sent 4 codes (0000..0003, known), with the conversion tripwire set to
    look from 4 sends on for at least half of them verified; returns the block."""
    guard.SMS_GUARD_MIN_SENDS, guard.SMS_GUARD_MIN_CONVERSION = 4, 0.5
    block = _block()
    for n in range(4):
        known_code(f"{n:04d}")
        assert _send(f"{block}{n:04d}") == "sent"
    return block


def test_a_prefix_that_never_verifies_trips_the_conversion_tripwire_for_an_hour(guard, known_code, queued):
    block = _four_sent_to_a_guarded_block(guard, known_code)
    services.otp_verify(phone=f"{block}0000", code="0000")  # 1 of 4 verified: 25 % < 50 %
    known_code("9999")  # the refused requests' codes, never stored
    known_code("9999")
    refused = _send(f"{block}0004")
    assert refused.startswith("conversion:") and HOUR_S - 10 <= int(refused.split(":")[1]) <= HOUR_S
    # Refused for the hour, whatever happens meanwhile.
    services.otp_verify(phone=f"{block}0001", code="0001")
    assert _send(f"{block}0005").startswith("conversion:")


def test_a_prefix_whose_codes_are_used_stays_open(guard, known_code, queued):
    block = _four_sent_to_a_guarded_block(guard, known_code)
    for n in range(2):
        services.otp_verify(phone=f"{block}{n:04d}", code=f"{n:04d}")
    known_code("9999")
    assert _send(f"{block}0004") == "sent"  # 2 of 4 verified: 50 %


def test_shadow_mode_sends_counts_and_logs_what_it_would_refuse(guard, caplog, queued):
    guard.SMS_GUARD_MODE = "shadow"
    guard.SMS_PREFIX_MAX_PER_HOUR = 2
    block, trips = _block(), _trips("prefix", "shadow")
    with caplog.at_level(logging.WARNING, logger="codes.guard"):
        assert [_send(f"{block}{n:04d}") for n in range(4)] == ["sent"] * 4
    assert len(queued) == 4
    warnings = [r.getMessage() for r in caplog.records if r.name == "codes.guard"]
    assert len(warnings) == 2 and all("would refuse" in w and "prefix limit reached" in w for w in warnings)
    assert _trips("prefix", "shadow") == trips + 2
    guard.SMS_GUARD_MODE = "enforce"  # what shadow mode let through was counted
    assert _send(f"{block}0004").startswith("prefix:")


def test_pumping_a_prefix_sends_at_most_its_limit(guard, queued):
    """1,000 code requests over 200 numbers of one prefix, 20 threads at once, default limits:
    at most SMS_PREFIX_MAX_PER_HOUR (20) SMS are sent (the tripwire stops it at 10: nobody verifies)."""
    guard.SMS_PREFIX_MAX_PER_HOUR, guard.SMS_GUARD_MIN_SENDS = 20, 10
    block = _block()
    phones = [f"{block}{n:04d}" for n in random.sample(range(10_000), 200)] * 5
    random.shuffle(phones)
    outcomes: Counter[str] = Counter()
    lock, barrier = threading.Lock(), threading.Barrier(20)

    def pump(part: list[str]) -> None:
        barrier.wait()
        for phone in part:
            outcome = _send(phone).split(":")[0]
            with lock:
                outcomes[outcome] += 1

    threads = [threading.Thread(target=pump, args=(phones[i::20],)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(outcomes.values()) == 1000
    assert outcomes["sent"] == len(queued) <= 20, outcomes
    assert outcomes["sent"] + outcomes["prefix"] + outcomes["conversion"] + outcomes["cooldown"] == 1000
