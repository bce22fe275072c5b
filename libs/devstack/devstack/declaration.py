"""The stack, declared once: the product's four processes (the OTP web service and its SMS worker,
the core web service and its webhook worker), the environment each one gets and the URL that says it
is ready. `make run`, both services' tests, `make browser`, `make e2e` and the bench start it from
here; what differs between them (ports, key prefixes, Redis DB indexes, database, extra settings) is
a `Config`."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Process:
    command: list[str]
    env: dict[str, str]  # on top of the caller's environment
    ready_url: str | None  # answers 2xx once the process serves; None: nothing to ask (the core worker)


@dataclass
class Config:
    """Where a stack listens and keeps its data. `prefix` namespaces every Redis key the stack writes
    (codes, both Celery brokers, the core's cache); empty keeps the environment's or the product's.
    `env` goes to every process, `otp_env` / `core_env` to one service's processes."""

    core_port: int = field(default_factory=free_port)
    otp_port: int = field(default_factory=free_port)
    worker_metrics_port: int = field(default_factory=free_port)
    redis_url: str = "redis://127.0.0.1:6379"
    database_url: str = ""  # empty: the core's SQLite file in var/
    prefix: str = ""
    token: str = ""  # OTP_SERVICE_TOKEN; empty: the environment's or the development default
    otp_db: int = 0
    celery_db: int = 1
    core_db: int = 2
    core_broker_db: int = 3
    core_ready_path: str = "/readyz"  # /healthz when no OTP service is meant to answer
    env: dict[str, str] = field(default_factory=dict)
    otp_env: dict[str, str] = field(default_factory=dict)
    core_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_environment(cls) -> Config:
        """`make run`'s stack: CORE_BIND / OTP_BIND ports (8000 / 8001), REDIS_URL, DATABASE_URL and
        SMS_BACKEND (inbox) from the environment; everything else as the environment says."""

        def port(variable: str, default: int) -> int:
            return int(os.environ.get(variable, f":{default}").rpartition(":")[2])

        return cls(
            core_port=port("CORE_BIND", 8000),
            otp_port=port("OTP_BIND", 8001),
            redis_url=os.environ.get("REDIS_URL", cls.redis_url).rstrip("/"),
            database_url=os.environ.get("DATABASE_URL", ""),
            env={"SMS_BACKEND": os.environ.get("SMS_BACKEND", "inbox")},
        )

    @property
    def core_url(self) -> str:
        return f"http://127.0.0.1:{self.core_port}"

    @property
    def otp_url(self) -> str:
        return f"http://127.0.0.1:{self.otp_port}"

    def forget_keys(self) -> None:
        """Delete every key under `prefix` in each Redis DB the stack writes to (Celery's binding
        keys carry it after a marker of their own)."""
        for db in (self.otp_db, self.celery_db, self.core_db, self.core_broker_db):
            with contextlib.suppress(redis.RedisError), redis.Redis.from_url(f"{self.redis_url}/{db}") as client:
                keys = list(client.scan_iter(match=f"*{self.prefix}*", count=1000))
                for start in range(0, len(keys), 1000):
                    client.delete(*keys[start : start + 1000])


def processes(config: Config) -> dict[str, Process]:
    """The declaration: name → command (the services' bin/ scripts, as in the containers), its
    environment and its readiness URL, in start order."""
    c = config
    common = {
        # The bin/ scripts call python, granian and celery by name: the ones next to this interpreter.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",
        "REDIS_URL": c.redis_url,
        "SMS_BACKEND": "inbox",
        **({"OTP_SERVICE_TOKEN": c.token} if c.token else {}),
        **c.env,
    }
    prefixes = {"CELERY_KEY_PREFIX": f"{c.prefix}celery:"} if c.prefix else {}
    otp = {
        **common,
        **prefixes,
        **({"OTP_KEY_PREFIX": f"{c.prefix}otp:"} if c.prefix else {}),
        "OTP_BIND": f"127.0.0.1:{c.otp_port}",
        "OTP_REDIS_DB": str(c.otp_db),
        "CELERY_BROKER_URL": f"{c.redis_url}/{c.celery_db}",
        "OTP_WORKER_METRICS_BIND": f"127.0.0.1:{c.worker_metrics_port}",
        **c.otp_env,
    }
    core = {
        **common,
        **prefixes,
        **({"CACHE_KEY_PREFIX": f"{c.prefix}core"} if c.prefix else {}),
        "CORE_BIND": f"127.0.0.1:{c.core_port}",
        "DATABASE_URL": c.database_url,
        "OTP_SERVICE_URL": c.otp_url,
        "DEV_SMS_INBOX_URL": f"{c.otp_url}/inbox/",
        "CORE_REDIS_DB": str(c.core_db),
        "CORE_CELERY_BROKER_URL": f"{c.redis_url}/{c.core_broker_db}",
        **c.core_env,
    }

    def script(service: str, name: str) -> list[str]:
        return [str(ROOT / "services" / service / "bin" / name)]

    return {
        "otp-web": Process(script("otp", "web"), otp, f"{c.otp_url}/readyz"),
        # The worker's metrics server starts with it (worker_init): it answers once the settings load.
        "otp-worker": Process(script("otp", "worker"), otp, f"http://127.0.0.1:{c.worker_metrics_port}/metrics"),
        "core-web": Process(script("core", "web"), core, f"{c.core_url}{c.core_ready_path}"),
        "core-worker": Process(script("core", "worker"), core, None),
    }
