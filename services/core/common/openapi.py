"""Documented answers shared by the core's endpoints (svckit.openapi draws the error envelope)."""

from svckit.errors import DatabaseUnavailable, TooManyRequests
from svckit.openapi import RETRY_AFTER, error_response, too_many

__all__ = ["RETRY_AFTER", "too_many"]
BAD_BODY_CODES = ("validation_error", "malformed_request")

UNAUTHORIZED = error_response("Missing, invalid or expired access token.", "not_authenticated")
OTP_UNAVAILABLE = error_response("The OTP service cannot be reached (answers within 3 s).", "otp_unavailable")
# Every endpoint that reads or writes the database answers this while it cannot be reached or is read-only.
DATABASE_UNAVAILABLE = error_response(
    "The database cannot be reached or takes no writes (failover); try again after Retry-After.",
    DatabaseUnavailable,
    headers=RETRY_AFTER,
)
OTP_OR_DATABASE_UNAVAILABLE = error_response(
    "The OTP service (answers within 3 s) or the database cannot be reached.", "otp_unavailable", DatabaseUnavailable
)
UNSUPPORTED = error_response("The body is not application/json.", "unsupported_media_type")
TOO_LARGE = error_response("The body is larger than 16 kB.", "payload_too_large")
BODY_ERRORS = {413: TOO_LARGE, 415: UNSUPPORTED}  # any endpoint that reads a JSON body


THROTTLED = too_many("Too many requests from this client.", TooManyRequests)
