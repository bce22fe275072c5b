"""Request-rate limits. Counters live in the default cache's Redis, so every web worker process
shares them, and each check is one atomic script: DRF's own throttle reads the history, then
writes it back, so parallel requests from one address across workers all saw room and got through.
Rates are read from settings on each request, so tests and load tests can change them. Every
per-address limit keys the client by `client_address`: one IPv6 /64 is one client."""

from __future__ import annotations

import functools
import ipaddress
import logging
import uuid

import redis
from django.conf import settings
from django.core.cache import cache
from django_redis import get_redis_connection
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from svckit.sliding_window import HIT

logger = logging.getLogger(__name__)

# An ISP hands each IPv6 subscriber at least a /64 (RFC 6177, RIPE-690): the addresses inside it are
# one client's to rotate through, so a limit keyed by the whole address would never bite.
IPV6_CLIENT_PREFIX = 64


def client_address(request) -> str:
    """The client as every per-address limit counts it (the API's throttles, the pages', the admin's
    login lockout): the address DRF's `get_ident` finds (the socket's, or the TRUSTED_PROXY_COUNT-th
    X-Forwarded-For entry from the right), then an IPv4 address as is, an IPv4-mapped IPv6 address
    (`::ffff:203.0.113.7`) as its IPv4 address, and any other IPv6 address as the first address of its
    /64 (`2001:db8:1:2::`, still a valid address for django-axes to store). Anything unparsable is
    returned stripped, as DRF would."""
    raw = (BaseThrottle().get_ident(request) or "").strip()
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False).network_address)
    return str(address)


@functools.cache
def _hit_script(client: redis.Redis):
    """Built once per connection: register_script hashes the source on every call."""
    return client.register_script(HIT)


def _fail_open() -> bool:
    return bool(settings.CACHES["default"].get("OPTIONS", {}).get("IGNORE_EXCEPTIONS"))


def rate_hit(*, key: str, limit: int, window_seconds: int) -> float:
    """Count one hit on `key`; 0 if it is within `limit` per window, else seconds until one is free."""
    try:
        wait_ms = _hit_script(get_redis_connection("default"))(
            keys=[cache.make_key(key)], args=[window_seconds * 1000, limit, uuid.uuid4().hex]
        )
    except redis.RedisError as exc:
        # With Redis down the limits fail open (IGNORE_EXCEPTIONS, the production setting): the OTP
        # service keeps its own per-phone limits, and availability wins.
        if not _fail_open():
            raise
        logger.warning("throttle counters unavailable, not limiting: %s", exc)
        return 0
    return int(wait_ms) / 1000


class _SettingsRateThrottle(SimpleRateThrottle):
    rate_setting: str
    num_requests: int  # set by SimpleRateThrottle.__init__ from the parsed rate
    duration: int
    _wait = 0.0

    def get_rate(self) -> str:
        return getattr(settings, self.rate_setting)

    def get_ident(self, request) -> str:
        return client_address(request)

    def allow_request(self, request, view) -> bool:
        key = self.get_cache_key(request, view)
        return key is None or self.allow_key(key)

    def allow_key(self, key: str) -> bool:
        """One hit on the counter `key`; False when it is over the rate (then wait() says how long)."""
        self._wait = rate_hit(key=key, limit=self.num_requests, window_seconds=self.duration)
        return self._wait == 0

    def wait(self) -> float:
        return self._wait


class AuthIpThrottle(_SettingsRateThrottle):
    """Per client IP (see TRUSTED_PROXY_COUNT); each view names its own bucket in `throttle_scope`."""

    rate_setting = "THROTTLE_AUTH_PER_IP"

    def get_cache_key(self, request, view):
        return self.key_for(request, scope=view.throttle_scope)

    def key_for(self, request, *, scope: str) -> str:
        """The client IP's counter for one sign-in step: `scope` is "code" or "token", as the views name it."""
        return self.cache_format % {"scope": f"auth_ip:{scope}", "ident": self.get_ident(request)}


class InviteIpThrottle(_SettingsRateThrottle):
    """Per client IP, at the activation's rate: caps guessing invite codes on the share-link page
    /r/<code>/, which needs no account and shows whose code it is."""

    rate_setting = "THROTTLE_INVITE_PER_USER"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": "invite_ip", "ident": self.get_ident(request)}


class InviteUserThrottle(_SettingsRateThrottle):
    """Per signed-in user: caps guessing other people's invite codes."""

    rate_setting = "THROTTLE_INVITE_PER_USER"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": "invite_user", "ident": request.user.pk}
