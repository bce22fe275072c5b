"""The OTP service's business errors (rendered by svckit.errors.exception_handler)."""

from svckit.errors import ServiceUnavailable, TooManyRequests
from svckit.otp import InvalidCode, SmsLimitReached, TooManyAttempts, TooManyFailures
from svckit.otp import InvalidPhone as _InvalidPhone

__all__ = [
    "InvalidCode",
    "InvalidPhone",
    "SmsLimitReached",
    "ServiceUnavailable",
    "TooManyAttempts",
    "TooManyFailures",
    "TooManyRequests",
]


class InvalidPhone(_InvalidPhone):
    message = "Send the phone number in E.164 format, e.g. +79991234567."
