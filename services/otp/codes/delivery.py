"""Delivery through real providers (SMS_BACKEND=twilio, smsru or a list of them): one provider call
per attempt, never two for one message id.

Each call first takes the message's delivery mark in Redis (`sending`), then settles it:
  sent       accepted; the record keeps the provider's message id;
  retry      nothing was accepted (no connection, 429, 5xx, refused): the mark may be taken again;
  failed     nothing was accepted and no provider or attempt is left;
  in_doubt   the request left and no answer came (read timeout, dropped connection).
A mark found `sending` or `in_doubt` is never sent again: a worker killed mid-call leaves `sending`,
and the provider may have accepted the message. So an in-doubt message errs toward at most once:
a second SMS would cost money and is what SMS pumping feeds on, while a lost code costs the user
one tap on "send again" after the cooldown (a new message id). Neither provider offers an
idempotency key that would make a resend safe."""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings

from codes import store
from codes.providers import PROVIDERS, InDoubt, NotSent, ProviderError, Rejected

logger = logging.getLogger("sms.delivery")


@dataclass(frozen=True)
class Step:
    """What the task does next: `done` (sent, given up, or not ours to send) or `retry` the call
    with `provider_index` and `attempt` after `countdown` seconds."""

    action: str  # "done" | "retry"
    sent: bool = False
    provider_index: int = 0
    attempt: int = 1
    countdown: float = 0.0


def _backoff(attempt: int, retry_after: float) -> float:
    """Exponential backoff with jitter (half fixed, half random), never under the provider's
    Retry-After, capped below the broker's visibility timeout."""
    ceiling = min(settings.SMS_RETRY_BACKOFF_MAX_SECONDS, settings.SMS_RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1))
    delay = random.uniform(ceiling / 2, ceiling)
    return min(max(delay, retry_after), settings.SMS_RETRY_BACKOFF_MAX_SECONDS)


def _record(status: str, provider: str, attempts: int, **fields: object) -> str:
    return json.dumps({"status": status, "provider": provider, "attempts": attempts, **fields}, sort_keys=True)


def _lag_ms(requested_at: str) -> int:
    try:
        return int((datetime.now(UTC) - datetime.fromisoformat(requested_at)).total_seconds() * 1000)
    except ValueError:
        return -1


def _log_attempt(level: int, **fields: object) -> None:
    # One structured line per provider call; it never holds the code or the text.
    logger.log(level, "sms_attempt %s", json.dumps(fields, sort_keys=True))


def provider_deliver(
    *, message_id: str, phone: str, text: str, requested_at: str, provider_index: int, attempt: int, calls: int
) -> Step:
    """One attempt with provider SMS_PROVIDERS[provider_index] (its `attempt`-th; `calls` counts
    every provider call for this message, this one included) and what to do next. Transient
    failures are retried up to SMS_PROVIDER_ATTEMPTS times per provider with backoff; a provider
    that fails for good (refused, or out of attempts) hands over to the next one at once."""
    providers = settings.SMS_PROVIDERS
    provider = providers[provider_index]
    claim = _record("sending", provider, calls, token=uuid.uuid4().hex)
    held = store.sms_claim(message_id=message_id, claim=claim)
    if held is not None:
        _log_attempt(logging.INFO, message_id=message_id, provider=provider, status="skipped", mark=held[:200])
        return Step(action="done")

    started = time.monotonic()
    fields = {"message_id": message_id, "provider": provider, "attempt": calls}
    try:
        provider_id = PROVIDERS[provider](phone=phone, text=text)
    except InDoubt as exc:
        store.sms_settle(message_id=message_id, claim=claim, record=_record("in_doubt", provider, calls))
        _log_attempt(logging.ERROR, **fields, status="in_doubt", reason=exc.reason, ms=_ms(started))
        return Step(action="done")
    except (NotSent, Rejected) as exc:
        return _after_failure(
            exc,
            message_id=message_id,
            claim=claim,
            provider_index=provider_index,
            attempt=attempt,
            calls=calls,
            fields=fields,
            started=started,
        )
    store.sms_settle(
        message_id=message_id,
        claim=claim,
        record=_record("sent", provider, calls, provider_id=provider_id, sent_at=datetime.now(UTC).isoformat()),
    )
    _log_attempt(
        logging.INFO, **fields, status="sent", provider_id=provider_id, ms=_ms(started), lag_ms=_lag_ms(requested_at)
    )
    return Step(action="done", sent=True)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _after_failure(
    exc: ProviderError,
    *,
    message_id: str,
    claim: str,
    provider_index: int,
    attempt: int,
    calls: int,
    fields: dict,
    started: float,
) -> Step:
    transient = isinstance(exc, NotSent)
    if transient and attempt < settings.SMS_PROVIDER_ATTEMPTS:
        step = Step(
            action="retry",
            provider_index=provider_index,
            attempt=attempt + 1,
            countdown=_backoff(attempt, exc.retry_after),
        )
    elif provider_index + 1 < len(settings.SMS_PROVIDERS):
        step = Step(action="retry", provider_index=provider_index + 1, attempt=1)
    else:
        step = Step(action="done")
    status = "retry" if step.action == "retry" else "failed"
    store.sms_settle(
        message_id=message_id,
        claim=claim,
        record=_record(status, exc.provider, calls, error_code=exc.error_code),
    )
    level = logging.WARNING if transient else logging.ERROR
    _log_attempt(
        level,
        **fields,
        status="not_sent" if transient else "rejected",
        next=status,
        error_code=exc.error_code,
        reason=exc.reason[:200],
        ms=_ms(started),
    )
    return step
