"""The OTP service's business errors (rendered by svckit.handlers.exception_handler)."""

from svckit.errors import ServiceUnavailable, TooManyRequests
from svckit.otp import InvalidCode, SmsLimitReached, TooManyAttempts, TooManyFailures

__all__ = [
    "InvalidCode",
    "SmsLimitReached",
    "ServiceUnavailable",
    "TooManyAttempts",
    "TooManyFailures",
    "TooManyRequests",
]
