"""A TCP forwarder a test can break the way a network or a server does."""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpProxy:
    """Forwards a free local port (`port`) to (host, port). `cut()` drops every connection and closes
    new ones at once (the server went away), `stall()` drops them and holds new ones open, silent
    (packets lost), `restore()` forwards again. A context manager."""

    def __init__(self, host: str, port: int) -> None:
        self.target, self.mode = (host, port), "forward"
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()  # set.add / discard / list(set) are atomic in CPython

    def __enter__(self) -> TcpProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # ends the accept loop
        self._listener.close()
        self.cut()

    def cut(self) -> None:
        self._switch("cut")

    def stall(self) -> None:
        self._switch("stall")

    def restore(self) -> None:
        self.mode = "forward"

    def _switch(self, mode: str) -> None:
        self.mode = mode
        for sock in list(self._open):
            self._drop(sock)

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client = self._listener.accept()[0]
                if self.mode == "cut":
                    client.close()
                    continue
                self._open.add(client)
                if self.mode == "forward":
                    threading.Thread(target=self._forward, args=(client,), daemon=True).start()

    def _forward(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=2)
        except OSError:
            self._drop(client)
            return
        upstream.settimeout(None)
        self._open.add(upstream)
        threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()
        self._pump(client, upstream)

    def _pump(self, source: socket.socket, destination: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                destination.sendall(data)
        self._drop(source)
        self._drop(destination)

    def _drop(self, sock: socket.socket) -> None:
        self._open.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)  # wakes a pump blocked in recv on it
        sock.close()
