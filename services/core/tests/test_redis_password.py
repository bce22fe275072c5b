"""The whole stack on a Redis that requires a password, as production must run (its settings refuse
a REDIS_URL without one): the password in REDIS_URL reaches each client, the OTP service's codes,
the core's cache and both Celery brokers, so an SMS and a webhook are delivered."""

from __future__ import annotations

import secrets

import pytest
import redis
from devstack import inbox, wait_until
from devstack.fixtures import FAST_SMS, stack_config
from webhooks.tests.conftest import SECRET, received

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def redis_url_with_password(private_redis) -> str:
    password = secrets.token_urlsafe(48)
    with redis.Redis.from_url(private_redis.url) as client:
        client.config_set("requirepass", password)
    return private_redis.url.replace("redis://", f"redis://:{password}@", 1)


def test_every_process_uses_the_password_in_redis_url(
    redis_url_with_password, private_redis, httpserver, test_database_url, start_stack
):
    with redis.Redis.from_url(private_redis.url) as anonymous, pytest.raises(redis.AuthenticationError):
        anonymous.ping()
    httpserver.expect_request("/hooks/referrals", method="POST").respond_with_data("", status=204)
    webhooks = {"WEBHOOK_URLS": httpserver.url_for("/hooks/referrals"), "WEBHOOK_SECRET": SECRET}
    config = stack_config(
        "core",
        redis_url=redis_url_with_password,
        database_url=test_database_url(),
        otp_env=FAST_SMS,
        core_env={**webhooks, "CORE_WEB_WORKERS": "1", "CORE_WORKER_CONCURRENCY": "2"},
    )
    stack = start_stack(config)

    assert inbox.sign_in(config.core_url, config.otp_url, "+79990003322")["is_new_user"]
    assert wait_until(lambda: httpserver.log, 60, 0.2), f"no webhook arrived; logs:\n{stack.tails()}"
    assert [event["payload"]["type"] for event in received(httpserver)] == ["user.registered"]
    with redis.Redis.from_url(f"{redis_url_with_password}/{config.core_db}") as cache:
        assert list(cache.scan_iter(match=f"{config.prefix}core*")), "the core's cache never reached Redis"
