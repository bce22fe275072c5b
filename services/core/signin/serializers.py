"""The sign-in's request and answer (POST /api/v1/auth/token/)."""

from rest_framework import serializers

from common.fields import OtpCodeField, PhoneField, StringField
from users.serializers import ProfileSerializer


class SignInRequestSerializer(serializers.Serializer):
    phone = PhoneField()
    code = OtpCodeField(max_length=16, help_text="The digits from the SMS (any script's digits: ٤٨٢١ is 4821)")
    # Any string, any length: the invites service judges it and the answer reports the outcome.
    invite_code = StringField(
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="Optional: the invite code the user arrived with (a share link). Applied only when this "
        "sign-in creates the account, with every rule of POST /profile/invite/; a bad one never fails the "
        "sign-in (see invite_applied, invite_error)",
    )

    class Meta:
        swagger_schema_fields = {"example": {"phone": "+79991234567", "code": "4821", "invite_code": "7KQ2ZD"}}


class SignInSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="JWT access token: `Authorization: Bearer <access>`")
    refresh = serializers.CharField(help_text="JWT refresh token, single-use")
    is_new_user = serializers.BooleanField(help_text="True when this sign-in created the account")
    invite_applied = serializers.BooleanField(help_text="True when the invite_code sent along was activated")
    invite_error = serializers.CharField(
        allow_null=True,
        help_text="Why the invite_code sent along was not activated: invalid_invite_code, invite_code_not_found, "
        "own_invite_code, referral_cycle, invite_already_activated, not_new_account (the account existed: "
        "activate with POST /profile/invite/ once the user confirms), unavailable, database_unavailable. Null "
        "when applied or none sent",
    )
    profile = ProfileSerializer()
