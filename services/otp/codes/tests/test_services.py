"""Store and service rules: TTL, single use, HMAC only, attempts, cooldown, hourly cap, resend."""

from __future__ import annotations

import json
import time

import pytest
from celery.signals import before_task_publish
from django.conf import settings

from codes import services, store
from codes.errors import InvalidCode, ServiceUnavailable, TooManyAttempts, TooManyRequests


def _code_key(phone: str) -> str:
    return f"{settings.OTP_KEY_PREFIX}{{{phone}}}:code"


def test_send_stores_only_the_hmac_with_the_ttl(phone, known_code):
    known_code("4821")
    sent = services.otp_send(phone=phone)

    assert (sent.expires_in, sent.resend_in) == (300, 60)
    stored = store.client().hgetall(_code_key(phone))
    assert stored == {"h": services.code_digest(phone=phone, code="4821"), "a": "0"}
    assert 299_000 < store.client().pttl(_code_key(phone)) <= 300_000
    for key in store.client().scan_iter(match=f"{settings.OTP_KEY_PREFIX}{{{phone}}}*"):
        kind = store.client().type(key)
        values = store.client().hvals(key) if kind == "hash" else [store.client().dump(key) or b""]
        assert not any("4821" in str(v) for v in values)


def test_the_queued_sms_carries_the_code_sealed_not_in_clear(phone, known_code):
    published: list[str] = []

    def capture(body, **kwargs):
        published.append(json.dumps(body))

    before_task_publish.connect(capture)
    try:
        known_code("7395")
        services.otp_send(phone=phone)
    finally:
        before_task_publish.disconnect(capture)
    assert len(published) == 1 and phone in published[0]
    assert "7395" not in published[0]


def test_digest_is_hmac_sha256_of_phone_and_code(phone):
    import hashlib
    import hmac

    expected = hmac.new(settings.OTP_SECRET.encode(), f"{phone}1234".encode(), hashlib.sha256).hexdigest()
    assert services.code_digest(phone=phone, code="1234") == expected


def test_codes_are_four_random_digits():
    codes = {services.code_generate() for _ in range(200)}
    assert all(len(c) == 4 and c.isdigit() for c in codes)
    assert len(codes) > 150


def test_right_code_verifies_once(phone, known_code):
    known_code("1111")
    services.otp_send(phone=phone)
    services.otp_verify(phone=phone, code="1111")
    with pytest.raises(InvalidCode) as exc:
        services.otp_verify(phone=phone, code="1111")
    assert exc.value.details == {"attempts_left": 0}


def test_code_expires_after_its_ttl(phone, known_code, settings):
    settings.OTP_TTL_SECONDS = 1
    known_code("2222")
    services.otp_send(phone=phone)
    time.sleep(1.1)
    with pytest.raises(InvalidCode):
        services.otp_verify(phone=phone, code="2222")


def test_never_sent_and_wrong_code_get_the_same_error(phone, known_code):
    with pytest.raises(InvalidCode) as never_sent:
        services.otp_verify(phone=phone, code="1234")
    known_code("5555")
    services.otp_send(phone=phone)
    with pytest.raises(InvalidCode) as wrong:
        services.otp_verify(phone=phone, code="1234")
    assert never_sent.value.code == wrong.value.code == "invalid_code"
    assert wrong.value.details == {"attempts_left": 4}


def test_five_wrong_guesses_burn_the_code_until_a_new_one_is_sent(phone, known_code, no_cooldown):
    known_code("3333")
    services.otp_send(phone=phone)
    left = []
    for _ in range(5):
        with pytest.raises(InvalidCode) as exc:
            services.otp_verify(phone=phone, code="0000")
        left.append(exc.value.details["attempts_left"])
    assert left == [4, 3, 2, 1, 0]
    for guess in ("0000", "3333"):  # even the right code is refused now
        with pytest.raises(TooManyAttempts) as burned:
            services.otp_verify(phone=phone, code=guess)
        assert burned.value.status == 429 and burned.value.retry_after >= 1

    known_code("4444")
    services.otp_send(phone=phone)
    services.otp_verify(phone=phone, code="4444")


def test_burned_code_retry_after_is_the_time_until_a_new_code_may_be_sent(phone, known_code, settings):
    settings.OTP_MAX_ATTEMPTS = 1
    known_code("3333")
    services.otp_send(phone=phone)
    with pytest.raises(InvalidCode):
        services.otp_verify(phone=phone, code="0000")
    with pytest.raises(TooManyAttempts) as exc:
        services.otp_verify(phone=phone, code="3333")
    assert 59 <= exc.value.retry_after <= 60


def test_resend_within_the_cooldown_is_refused_with_retry_after(phone):
    services.otp_send(phone=phone)
    with pytest.raises(TooManyRequests) as exc:
        services.otp_send(phone=phone)
    assert exc.value.code == "too_many_requests"
    assert 59 <= exc.value.retry_after <= 60


def test_cooldown_ends(phone, settings):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 1
    services.otp_send(phone=phone)
    time.sleep(1.05)
    services.otp_send(phone=phone)


def test_at_most_five_sends_per_hour(phone, no_cooldown):
    for _ in range(5):
        services.otp_send(phone=phone)
    with pytest.raises(TooManyRequests) as exc:
        services.otp_send(phone=phone)
    assert 3590 <= exc.value.retry_after <= 3600


def test_sending_again_replaces_the_previous_code(phone, known_code, no_cooldown):
    known_code("1212")
    known_code("3434")
    services.otp_send(phone=phone)
    services.otp_send(phone=phone)
    with pytest.raises(InvalidCode):
        services.otp_verify(phone=phone, code="1212")
    services.otp_verify(phone=phone, code="3434")


def test_resend_resets_the_attempt_counter(phone, known_code, no_cooldown):
    known_code("1212")
    known_code("3434")
    services.otp_send(phone=phone)
    for _ in range(3):
        with pytest.raises(InvalidCode):
            services.otp_verify(phone=phone, code="0000")
    services.otp_send(phone=phone)
    with pytest.raises(InvalidCode) as exc:
        services.otp_verify(phone=phone, code="0000")
    assert exc.value.details == {"attempts_left": 4}


def test_a_send_whose_sms_cannot_be_queued_is_undone(phone, monkeypatch):
    from kombu.exceptions import OperationalError

    def broker_down(*args, **kwargs):
        raise OperationalError("broker down")

    monkeypatch.setattr("codes.tasks.deliver_sms.apply_async", broker_down)
    with pytest.raises(ServiceUnavailable):
        services.otp_send(phone=phone)
    assert not store.client().exists(_code_key(phone))
    monkeypatch.undo()
    services.otp_send(phone=phone)  # no cooldown was spent on the failed send


def test_redis_down_answers_unavailable_fast(phone, monkeypatch):
    # Swap the store's client for one aimed at a closed port; nothing global is rebuilt, so the
    # in-process worker thread of other tests keeps its working client.
    import redis as redis_lib
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    dead = redis_lib.Redis(
        port=1, socket_timeout=0.3, socket_connect_timeout=0.3, retry=Retry(NoBackoff(), 1), decode_responses=True
    )
    monkeypatch.setattr(store, "client", lambda: dead)
    monkeypatch.setattr(store, "_script", lambda source: dead.register_script(source))
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable):
        services.otp_send(phone=phone)
    with pytest.raises(ServiceUnavailable):
        services.otp_verify(phone=phone, code="1234")
    assert services.redis_ready() is False
    assert time.monotonic() - started < 3
