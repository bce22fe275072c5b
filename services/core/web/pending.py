"""The sign-in in progress, kept in the visitor's session between /login/ and /login/code/:
the phone the code went to and when the OTP service allows the next code."""

from __future__ import annotations

import math
import time

from django.http import HttpRequest

PHONE_KEY = "web_login_phone"
RESEND_AT_KEY = "web_login_resend_at"
INVITE_KEY = "web_login_invite_code"  # from a share link: kept through the phone and code pages


def start(request: HttpRequest, *, phone: str, resend_in: int) -> None:
    request.session[PHONE_KEY] = phone
    wait(request, seconds=resend_in)


def wait(request: HttpRequest, *, seconds: int) -> None:
    request.session[RESEND_AT_KEY] = time.time() + seconds


def phone(request: HttpRequest) -> str | None:
    return request.session.get(PHONE_KEY)


def resend_in(request: HttpRequest) -> int:
    """Whole seconds until a new code may be requested (0: now)."""
    resend_at = request.session.get(RESEND_AT_KEY, 0)
    return max(0, math.ceil(resend_at - time.time()))


def invite_keep(request: HttpRequest, *, invite_code: str) -> None:
    request.session[INVITE_KEY] = invite_code


def invite_code(request: HttpRequest) -> str | None:
    return request.session.get(INVITE_KEY)


def clear(request: HttpRequest) -> None:
    request.session.pop(PHONE_KEY, None)
    request.session.pop(RESEND_AT_KEY, None)
    request.session.pop(INVITE_KEY, None)
