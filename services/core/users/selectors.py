"""Reads about users and their referrals, each a fixed, small number of indexed queries."""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from svckit.errors import ApplicationError
from users.models import User

PROFILE_REFERRALS = 100
REFERRALS_PAGE_MAX = 100
NEWEST_FIRST = ("-invite_activated_at", "-id")  # served by the user_referrals_idx index
MAX_CHAIN = 100_000  # a guard for the root walk; the referral forest never has a cycle
STATS_DAYS = 30
EXPORT_CHUNK = 2000  # rows per round trip of the CSV export's server-side cursor


class InvalidCursor(ApplicationError):
    code = "invalid_cursor"
    message = _("The cursor is not valid; start again without it.")


@dataclass(frozen=True)
class DayCount:
    date: date
    count: int


@dataclass(frozen=True)
class Profile:
    phone: str
    invite_code: str
    activated_invite_code: str | None
    referrals: list[str]
    referrals_count: int
    date_joined: datetime
    referrals_by_day: list[DayCount]


@dataclass(frozen=True)
class Referral:
    phone: str
    activated_at: datetime


@dataclass(frozen=True)
class ReferralsPage:
    results: list[Referral]
    next_cursor: str | None


def _referrals(user_pk: int):
    return User.objects.filter(invited_by_id=user_pk).order_by(*NEWEST_FIRST)


def profile_get(*, user: User) -> Profile:
    """`user` is the row the caller read in this request (the token's or the session's user, or the
    one a sign-in or an activation just wrote): its own fields are used as they are.

    What comes from other rows (my inviter's code, my newest referrals, my referrals per day) is
    kept in the default cache under (user, referrals_count, invited_by, UTC day) until that day
    ends. Invite codes and phones never change once written, and an activation adds one to
    referrals_count in the transaction that adds the referral (the admin writes only the fields it
    edits), so each new referral is a new key: a kept answer is never older than the count it was
    kept under. On a hit, no query; on a miss, up to three: my inviter's code (only when I have
    activated one), my newest referrals and my referrals per day (only when referrals_count says
    there are any). Neither the cache nor the database is asked when I have no referrals and no
    inviter. With Redis down every read is a miss; an unreachable Redis (packets lost) costs the
    cache's socket timeouts on top, as it does the throttles (settings.CACHES)."""
    now = timezone.now().astimezone(UTC)
    today = now.date()
    # The invite code, unique and never changed, tells this user from one with the same id in a
    # database restored or re-created next to a cache that kept its keys.
    key = f"profile:v1:{user.pk}:{user.invite_code}:{user.referrals_count}:{user.invited_by_id}:{today.isoformat()}"
    has_referrals = user.referrals_count > 0
    nothing_to_read = not has_referrals and user.invited_by_id is None
    kept = (None, [], [0] * STATS_DAYS) if nothing_to_read else cache.get(key)
    if kept is None:
        inviter_code = None
        if user.invited_by_id is not None:
            inviter_code = User.objects.filter(pk=user.invited_by_id).values_list("invite_code", flat=True).first()
        phones, counts = [], [0] * STATS_DAYS
        if has_referrals:
            phones = list(_referrals(user.pk).values_list("phone", flat=True)[:PROFILE_REFERRALS])
            counts = [day.count for day in referrals_by_day(user=user, today=today)]
        kept = (inviter_code, phones, counts)
        until_midnight = datetime.combine(today + timedelta(days=1), time.min, tzinfo=UTC) - now
        cache.set(key, kept, timeout=math.ceil(until_midnight.total_seconds()))
    inviter_code, phones, counts = kept
    return Profile(
        phone=user.phone,
        invite_code=user.invite_code,
        activated_invite_code=inviter_code,
        referrals=phones,
        referrals_count=user.referrals_count,
        date_joined=user.date_joined,
        referrals_by_day=_day_counts(today, counts),
    )


