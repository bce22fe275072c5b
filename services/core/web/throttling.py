"""The API's rate limits applied to the pages, with the very same counters: switching between the
API and the pages buys no extra attempts (per client IP for sign-in, per user for invite codes)."""

from __future__ import annotations

from django.http import HttpRequest

from common.throttles import AuthIpThrottle, InviteUserThrottle
from svckit.errors import TooManyRequests
from users.apis.auth import AuthCodeApi, AuthTokenApi


def _check(throttle, request: HttpRequest, view) -> None:
    if not throttle.allow_request(request, view):
        raise TooManyRequests(retry_after=throttle.wait())


def code_check(request: HttpRequest) -> None:
    """The bucket of POST /api/v1/auth/code/."""
    _check(AuthIpThrottle(), request, AuthCodeApi)


def token_check(request: HttpRequest) -> None:
    """The bucket of POST /api/v1/auth/token/."""
    _check(AuthIpThrottle(), request, AuthTokenApi)


def invite_check(request: HttpRequest) -> None:
    """The bucket of POST /api/v1/profile/invite/."""
    _check(InviteUserThrottle(), request, None)
