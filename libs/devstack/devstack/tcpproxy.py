"""A TCP forwarder a test can break the way a network or a server does."""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpProxy:
    """Forwards a free local port (`port`) to (host, port). `cut()` drops every connection and closes
    new ones at once (the server went away), `stall()` drops them and holds new ones silently (packets
    lost), `restore()` forwards again. A context manager."""

    def __init__(self, host: str, port: int) -> None:
        self.target, self.mode = (host, port), "forward"
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def __enter__(self) -> TcpProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept loop, which ends
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
        with contextlib.suppress(OSError):
            while True:
                client, _ = self._listener.accept()
                if self.mode == "cut":
                    client.close()
                    continue
                self._hold(client)
                if self.mode == "forward":  # a stalled one is held open, never answered
                    threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=2)
        except OSError:
            self._drop(client)
            return
        upstream.settimeout(None)
        self._hold(upstream)
        threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()
        self._pump(client, upstream)

    def _pump(self, source: socket.socket, destination: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                destination.sendall(data)
        self._drop(source)
        self._drop(destination)

    def _hold(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)  # wakes a pump blocked in recv on it
        sock.close()

    def _drop_all(self) -> None:
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            self._drop(sock)
