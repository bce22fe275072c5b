"""The OTP contract's errors: the OTP service raises them and the core passes them on unchanged
(the phone number's own errors are svckit.phones').

Messages are lazy translations: the core's catalogue (web/locale) words them in Russian."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from svckit.errors import ApplicationError

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class SmsLimitReached(ApplicationError):
    """The SMS-pumping guard refused to send: details {"scope": "prefix" | "country" | "service" |
    "conversion"}; Retry-After says when that scope has room again."""

    code = "sms_limit_reached"
    message = _("Too many codes were sent to numbers like this one. Try again later.")
    status = 429


class InvalidCode(ApplicationError):
    """details: {"attempts_left": wrong guesses this code still allows}, when the OTP service says."""

    code = "invalid_code"
    message: StrOrPromise = _("The code is wrong or has expired.")
    page_message = _("Wrong code.")

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


class TooManyFailures(TooManyAttempts):
    """OTP_MAX_FAILURES_PER_DAY wrong guesses for one phone in a sliding 24 h, across codes; every
    guess, the right code included, is refused until Retry-After: details {"scope": "phone"}.
    NIST SP 800-63B 5.2.2: a new code must not reset the failed-attempt count."""

    message = _("Too many wrong codes for this number. Try again later.")

    def human_message(self) -> str:
        """`… Try again in N hours.` (Retry-After rounded up to whole hours; one if unknown)."""
        hours = math.ceil((self.retry_after or 3600) / 3600)
        return ngettext(
            "Too many wrong codes for this number. Try again in %(hours)d hour.",
            "Too many wrong codes for this number. Try again in %(hours)d hours.",
            hours,
        ) % {"hours": hours}
