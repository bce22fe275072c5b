import phonenumbers
from django import template

register = template.Library()


@register.filter
def phone_display(e164: str) -> str:
    """`+79991234567` → `+7 999 123-45-67`: E.164 stays the stored form, people read groups."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
