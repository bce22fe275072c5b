"""The delivery log: one structured line per SMS attempt, whatever the backend, and its metrics.

A line is `sms_attempt {json}` on logger `sms.delivery`, with message_id, provider (a provider's
name, or `console`/`inbox`), attempt (1 for the first call for this message id), status, lag_ms
(since the code was requested) and, as they apply, provider_id, error_code, reason, ms (the call's
duration) and next (what the task does after a failure). It never holds the code or the text:
the fields are ids, names, numbers, and the providers' error texts cut to 200 characters.

status: sent · skipped (already delivered, or being sent by another copy of the task) ·
not_sent (transient: retried) · rejected (refused for good) · in_doubt (no answer after the request
left: never sent again)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from codes.metrics import SMS_ATTEMPTS, SMS_PROVIDER_SECONDS

logger = logging.getLogger("sms.delivery")
LEVELS = {"sent": logging.INFO, "skipped": logging.INFO, "not_sent": logging.WARNING}


def lag_ms(requested_at: str) -> int:
    """Milliseconds from the code request (ISO 8601 with offset) to now; -1 if unreadable."""
    try:
        return int((datetime.now(UTC) - datetime.fromisoformat(requested_at)).total_seconds() * 1000)
    except (TypeError, ValueError):
        return -1


def delivery_log(
    *,
    message_id: str,
    provider: str,
    attempt: int,
    status: str,
    requested_at: str,
    seconds: float | None = None,
    **fields: object,
) -> None:
    """Write one attempt's line and count it: otp_sms_attempts_total{provider, status}, and the
    call's duration in otp_sms_provider_call_seconds{provider} when `seconds` is given."""
    SMS_ATTEMPTS.labels(provider=provider, status=status).inc()
    record = {"message_id": message_id, "provider": provider, "attempt": attempt, "status": status}
    record["lag_ms"] = lag_ms(requested_at)
    if seconds is not None:
        SMS_PROVIDER_SECONDS.labels(provider=provider).observe(seconds)
        record["ms"] = int(seconds * 1000)
    record.update({key: str(value)[:200] if key == "reason" else value for key, value in fields.items()})
    logger.log(LEVELS.get(status, logging.ERROR), "sms_attempt %s", json.dumps(record, sort_keys=True))
