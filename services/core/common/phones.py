"""What a person types as a phone number → E.164, with the product's default region, and the
rule of which numbers may be sent a code (the OTP service checks it again)."""

import phonenumbers
from django.conf import settings

from svckit import phones


def phone_normalize(raw: object) -> str:
    """`89991234567`, `+7 (999) 123-45-67`, `8-999-123-45-67`, `9991234567` → `+79991234567`.

    Raises PhoneHasLetters (`invalid_phone`, its own message) for any letter, InvalidPhone for
    anything else that is not a valid number (svckit.phones)."""
    return phones.phone_to_e164(raw, region=settings.PHONE_DEFAULT_REGION)


def phone_sms_check(*, phone: str) -> None:
    """Refuse an E.164 number SMS_ALLOWED_NUMBER_TYPES / SMS_ALLOWED_COUNTRIES exclude.

    Raises UnsupportedNumber or UnsupportedCountry (400, details name the type or the country)."""
    phones.sms_policy_check(
        phone, allowed_types=settings.SMS_ALLOWED_NUMBER_TYPES, allowed_countries=settings.SMS_ALLOWED_COUNTRIES
    )


MASK = "•"
KEEP_LAST_DIGITS = 2


def phone_mask(e164: str) -> str:
    """`+79991234567` → `+7 ••• •••-••-67`: the country and the last two digits, so a friend can tell
    who invited them while a stranger who opens the link learns nothing usable."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return MASK * 4
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    prefix = f"+{number.country_code}"
    rest = formatted.removeprefix(prefix)
    hidden = sum(char.isdigit() for char in rest) - KEEP_LAST_DIGITS
    masked = []
    for char in rest:
        if char.isdigit() and hidden > 0:
            masked.append(MASK)
            hidden -= 1
        else:
            masked.append(char)
    return prefix + "".join(masked)
