from django.core.validators import RegexValidator
from rest_framework import serializers

from svckit.phones import E164_PATTERN, InvalidPhone, ascii_digits, strict_e164


class E164PhoneField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 16)
        kwargs.setdefault("help_text", "E.164, e.g. +79991234567")
        # Documents the format in the schema; strict_e164 below is the real check.
        kwargs.setdefault("validators", [RegexValidator(E164_PATTERN, code="invalid_phone")])
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            return strict_e164(value)
        except InvalidPhone as exc:
            raise serializers.ValidationError(exc.message, code=exc.code) from exc


class OtpCodeField(serializers.CharField):
    """Digits of any script become ASCII (svckit.phones.ascii_digits), as the core does before us."""

    def to_internal_value(self, data):
        return ascii_digits(super().to_internal_value(data))


class CodeRequestSerializer(serializers.Serializer):
    phone = E164PhoneField()
    language = serializers.ChoiceField(
        choices=["en", "ru"], default="en", help_text="Language of the SMS: the sign-in request's language"
    )


class CodeVerifySerializer(serializers.Serializer):
    phone = E164PhoneField()
    code = OtpCodeField(max_length=16, help_text="The digits from the SMS")


class CodeSentSerializer(serializers.Serializer):
    expires_in = serializers.IntegerField(help_text="Seconds the code stays valid")
    resend_in = serializers.IntegerField(help_text="Seconds until a new code may be requested")


class VerifiedSerializer(serializers.Serializer):
    verified = serializers.BooleanField()


class InboxMessageSerializer(serializers.Serializer):
    phone = serializers.CharField()
    text = serializers.CharField()
    code = serializers.CharField()
    sent_at = serializers.DateTimeField()
    requested_at = serializers.DateTimeField()


class InboxSerializer(serializers.Serializer):
    messages = InboxMessageSerializer(many=True)
