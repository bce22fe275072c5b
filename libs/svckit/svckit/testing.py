"""Process helpers for both services' end-to-end and fault tests: free ports, polling, stopping
process groups, and a private throwaway Redis (the machine's shared servers are never stopped)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def stop(processes: list[subprocess.Popen], sig: int = signal.SIGTERM) -> None:
    """Signal every process group at once (they shut down in parallel), SIGKILL what lingers."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, sig)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class PrivateRedis:
    """A throwaway redis-server on a free port: stop() and start() it again on the same port.
    With `appendonly`, it keeps its data across a restart as compose's Redis does (an append-only
    file, fsynced every second and on shutdown)."""

    def __init__(self, *, appendonly: bool = False) -> None:
        self.appendonly = appendonly
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="redis-private-")
        self.url = f"redis://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        aof = "yes" if self.appendonly else "no"
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", aof, "--dir", self.dir]
        self.process = subprocess.Popen([binary, *args], stdout=subprocess.DEVNULL, start_new_session=True)
        assert wait_until(self._up, 5), "the private Redis did not start"

    def _up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process:
            stop([self.process])
        self.process = None


@contextmanager
def private_redis(*, appendonly: bool = False) -> Iterator[PrivateRedis]:
    server = PrivateRedis(appendonly=appendonly)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.dir, ignore_errors=True)
