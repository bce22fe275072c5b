"""Serializer fields that take strings only: a number or a boolean is a client bug, not a value."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework import serializers

from common.phones import phone_normalize
from svckit import phones
from svckit.phones import InvalidPhone

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class StringField(serializers.CharField):
    """A string, at most max_length characters as sent (before trimming, as the schema's maxLength says).

    A subclass that names its own stable `error_code` answers it for every unusable value (wrong type,
    too long, NUL or lone surrogates); otherwise these are DRF's generic codes (validation_error)."""

    error_code: str | None = None
    error_message: StrOrPromise = ""

    def _refuse(self, generic_code: str, **kwargs) -> None:
        if self.error_code:
            raise serializers.ValidationError(self.error_message, code=self.error_code)
        self.fail(generic_code, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self._refuse("invalid")
        if self.max_length is not None and len(data) > self.max_length:
            self._refuse("max_length", max_length=self.max_length)
        return super().to_internal_value(data)

    def run_validators(self, value):
        try:
            super().run_validators(value)
        except serializers.ValidationError as exc:
            if self.error_code:
                raise serializers.ValidationError(self.error_message, code=self.error_code) from exc
            raise


class PhoneField(StringField):
    """Any common way of writing a number; the validated value is E.164. Every bad value is `invalid_phone`."""

    error_code = InvalidPhone.code
    error_message = InvalidPhone.message

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "Any common format, e.g. 89991234567 or +7 (999) 123-45-67")
        kwargs.setdefault("max_length", phones.MAX_PHONE_INPUT)
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


class OtpCodeField(StringField):
    """The digits from the SMS. Non-ASCII decimal digits (`٤٨٢١`, `４８２１`) become ASCII by the phone
    field's rule (svckit.phones.ascii_digits); anything else goes to the OTP service as typed."""

    def to_internal_value(self, data):
        return phones.ascii_digits(super().to_internal_value(data))
