"""Codes travel to the worker sealed: the broker (Redis) never holds a code in clear text, and a
sealed code opens only for the message it was sealed for.

A token is Fernet (AES-128-CBC and HMAC-SHA256 over the payload and its time:
https://github.com/fernet/spec) of the JSON `{"message_id", "phone", "code"}`. Whoever reaches the
broker can publish a task, but cannot seal: a copy of a queued message with another phone or
another message id is refused, and so is a token cut short or sealed with another OTP_SECRET."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class SealRefused(Exception):
    """The token does not open for this message. `reason`, the label of otp_sms_refused_total:
    forged      not a token of ours (garbage, cut short, another OTP_SECRET);
    altered     ours, sealed for another message id or phone;
    old_format  ours, from before the binding (the code alone): the user asks for a new code."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class SealExpired(Exception):
    """The token is ours and for this message, but older than the code's life (OTP_TTL_SECONDS)."""


@cache
def _fernet() -> Fernet:
    key = hashlib.sha256(b"otp-sms-payload:" + settings.OTP_SECRET.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(*, message_id: str, phone: str, code: str) -> str:
    """The token (URL-safe base64 text) that carries `code` to the worker for this message and phone."""
    payload = json.dumps({"message_id": message_id, "phone": phone, "code": code}, separators=(",", ":"))
    return _fernet().encrypt(payload.encode()).decode()


def unseal(token: object, *, message_id: object, phone: object) -> str:
    """The code sealed in `token`, if it was sealed here for this `message_id` and `phone`.

    Raises SealRefused (forged, altered, old_format: see its reasons), then SealExpired."""
    if not isinstance(token, str):
        raise SealRefused("forged")
    try:
        payload = _fernet().decrypt(token)
    except (InvalidToken, ValueError):  # ValueError: text that is not base64 at all
        raise SealRefused("forged") from None
    if payload.isdigit():
        raise SealRefused("old_format")
    try:
        sealed = json.loads(payload)
    except ValueError:
        raise SealRefused("forged") from None
    if not (isinstance(sealed, dict) and isinstance(sealed.get("code"), str)):
        raise SealRefused("forged")
    if sealed.get("message_id") != message_id or sealed.get("phone") != phone:
        raise SealRefused("altered")
    if time.time() - _fernet().extract_timestamp(token) > settings.OTP_TTL_SECONDS:
        raise SealExpired()
    return sealed["code"]
