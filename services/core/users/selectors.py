"""Reads about users and their referrals, each a fixed, small number of indexed queries."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.core.cache import cache
from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from svckit.errors import ApplicationError
from users.models import User

PROFILE_REFERRALS = 100
REFERRALS_PAGE_MAX = 100
NEWEST_FIRST = ("-invite_activated_at", "-id")  # served by the user_referrals_idx index
MAX_CHAIN = 100_000  # a guard for the root walk; the referral forest never has a cycle
PROFILE_CACHE_SECONDS = 24 * 3600  # a bound on memory: a kept answer never goes stale (profile_get)
EXPORT_CHUNK = 2000  # rows per round trip of the CSV export's server-side cursor


class InvalidCursor(ApplicationError):
    code = "invalid_cursor"
    message = _("The cursor is not valid; start again without it.")


@dataclass(frozen=True)
class Profile:
    phone: str
    invite_code: str
    activated_invite_code: str | None
    referrals: list[str]
    referrals_count: int
    date_joined: datetime


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

    What comes from other rows (my inviter's code, my newest referrals) is kept in the default cache
    under (user, invite code, referrals_count, invited_by) for PROFILE_CACHE_SECONDS. Invite codes
    and phones never change once written, and an activation adds one to referrals_count in the
    transaction that adds the referral (the admin writes only the fields it edits), so each new
    referral is a new key: a kept answer is never older than the count it was kept under. On a hit,
    no query; on a miss, up to two: my inviter's code (only when I have activated one) and my newest
    referrals (only when referrals_count says there are any). Neither the cache nor the database is
    asked when I have no referrals and no inviter. With Redis down every read is a miss; an
    unreachable Redis (packets lost) costs the cache's socket timeouts on top, as it does the
    throttles (settings.CACHES). The per-day counts are users.stats'."""
    # The invite code, unique and never changed, tells this user from one with the same id in a
    # database restored or re-created next to a cache that kept its keys.
    key = f"profile:v2:{user.pk}:{user.invite_code}:{user.referrals_count}:{user.invited_by_id}"
    has_referrals = user.referrals_count > 0
    nothing_to_read = not has_referrals and user.invited_by_id is None
    kept = (None, []) if nothing_to_read else cache.get(key)
    if kept is None:
        inviter_code = None
        if user.invited_by_id is not None:
            inviter_code = User.objects.filter(pk=user.invited_by_id).values_list("invite_code", flat=True).first()
        phones = []
        if has_referrals:
            phones = list(_referrals(user.pk).values_list("phone", flat=True)[:PROFILE_REFERRALS])
        kept = (inviter_code, phones)
        cache.set(key, kept, timeout=PROFILE_CACHE_SECONDS)
    inviter_code, phones = kept
    return Profile(
        phone=user.phone,
        invite_code=user.invite_code,
        activated_invite_code=inviter_code,
        referrals=phones,
        referrals_count=user.referrals_count,
        date_joined=user.date_joined,
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
