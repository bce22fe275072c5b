"""Errors shared by the core's apps; app-specific ones live next to their services."""

from svckit.errors import ApplicationError, ServiceUnavailable, TooManyRequests

__all__ = ["ApplicationError", "InvalidToken", "ServiceUnavailable", "TooManyRequests"]


class InvalidToken(ApplicationError):
    code = "invalid_token"
    message = "The refresh token is invalid, expired or already used."
    status = 401
