"""Tests run against the real Redis at REDIS_URL, under a key prefix of their own (codes and
Celery broker alike), removed at the end of the run."""

from __future__ import annotations

import random
import uuid

import pytest
from django.conf import settings

from codes import store
from config.celery import app as celery_app

RUN_ID = uuid.uuid4().hex[:10]
settings.OTP_KEY_PREFIX = f"otp-test-{RUN_ID}:"
settings.OTP_SERVICE_TOKEN = f"test-token-{RUN_ID}"
celery_app.conf.broker_transport_options = {
    **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "global_keyprefix": f"celery-test-{RUN_ID}:",
}


def _delete_prefixed(client, prefix: str) -> None:
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(scope="session", autouse=True)
def _clean_redis_after_run():
    yield
    _delete_prefixed(store.client(), settings.OTP_KEY_PREFIX)
    with celery_app.connection_for_write() as conn:
        _delete_prefixed(conn.default_channel.client, f"celery-test-{RUN_ID}:")


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

    with start_worker(celery_app, pool="threads", concurrency=4, perform_ping_check=False, shutdown_timeout=10):
        yield
