"""The OTP contract's errors: the OTP service raises them and the core passes them on unchanged.

Messages are lazy translations: the core's catalogue (web/locale) words them in Russian."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from svckit import phones
from svckit.errors import ApplicationError

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class InvalidPhone(ApplicationError):
    code = "invalid_phone"
    message: StrOrPromise = "Enter a valid phone number."


class PhoneHasLetters(InvalidPhone):
    message = _("Letters are not allowed in a phone number: type it in digits.")


class UnsupportedNumber(ApplicationError):
    """details: {"number_type": phonenumbers' type name, e.g. "premium_rate"}."""

    code = "unsupported_number"
    message = _("A code can only be sent to a mobile number.")


class UnsupportedCountry(ApplicationError):
    """details: {"country": ISO 3166 code}."""

    code = "unsupported_country"
    message = _("Codes are not sent to numbers of this country.")


class SmsLimitReached(ApplicationError):
    """The SMS-pumping guard refused to send: details {"scope": "prefix" | "country" | "service" |
    "conversion"}; Retry-After says when that scope has room again."""

    code = "sms_limit_reached"
    message = _("Too many codes were sent to numbers like this one. Try again later.")
    status = 429


class InvalidCode(ApplicationError):
    code = "invalid_code"
    message = "The code is wrong or has expired."


class TooManyAttempts(ApplicationError):
    """The code is burned (OTP_MAX_ATTEMPTS wrong guesses): details {"scope": "code"}."""

    code = "too_many_attempts"
    message: StrOrPromise = "Too many wrong codes. Request a new code."
    status = 429


class TooManyFailures(TooManyAttempts):
    """OTP_MAX_FAILURES_PER_DAY wrong guesses for one phone in a sliding 24 h, across codes; every
    guess, the right code included, is refused until Retry-After: details {"scope": "phone"}.
    NIST SP 800-63B 5.2.2: a new code must not reset the failed-attempt count."""

    message = _("Too many wrong codes for this number. Try again later.")


def phone_sms_check(phone: str, *, allowed_types: frozenset[str], allowed_countries: frozenset[str]) -> None:
    """The number policy both services enforce (svckit.phones.sms_policy_check) as the contract's errors.

    Raises UnsupportedNumber (details: number_type) or UnsupportedCountry (details: country), 400."""
    try:
        phones.sms_policy_check(phone, allowed_types=allowed_types, allowed_countries=allowed_countries)
    except phones.UnsupportedNumber as exc:
        raise UnsupportedNumber(details={"number_type": exc.number_type}) from exc
    except phones.UnsupportedCountry as exc:
        raise UnsupportedCountry(details={"country": exc.country}) from exc
