"""The one reader of the OTP service's dev SMS inbox (GET /v1/inbox/?phone=, on with SMS_BACKEND=inbox;
services/otp/codes/apis.py), whose messages are newest first."""

from __future__ import annotations

import time
from datetime import datetime

import requests

from devstack.stack import wait_until


def messages(otp_url: str, phone: str) -> list[dict]:
    """The inbox of `phone` (E.164): dicts with code, text, sent_at, requested_at; newest first."""
    response = requests.get(f"{otp_url}/v1/inbox/", params={"phone": phone}, timeout=5)
    response.raise_for_status()
    return response.json()["messages"]


def code(otp_url: str, phone: str, *, since: float = 0, count: int = 1, timeout: float = 20) -> str:
    """The newest code texted to `phone` once it has `count` messages requested at or after `since`
    (a time.time(), less a second for clock rounding). Raises TimeoutError after `timeout` seconds."""
    found: list[dict] = []

    def arrived() -> bool:
        stamp = lambda m: datetime.fromisoformat(m.get("requested_at") or m["sent_at"]).timestamp()  # noqa: E731
        found[:] = [m for m in messages(otp_url, phone) if stamp(m) >= since - 1]
        return len(found) >= count

    if not wait_until(arrived, timeout, 0.1):
        raise TimeoutError(f"no SMS for {phone} at {otp_url} within {timeout} s (is a worker consuming?)")
    return found[0]["code"]


def sign_in(core_url: str, otp_url: str, phone: str, *, headers: dict[str, str] | None = None) -> dict:
    """Sign `phone` in through the core's public API as a client would: request a code, read it
    here, trade it for tokens. Returns the POST /api/v1/auth/token/ answer ({access, refresh,
    profile, ...}); raises requests.HTTPError for a refused step, TimeoutError for a lost SMS."""
    since = time.time()
    response = requests.post(f"{core_url}/api/v1/auth/code/", json={"phone": phone}, headers=headers, timeout=10)
    response.raise_for_status()
    body = {"phone": phone, "code": code(otp_url, phone, since=since)}
    response = requests.post(f"{core_url}/api/v1/auth/token/", json=body, headers=headers, timeout=10)
    response.raise_for_status()
    return response.json()
