"""What a locked-out admin login gets (django-axes' AXES_LOCKOUT_CALLABLE): a 429 page with
Retry-After, in the admin's look, the client address the API's throttles use, and which sign-ins
forgive earlier failures (AXES_HANDLER)."""

from __future__ import annotations

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.shortcuts import render

from common.throttles import client_address as throttle_client_address


def client_address(request) -> str:
    """The client's address as the API's throttles see it (TRUSTED_PROXY_COUNT, DRF's NUM_PROXIES):
    AXES_CLIENT_IP_CALLABLE, so a forged X-Forwarded-For or another address of one IPv6 /64 buys no
    fresh admin login attempts."""
    return throttle_client_address(request)


def admin_lockout_response(request, original_response=None, credentials=None):
    """429 for ADMIN_LOGIN_COOLOFF_MINUTES after ADMIN_LOGIN_MAX_FAILURES failures of one username
    from one address. Retry-After is the whole cool-off: the longest wait there can be."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    context = {"title": "Too many failed sign-ins", "minutes": seconds // 60, "site_header": "Referrals admin"}
    response = render(request, "admin/locked_out.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


class AdminLoginHandler(AxesDatabaseHandler):
    """django-axes' database handler, but only a sign-in on the admin resets the admin's failures
    (AXES_RESET_ON_SUCCESS). Every login() sends user_logged_in, the pages' SMS sign-in too:
    without this, whoever receives a staff member's SMS could wipe the count of wrong passwords
    and codes after each few guesses."""

    def user_logged_in(self, sender, request, user, **kwargs):
        if self.is_admin_request(request):
            super().user_logged_in(sender, request, user, **kwargs)
