"""What a page says for each error code the services raise, in the visitor's language.

The services own the rules and their English messages (the API's); this module only words them
for people, so adding a language never touches a service. An error whose class carries a lazy
translation (unsupported_number, ...) is shown with it."""

from __future__ import annotations

import math

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from svckit.errors import ApplicationError
from svckit.otp import TooManyFailures
from svckit.phones import PhoneHasLetters

_MESSAGES = {
    "invalid_phone": _("Enter a valid phone number, e.g. +7 999 123-45-67."),
    "otp_unavailable": _("The SMS service is not answering right now. Try again in a minute."),
    "too_many_attempts": _("Too many wrong codes. Request a new code."),
    "account_disabled": _("This account has been disabled."),
    "invalid_invite_code": _("An invite code is 6 letters and digits."),
    "invite_code_not_found": _("No one has this invite code."),
    "own_invite_code": _("This is your own invite code: ask a friend for theirs."),
    "referral_cycle": _("This code belongs to someone you invited (directly or through others)."),
    "invite_already_activated": _("You have already activated an invite code."),
}


def error_message(error: ApplicationError) -> str:
    if error.code == "too_many_requests":
        seconds = error.retry_after or 60
        return ngettext(
            "Too many requests. Try again in %(seconds)d second.",
            "Too many requests. Try again in %(seconds)d seconds.",
            seconds,
        ) % {"seconds": seconds}
    if error.code == "invalid_code":
        attempts_left = error.details.get("attempts_left")
        if attempts_left is None:
            return str(_("Wrong code."))
        return ngettext(
            "Wrong code. %(count)d attempt left.",
            "Wrong code. %(count)d attempts left.",
            attempts_left,
        ) % {"count": attempts_left}
    if isinstance(error, TooManyFailures):
        hours = math.ceil((error.retry_after or 3600) / 3600)
        return ngettext(
            "Too many wrong codes for this number. Try again in %(hours)d hour.",
            "Too many wrong codes for this number. Try again in %(hours)d hours.",
            hours,
        ) % {"hours": hours}
    if isinstance(error, PhoneHasLetters):  # an invalid_phone that says what is wrong
        return error.human_message()
    message = _MESSAGES.get(error.code)
    return str(message if message is not None else error.message)
