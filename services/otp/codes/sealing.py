"""Codes travel to the worker sealed: the broker (Redis) never holds a code in clear text."""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet
from django.conf import settings


@cache
def _fernet() -> Fernet:
    key = hashlib.sha256(b"otp-sms-payload:" + settings.OTP_SECRET.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(code: str) -> str:
    return _fernet().encrypt(code.encode()).decode()


def unseal(token: str) -> str:
    """Raises cryptography.fernet.InvalidToken for a token not made here or past the code's life."""
    return _fernet().decrypt(token.encode(), ttl=settings.OTP_TTL_SECONDS).decode()
