"""SMS providers' HTTP APIs: one function per provider, `<provider>_send(sms) -> provider id`
(the development ones, console and inbox, are codes.dev_providers; codes.delivery calls them all).

Every failure is one of three exceptions, by what the provider may have done with the message:
  NotSent   nothing was accepted and trying again may work (no connection, 429, 5xx, "try later");
  Rejected  the provider refused it for good (other 4xx, an error code in the answer);
  InDoubt   the request left and no answer came (read timeout, connection dropped): it may have
            been accepted, so it must never be sent again (see deliver_sms).
urllib3 is the client (the core's OTP client uses it too); it never retries by itself: the Celery
task decides, with backoff, whether and where to send again."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import urllib3
from django.conf import settings
from urllib3.exceptions import ConnectTimeoutError, HTTPError, SSLError

SMSRU_RETRYABLE_CODES = {220, 500}  # "service temporarily unavailable", "server error: try again"


@dataclass(frozen=True)
class Sms:
    """One message, as every provider gets it. A real provider sends `text` to `phone` (E.164); the
    dev inbox also shows the code and the request's time (ISO 8601)."""

    message_id: str
    phone: str
    text: str
    code: str
    requested_at: str


class ProviderError(Exception):
    def __init__(self, provider: str, reason: str, *, error_code: str = "", retry_after: float = 0.0):
        super().__init__(f"{provider}: {reason}")
        self.provider = provider
        self.reason = reason
        self.error_code = error_code
        self.retry_after = retry_after


class NotSent(ProviderError):
    pass


class Rejected(ProviderError):
    pass


class InDoubt(ProviderError):
    pass


@cache
def _pool() -> urllib3.PoolManager:
    """One keep-alive pool per worker process, shared by its threads (TLS verified by default)."""
    return urllib3.PoolManager(num_pools=4, maxsize=8, retries=False)


def _post(provider: str, url: str, fields: dict[str, str], headers: dict[str, str]) -> urllib3.BaseHTTPResponse:
    timeout = urllib3.Timeout(connect=settings.SMS_CONNECT_TIMEOUT_SECONDS, read=settings.SMS_READ_TIMEOUT_SECONDS)
    try:
        return _pool().request(
            "POST", url, fields=fields, encode_multipart=False, headers=headers, timeout=timeout, redirect=False
        )
    except (ConnectTimeoutError, SSLError) as exc:
        # No connection (refused, unresolvable, connect timeout, TLS handshake): nothing was sent.
        raise NotSent(provider, f"no connection: {exc}") from exc
    except (HTTPError, OSError) as exc:
        raise InDoubt(provider, f"no answer: {exc}") from exc


def _json(response: urllib3.BaseHTTPResponse) -> dict[str, Any]:
    try:
        body = json.loads(response.data)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(response: urllib3.BaseHTTPResponse) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", 0)))
    except ValueError:
        return 0.0


def _raise_for_http_status(provider: str, response: urllib3.BaseHTTPResponse, error_code: str) -> None:
    if response.status == 429 or response.status >= 500:
        raise NotSent(provider, f"HTTP {response.status}", error_code=error_code, retry_after=_retry_after(response))
    if response.status >= 300:
        raise Rejected(provider, f"HTTP {response.status}", error_code=error_code)


def twilio_send(sms: Sms) -> str:
    """Send one SMS with Twilio Programmable Messaging; returns the Message SID (`SM…`).

    POST {TWILIO_API_BASE}/2010-04-01/Accounts/{AccountSid}/Messages.json, HTTP basic auth
    (account SID : auth token), form fields To, Body and From or MessagingServiceSid; 201 with the
    Message resource, or an error body {"code", "message", "more_info", "status"}.
    Source: https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
    Raises NotSent, Rejected or InDoubt."""
    sid = settings.TWILIO_ACCOUNT_SID
    fields = {"To": sms.phone, "Body": sms.text}
    if settings.TWILIO_MESSAGING_SERVICE_SID:
        fields["MessagingServiceSid"] = settings.TWILIO_MESSAGING_SERVICE_SID
    else:
        fields["From"] = settings.TWILIO_FROM
    response = _post(
        "twilio",
        f"{settings.TWILIO_API_BASE}/2010-04-01/Accounts/{sid}/Messages.json",
        fields,
        urllib3.make_headers(basic_auth=f"{sid}:{settings.TWILIO_AUTH_TOKEN}") | {"Accept": "application/json"},
    )
    body = _json(response)
    _raise_for_http_status("twilio", response, str(body.get("code") or ""))
    return str(body.get("sid") or "")


def smsru_send(sms: Sms) -> str:
    """Send one SMS with SMS.ru; returns SMS.ru's sms_id (`000000-10000000`).

    POST {SMSRU_API_BASE}/sms/send, form fields api_id, to (digits, no `+`), msg, json=1 and the
    optional from and test. SMS.ru answers HTTP 200 even for errors: the request's and the number's
    `status_code` say what happened (100 accepted; 220 and 500 "try later"; anything else refused).
    Source: https://sms.ru/api/send and https://sms.ru/api/status (the code list).
    Raises NotSent, Rejected or InDoubt."""
    to = sms.phone.removeprefix("+")
    fields = {"api_id": settings.SMSRU_API_ID, "to": to, "msg": sms.text, "json": "1"}
    if settings.SMSRU_FROM:
        fields["from"] = settings.SMSRU_FROM
    if settings.SMSRU_TEST:
        fields["test"] = "1"
    response = _post("smsru", f"{settings.SMSRU_API_BASE}/sms/send", fields, {"Accept": "application/json"})
    body = _json(response)
    _raise_for_http_status("smsru", response, str(body.get("status_code") or ""))
    number = (body.get("sms") or {}).get(to) if isinstance(body.get("sms"), dict) else None
    answer = number if isinstance(number, dict) else body
    code = answer.get("status_code")
    if body.get("status") == "OK" and code == 100:
        return str(answer.get("sms_id") or "")
    if code is None:
        raise InDoubt("smsru", f"unexpected answer: {body!r:.200}")
    reason = str(answer.get("status_text") or body.get("status_text") or "")
    if code in SMSRU_RETRYABLE_CODES:
        raise NotSent("smsru", reason, error_code=str(code))
    raise Rejected("smsru", reason, error_code=str(code))
