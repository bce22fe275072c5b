"""The stack, declared once: the product's four processes, the environment each gets and the URL
that says it is ready. What differs between `make run`, the tests, `make browser` / `make e2e` and
the bench (ports, key prefixes, Redis DB indexes, database, extra settings) is a `Config`."""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import redis
from port_for import select_random

ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Process:
    command: list[str]
    env: dict[str, str]  # on top of the caller's environment
    ready_url: str | None  # answers 2xx once the process serves; None: nothing to ask


@dataclass
class Config:
    """`prefix` namespaces every Redis key the stack writes (codes, both brokers, the core's cache);
    empty, and an empty `token`, keep the environment's or the product's. `env` goes to every
    process, `otp_env` / `core_env` to one service's; an empty `database_url` is the core's SQLite."""

    core_port: int = field(default_factory=select_random)
    otp_port: int = field(default_factory=select_random)
    worker_metrics_port: int = field(default_factory=select_random)
    redis_url: str = "redis://127.0.0.1:6379"
    database_url: str = ""
    prefix: str = ""
    token: str = ""
    otp_db: int = 0
    celery_db: int = 1
    core_db: int = 2
    core_broker_db: int = 3
    env: dict[str, str] = field(default_factory=dict)
    otp_env: dict[str, str] = field(default_factory=dict)
    core_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_environment(cls) -> Config:
        """`make run`'s: CORE_BIND / OTP_BIND (8000 / 8001), REDIS_URL, DATABASE_URL, SMS_BACKEND (inbox)."""
        get = os.environ.get
        return cls(
            core_port=int(get("CORE_BIND", ":8000").rpartition(":")[2]),
            otp_port=int(get("OTP_BIND", ":8001").rpartition(":")[2]),
            redis_url=get("REDIS_URL", cls.redis_url).rstrip("/"),
            database_url=get("DATABASE_URL", ""),
            env={"SMS_BACKEND": get("SMS_BACKEND", "inbox")},
        )

    @property
    def core_url(self) -> str:
        return f"http://127.0.0.1:{self.core_port}"

    @property
    def otp_url(self) -> str:
        return f"http://127.0.0.1:{self.otp_port}"

    def forget_keys(self) -> None:
        """Delete every key holding `prefix` (Celery's bindings hold it after a marker of their own)."""
        for db in (self.otp_db, self.celery_db, self.core_db, self.core_broker_db):
            with contextlib.suppress(redis.RedisError), redis.Redis.from_url(f"{self.redis_url}/{db}") as client:
                if keys := list(client.scan_iter(match=f"*{self.prefix}*", count=1000)):
                    client.delete(*keys)


def processes(c: Config) -> dict[str, Process]:
    """The declaration, in start order: name → the service's bin/ script (as in the containers), its
    environment and its readiness URL."""
    prefixed = bool(c.prefix)
    common = {
        # The bin/ scripts call python, granian and celery by name: the ones next to this interpreter.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",
        "REDIS_URL": c.redis_url,
        "SMS_BACKEND": "inbox",
        **({"OTP_SERVICE_TOKEN": c.token} if c.token else {}),
        **({"CELERY_KEY_PREFIX": f"{c.prefix}celery:"} if prefixed else {}),
        **c.env,
    }
    otp = common | ({"OTP_KEY_PREFIX": f"{c.prefix}otp:"} if prefixed else {})
    otp |= {"OTP_BIND": f"127.0.0.1:{c.otp_port}", "OTP_REDIS_DB": str(c.otp_db)}
    otp |= {"OTP_CELERY_BROKER_URL": f"{c.redis_url}/{c.celery_db}"}
    otp |= {"OTP_WORKER_METRICS_BIND": f"127.0.0.1:{c.worker_metrics_port}", **c.otp_env}
    core = common | ({"CACHE_KEY_PREFIX": f"{c.prefix}core"} if prefixed else {})
    core |= {"CORE_BIND": f"127.0.0.1:{c.core_port}", "DATABASE_URL": c.database_url}
    core |= {"OTP_SERVICE_URL": c.otp_url, "DEV_SMS_INBOX_URL": f"{c.otp_url}/inbox/"}
    core |= {"CORE_REDIS_DB": str(c.core_db), "CORE_CELERY_BROKER_URL": f"{c.redis_url}/{c.core_broker_db}"}
    core |= c.core_env
    otp_bin, core_bin = ROOT / "services/otp/bin", ROOT / "services/core/bin"
    return {
        "otp-web": Process([str(otp_bin / "web")], otp, f"{c.otp_url}/readyz"),
        # Its metrics server starts with it (worker_init): it answers once the settings have loaded.
        "otp-worker": Process([str(otp_bin / "worker")], otp, f"http://127.0.0.1:{c.worker_metrics_port}/metrics"),
        "core-web": Process([str(core_bin / "web")], core, f"{c.core_url}/readyz"),
        "core-worker": Process([str(core_bin / "worker")], core, None),  # Celery has nothing to ask
    }
