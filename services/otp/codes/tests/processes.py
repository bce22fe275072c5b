"""Short-lived processes for fault tests: a private Redis, the OTP web service, a worker.
They never touch the machine's shared servers."""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import requests

from svckit.testing import PrivateRedis, free_port, private_redis, stop, wait_until

__all__ = ["PrivateRedis", "free_port", "private_redis", "stop", "wait_until"]

SERVICE_DIR = Path(__file__).resolve().parents[2]


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=0.5).status_code < 500
    except requests.RequestException:
        return False


def service_env(redis_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTP_", "CELERY_", "SMS_"))}
    env.update(
        # bin/ scripts call gunicorn and celery by name: use the ones next to this interpreter.
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        REDIS_URL=redis_url,
        OTP_SERVICE_TOKEN="fault-token",
        SMS_BACKEND="inbox",
        ACCESS_LOG="/dev/null",
        LOG_LEVEL="WARNING",
        OTP_WEB_WORKERS="1",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    env.update(extra)
    return env


@contextmanager
def otp_web(env: dict[str, str]):
    port = free_port()
    process = subprocess.Popen(
        [str(SERVICE_DIR / "bin" / "web")], env={**env, "OTP_BIND": f"127.0.0.1:{port}"}, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: _answers(f"{url}/healthz"), 20), "the OTP service did not start"
        yield url
    finally:
        stop([process])


def start_worker(env: dict[str, str], log: Path | None = None) -> subprocess.Popen:
    """bin/worker in its own process group; its output goes to `log` when given."""
    output = log.open("ab") if log else None
    return subprocess.Popen(
        [str(SERVICE_DIR / "bin" / "worker")], env=env, start_new_session=True, stdout=output, stderr=output
    )


class RestartedWorker:
    """bin/worker under a restart policy like compose's `restart: unless-stopped`: `check()` starts
    it again when it has exited, and remembers every exit status."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.exits: list[int] = []
        self.process = start_worker(env)

    def check(self) -> None:
        status = self.process.poll()
        if status is not None:
            self.exits.append(status)
            self.process = start_worker(self.env)

    def stop(self) -> None:
        stop([self.process])
