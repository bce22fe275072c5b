"""One webhook POST on the standard library's http.client, bounded in time and in bytes.

A per-read timeout bounds nothing: a receiver that trickles its answer a byte at a time resets it on
every byte and holds the worker for as long as it likes. So each call has a total deadline, kept by
a timer that shuts the socket down when it passes (which ends a blocked connect handshake, send or
read at once), and everything read from the socket (status line, headers, body) goes through a
stream that refuses to read more than ANSWER_CAP_BYTES. DNS resolution is the one step outside
the deadline (the resolver's own timeouts apply).
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import io
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

ANSWER_CAP_BYTES = 64 * 1024  # all that is ever read of an answer, headers included
ANSWER_KEPT_BYTES = 400  # the start of the body kept for the delivery log
_DRAIN_CHUNK = 8 * 1024


@dataclass(frozen=True)
class Answer:
    status: int | None  # the HTTP status; None when no complete status line and headers arrived
    body: bytes  # the first ANSWER_KEPT_BYTES of the body at most
    error: str  # why there is no status ("" when there is one)
    bytes_read: int  # everything read from the socket, at most ANSWER_CAP_BYTES
    seconds: float  # from the start of the call to its end


class AnswerTooLarge(Exception):
    pass


class _CappedStream(io.RawIOBase):
    """The socket's raw stream (its own makefile, so the socket stays open while it is read, as
    http.client expects once a connection is handed to its response) that reads at most `cap` bytes
    in all, then raises AnswerTooLarge."""

    def __init__(self, sock: socket.socket, cap: int) -> None:
        super().__init__()
        self.raw, self.cap, self.bytes_read = sock.makefile("rb", buffering=0), cap, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        room = self.cap - self.bytes_read
        if room <= 0:
            raise AnswerTooLarge(f"the answer is over {self.cap} bytes")
        view = memoryview(buffer).cast("B")
        count = self.raw.readinto(view[:room]) or 0
        self.bytes_read += count
        return count

    def close(self) -> None:
        self.raw.close()
        super().close()


class _CappedSocket:
    """All that http.client.HTTPResponse asks of its socket: makefile("rb"), here the capped stream."""

    def __init__(self, stream: _CappedStream) -> None:
        self.stream = stream

    def makefile(self, mode: str, *args, **kwargs) -> io.BufferedReader:
        return io.BufferedReader(self.stream)


class _CappedResponse(http.client.HTTPResponse):
    def __init__(self, sock: socket.socket, *args, holder: list[_CappedStream], cap: int, **kwargs) -> None:
        stream = _CappedStream(sock, cap)
        holder.append(stream)
        super().__init__(_CappedSocket(stream), *args, **kwargs)  # type: ignore[arg-type]


class _Deadline:
    """Shuts the connection's socket down when `seconds` have passed since start()."""

    def __init__(self, connection: http.client.HTTPConnection, seconds: float) -> None:
        self.connection, self.expired = connection, threading.Event()
        self.timer = threading.Timer(seconds, self._expire)
        self.timer.daemon = True

    def _expire(self) -> None:
        self.expired.set()
        sock = self.connection.sock
        if sock is not None:
            # socket.socket's own shutdown, also for an SSLSocket: the TLS object stays with the
            # thread that is blocked in it, which then sees the end of the stream.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def __enter__(self) -> _Deadline:
        self.timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.timer.cancel()


def _connection(url: str, seconds: float) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if parts.scheme == "https":  # certificates and host names checked against the system's CAs
        context = ssl.create_default_context()
        return http.client.HTTPSConnection(parts.hostname, parts.port, timeout=seconds, context=context), target
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=seconds), target


def webhook_post(
    *, url: str, body: bytes, headers: dict[str, str], deadline_seconds: float, cap_bytes: int = ANSWER_CAP_BYTES
) -> Answer:
    """POST `body` to `url` (http or https; redirects are not followed) and return the Answer.

    Never raises for the network or the receiver: a refused connection, a TLS failure, an answer
    that is not HTTP, headers over `cap_bytes` or a call still running after `deadline_seconds`
    (connect, TLS, send and answer together) all come back as an Answer with `error` set. Of a
    body, at most `cap_bytes` (less the headers) is read; the rest is left unread when the
    connection closes. Raises ValueError for a URL that is not http(s)."""
    started = time.monotonic()
    connection, target = _connection(url, deadline_seconds)
    holder: list[_CappedStream] = []
    connection.response_class = functools.partial(_CappedResponse, holder=holder, cap=cap_bytes)  # type: ignore[assignment]
    status, kept, error = None, b"", ""
    with _Deadline(connection, deadline_seconds) as deadline:
        try:
            connection.connect()
            if deadline.expired.is_set():
                raise TimeoutError("connect")
            connection.request("POST", target, body=body, headers=headers)
            response = connection.getresponse()
            if deadline.expired.is_set():  # http.client takes the end of the stream for the end of the headers
                raise TimeoutError("headers")
            status = response.status
            with contextlib.suppress(AnswerTooLarge):
                kept = response.read(ANSWER_KEPT_BYTES)
                while response.read(_DRAIN_CHUNK):  # lets a small answer end cleanly
                    pass
        except (OSError, http.client.HTTPException, AnswerTooLarge, ValueError) as exc:
            # Once the status and headers are in, the answer is given: a body cut short changes nothing.
            if status is None:
                expired = deadline.expired.is_set()
                error = (
                    f"no answer within the {deadline_seconds:g} s deadline"
                    if expired
                    else f"{type(exc).__name__}: {exc}"
                )
        finally:
            connection.close()
    return Answer(
        status=status,
        body=kept,
        error=error,
        bytes_read=sum(stream.bytes_read for stream in holder),
        seconds=time.monotonic() - started,
    )
