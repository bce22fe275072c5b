"""One environment for every process, as compose's `.env` reaches every container: each variable
.env.example documents is set, with a sensible value, for both services and both workers, and so is
a plain CELERY_BROKER_URL (and Celery's other environment lookups) naming a third broker. Each
worker still consumes its own service's broker only: an SMS reaches the inbox through the OTP
worker, a signed webhook reaches its receiver through the core worker, and the third broker is
never touched."""

from __future__ import annotations

import dataclasses
import re
import secrets
from pathlib import Path

import pytest
import redis
from devstack import inbox, wait_until
from devstack.declaration import Config
from devstack.fixtures import FAST_SMS, stack_config
from webhooks.tests.conftest import SECRET, received

from svckit.settings import CELERY_ENVIRONMENT_OVERRIDES

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
THIRD_BROKER_DB = 7  # neither service's default nor the stack's


def documented() -> dict[str, str]:
    """.env.example's variables with their example values."""
    return dict(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", (ROOT / ".env.example").read_text(), re.MULTILINE))


def shared_environment(c: Config, *, database_url: str, webhook_url: str, var_dir: Path) -> dict[str, str]:
    """Every documented variable: its example value, unless this stack needs its own (its ports, key
    prefixes, Redis DBs, database, the receiver) or the example is a production one (secrets, paths)."""
    key = lambda: secrets.token_urlsafe(48)  # noqa: E731
    own = {
        "APP_ENV": "development",
        "LOG_LEVEL": "INFO",
        **{"SECRET_KEY": key(), "CORE_SECRET_KEY": key(), "OTP_SECRET_KEY": key(), "SECRET_KEY_FALLBACKS": key()},
        **{"JWT_SIGNING_KEY": key(), "OTP_SECRET": key(), "OTP_SERVICE_TOKEN": c.token},
        "REDIS_URL": c.redis_url,
        "DATABASE_URL": database_url,
        **{"VAR_DIR": str(var_dir), "STATIC_ROOT": str(var_dir / "static")},
        # Empty, the OTP worker would write its metric files where it runs; a container has its own.
        "PROMETHEUS_MULTIPROC_DIR": str(var_dir / "prometheus"),
        **{"CORE_BIND": f"127.0.0.1:{c.core_port}", "OTP_BIND": f"127.0.0.1:{c.otp_port}"},
        **{"OTP_SERVICE_URL": c.otp_url, "DEV_SMS_INBOX_URL": f"{c.otp_url}/inbox/"},
        "OTP_WORKER_METRICS_BIND": f"127.0.0.1:{c.worker_metrics_port}",
        **{"CORE_WEB_WORKERS": "1", "OTP_WEB_WORKERS": "1", "CORE_WORKER_CONCURRENCY": "2"},
        **{
            "OTP_KEY_PREFIX": f"{c.prefix}otp:",
            "CACHE_KEY_PREFIX": f"{c.prefix}core",
            "CELERY_KEY_PREFIX": f"{c.prefix}celery:",
        },
        **{"OTP_REDIS_DB": str(c.otp_db), "CORE_REDIS_DB": str(c.core_db)},
        **{"OTP_CELERY_REDIS_DB": str(c.celery_db), "CORE_CELERY_REDIS_DB": str(c.core_broker_db)},
        "OTP_CELERY_BROKER_URL": f"{c.redis_url}/{c.celery_db}",
        "CORE_CELERY_BROKER_URL": f"{c.redis_url}/{c.core_broker_db}",
        "SMS_BACKEND": "inbox",
        **FAST_SMS,
        **{"WEBHOOK_URLS": webhook_url, "WEBHOOK_SECRET": SECRET},
    }
    assert set(own) <= set(documented()), set(own) - set(documented())
    third = dict.fromkeys(CELERY_ENVIRONMENT_OVERRIDES, f"{c.redis_url}/{THIRD_BROKER_DB}")
    return documented() | own | third


def test_with_every_variable_in_one_environment_both_workers_deliver(
    httpserver, test_database_url, start_stack, tmp_path
):
    httpserver.expect_request("/hooks/referrals", method="POST").respond_with_data("", status=204)
    config = stack_config("core")
    (tmp_path / "var" / "prometheus").mkdir(parents=True)
    env = shared_environment(
        config,
        database_url=test_database_url(),
        webhook_url=httpserver.url_for("/hooks/referrals"),
        var_dir=tmp_path / "var",
    )
    assert env["CELERY_BROKER_URL"] not in {env["OTP_CELERY_BROKER_URL"], env["CORE_CELERY_BROKER_URL"]}
    stack = start_stack(dataclasses.replace(config, env=env))

    # The SMS: the core asks the OTP service, whose worker puts the code in the inbox.
    signed_in = inbox.sign_in(config.core_url, config.otp_url, "+79990002211")
    assert signed_in["is_new_user"]
    # The webhook: the sign-in registered a user, whose event the core worker delivers signed.
    assert wait_until(lambda: httpserver.log, 60, 0.2), f"no webhook arrived; logs:\n{stack.tails()}"
    [event] = received(httpserver)
    assert event["payload"]["type"] == "user.registered"
    assert event["payload"]["data"]["user"]["phone"] == "+79990002211"

    with redis.Redis.from_url(f"{config.redis_url}/{THIRD_BROKER_DB}") as third:
        strays = list(third.scan_iter(match=f"*{config.prefix}*"))
        if strays:
            third.delete(*strays)
    assert strays == [], "a worker or a publisher used CELERY_BROKER_URL"
    logs = "".join(path.read_text(errors="replace") for path in stack.logs.glob("*.log"))
    assert "unregistered task" not in logs
