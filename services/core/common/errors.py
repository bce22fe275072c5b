"""Errors shared by the core's apps; app-specific ones live next to their services."""

from django.utils.translation import gettext_lazy as _

from svckit.errors import ApplicationError, ServiceUnavailable, TooManyRequests

__all__ = ["ApplicationError", "InvalidToken", "ServiceUnavailable", "TooManyRequests"]


class InvalidToken(ApplicationError):
    code = "invalid_token"
    message = _("The refresh token is invalid, expired or already used.")
    status = 401
