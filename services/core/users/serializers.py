from datetime import tzinfo

from rest_framework import serializers

from common.fields import PhoneField, StringField
from common.links import invite_url
from users import stats
from users.selectors import REFERRALS_PAGE_MAX, InvalidCursor


class CodeRequestSerializer(serializers.Serializer):
    phone = PhoneField()

    class Meta:
        swagger_schema_fields = {"example": {"phone": "8 999 123-45-67"}}


class CodeSentSerializer(serializers.Serializer):
    phone = serializers.CharField(help_text="The number in E.164: the account it signs in to")
    expires_in = serializers.IntegerField(help_text="Seconds the code stays valid")
    resend_in = serializers.IntegerField(help_text="Seconds until a new code may be requested")


class DayCountListSerializer(serializers.ListSerializer):
    """DRF's list_serializer_class hook: the 30 days in one comprehension instead of DRF's per-item,
    per-field calls (most of the profile's rendering time); the same JSON as the child's fields."""

    def to_representation(self, data) -> list[dict]:
        return [{"date": day.date.isoformat(), "count": day.count} for day in data]


class DayCountSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="A day, in the time zone of `tz`")
    count = serializers.IntegerField(help_text="Users who activated my code that day")

    class Meta:
        list_serializer_class = DayCountListSerializer


class PhoneListField(serializers.ListField):
    """A list of E.164 strings as they are: no CharField call per item."""

    def to_representation(self, data) -> list[str]:
        return list(data)


class ProfileSerializer(serializers.Serializer):
    phone = serializers.CharField(help_text="E.164")
    invite_code = serializers.CharField(help_text="My code: 6 characters others can activate")
    invite_url = serializers.SerializerMethodField(
        help_text="My share link, `<site>/r/<invite_code>/`: a landing page that signs a friend in with my code"
    )
    activated_invite_code = serializers.CharField(
        allow_null=True, help_text="The code I activated (my inviter's); null until then"
    )
    referrals = PhoneListField(
        child=serializers.CharField(), help_text="Phones of the users who activated my code, newest first, at most 100"
    )
    referrals_count = serializers.IntegerField(help_text="How many users activated my code")
    date_joined = serializers.DateTimeField()

    def get_invite_url(self, profile) -> str:
        return invite_url(invite_code=profile.invite_code, request=self.context.get("request"))


# A refresh token is about 250 characters; the bound keeps any over-long one a 400, well below the 413 limit.
REFRESH_MAX_LENGTH = 1024


class RefreshRequestSerializer(serializers.Serializer):
    refresh = StringField(max_length=REFRESH_MAX_LENGTH)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField(help_text="The new refresh token; the one sent is now used up")


class CursorField(StringField):
    error_code = InvalidCursor.code
    error_message = InvalidCursor.message


class ReferralsQuerySerializer(serializers.Serializer):
    # An empty cursor (`?cursor=`) is the first page, as a form field left empty would be.
    cursor = CursorField(
        required=False, allow_blank=True, max_length=256, help_text="From the previous page's `next`; empty: first page"
    )
    limit = serializers.IntegerField(required=False, default=50, min_value=1, max_value=REFERRALS_PAGE_MAX)


class ReferralSerializer(serializers.Serializer):
    phone = serializers.CharField()
    activated_at = serializers.DateTimeField(help_text="When they activated my code")


class ReferralsPageSerializer(serializers.Serializer):
    results = ReferralSerializer(many=True)
    next = serializers.URLField(allow_null=True, help_text="The next page's URL; null on the last page")


class TimezoneField(StringField):
    """An IANA time zone name (users.stats.timezone_get): every other string is `invalid_timezone`."""

    error_code = stats.InvalidTimezone.code
    error_message = stats.InvalidTimezone.message

    def to_internal_value(self, data):
        name = super().to_internal_value(data)
        try:
            stats.timezone_get(name=name)
        except stats.InvalidTimezone as exc:
            raise serializers.ValidationError(exc.message, code=exc.code) from exc
        return name


class StatsQuerySerializer(serializers.Serializer):
    # An empty `?tz=` is UTC, as a form field left empty would be.
    tz = TimezoneField(
        required=False,
        default=stats.DEFAULT_TIMEZONE,
        allow_blank=True,
        max_length=stats.MAX_TIMEZONE_NAME,
        help_text="The time zone the days are counted in: an IANA name such as Europe/Moscow; default UTC",
    )

    def validate_tz(self, value: str) -> tzinfo:
        return stats.timezone_get(name=value or stats.DEFAULT_TIMEZONE)


class ReferralStatsSerializer(serializers.Serializer):
    tz = serializers.CharField(help_text="The IANA time zone the days are in")
    referrals_by_day = DayCountSerializer(
        many=True,
        help_text=f"Users who activated my code on each of the last {stats.STATS_DAYS} days in `tz`, oldest "
        f"first, today last: {stats.STATS_DAYS} items",
    )
