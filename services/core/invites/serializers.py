from rest_framework import serializers

from common.fields import StringField
from invites.errors import InvalidInviteCode


class InviteCodeField(StringField):
    wrong_type_code = InvalidInviteCode.code
    wrong_type_message = InvalidInviteCode.message


class InviteActivateSerializer(serializers.Serializer):
    # Normalised and checked by invite_activate, so the API and the web pages share one rule.
    invite_code = InviteCodeField(
        allow_blank=True, help_text="6 characters; any case, spaces and hyphens ignored, O→0 and I/L→1"
    )
