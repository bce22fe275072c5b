"""A TCP forwarder (Debian's socat, under mirakuru) a test can break the way a network or a server does."""

from __future__ import annotations

from mirakuru import TCPExecutor
from port_for import select_random


class TcpProxy:
    """Forwards a free local port (`port`) to (host, port). `cut()` drops every connection and refuses
    new ones (the server went away), `stall()` accepts new ones and holds them open, silent (packets
    lost), `restore()` forwards again. A context manager."""

    def __init__(self, host: str, port: int) -> None:
        self.port, self.target = select_random(), f"TCP:{host}:{port}"
        self._socat: TCPExecutor | None = None

    def __enter__(self) -> TcpProxy:
        self.restore()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cut()

    def cut(self) -> None:
        if self._socat:  # mirakuru stops its process group: the forks holding connections too
            self._socat.stop()
            self._socat = None

    def stall(self) -> None:
        self._listen("EXEC:sleep 3600")

    def restore(self) -> None:
        self._listen(self.target)

    def _listen(self, to: str) -> None:
        self.cut()
        listen = f"TCP-LISTEN:{self.port},bind=127.0.0.1,reuseaddr,fork"
        # socat exits 128 + SIGTERM's number when stopped
        self._socat = TCPExecutor(["socat", listen, to], "127.0.0.1", self.port, timeout=10, expected_returncode=143)
        self._socat.start()
