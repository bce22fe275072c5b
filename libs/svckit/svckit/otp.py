"""The OTP contract's errors: the OTP service raises them and the core passes them on unchanged."""

from svckit.errors import ApplicationError


class InvalidPhone(ApplicationError):
    code = "invalid_phone"
    message = "Enter a valid phone number."


class InvalidCode(ApplicationError):
    code = "invalid_code"
    message = "The code is wrong or has expired."


class TooManyAttempts(ApplicationError):
    code = "too_many_attempts"
    message = "Too many wrong codes. Request a new code."
    status = 429
