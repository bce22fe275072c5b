"""The benchmark's stack: the declared one (libs/devstack) with production-like settings, loopback
only, free ports, and a database and Redis namespaces of its own."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import redis
from devstack import Config
from devstack import Stack as DeclaredStack
from devstack.declaration import ROOT

BENCH_DB = "referrals_bench"
# The bin/ scripts' tuning knobs: their defaults hold unless the environment sets them.
TUNING = ("CORE_WEB_WORKERS", "CORE_WEB_THREADS", "OTP_WEB_WORKERS", "OTP_WEB_THREADS", "OTP_WORKER_CONCURRENCY")
# Production refuses the dev inbox the load client reads codes from; with DEBUG off, real secrets and
# plain-HTTP cookies (no TLS proxy on loopback) the settings are production's but for HSTS.
PRODUCTION_LIKE = {
    **{"APP_ENV": "development", "DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1,localhost", "ACCESS_LOG": "off"},
    "SECURE_COOKIES": "false",
    "TRUSTED_PROXY_COUNT": "1",  # each sign-in comes from its own made-up address (BENCH_FORWARDED_FOR)
    **{"THROTTLE_AUTH_PER_IP": "1000000/min", "THROTTLE_INVITE_PER_USER": "1000000/min"},
    # The sign-in scenario's users were signed in once at set-up: their second code may follow.
    "OTP_RESEND_COOLDOWN_SECONDS": "1",
    "JWT_ACCESS_MINUTES": "120",  # the profile scenarios' token, issued once at set-up, outlives any run
    # The load client's phones are consecutive (one number block): the SMS-pumping guard would stop
    # them at once. The bench measures the service, not the guard's limits.
    **dict.fromkeys(("SMS_PREFIX_MAX_PER_HOUR", "SMS_COUNTRY_MAX_PER_DAY", "SMS_MAX_PER_DAY"), "100000000"),
    "SMS_GUARD_MIN_SENDS": "100000000",
}


def server_url(variable: str, default: str) -> str:
    """The server of the environment's URL, without a path (each service appends its own DB)."""
    parts = urlsplit(os.environ.get(variable, default))
    return f"{parts.scheme}://{parts.netloc}"


class Stack(DeclaredStack):
    """The OTP web service, its worker and the core web service (the bench sends no webhooks) on Redis
    DBs no default of the product uses, under a per-run prefix; neither service logs a line per request,
    as under compose, where the HTTPS proxy keeps the one access log."""

    def __init__(self, logs: Path, *, access_log: bool = False) -> None:
        """`access_log`: each web service logs every request (ACCESS_LOG=-), which is all that sets
        `make run`'s stack apart from this one but for the lifted limits the load needs."""
        token = secrets.token_urlsafe
        config = Config(
            redis_url=server_url("REDIS_URL", "redis://127.0.0.1:6379"),
            database_url=f"{server_url('DATABASE_URL', 'postgres://postgres@127.0.0.1:5432')}/{BENCH_DB}",
            **{"prefix": f"bench-{secrets.token_hex(4)}:", "token": token(32)},
            env={**PRODUCTION_LIKE, "OTP_SECRET": token(32), **({"ACCESS_LOG": "-"} if access_log else {})},
            **{"otp_db": 12, "celery_db": 13, "core_db": 14, "core_broker_db": 15},
            otp_env={"SECRET_KEY": token(50)},
            core_env={"SECRET_KEY": token(50)},
        )
        super().__init__(config, ["otp-web", "otp-worker", "core-web"], logs=logs)

    def tuning(self) -> dict[str, str]:
        """The values in effect: the environment's, else the default written in the bin/ script."""
        scripts = "".join(path.read_text() for path in ROOT.glob("services/*/bin/*"))
        defaults = {name: re.search(rf"\$\{{{name}:-([^}}]*)\}}", scripts) for name in TUNING}
        return {name: os.environ.get(name, found.group(1) if found else "?") for name, found in defaults.items()}

    def run_core_command(self, *args: str) -> str:
        command, env = [sys.executable, "manage.py", *args], {**os.environ, **self.declared["core-web"].env}
        result = subprocess.run(
            command, cwd=ROOT / "services/core", env=env, capture_output=True, text=True, timeout=300
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout.strip()

    def sms_backlog(self) -> int:
        """SMS waiting in the broker: queued, or held by the worker for their countdown (unacked)."""
        client = redis.Redis.from_url(f"{self.config.redis_url}/{self.config.celery_db}")
        celery = f"{self.config.prefix}celery:"
        return int(client.llen(f"{celery}celery")) + int(client.hlen(f"{celery}unacked"))
