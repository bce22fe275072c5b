"""My referrals per day for the last 30 days, the days counted in the caller's time zone.

A time zone is an IANA tz database name (`Europe/Moscow`), read with zoneinfo from the system's
database (Debian's tzdata in the image); UTC is always known. A referral made at 01:30 in Moscow
(22:30 UTC the evening before) is on the Moscow day it was made, and "today" is Moscow's."""

from __future__ import annotations

import functools
import math
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from django.core.cache import cache
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from svckit.errors import ApplicationError
from users.models import User

STATS_DAYS = 30
DEFAULT_TIMEZONE = "UTC"
MAX_TIMEZONE_NAME = 64  # the longest IANA name is about 30 characters


class InvalidTimezone(ApplicationError):
    code = "invalid_timezone"
    message = _("Unknown time zone: give an IANA name such as Europe/Moscow.")


@dataclass(frozen=True)
class DayCount:
    date: date
    count: int


@dataclass(frozen=True)
class ReferralStats:
    tz: str  # the IANA name the days are in
    referrals_by_day: list[DayCount]  # STATS_DAYS items, oldest first, today (in tz) last


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def timezone_get(*, name: str) -> tzinfo:
    """The time zone of IANA name `name` (case as in the database: `Europe/Moscow`, `UTC`).

    Raises InvalidTimezone for any other string: only the names zoneinfo lists are opened, so a
    path (`../../etc/passwd`) or a file that is not a zone never reaches the file system."""
    if name == DEFAULT_TIMEZONE:
        return UTC
    if len(name) > MAX_TIMEZONE_NAME or name not in _zone_names():
        raise InvalidTimezone()
    return zoneinfo.ZoneInfo(name)


def _name(zone: tzinfo) -> str:
    return zone.key if isinstance(zone, zoneinfo.ZoneInfo) else DEFAULT_TIMEZONE


def _day_counts(today: date, counts: list[int]) -> list[DayCount]:
    """`counts` (one per day, oldest first, `today` last) as DayCounts with their dates."""
    first = today - timedelta(days=len(counts) - 1)
    return [DayCount(date=first + timedelta(days=n), count=count) for n, count in enumerate(counts)]


def referrals_by_day_rows(*, user_pk: int, since: datetime, zone: tzinfo = UTC):
    """(day in `zone`, count) rows of `user_pk`'s referrals activated since `since`: one query, a
    range scan of user_referrals_idx (invited_by, invite_activated_at) grouped by local day."""
    return (
        User.objects.filter(invited_by_id=user_pk, invite_activated_at__gte=since)
        .annotate(day=TruncDate("invite_activated_at", tzinfo=zone))
        .values("day")
        .annotate(count=Count("id"))
        .values_list("day", "count")
    )


def referrals_by_day(
    *, user: User, zone: tzinfo = UTC, days: int = STATS_DAYS, today: date | None = None
) -> list[DayCount]:
    """How many users activated my code on each of the last `days` days in `zone`, up to `today`
    (default: today in `zone`), oldest first, days without any as 0: exactly `days` items. One query."""
    today = today or timezone.now().astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, time.min, tzinfo=zone)  # that day's first moment in `zone`
    counted = dict(referrals_by_day_rows(user_pk=user.pk, since=since, zone=zone))
    return _day_counts(today, [counted.get(first + timedelta(days=n), 0) for n in range(days)])


def referrals_stats(*, user: User, zone: tzinfo = UTC) -> ReferralStats:
    """My referrals per day for the last STATS_DAYS days in `zone` (timezone_get), today last.

    No query when referrals_count says I have none. Otherwise kept in the default cache under
    (user, invite code, referrals_count, zone, today in zone) until that day ends in that zone: an
    activation adds one to referrals_count in the transaction that adds the referral, so each new
    referral is a new key and a kept answer is never older than the count it was kept under. On a
    miss, one query (referrals_by_day). With Redis down every read is a miss."""
    now = timezone.now().astimezone(UTC)
    today = now.astimezone(zone).date()
    if user.referrals_count == 0:
        return ReferralStats(tz=_name(zone), referrals_by_day=_day_counts(today, [0] * STATS_DAYS))
    key = f"stats:v1:{user.pk}:{user.invite_code}:{user.referrals_count}:{_name(zone)}:{today.isoformat()}"
    counts = cache.get(key)
    if counts is None:
        counts = [day.count for day in referrals_by_day(user=user, zone=zone, today=today)]
        midnight = datetime.combine(today + timedelta(days=1), time.min, tzinfo=zone)
        cache.set(key, counts, timeout=max(1, math.ceil((midnight - now).total_seconds())))
    return ReferralStats(tz=_name(zone), referrals_by_day=_day_counts(today, counts))
