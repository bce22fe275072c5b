"""Short-lived processes for fault tests: a private Redis, the OTP web service, a worker.
They never touch the machine's shared servers."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests

SERVICE_DIR = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=0.5).status_code < 500
    except requests.RequestException:
        return False


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class PrivateRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="redis-fault-")
        self.process: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.dir,
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        assert wait_until(self._up, 5), "private redis did not start"

    def _up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process:
            stop(self.process)
        self.process = None


@contextmanager
def private_redis():
    redis = PrivateRedis()
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()
        shutil.rmtree(redis.dir, ignore_errors=True)


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
        stop(process)


def start_worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([str(SERVICE_DIR / "bin" / "worker")], env=env, start_new_session=True)
