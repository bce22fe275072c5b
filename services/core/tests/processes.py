"""Short-lived processes for the end-to-end, abuse and fault tests: the real OTP service (gunicorn)
and its Celery worker, the core itself under gunicorn, a private Redis, and a TCP proxy a test can
cut. The machine's shared Redis and PostgreSQL are only ever used under private key prefixes and
this run's test database; they are never stopped."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis
import requests

from svckit.testing import PrivateRedis, free_port, private_redis, stop, wait_until

CORE_DIR = Path(__file__).resolve().parents[1]
OTP_DIR = CORE_DIR.parent / "otp"
READY_TIMEOUT = 30
SHARED_REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")

__all__ = ["PrivateRedis", "free_port", "private_redis", "stop", "wait_until"]


def redis_forget(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _base_env(**extra: str) -> dict[str, str]:
    skip = {"DJANGO_SETTINGS_MODULE", "DATABASE_URL"}
    env = {k: v for k, v in os.environ.items() if k not in skip and not k.startswith(("OTP_", "CELERY_", "SMS_"))}
    # bin/ scripts call python, gunicorn and celery by name: use the ones next to this interpreter.
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}", APP_ENV="development")
    env.update(LOG_LEVEL="WARNING", ACCESS_LOG="/dev/null")
    env.update(extra)
    return env


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _exited(processes: list[subprocess.Popen]) -> bool:
    return any(p.poll() is not None for p in processes)


@dataclass(frozen=True)
class Service:
    """A service to start: its processes, the URL that answers 200 when it is ready, and the Redis
    keys (url, prefix) it leaves behind on a shared server."""

    name: str
    url: str
    ready_path: str
    commands: list[tuple[Path, dict[str, str]]]
    leftovers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Otp(Service):
    token: str = ""

    def inbox(self, phone: str) -> list[dict]:
        response = requests.get(f"{self.url}/v1/inbox/", params={"phone": phone}, timeout=5)
        return response.json()["messages"]

    def code(self, phone: str, timeout: float = 20) -> str:
        """The newest code texted to `phone`, read from the dev inbox."""
        if not wait_until(lambda: self.inbox(phone), timeout, 0.1):
            raise AssertionError(f"no SMS for {phone} within {timeout} s (is the worker consuming?)")
        return self.inbox(phone)[0]["code"]


@contextmanager
def running(*services: Service):
    """Start every service's processes at once (startup is mostly imports: they overlap), wait until
    all are ready, and stop them all afterwards."""
    logs = Path(tempfile.mkdtemp(prefix="processes-"))
    processes: list[subprocess.Popen] = []
    try:
        for service in services:
            with (logs / f"{service.name}.log").open("a") as log:
                for script, env in service.commands:
                    processes.append(
                        subprocess.Popen(
                            [str(script)], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                        )
                    )
        for service in services:
            ready = f"{service.url}{service.ready_path}"
            wait_until(lambda url=ready: _answers(url) or _exited(processes), READY_TIMEOUT)  # type: ignore[misc]
            if _exited(processes) or not _answers(ready):
                tails = "\n".join(f"== {f.name}\n{f.read_text()[-3000:]}" for f in logs.iterdir())
                raise RuntimeError(f"{service.name} did not become ready; logs:\n{tails}")
        yield services
    finally:
        stop(processes)
        shutil.rmtree(logs, ignore_errors=True)
        for service in services:
            for url, prefix in service.leftovers:
                redis_forget(url, prefix)


def otp_service(*, redis_url: str = SHARED_REDIS_URL, web_workers: int = 1, worker: bool = True, **extra: str) -> Otp:
    """The OTP web process (and its Celery worker) on `redis_url`, under keys no one else uses."""
    run = uuid.uuid4().hex[:12]
    port = free_port()
    env = _base_env(
        **{
            "OTP_BIND": f"127.0.0.1:{port}",
            "OTP_WEB_WORKERS": str(web_workers),
            "OTP_WORKER_CONCURRENCY": "4",
            "OTP_SERVICE_TOKEN": f"test-token-{run}",
            "SMS_BACKEND": "inbox",
            "SMS_DELAY_MIN_SECONDS": "0.05",
            "SMS_DELAY_MAX_SECONDS": "0.1",
            "REDIS_URL": redis_url,
            "OTP_REDIS_DB": "0",
            "OTP_KEY_PREFIX": f"test-{run}:",
            "CELERY_BROKER_URL": f"{redis_url}/1",
            "CELERY_KEY_PREFIX": f"test-{run}:",
            **extra,
        }
    )
    commands = [(OTP_DIR / "bin" / "web", env)] + ([(OTP_DIR / "bin" / "worker", env)] if worker else [])
    shared = redis_url == SHARED_REDIS_URL
    return Otp(
        name="otp",
        url=f"http://127.0.0.1:{port}",
        ready_path="/readyz",
        commands=commands,
        leftovers=[(f"{redis_url}/0", env["OTP_KEY_PREFIX"]), (f"{redis_url}/1", env["CELERY_KEY_PREFIX"])]
        if shared
        else [],
        token=env["OTP_SERVICE_TOKEN"],
    )


def database_url(settings_dict: dict, *, port: int | None = None, application_name: str = "") -> str:
    """A DATABASE_URL for the database the tests use (optionally through a proxy on `port`)."""
    query = f"?application_name={application_name}" if application_name else ""
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = port or settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}{query}"


def core_service(*, database: str, secret_key: str, otp: Otp | None = None, workers: int = 3, **extra: str) -> Service:
    """The core under gunicorn (services/core/bin/web), its throttle counters under a private prefix.
    Without `otp` it points at a port nothing listens on (the OTP service is down)."""
    port = free_port()
    prefix = f"core-test-{uuid.uuid4().hex[:12]}"
    env = _base_env(
        CORE_BIND=f"127.0.0.1:{port}",
        CORE_WEB_WORKERS=str(workers),
        DATABASE_URL=database,
        SECRET_KEY=secret_key,
        OTP_SERVICE_URL=otp.url if otp else f"http://127.0.0.1:{free_port()}",
        OTP_SERVICE_TOKEN=otp.token if otp else "no-otp-service",
        REDIS_URL=SHARED_REDIS_URL,
        CORE_REDIS_DB="2",
        CACHE_KEY_PREFIX=prefix,
        **extra,
    )
    return Service(
        name=f"core-{port}",
        url=f"http://127.0.0.1:{port}",
        ready_path="/healthz",
        commands=[(CORE_DIR / "bin" / "web", env)],
        leftovers=[(f"{SHARED_REDIS_URL}/2", prefix)],
    )


class TcpProxy:
    """A TCP forwarder from a free local port to `target`, which a test can break the way a network
    or a server does: `cut()` drops every connection and closes new ones at once (the server went
    away), `stall()` drops them and holds new ones silently (packets lost), `restore()` forwards."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.mode = "forward"
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._running = True
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> TcpProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._running = False
        self._thread.join()
        self._listener.close()
        self._drop_all()

    def cut(self) -> None:
        self.mode = "cut"
        self._drop_all()

    def stall(self) -> None:
        self.mode = "stall"
        self._drop_all()

    def restore(self) -> None:
        self.mode = "forward"

    def _accept(self) -> None:
        while self._running:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.mode == "cut":
                client.close()
                continue
            with self._lock:
                self._sockets.add(client)
            if self.mode == "stall":
                continue  # held open, never answered, until the next cut/stall/exit
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                self._drop(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.add(upstream)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            self._drop(src)
            self._drop(dst)

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)  # wakes the pump blocked in recv on it
        sock.close()

    def _drop_all(self) -> None:
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            self._drop(sock)
