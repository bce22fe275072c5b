"""The OTP service's Prometheus metrics: the one module that defines them, so every part of the
service (and any new SMS backend or abuse guard) counts into the same objects.

Names follow Prometheus' conventions (https://prometheus.io/docs/practices/naming/): counters end in
`_total` (prometheus-client adds it), durations are in seconds. The web processes and the worker
each export their own values; the scraper sums them across processes and replicas.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

CODES_SENT = Counter("otp_codes_sent", "Codes stored and handed to SMS delivery.")
CODES_VERIFIED = Counter("otp_codes_verified", "Codes verified: the right code, now burned.")
CODES_FAILED = Counter(
    "otp_codes_failed",
    "Code sends or verifications refused, by error code (invalid_code, too_many_attempts, too_many_requests).",
    ["reason"],
)
SMS_QUEUED = Counter("otp_sms_queued", "SMS messages queued on the broker for delivery.")
SMS_DELIVERED = Counter("otp_sms_delivered", "SMS messages sent by a backend (once per message id).", ["backend"])
SMS_FAILED = Counter(
    "otp_sms_failed",
    "SMS messages that will not be sent, by reason (not_queued, code_expired, retries_exhausted, "
    "providers_exhausted: every provider refused or ran out of attempts, in_doubt: a provider call "
    "got no answer and is never repeated).",
    ["reason"],
)
SMS_REFUSED = Counter(
    "otp_sms_refused",
    "Queued SMS messages the worker refused to send because their sealed code does not open for them, "
    "by reason (forged: not sealed by this service; altered: sealed for another message id or phone, "
    "a redirection attempt; old_format: sealed before codes were bound to their message). See codes.sealing.",
    ["reason"],
)
SMS_ATTEMPTS = Counter(
    "otp_sms_attempts",
    "SMS delivery attempts (one per backend call), by provider and status "
    "(sent, skipped, not_sent, rejected, in_doubt); see codes.delivery_log.",
    ["provider", "status"],
)
SMS_PROVIDER_SECONDS = Histogram(
    "otp_sms_provider_call_seconds",
    "Duration of one call to an SMS provider's API, in seconds.",
    ["provider"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0),
)
TEST_NUMBER_USES = Counter("otp_test_number_uses", "Uses of OTP_TEST_NUMBERS, by action (send, verify).", ["action"])
SMS_GUARD_TRIPS = Counter(
    "otp_sms_guard_trips",
    "Codes the SMS-pumping guard refused (mode enforce) or would have refused (mode shadow), by scope "
    "(prefix, country, service, conversion).",
    ["scope", "mode"],
)
SMS_DELIVERY_LAG = Histogram(
    "otp_sms_delivery_lag_seconds",
    "From the code request to the backend's send, in seconds (the 1-2 s countdown included).",
    buckets=(0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 10.0, 30.0, 60.0, 300.0),
)
