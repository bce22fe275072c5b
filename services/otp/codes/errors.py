"""The OTP service's business errors (rendered by svckit.errors.exception_handler)."""

from svckit.errors import ApplicationError, ServiceUnavailable, TooManyRequests

__all__ = ["InvalidCode", "InvalidPhone", "ServiceUnavailable", "TooManyAttempts", "TooManyRequests"]


class InvalidPhone(ApplicationError):
    code = "invalid_phone"
    message = "Send the phone number in E.164 format, e.g. +79991234567."


class InvalidCode(ApplicationError):
    code = "invalid_code"
    message = "The code is wrong or has expired."


class TooManyAttempts(ApplicationError):
    code = "too_many_attempts"
    message = "Too many wrong codes. Request a new code."
    status = 429
