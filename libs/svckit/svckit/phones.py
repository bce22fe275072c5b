"""Phone numbers: anything a person types in, or strict E.164 between services, and the rule of
which numbers may be sent an SMS at all (number type and country)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING

import phonenumbers
from django.utils.translation import gettext_lazy as _
from phonenumbers import PhoneNumberType

from svckit.errors import ApplicationError

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# ITU-T E.164: "+", a country code that does not start with 0, at most 15 digits in all.
E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"
MAX_PHONE_INPUT = 64  # longer input is never a phone; don't hand it to the parser

# Defaults of SMS_ALLOWED_NUMBER_TYPES: the types that can receive an SMS. `fixed_line_or_mobile` is
# what the metadata says where the two share ranges (the US, Canada, ...).
SMS_NUMBER_TYPES_DEFAULT = ("mobile", "fixed_line_or_mobile")


class InvalidPhone(ApplicationError):
    code = "invalid_phone"
    message: StrOrPromise = _("Enter a valid phone number.")
    page_message: StrOrPromise | None = _("Enter a valid phone number, e.g. +7 999 123-45-67.")


class PhoneHasLetters(InvalidPhone):
    """The input has a letter: phonenumbers would read it as a keypad letter (O → 6), a stranger's number."""

    message = _("Letters are not allowed in a phone number.")
    page_message = _("Letters are not allowed in a phone number: type it in digits.")


class UnsupportedNumber(ApplicationError):
    """A valid number of a type SMS_ALLOWED_NUMBER_TYPES refuses (premium rate, toll-free, landline...).

    details: {"number_type": phonenumbers' type name, e.g. "premium_rate"}."""

    code = "unsupported_number"
    message = _("A code can only be sent to a mobile number.")
    detail_fields = {"number_type": str}


class UnsupportedCountry(ApplicationError):
    """A valid number of a country SMS_ALLOWED_COUNTRIES does not list. details: {"country": ISO 3166 code}."""

    code = "unsupported_country"
    message = _("Codes are not sent to numbers of this country.")
    detail_fields = {"country": str}


def ascii_digits(text: str) -> str:
    """Every Unicode decimal digit (category Nd: `٣`, `３`, `३`...) as its ASCII digit; the rest unchanged.

    The one rule for typed digits, phone numbers and codes alike (phonenumbers reads digits the same
    way: `unicodedata.digit`)."""
    return "".join(str(unicodedata.digit(ch)) if ch.isdecimal() else ch for ch in text)


def phone_to_e164(raw: object, *, region: str | None) -> str:
    """Parse what a person typed (`8 (999) 123-45-67`, `+7…`, `9991234567`) into E.164.

    Raises PhoneHasLetters if the input has any letter (phonenumbers would map it to a keypad digit,
    ITU E.161), InvalidPhone if it is not a valid number of the region (or of its own +country)."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_PHONE_INPUT:
        raise InvalidPhone()
    text = ascii_digits(raw.strip())
    if any(ch.isalpha() for ch in text):
        raise PhoneHasLetters()
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone() from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone()
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


NOT_E164 = "Send the phone number in E.164 format, e.g. +79991234567."


def strict_e164(raw: object) -> str:
    """Accept only a valid number already written in E.164 (`+79991234567`).

    Raises what phone_to_e164 raises for a `+…` input, else InvalidPhone saying E.164 is expected."""
    if isinstance(raw, str) and raw.startswith("+"):
        e164 = phone_to_e164(raw, region=None)
        if e164 == raw:
            return e164
    raise InvalidPhone(NOT_E164)


def number_prefix(e164: str) -> str:
    """The number without its last 4 digits (`+79991234567` → `+7999123`): one operator's block,
    the unit SMS pumping works through (consecutive numbers of one premium range)."""
    return e164[:-4]


def number_country(e164: str) -> str:
    """ISO 3166 code of a valid E.164 number (`+77012345678` → `KZ`), `ZZ` if none."""
    return phonenumbers.region_code_for_number(phonenumbers.parse(e164, None)) or "ZZ"


def number_type_names(names: Iterable[str]) -> frozenset[str]:
    """Check names against phonenumbers' PhoneNumberType (`mobile`, `premium_rate`...); lower case.

    Raises ValueError naming the unknown ones (settings turn it into ImproperlyConfigured)."""
    known = {name.lower() for name in vars(PhoneNumberType) if name.isupper()}
    chosen = frozenset(name.strip().lower() for name in names if name.strip())
    unknown = sorted(chosen - known)
    if unknown:
        raise ValueError(f"unknown number types {unknown}; known: {sorted(known)}")
    return chosen


def country_codes(codes: Iterable[str]) -> frozenset[str]:
    """Check ISO 3166-1 alpha-2 codes against the regions phonenumbers knows; upper case.

    Raises ValueError naming the unknown ones."""
    chosen = frozenset(code.strip().upper() for code in codes if code.strip())
    unknown = sorted(chosen - phonenumbers.SUPPORTED_REGIONS)
    if unknown:
        raise ValueError(f"unknown ISO 3166 country codes {unknown}")
    return chosen


def sms_policy_check(e164: str, *, allowed_types: frozenset[str], allowed_countries: frozenset[str]) -> None:
    """Refuse a valid E.164 number that must not be sent an SMS.

    allowed_types: phonenumbers type names (number_type_names); allowed_countries: ISO 3166 codes,
    empty for every country. Raises UnsupportedNumber (type first: a premium range is refused
    whatever its country), then UnsupportedCountry; each names what it refused in its details."""
    number = phonenumbers.parse(e164, None)
    number_type = PhoneNumberType.to_string(phonenumbers.number_type(number)).lower()
    if number_type not in allowed_types:
        raise UnsupportedNumber(details={"number_type": number_type})
    country = phonenumbers.region_code_for_number(number) or "ZZ"
    if allowed_countries and country not in allowed_countries:
        raise UnsupportedCountry(details={"country": country})
