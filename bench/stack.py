"""The benchmark's own stack: production-like settings, loopback only, free ports, a database and
Redis namespaces of its own, started with the same bin/ scripts as `make run` and docker-compose."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg2
import redis
import requests

from svckit.testing import free_port

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = "referrals_bench"
# Redis DB indexes no default of the product uses (OTP 0, Celery 1, core 2), plus a per-run prefix.
OTP_REDIS_DB, CELERY_REDIS_DB, CORE_REDIS_DB = 13, 14, 15
# The bin/ scripts' tuning knobs: their defaults hold unless the environment sets them.
BIN_SCRIPTS = (("otp", "web"), ("otp", "worker"), ("core", "web"))
TUNING = ("CORE_WEB_WORKERS", "CORE_WEB_THREADS", "OTP_WEB_WORKERS", "OTP_WEB_THREADS", "OTP_WORKER_CONCURRENCY")


def server_url(url: str) -> str:
    """The URL without a path: REDIS_URL must not carry a DB index (each service appends its own)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


@dataclass
class Stack:
    logs: Path
    redis_url: str = field(default_factory=lambda: server_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")))
    database_server: str = field(
        default_factory=lambda: server_url(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432"))
    )
    prefix: str = field(default_factory=lambda: f"bench-{secrets.token_hex(4)}:")
    service_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    core_port: int = field(default_factory=free_port)
    otp_port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def core_url(self) -> str:
        return f"http://127.0.0.1:{self.core_port}"

    @property
    def otp_url(self) -> str:
        return f"http://127.0.0.1:{self.otp_port}"

    @property
    def database_url(self) -> str:
        return f"{self.database_server}/{BENCH_DB}"

    def tuning(self) -> dict[str, str]:
        """The values in effect: the environment's, else the default written in the bin/ script."""
        scripts = "".join((ROOT / f"services/{s}/bin/{b}").read_text() for s, b in BIN_SCRIPTS)
        found = {}
        for name in TUNING:
            default = re.search(rf"\$\{{{name}:-([^}}]*)\}}", scripts)
            found[name] = os.environ.get(name, default.group(1) if default else "?")
        return found

    def env(self, *, secret_key: str) -> dict[str, str]:
        """Production-like settings with throwaway secrets, the dev inbox on and the throttles lifted."""
        venv_bin = str(Path(sys.executable).parent)
        return {
            **os.environ,
            "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
            # Production refuses the dev inbox the load client reads codes from; with DEBUG off, real
            # secrets and plain-HTTP cookies (below) the settings are production's but for HSTS.
            "APP_ENV": "development",
            "DEBUG": "false",
            "SECRET_KEY": secret_key,
            "OTP_SECRET": secrets.token_urlsafe(32),
            "OTP_SERVICE_TOKEN": self.service_token,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "ACCESS_LOG": "-",
            "REDIS_URL": self.redis_url,
            "OTP_REDIS_DB": str(OTP_REDIS_DB),
            "OTP_KEY_PREFIX": f"{self.prefix}otp:",
            "CELERY_BROKER_URL": f"{self.redis_url}/{CELERY_REDIS_DB}",
            "CELERY_KEY_PREFIX": f"{self.prefix}celery:",
            "CORE_REDIS_DB": str(CORE_REDIS_DB),
            "CACHE_KEY_PREFIX": f"{self.prefix}core",
            "DATABASE_URL": self.database_url,
            "OTP_SERVICE_URL": self.otp_url,
            "OTP_BIND": f"127.0.0.1:{self.otp_port}",
            "CORE_BIND": f"127.0.0.1:{self.core_port}",
            "SMS_BACKEND": "inbox",
            # The load client sends each sign-in from its own made-up address (BENCH_FORWARDED_FOR).
            "TRUSTED_PROXY_COUNT": "1",
            # Plain HTTP on loopback: no HTTPS redirect, HSTS or Secure cookies (no TLS proxy here).
            "SECURE_COOKIES": "false",
            "THROTTLE_AUTH_PER_IP": "1000000/min",
            "THROTTLE_INVITE_PER_USER": "1000000/min",
            # The sign-in scenario's users were signed in once at set-up: their second code may follow.
            "OTP_RESEND_COOLDOWN_SECONDS": "1",
            # The load client's phones are consecutive (one number block): the SMS-pumping guard
            # would stop them at once. The bench measures the service, not the guard's limits.
            "SMS_PREFIX_MAX_PER_HOUR": "100000000",
            "SMS_COUNTRY_MAX_PER_DAY": "100000000",
            "SMS_MAX_PER_DAY": "100000000",
            "SMS_GUARD_MIN_SENDS": "100000000",
        }

    # --- Lifecycle ---------------------------------------------------------------------------

    def check_servers(self) -> None:
        try:
            redis.Redis.from_url(self.redis_url, socket_timeout=2).ping()
        except redis.RedisError as exc:
            raise SystemExit(f"bench: no Redis at {self.redis_url} ({exc}); start it or set REDIS_URL") from exc
        try:
            self._admin_connection().close()
        except psycopg2.OperationalError as exc:
            raise SystemExit(
                f"bench: no PostgreSQL at {self.database_server} ({exc}); start it or set DATABASE_URL"
            ) from exc

    def _admin_connection(self):
        parts = urlsplit(self.database_server)
        connection = psycopg2.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password,
            dbname="postgres",
            connect_timeout=3,
        )
        connection.autocommit = True
        return connection

    def reset_database(self) -> None:
        connection = self._admin_connection()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [BENCH_DB])
                cursor.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
                cursor.execute(f"CREATE DATABASE {BENCH_DB}")
        finally:
            connection.close()

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        otp_env = self.env(secret_key=secrets.token_urlsafe(50))
        core_env = self.env(secret_key=secrets.token_urlsafe(50))
        # As under compose: the OTP service is internal and logs no line per call (ACCESS_LOG).
        self._spawn("otp-web", [str(ROOT / "services/otp/bin/web")], otp_env | {"ACCESS_LOG": "off"})
        self._spawn("otp-worker", [str(ROOT / "services/otp/bin/worker")], otp_env)
        self._spawn("core-web", [str(ROOT / "services/core/bin/web")], core_env)
        self.core_env = core_env

    def pids_by_name(self) -> dict[str, int]:
        return {name: process.pid for name, process in self.processes.items()}

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 - the child keeps it open
        # A session of its own: Ctrl-C in the terminal reaches only this driver, which stops the group.
        self.processes[name] = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}; see {self.logs / name}.log")
            if self._answers(f"{self.otp_url}/readyz") and self._answers(f"{self.core_url}/readyz"):
                return
            time.sleep(0.3)
        raise RuntimeError(f"the stack was not ready within {timeout:.0f} s; see the logs in {self.logs}")

    @staticmethod
    def _answers(url: str) -> bool:
        try:
            return requests.get(url, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def run_core_command(self, *args: str) -> str:
        result = subprocess.run(
            [str(Path(sys.executable).parent / "python"), "manage.py", *args],
            cwd=ROOT / "services/core",
            env=self.core_env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout.strip()

    def sms_backlog(self) -> int:
        """SMS waiting in the broker: queued, or held by the worker for their countdown (unacked)."""
        client = redis.Redis.from_url(f"{self.redis_url}/{CELERY_REDIS_DB}")
        celery = f"{self.prefix}celery:"
        return int(client.llen(f"{celery}celery")) + int(client.hlen(f"{celery}unacked"))

    def stop(self) -> None:
        """SIGTERM to each process group, SIGKILL after 15 s; then any child left behind."""
        children = []
        for process in self.processes.values():
            try:
                children += psutil.Process(process.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                continue
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout=5)
        for child in children:
            if child.is_running():  # psutil compares start times: never a recycled pid
                child.kill()
        self.processes.clear()

    def clean_redis(self) -> None:
        for db in (OTP_REDIS_DB, CELERY_REDIS_DB, CORE_REDIS_DB):
            client = redis.Redis.from_url(f"{self.redis_url}/{db}")
            keys = list(client.scan_iter(match=f"{self.prefix}*", count=1000))
            # Celery's binding keys carry the prefix after its own "_kombu.binding." marker.
            keys += list(client.scan_iter(match=f"_kombu.binding.*{self.prefix}*", count=1000))
            for start in range(0, len(keys), 1000):
                client.delete(*keys[start : start + 1000])


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    if process.poll() is not None:
        return  # its group id may no longer be ours
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)
