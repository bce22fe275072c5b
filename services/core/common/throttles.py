"""Request-rate limits. Counters live in the default cache (Redis), so every gunicorn worker
shares them. Rates are read from settings on each request, so tests and load tests can change them."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class _SettingsRateThrottle(SimpleRateThrottle):
    rate_setting: str

    def get_rate(self) -> str:
        return getattr(settings, self.rate_setting)


class AuthIpThrottle(_SettingsRateThrottle):
    """Per client IP (see TRUSTED_PROXY_COUNT); each view names its own bucket in `throttle_scope`."""

    rate_setting = "THROTTLE_AUTH_PER_IP"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": f"auth_ip:{view.throttle_scope}", "ident": self.get_ident(request)}


class InviteUserThrottle(_SettingsRateThrottle):
    """Per signed-in user: caps guessing other people's invite codes."""

    rate_setting = "THROTTLE_INVITE_PER_USER"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": "invite_user", "ident": request.user.pk}
