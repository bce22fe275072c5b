"""Absolute URLs for links that leave the site (share links, QR codes, messenger previews)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.urls import reverse


def site_url(*, path: str, request: HttpRequest | None = None) -> str:
    """`/r/ABC123/` → `https://example.com/r/ABC123/`.

    The base is SITE_URL when it is set (production behind a proxy: the public name), else the
    request's scheme and Host (Host is already checked against ALLOWED_HOSTS). Raises
    ImproperlyConfigured when neither is available (no SITE_URL outside a request)."""
    if settings.SITE_URL:
        return f"{settings.SITE_URL}{path}"
    if request is None:
        raise ImproperlyConfigured("SITE_URL is needed to build links outside a request")
    return request.build_absolute_uri(path)


def invite_url(*, invite_code: str, request: HttpRequest | None = None) -> str:
    """The share link of an invite code, `<site>/r/<invite_code>/` (the landing page, web:invite)."""
    return site_url(path=reverse("web:invite", kwargs={"invite_code": invite_code}), request=request)
