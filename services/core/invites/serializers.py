from rest_framework import serializers

from common.fields import StringField
from users.invite_codes import MAX_INPUT, InvalidInviteCode


class InviteCodeField(StringField):
    error_code = InvalidInviteCode.code
    error_message = InvalidInviteCode.message


class InviteActivateSerializer(serializers.Serializer):
    # Normalised and checked by invite_activate, so the API and the web pages share one rule.
    invite_code = InviteCodeField(
        allow_blank=True,
        max_length=MAX_INPUT,
        help_text="6 characters; any case, spaces and hyphens ignored, O→0 and I/L→1",
    )

    class Meta:
        swagger_schema_fields = {"example": {"invite_code": "7kq2-zd"}}
