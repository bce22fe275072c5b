"""Delivery through the SMS_BACKEND's providers, the development ones (console, inbox) and the real
ones (twilio, smsru, a list of them) alike: one provider call per attempt, never two for one
message id.

Each call first takes the message's delivery record in Redis (`sending`), then settles it:
  sent       accepted; the record keeps the provider's message id;
  retry      nothing was accepted (no connection, 429, 5xx, refused): the record may be taken again;
  failed     nothing was accepted and no provider or attempt is left;
  in_doubt   the request left and no answer came (read timeout, dropped connection).
A record found `sending` or `in_doubt` is never sent again: a worker killed mid-call leaves
`sending`, and the provider may have accepted the message. So an in-doubt message errs toward at
most once: a second SMS would cost money and is what SMS pumping feeds on, while a lost code costs
the user one tap on "send again" after the cooldown (a new message id). Neither provider offers an
idempotency key that would make a resend safe. Redis lost between a call and its settle leaves
`sending` too."""

from __future__ import annotations

import json
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from django.conf import settings

from codes import store
from codes.delivery_log import delivery_log, lag_ms
from codes.dev_providers import console_send, inbox_send
from codes.providers import InDoubt, NotSent, ProviderError, Rejected, Sms, smsru_send, twilio_send

PROVIDERS = {"console": console_send, "inbox": inbox_send, "twilio": twilio_send, "smsru": smsru_send}
# Runs of the task while Redis cannot hold the delivery record: 45-90 s with the default backoff
# (1 s doubling, capped at 20 s), then the message fails (otp_sms_failed_total{retries_exhausted}).
RECORD_RETRIES = 8


@dataclass(frozen=True)
class Step:
    """What the task does next: `done`, with the message's `outcome` (sent, failed, in_doubt, or
    skipped: not ours to send), or `retry` after `countdown` seconds, the next run standing at
    `provider_index`, `attempt` (of that provider), `calls` (provider calls, the next one included)
    and `outages` (runs so far that found Redis unavailable)."""

    action: str  # "done" | "retry"
    outcome: str = ""
    provider: str = ""
    provider_index: int = 0
    attempt: int = 1
    calls: int = 1
    outages: int = 0
    countdown: float = 0.0

    @property
    def sent(self) -> bool:
        return self.outcome == "sent"


def _backoff(attempt: int, retry_after: float = 0.0) -> float:
    """Seconds before the `attempt`-th retry: exponential (SMS_RETRY_BACKOFF_SECONDS doubling) with
    jitter (half fixed, half random), never under the provider's Retry-After, capped at
    SMS_RETRY_BACKOFF_MAX_SECONDS, below the broker's visibility timeout."""
    ceiling = min(settings.SMS_RETRY_BACKOFF_MAX_SECONDS, settings.SMS_RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1))
    delay = random.uniform(ceiling / 2, ceiling)
    return min(max(delay, retry_after), settings.SMS_RETRY_BACKOFF_MAX_SECONDS)


def _record(status: str, provider: str, attempts: int, **fields: object) -> str:
    return json.dumps({"status": status, "provider": provider, "attempts": attempts, **fields}, sort_keys=True)


def provider_deliver(*, sms: Sms, provider_index: int, attempt: int, calls: int, outages: int = 0) -> Step:
    """One attempt with provider SMS_PROVIDERS[provider_index] (its `attempt`-th; `calls` counts
    every provider call for this message, this one included) and what to do next. Transient
    failures are retried up to SMS_PROVIDER_ATTEMPTS times per provider with backoff; a provider
    that fails for good (refused, or out of attempts) hands over to the next one at once. Redis
    unavailable for the delivery record: the same attempt again with backoff, RECORD_RETRIES times.
    Every attempt writes one delivery log line (codes.delivery_log).
    Raises redis.RedisError when Redis is still unavailable after RECORD_RETRIES runs."""
    provider = settings.SMS_PROVIDERS[provider_index]
    log = {"message_id": sms.message_id, "provider": provider, "attempt": calls, "requested_at": sms.requested_at}
    try:
        return _attempt(sms, provider, provider_index, attempt, calls, log)
    except redis.RedisError as exc:
        if outages >= RECORD_RETRIES:
            raise
        delivery_log(**log, status="not_sent", reason=f"delivery record unavailable: {exc}", next="retry")
        countdown = _backoff(outages + 1)
        return Step(
            "retry",
            provider_index=provider_index,
            attempt=attempt,
            calls=calls,
            outages=outages + 1,
            countdown=countdown,
        )


def _attempt(sms: Sms, provider: str, provider_index: int, attempt: int, calls: int, log: dict) -> Step:
    claim = _record("sending", provider, calls, token=uuid.uuid4().hex)
    held = store.sms_claim(message_id=sms.message_id, claim=claim)
    if held is not None:
        delivery_log(**log, status="skipped", mark=held[:200])
        return Step(action="done", outcome="skipped", provider=provider)

    started = time.monotonic()
    try:
        provider_id = PROVIDERS[provider](sms)
    except InDoubt as exc:
        delivery_log(**log, status="in_doubt", seconds=time.monotonic() - started, reason=exc.reason)
        store.sms_settle(message_id=sms.message_id, claim=claim, record=_record("in_doubt", provider, calls))
        return Step(action="done", outcome="in_doubt", provider=provider)
    except (NotSent, Rejected) as exc:
        step = _next_step(exc, provider_index=provider_index, attempt=attempt, calls=calls)
        next_status = "retry" if step.action == "retry" else "failed"
        delivery_log(
            **log,
            status="not_sent" if isinstance(exc, NotSent) else "rejected",
            seconds=time.monotonic() - started,
            error_code=exc.error_code,
            reason=exc.reason,
            next=next_status,
        )
        record = _record(next_status, provider, calls, error_code=exc.error_code)
        store.sms_settle(message_id=sms.message_id, claim=claim, record=record)
        return step
    seconds = time.monotonic() - started
    delivery_log(**log, status="sent", seconds=seconds, provider_id=provider_id)
    sent_at = datetime.now(UTC).isoformat()
    fields = {"provider_id": provider_id, "sent_at": sent_at, "lag_ms": lag_ms(sms.requested_at)}
    store.sms_settle(message_id=sms.message_id, claim=claim, record=_record("sent", provider, calls, **fields))
    return Step(action="done", outcome="sent", provider=provider)


def _next_step(exc: ProviderError, *, provider_index: int, attempt: int, calls: int) -> Step:
    if isinstance(exc, NotSent) and attempt < settings.SMS_PROVIDER_ATTEMPTS:
        countdown = _backoff(attempt, exc.retry_after)
        return Step("retry", provider_index=provider_index, attempt=attempt + 1, calls=calls + 1, countdown=countdown)
    if provider_index + 1 < len(settings.SMS_PROVIDERS):
        return Step("retry", provider_index=provider_index + 1, attempt=1, calls=calls + 1)
    return Step(action="done", outcome="failed", provider=exc.provider)
