"""Provider retries on a real Celery worker and the real Redis broker: the retry is the task again
with a countdown (backoff with jitter), never a sleep, and it still sends exactly once."""

from __future__ import annotations

import json
import time

import pytest
from werkzeug import Response

from codes import services
from codes.tests.test_providers import TWILIO_CREATED, TWILIO_PATH
from config.celery import app as celery_app


@pytest.mark.worker
def test_a_500_is_retried_by_the_worker_after_a_backoff(
    celery_worker, providers, httpserver, phone, known_code, monkeypatch
):
    providers.SMS_PROVIDERS = ["twilio"]
    providers.SMS_RETRY_BACKOFF_SECONDS = 1.0
    calls: list[tuple[float, str]] = []

    def answer(status: int, body: dict):
        def handler(request):
            calls.append((time.monotonic(), request.form["Body"]))
            return Response(json.dumps(body), status=status, content_type="application/json")

        return handler

    httpserver.expect_ordered_request(TWILIO_PATH).respond_with_handler(answer(500, {"code": 20500}))
    httpserver.expect_ordered_request(TWILIO_PATH).respond_with_handler(answer(201, TWILIO_CREATED))
    published: list[tuple[str | None, str | None]] = []
    as_task = celery_app.amqp.create_task_message

    def recorded(task_id, name, *args, **options):  # the real message, noted on its way to the broker
        published.append((options.get("argsrepr"), options.get("kwargsrepr")))
        return as_task(task_id, name, *args, **options)

    monkeypatch.setattr(celery_app.amqp, "create_task_message", recorded)
    known_code("2468")
    services.otp_send(phone=phone)

    deadline = time.monotonic() + 10
    while len(calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1)
    assert [body for _, body in calls] == ["Your sign-in code: 2468"] * 2
    assert 0.5 <= calls[1][0] - calls[0][0] <= 2.0, "the first retry waits 0.5–1 s (1 s backoff, half of it jitter)"
    # The first message and its retry: neither repeats the phone or the sealed code in its headers.
    assert len(published) == 2 and len({kwargsrepr for _, kwargsrepr in published}) == 1
    assert all(argsrepr == "" and kwargsrepr and phone not in kwargsrepr for argsrepr, kwargsrepr in published)
