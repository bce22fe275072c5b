"""One POST is bounded in time (a total deadline, not a per-read timeout) and in bytes (what is read
of an answer is capped), against raw-socket receivers that misbehave on purpose."""

from __future__ import annotations

import time

import pytest

from webhooks.tests.receivers import RawReceiver, flooding, trickling
from webhooks.transport import ANSWER_CAP_BYTES, webhook_post

DEADLINE = 1.0
SLACK = 0.5  # thread start, connect, close: far less than a trickle's 20 s
MIB = 1024 * 1024


def _post(url: str, **kwargs):
    return webhook_post(url=url, body=b"{}", headers={"content-type": "application/json"}, **kwargs)


@pytest.mark.parametrize(
    "head",
    [
        b"H",  # the status line itself, byte by byte
        b"HTTP/1.1 200 OK\r\nX-Filler: ",  # one header that never ends
    ],
    ids=["status-line", "headers"],
)
def test_a_receiver_trickling_its_answer_is_cut_at_the_deadline(head):
    # A byte every 50 ms: a per-read timeout (here, the deadline itself) is never reached.
    with RawReceiver(trickling(head)) as receiver:
        answer = _post(receiver.url, deadline_seconds=DEADLINE)
        assert receiver.closed.wait(5), "the receiver could still write after the call had ended"
    assert DEADLINE <= answer.seconds < DEADLINE + SLACK
    assert answer.status is None
    assert answer.error == "no answer within the 1 s deadline"


def test_a_trickling_body_after_a_status_is_cut_at_the_deadline_and_the_status_stands():
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n"
    with RawReceiver(trickling(head)) as receiver:
        answer = _post(receiver.url, deadline_seconds=DEADLINE)
    assert DEADLINE <= answer.seconds < DEADLINE + SLACK
    assert (answer.status, answer.error) == (200, "")


def test_a_huge_answer_is_not_read_past_the_cap():
    total = 512 * MIB
    head = f"HTTP/1.1 500 Internal Server Error\r\nContent-Length: {total}\r\n\r\n".encode()
    with RawReceiver(flooding(head, total=total)) as receiver:
        answer = _post(receiver.url, deadline_seconds=10)
        assert receiver.closed.wait(5)
    assert answer.status == 500
    assert len(head) < answer.bytes_read <= ANSWER_CAP_BYTES
    assert answer.body == b"x" * 400  # the start kept for the delivery log
    # What the receiver got into the kernel at all: the cap plus the two sockets' buffers.
    assert receiver.sent < 16 * MIB
    assert answer.seconds < 5


def test_headers_over_the_cap_are_an_error_not_read_further():
    head = b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Filler-%d: %s\r\n" % (n, b"y" * 1000) for n in range(90))
    with RawReceiver(flooding(head, total=len(head))) as receiver:
        answer = _post(receiver.url, deadline_seconds=5)
    assert answer.status is None
    assert answer.bytes_read == ANSWER_CAP_BYTES
    assert answer.error.startswith("AnswerTooLarge")


def test_a_small_answer_is_read_to_its_end():
    head = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 11\r\nConnection: close\r\n\r\nmaintenance"
    with RawReceiver(flooding(head, total=0)) as receiver:
        answer = _post(receiver.url, deadline_seconds=5)
    assert (answer.status, answer.body, answer.error) == (503, b"maintenance", "")
    assert answer.bytes_read == len(head)


def test_a_closed_port_is_an_error_at_once():
    started = time.monotonic()
    answer = _post("http://127.0.0.1:9/closed", deadline_seconds=5)
    assert answer.status is None and answer.error.startswith("ConnectionRefusedError")
    assert time.monotonic() - started < 1


def test_a_url_that_is_not_http_is_refused():
    with pytest.raises(ValueError, match="not an http"):
        _post("ftp://example.com/x", deadline_seconds=1)
