"""What a person types as a phone number → E.164, with the product's default region, and the
rule of which numbers may be sent a code (the OTP service checks it again)."""

from django.conf import settings

from common.errors import InvalidPhone
from svckit import otp, phones


def phone_normalize(raw: object) -> str:
    """`89991234567`, `+7 (999) 123-45-67`, `8-999-123-45-67`, `9991234567` → `+79991234567`.

    Raises PhoneHasLetters (`invalid_phone`, its own message) for any letter, InvalidPhone for
    anything else that is not a valid number."""
    try:
        return phones.phone_to_e164(raw, region=settings.PHONE_DEFAULT_REGION)
    except phones.PhoneHasLetters as exc:
        raise otp.PhoneHasLetters() from exc
    except phones.InvalidPhone as exc:
        raise InvalidPhone() from exc


def phone_sms_check(*, phone: str) -> None:
    """Refuse an E.164 number SMS_ALLOWED_NUMBER_TYPES / SMS_ALLOWED_COUNTRIES exclude.

    Raises UnsupportedNumber or UnsupportedCountry (400, details name the type or the country)."""
    otp.phone_sms_check(
        phone, allowed_types=settings.SMS_ALLOWED_NUMBER_TYPES, allowed_countries=settings.SMS_ALLOWED_COUNTRIES
    )
