"""docs/kubernetes.md's Redis users, exactly as documented, with the Kubernetes ConfigMaps' key
prefixes: both services and both workers run on a private Redis under them (a sign-in through the
public API, its SMS, its webhook and both workers' liveness pings, with no command or key refused),
and each service's user, tried as an intruder would, can neither read, write nor signal the other
service's keys and channels, nor list keys or run the dangerous commands."""

from __future__ import annotations

import os
import secrets
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import redis
import yaml
from devstack import inbox, wait_until
from devstack.fixtures import FAST_SMS, stack_config
from webhooks.tests.conftest import SECRET, received

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
PASSWORDS = {"CORE_REDIS_PASSWORD": secrets.token_hex(16), "OTP_REDIS_PASSWORD": secrets.token_hex(16)}


def _documented_acl() -> list[list[str]]:
    """The `ACL SETUSER` lines of docs/kubernetes.md, their password placeholders filled in."""
    lines = [line for line in (ROOT / "docs/kubernetes.md").read_text().splitlines() if line.startswith("ACL SETUSER")]
    assert len(lines) == 3, lines
    for placeholder, password in PASSWORDS.items():
        lines = [line.replace(placeholder, password) for line in lines]
    return [shlex.split(line) for line in lines]


def _config_maps() -> dict[str, dict[str, str]]:
    documents = yaml.safe_load_all((ROOT / "infra/k8s/base/configmap.yaml").read_text())
    return {doc["metadata"]["name"]: doc["data"] for doc in documents}


def _ping(env: dict[str, str], service: str) -> subprocess.CompletedProcess:
    """The workers' liveness probe (core-worker.yaml, otp-worker.yaml), from the image's /app."""
    celery = str(Path(sys.executable).parent / "celery")
    command = [celery, "--workdir", f"services/{service}", "-A", "config", "inspect", "ping"]
    command += ["-d", f"celery@{socket.gethostname()}", "--timeout", "5"]
    return subprocess.run(command, cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


def _psubscribe(client: redis.Redis, channel: str) -> None:
    pubsub = client.pubsub()
    pubsub.psubscribe(channel)
    pubsub.get_message(timeout=2)  # the answer: the subscription, or the refusal


def test_each_service_works_as_its_own_redis_user_and_cannot_touch_the_others(
    private_redis, start_stack, test_database_url, httpserver
):
    httpserver.expect_request("/hooks/referrals", method="POST").respond_with_data("", status=204)
    setup = redis.Redis.from_url(private_redis.url)
    admin_password = secrets.token_hex(16)
    setup.execute_command("ACL", "SETUSER", "test-admin", "on", f">{admin_password}", "~*", "&*", "+@all")
    for command in _documented_acl():
        setup.execute_command(*command)
    port = private_redis.url.rpartition(":")[2]
    admin_on = lambda db: redis.Redis(port=port, db=db, username="test-admin", password=admin_password)  # noqa: E731
    admin = admin_on(0)
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=port).ping()  # the default user is off
    core_url = f"redis://referrals-core:{PASSWORDS['CORE_REDIS_PASSWORD']}@127.0.0.1:{port}"
    otp_url = f"redis://referrals-otp:{PASSWORDS['OTP_REDIS_PASSWORD']}@127.0.0.1:{port}"

    maps = _config_maps()
    core_prefixes = {k: maps["core-config"][k] for k in ("CACHE_KEY_PREFIX", "CELERY_KEY_PREFIX")}
    otp_prefixes = {k: maps["otp-config"][k] for k in ("OTP_KEY_PREFIX", "CELERY_KEY_PREFIX")}
    otp_env = {**FAST_SMS, **otp_prefixes, "REDIS_URL": otp_url, "OTP_CELERY_BROKER_URL": f"{otp_url}/1"}
    core_env = {**core_prefixes, "REDIS_URL": core_url, "CORE_CELERY_BROKER_URL": f"{core_url}/3"}
    core_env |= {"WEBHOOK_URLS": httpserver.url_for("/hooks/referrals"), "WEBHOOK_SECRET": SECRET}
    config = stack_config(
        "core", redis_url=private_redis.url, database_url=test_database_url(), otp_env=otp_env, core_env=core_env
    )
    stack = start_stack(config)

    phone = "+79995551234"
    assert inbox.sign_in(config.core_url, config.otp_url, phone)["access"]
    assert wait_until(lambda: httpserver.log, 60, 0.2), "no webhook arrived"
    assert received(httpserver)[0]["payload"]["type"] == "user.registered"
    for name, service in (("otp-worker", "otp"), ("core-worker", "core")):
        ping = _ping(stack.declared[name].env, service)
        assert ping.returncode == 0 and "pong" in ping.stdout, (name, ping.stdout, ping.stderr)
    assert admin.acl_log() == [], "a command of the product was refused"

    expected = {0: "otp:", 1: "otp-celery:", 2: f"{core_prefixes['CACHE_KEY_PREFIX']}:", 3: "core-celery:"}
    for db, prefix in expected.items():
        keys = [key.decode() for key in admin_on(db).scan_iter(count=1000)]
        assert keys and all(key.startswith(prefix) for key in keys), (db, keys)

    as_otp = redis.Redis.from_url(f"{otp_url}/2")
    as_core = redis.Redis.from_url(f"{core_url}/0")
    for attempt in (
        lambda: as_otp.get(f"{core_prefixes['CACHE_KEY_PREFIX']}:1:throttle"),
        lambda: as_otp.lpush("core-celery:celery", "{}"),
        lambda: as_otp.publish("core-celery:/3.celery.pidbox", "{}"),
        lambda: as_core.get(f"otp:{{{phone}}}:code"),
        lambda: as_core.set(f"otp:{{{phone}}}:failures", 0),
        lambda: as_core.publish("otp-celery:/1.celery.pidbox", "{}"),
        lambda: _psubscribe(as_core, "otp-celery:/1.celery.pidbox"),
        lambda: as_core.scan(),
        lambda: as_core.randomkey(),
        lambda: as_otp.keys("*"),
        lambda: as_otp.flushall(),
        lambda: as_otp.config_get("*"),
    ):
        with pytest.raises(redis.exceptions.NoPermissionError):
            attempt()