def _day_counts(today: date, counts: list[int]) -> list[DayCount]:
    """`counts` (one per day, oldest first, `today` last) as DayCounts with their dates."""
    first = today - timedelta(days=len(counts) - 1)
    return [DayCount(date=first + timedelta(days=n), count=count) for n, count in enumerate(counts)]


def referrals_by_day(*, user: User, days: int = STATS_DAYS, today: date | None = None) -> list[DayCount]:
    """How many users activated my code on each of the last `days` days (UTC) up to `today` (default:
    today), oldest first, `today` last, days without any as 0: exactly `days` items.

    One query, a range scan of user_referrals_idx (invited_by, invite_activated_at) grouped by day."""
    today = today or timezone.now().astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    counted = dict(referrals_by_day_rows(user_pk=user.pk, since=datetime.combine(first, time.min, tzinfo=UTC)))
    return _day_counts(today, [counted.get(first + timedelta(days=n), 0) for n in range(days)])


def referrals_by_day_rows(*, user_pk: int, since: datetime):
    """(day, count) rows of `user_pk`'s referrals activated since `since`: the one query above."""
    return (
        User.objects.filter(invited_by_id=user_pk, invite_activated_at__gte=since)
        .annotate(day=TruncDate("invite_activated_at", tzinfo=UTC))
        .values("day")
        .annotate(count=Count("id"))
        .values_list("day", "count")
    )


def referrals_export(*, user: User) -> Iterator[tuple[str, datetime]]:
    """Every referral of mine as (phone E.164, activated at), newest first, streamed in chunks from a
    server-side cursor (one index range scan): memory stays flat however many there are."""
    rows = _referrals(user.pk).values_list("phone", "invite_activated_at")
    return rows.iterator(chunk_size=EXPORT_CHUNK)


def _cursor_encode(activated_at: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{activated_at.isoformat()}|{pk}".encode()).decode()


def _cursor_decode(cursor: str) -> tuple[datetime, int]:
    try:
        activated_at, pk = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        moment = datetime.fromisoformat(activated_at)
        if moment.tzinfo is None:
            raise ValueError("naive datetime")
        # In UTC: PostgreSQL refuses the offsets past ±15:59 that fromisoformat takes (a 500 otherwise).
        return moment.astimezone(UTC), int(pk)
    except (ValueError, OverflowError, UnicodeError, binascii.Error) as exc:
        raise InvalidCursor() from exc


def referrals_page(*, user: User, cursor: str | None = None, limit: int = 50) -> ReferralsPage:
    """Keyset pagination, newest first: one index range scan per page, however deep.

    Raises InvalidCursor for a `cursor` that is not one this function returned."""
    limit = max(1, min(limit, REFERRALS_PAGE_MAX))
    rows = _referrals(user.pk)
    if cursor:
        activated_at, pk = _cursor_decode(cursor)
        rows = rows.filter(Q(invite_activated_at__lt=activated_at) | Q(invite_activated_at=activated_at, pk__lt=pk))
    found = list(rows.values_list("phone", "invite_activated_at", "pk")[: limit + 1])
    page = [Referral(phone=phone, activated_at=at) for phone, at, _ in found[:limit]]
    next_cursor = _cursor_encode(found[limit - 1][1], found[limit - 1][2]) if len(found) > limit else None
    return ReferralsPage(results=page, next_cursor=next_cursor)


def referral_root_pk(*, pk: int) -> int | None:
    """Walk invited_by up from user `pk` (a recursive CTE, one query) to the root of its tree."""
    table = connection.ops.quote_name(User._meta.db_table)
    sql = f"""
        WITH RECURSIVE chain (id, invited_by_id, depth) AS (
            SELECT id, invited_by_id, 0 FROM {table} WHERE id = %s
            UNION ALL
            SELECT u.id, u.invited_by_id, c.depth + 1 FROM {table} u JOIN chain c ON u.id = c.invited_by_id
            WHERE c.depth < %s
        )
        SELECT id FROM chain WHERE invited_by_id IS NULL
    """  # noqa: S608 - the table name comes from the model, never from input
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk, MAX_CHAIN])
        row = cursor.fetchone()
    return row[0] if row else None
