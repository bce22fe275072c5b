"""HTTP to the OTP service: one pooled keep-alive session per process, hard timeouts, and its
answers mapped to the core's errors. Whatever goes wrong on the wire is 503 `otp_unavailable`:
the caller never hangs for longer than the connect + read timeouts (3 s by default)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from typing import Any

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from common.errors import InvalidPhone, ServiceUnavailable, TooManyRequests
from svckit.otp import InvalidCode, TooManyAttempts

__all__ = ["CodeSent", "InvalidCode", "OtpUnavailable", "TooManyAttempts", "otp_code_send", "otp_code_verify"]

logger = logging.getLogger(__name__)

DEFAULT_RETRY_AFTER = 60  # seconds, should a 429 ever come without Retry-After


class OtpUnavailable(ServiceUnavailable):
    code = "otp_unavailable"
    message = "The code service is unavailable. Try again shortly."


@dataclass(frozen=True)
class CodeSent:
    expires_in: int
    resend_in: int


@cache
def _session() -> requests.Session:
    """Created lazily, so each gunicorn worker (after fork) gets its own pool, shared by its threads.

    No automatic retries: neither call is idempotent (a resend would hit the cooldown, a replayed
    verify would find the code used up)."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=2, pool_maxsize=32, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _post(path: str, body: dict[str, Any]) -> requests.Response:
    try:
        return _session().post(
            f"{settings.OTP_SERVICE_URL}{path}",
            json=body,
            headers={"Authorization": f"Bearer {settings.OTP_SERVICE_TOKEN}"},
            timeout=(settings.OTP_CONNECT_TIMEOUT, settings.OTP_READ_TIMEOUT),
        )
    except requests.RequestException as exc:
        logger.warning("OTP service unreachable (%s): %s", path, exc)
        raise OtpUnavailable() from exc


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {}


def _retry_after(response: requests.Response) -> int:
    try:
        return max(1, int(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return DEFAULT_RETRY_AFTER


def _raise_for_error(response: requests.Response, path: str) -> None:
    error = _json(response).get("error")
    code = error.get("code") if isinstance(error, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    details = details if isinstance(details, dict) else {}
    if response.status_code == 400 and code == "invalid_code":
        attempts_left = details.get("attempts_left")
        raise InvalidCode(details={"attempts_left": attempts_left} if isinstance(attempts_left, int) else {})
    if response.status_code == 400 and code == "invalid_phone":
        raise InvalidPhone()
    if response.status_code == 429 and code == "too_many_attempts":
        raise TooManyAttempts(retry_after=_retry_after(response))
    if response.status_code == 429:
        raise TooManyRequests(retry_after=_retry_after(response))
    # 401/403 mean OTP_SERVICE_TOKEN differs between the services: a deployment error, logged loudly.
    log = logger.error if response.status_code in (401, 403) else logger.warning
    log("OTP service answered %s on %s: %s", response.status_code, path, code)
    raise OtpUnavailable()


def otp_code_send(*, phone: str) -> CodeSent:
    """Ask the OTP service to text a new code to `phone` (E.164)."""
    response = _post("/v1/codes/", {"phone": phone})
    if response.status_code != 202:
        _raise_for_error(response, "/v1/codes/")
    body = _json(response)
    expires_in, resend_in = body.get("expires_in"), body.get("resend_in")
    if not isinstance(expires_in, int) or not isinstance(resend_in, int):
        logger.warning("OTP service sent an unexpected body: %r", body)
        raise OtpUnavailable()
    return CodeSent(expires_in=expires_in, resend_in=resend_in)


def otp_code_verify(*, phone: str, code: str) -> None:
    """Return if the code is right (the OTP service uses it up); raise the mapped error otherwise."""
    response = _post("/v1/codes/verify/", {"phone": phone, "code": code})
    if response.status_code != 200:
        _raise_for_error(response, "/v1/codes/verify/")
    if _json(response).get("verified") is not True:
        logger.warning("OTP service answered 200 without verified=true")
        raise OtpUnavailable()


def otp_ready() -> bool:
    """For /readyz: does the OTP service answer its own readiness check?"""
    try:
        response = _session().get(
            f"{settings.OTP_SERVICE_URL}/readyz", timeout=(settings.OTP_CONNECT_TIMEOUT, settings.OTP_READ_TIMEOUT)
        )
    except requests.RequestException:
        return False
    return response.status_code == 200
