"""What a person types as a phone number → E.164, with the product's default region."""

from django.conf import settings

from common.errors import InvalidPhone
from svckit import phones


def phone_normalize(raw: object) -> str:
    """`89991234567`, `+7 (999) 123-45-67`, `8-999-123-45-67`, `9991234567` → `+79991234567`."""
    try:
        return phones.phone_to_e164(raw, region=settings.PHONE_DEFAULT_REGION)
    except phones.InvalidPhone as exc:
        raise InvalidPhone() from exc
