"""Tests run against the real Redis at REDIS_URL, under a key prefix of their own (codes and
Celery broker alike: config/test_settings.py), removed at the end of the run."""

from __future__ import annotations

import random

import pytest
import redis
import requests
from devstack import inbox, wait_until
from devstack.fixtures import stack_config
from django.conf import settings

from codes import store
from config.celery import app as celery_app


def _delete_prefixed(client, prefix: str) -> None:
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(scope="session", autouse=True)
def _clean_redis_after_run():
    yield
    _delete_prefixed(store.client(), settings.OTP_KEY_PREFIX)
    # A plain client: kombu's own would put the prefix before the pattern a second time.
    with redis.Redis.from_url(celery_app.conf.broker_url) as broker:
        _delete_prefixed(broker, settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"])


@pytest.fixture
def phone() -> str:
    """A fresh valid Russian mobile number, so tests never share rate limits."""
    return f"+7999{random.randint(0, 9_999_999):07d}"


@pytest.fixture
def known_code(monkeypatch):
    """Make the next generated codes predictable: returns a function setting the next code."""
    codes: list[str] = []
    monkeypatch.setattr("codes.services.code_generate", lambda: codes.pop(0))
    return codes.append


@pytest.fixture
def no_cooldown(settings):
    settings.OTP_RESEND_COOLDOWN_SECONDS = 0
    return settings


@pytest.fixture
def inbox_backend(settings):
    settings.SMS_BACKEND = "inbox"
    settings.SMS_PROVIDERS = ["inbox"]
    return settings


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {settings.OTP_SERVICE_TOKEN}")
    return client


@pytest.fixture(scope="session")
def celery_worker():
    """A real Celery worker (threads) in this process, consuming the real Redis broker."""
    from celery.contrib.testing.worker import start_worker

    # The sends of the tests that ran before this worker existed are nobody's to deliver; left in
    # the queue they would all fall due at once and hold the worker's threads.
    celery_app.control.purge()
    with start_worker(celery_app, pool="threads", concurrency=4, perform_ping_check=False, shutdown_timeout=10):
        yield


@pytest.fixture
def providers(settings, httpserver):
    """Both real provider backends, pointed at one local fake (pytest-httpserver), with short
    timeouts; returns the settings. Tests pick the order with settings.SMS_PROVIDERS."""
    base = httpserver.url_for("").rstrip("/")
    settings.SMS_BACKEND = "twilio,smsru"
    settings.SMS_PROVIDERS = ["twilio", "smsru"]
    settings.TWILIO_API_BASE = base
    settings.TWILIO_ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
    settings.TWILIO_AUTH_TOKEN = "twilio-test-token"
    settings.TWILIO_FROM = "+15005550006"
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.SMSRU_API_BASE = base
    settings.SMSRU_API_ID = "smsru-test-api-id"
    settings.SMSRU_FROM = ""
    settings.SMSRU_TEST = False
    settings.SMS_CONNECT_TIMEOUT_SECONDS = 0.3
    settings.SMS_READ_TIMEOUT_SECONDS = 0.5
    settings.SMS_PROVIDER_ATTEMPTS = 3
    return settings


@pytest.fixture
def unanswered_url():
    """A URL whose TCP connect never completes: a listening socket (backlog 0) whose accept queue
    is already full, so the kernel drops further SYNs and the client's connect times out."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    yield f"http://127.0.0.1:{port}"
    for sock in (*fillers, listener):
        sock.close()


@pytest.fixture
def otp_stack(start_stack):
    """otp_stack(redis, *names, **otp_env) → the OTP processes named (web and worker by default) on
    that private Redis, with the service token "fault-token"."""

    def start(redis, *names: str, **otp_env: str):
        config = stack_config("otp", redis_url=redis.url, token="fault-token", otp_env=otp_env)
        return start_stack(config, *(names or ("otp-web", "otp-worker")))

    return start


@pytest.fixture
def redelivering_stack(persistent_redis, otp_stack):
    """The OTP service and its worker on a Redis that keeps its data across a restart, as compose's
    does; each SMS falls due 2 s after its request and comes back 4 s after a worker took it without
    acknowledging. The worker has delivered one SMS already: it consumes."""
    timings = {"SMS_DELAY_MIN_SECONDS": "2", "SMS_DELAY_MAX_SECONDS": "2"}
    stack = otp_stack(persistent_redis, **timings, OTP_CELERY_VISIBILITY_TIMEOUT="4", OTP_CELERY_RESTORE_INTERVAL="1")
    url, warm_up = stack.config.otp_url, f"+7995{random.randrange(10_000_000):07d}"
    requests.post(
        f"{url}/v1/codes/", json={"phone": warm_up}, headers={"Authorization": "Bearer fault-token"}, timeout=5
    )
    assert wait_until(lambda: inbox.messages(url, warm_up), 20), "the worker never started consuming"
    return stack


@pytest.fixture
def run_delivery():
    """run_delivery(message_id, phone, code="1234") → the delivery task run here, at once: True
    when it sent the SMS, False when it did not (already sent, or refused)."""
    from codes.sealing import seal
    from codes.tasks import deliver_sms

    def run(message_id: str, phone: str, code: str = "1234") -> bool:
        sealed_code = seal(message_id=message_id, phone=phone, code=code)
        kwargs = {"message_id": message_id, "phone": phone, "sealed_code": sealed_code}
        return deliver_sms.apply(kwargs={**kwargs, "requested_at": "2026-01-01T00:00:00+00:00"}).get()

    return run
