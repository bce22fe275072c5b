"""A raw TCP webhook receiver in a thread, for the answers no well-behaved HTTP server gives: one that
trickles its answer a byte at a time, one that sends far more than anyone should read."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable

Answer = Callable[[socket.socket, "RawReceiver"], None]


class RawReceiver:
    """Reads each request's head and body, then runs `answer(conn, receiver)`; `sent` counts the bytes
    the answers got into the kernel, `closed` is set when a client is gone."""

    def __init__(self, answer: Answer) -> None:
        self.answer, self.sent, self.requests = answer, 0, 0
        self.closed = threading.Event()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}/hooks/referrals"

    def __enter__(self) -> RawReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)
        self.server.close()

    def send(self, conn: socket.socket, data: bytes) -> bool:
        """False once the client has gone."""
        try:
            conn.sendall(data)
        except OSError:
            self.closed.set()
            return False
        self.sent += len(data)
        return True

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(30)
                self._read_request(conn)
                self.requests += 1
                self.answer(conn, self)

    @staticmethod
    def _read_request(conn: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
        )
        while len(body) < length:
            body += conn.recv(65536)

    def trickle(self, conn: socket.socket, data: bytes, *, every: float, stop: threading.Event) -> None:
        """`data`, one byte every `every` seconds, until the client goes or `stop` is set."""
        for byte in data:
            if stop.is_set() or self.stopping.is_set() or not self.send(conn, bytes([byte])):
                return
            time.sleep(every)


def trickling(head: bytes, *, every: float = 0.05, seconds: float = 20) -> Answer:
    """An answer that sends `head` at once, then filler a byte every `every` s for `seconds`."""

    def answer(conn: socket.socket, receiver: RawReceiver) -> None:
        if receiver.send(conn, head):
            receiver.trickle(conn, b"x" * int(seconds / every), every=every, stop=receiver.stopping)

    return answer


def flooding(head: bytes, *, total: int) -> Answer:
    """An answer that sends `head`, then up to `total` bytes as fast as the client takes them."""

    def answer(conn: socket.socket, receiver: RawReceiver) -> None:
        chunk = b"x" * 65536
        if receiver.send(conn, head):
            while receiver.sent < total and receiver.send(conn, chunk):
                pass
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)

    return answer


def slow(seconds: float, status: bytes = b"204 No Content") -> Answer:
    """An answer that takes `seconds` to come, then is complete."""

    def answer(conn: socket.socket, receiver: RawReceiver) -> None:
        if not receiver.stopping.wait(seconds):
            receiver.send(conn, b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    return answer
