"""Phone numbers: anything a person types in, or strict E.164 between services."""

from __future__ import annotations

import phonenumbers

MAX_PHONE_INPUT = 64  # longer input is never a phone; don't hand it to the parser


class InvalidPhone(ValueError):
    pass


def phone_to_e164(raw: object, *, region: str | None) -> str:
    """Parse what a person typed (`8 (999) 123-45-67`, `+7…`, `9991234567`) into E.164."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_PHONE_INPUT:
        raise InvalidPhone("Enter a valid phone number.")
    try:
        number = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone("Enter a valid phone number.") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("Enter a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def strict_e164(raw: object) -> str:
    """Accept only a valid number already written in E.164 (`+79991234567`)."""
    if isinstance(raw, str) and raw.startswith("+"):
        e164 = phone_to_e164(raw, region=None)
        if e164 == raw:
            return e164
    raise InvalidPhone("Send the phone number in E.164 format, e.g. +79991234567.")
