"""The API's rate limits applied to the pages, with the very same counters: switching between the
API and the pages buys no extra attempts (per client IP for sign-in, per user for invite codes).
The share-link page, which has no API twin, is limited per client IP at the activation's rate."""

from __future__ import annotations

from django.http import HttpRequest

from common.throttles import AuthIpThrottle, InviteIpThrottle, InviteUserThrottle
from svckit.errors import TooManyRequests


def _check(throttle: AuthIpThrottle | InviteIpThrottle | InviteUserThrottle, key: str | None) -> None:
    if key is not None and not throttle.allow_key(key):
        raise TooManyRequests(retry_after=throttle.wait())


def code_check(request: HttpRequest) -> None:
    """The bucket of POST /api/v1/auth/code/ (its throttle_scope)."""
    throttle = AuthIpThrottle()
    _check(throttle, throttle.key_for(request, scope="code"))


def token_check(request: HttpRequest) -> None:
    """The bucket of POST /api/v1/auth/token/ (its throttle_scope)."""
    throttle = AuthIpThrottle()
    _check(throttle, throttle.key_for(request, scope="token"))


def invite_check(request: HttpRequest) -> None:
    """The bucket of POST /api/v1/profile/invite/."""
    throttle = InviteUserThrottle()
    _check(throttle, throttle.get_cache_key(request, None))


def invite_landing_check(request: HttpRequest) -> None:
    """The share-link page /r/<invite_code>/: THROTTLE_INVITE_PER_USER per client IP (its /64 for
    IPv6). Raises TooManyRequests (with retry_after) over the limit."""
    throttle = InviteIpThrottle()
    _check(throttle, throttle.get_cache_key(request, None))
