"""Serializer fields that take strings only: a number or a boolean is a client bug, not a value."""

from rest_framework import serializers

from common.errors import InvalidPhone
from common.phones import phone_normalize


class StringField(serializers.CharField):
    # The error when the JSON value is not a string; subclasses name their own stable code.
    wrong_type_code = "invalid"
    wrong_type_message = "Send a string."

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError(self.wrong_type_message, code=self.wrong_type_code)
        return super().to_internal_value(data)


class PhoneField(StringField):
    """Any common way of writing a number; the validated value is E.164. Every bad value is `invalid_phone`."""

    wrong_type_code = InvalidPhone.code
    wrong_type_message = InvalidPhone.message

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "Any common format, e.g. 89991234567 or +7 (999) 123-45-67")
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        # CharField answers "" for a blank string without calling to_internal_value.
        if isinstance(data, str) and not data.strip():
            raise serializers.ValidationError(InvalidPhone.message, code=InvalidPhone.code)
        return super().run_validation(data)

    def to_internal_value(self, data):
        try:
            return phone_normalize(super().to_internal_value(data))
        except InvalidPhone as exc:
            raise serializers.ValidationError(exc.message, code=exc.code) from exc
