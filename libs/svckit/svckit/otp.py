"""The OTP contract's errors: the OTP service raises and renders them, and the core reads each
answer back into the same class (otp_error_read) and passes it on unchanged. OTP_ERRORS is the
one table of them (the phone number's own errors are svckit.phones').

Messages are lazy translations: the core's catalogue (web/locale) words them in Russian."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from svckit.errors import ApplicationError, TooManyRequests
from svckit.phones import InvalidPhone, UnsupportedCountry, UnsupportedNumber

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class SmsLimitReached(ApplicationError):
    """The SMS-pumping guard refused to send: details {"scope": "prefix" | "country" | "service" |
    "conversion"}; Retry-After says when that scope has room again."""

    code = "sms_limit_reached"
    message = _("Too many codes were sent to numbers like this one. Try again later.")
    status = 429
    detail_fields = {"scope": str}


class InvalidCode(ApplicationError):
    """details: {"attempts_left": wrong guesses this code still allows}, when the OTP service says."""

    code = "invalid_code"
    message: StrOrPromise = _("The code is wrong or has expired.")
    page_message = _("Wrong code.")
    detail_fields = {"attempts_left": int}

    def human_message(self) -> str:
        """`Wrong code. N attempts left.` when the details say; with none left (the code was used,
        expired, never sent or burned) that a new one is needed; else `Wrong code.`"""
        attempts_left = self.details.get("attempts_left")
        if attempts_left is None:
            return super().human_message()
        if attempts_left == 0:
            return str(_("This code no longer works. Request a new code."))
        return ngettext(
            "Wrong code. %(count)d attempt left.", "Wrong code. %(count)d attempts left.", attempts_left
        ) % {"count": attempts_left}


class TooManyAttempts(ApplicationError):
    """The code is burned (OTP_MAX_ATTEMPTS wrong guesses): details {"scope": "code"}."""

    code = "too_many_attempts"
    message: StrOrPromise = _("Too many wrong codes. Request a new code.")
    status = 429
    scope = "code"
    detail_fields = {"scope": str}

    @classmethod
    def from_details(cls, details: Mapping[str, Any], *, retry_after: float | None = None) -> ApplicationError:
        """details.scope tells the two apart on the wire: "phone" is TooManyFailures, anything else
        (or none) the burned code."""
        error = TooManyFailures if details.get("scope") == TooManyFailures.scope else TooManyAttempts
        return error(details={"scope": error.scope}, retry_after=retry_after)


class TooManyFailures(TooManyAttempts):
    """OTP_MAX_FAILURES_PER_DAY wrong guesses for one phone in a sliding 24 h, across codes; every
    guess, the right code included, is refused until Retry-After: details {"scope": "phone"}.
    NIST SP 800-63B 5.2.2: a new code must not reset the failed-attempt count."""

    message = _("Too many wrong codes for this number. Try again later.")
    scope = "phone"

    def human_message(self) -> str:
        """`… Try again in N hours.` (Retry-After rounded up to whole hours; one if unknown)."""
        hours = math.ceil((self.retry_after or 3600) / 3600)
        return ngettext(
            "Too many wrong codes for this number. Try again in %(hours)d hour.",
            "Too many wrong codes for this number. Try again in %(hours)d hours.",
            hours,
        ) % {"hours": hours}


def _by_code(*errors: type[ApplicationError]) -> dict[str, type[ApplicationError]]:
    table = {error.code: error for error in errors}
    if len(table) != len(errors):
        raise ValueError("OTP_ERRORS: two errors share a code; let the first read the details (from_details)")
    return table


# Every refusal the OTP service answers the core with, by code. TooManyFailures shares
# too_many_attempts with its parent, which reads details.scope to pick it. Its ServiceUnavailable is
# not here: that, and anything else, is the caller's own "unavailable" error.
OTP_ERRORS: dict[str, type[ApplicationError]] = _by_code(
    InvalidCode,
    InvalidPhone,
    UnsupportedNumber,
    UnsupportedCountry,
    TooManyAttempts,
    SmsLimitReached,
    TooManyRequests,
)


def otp_error_read(*, status: int, body: bytes, retry_after: float | None = None) -> ApplicationError | None:
    """The OTP_ERRORS error an OTP service answer renders (svckit.handlers' envelope
    `{"error": {"code", "message", "details"}}`), read back with its class's own message and
    declared details (ApplicationError.from_details) and `retry_after` (the answer's Retry-After, s).

    None when the answer is not one of them: an unknown code, a status other than the class's, or a
    body that is not the envelope (not JSON, not an object): the caller answers "unavailable"."""
    try:
        envelope = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    error = envelope.get("error") if isinstance(envelope, dict) else None
    if not isinstance(error, dict):
        return None
    code, details = error.get("code"), error.get("details")
    error_class = OTP_ERRORS.get(code) if isinstance(code, str) else None
    if error_class is None or error_class.status != status:
        return None
    return error_class.from_details(details if isinstance(details, dict) else {}, retry_after=retry_after)
