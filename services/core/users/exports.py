"""My referrals as CSV (phone, activated at): the API and the profile page serve the same file."""

from __future__ import annotations

from collections.abc import Iterator

from django.http import StreamingHttpResponse

from common.csv_export import csv_response
from users.models import User
from users.selectors import referrals_export

HEADER = ("phone", "activated_at")


def _rows(user: User) -> Iterator[tuple[str, str]]:
    for phone, activated_at in referrals_export(user=user):
        yield phone, activated_at.isoformat().replace("+00:00", "Z")


def referrals_csv_response(*, user: User) -> StreamingHttpResponse:
    """`phone,activated_at` then one row per referral, newest first; times in ISO 8601 UTC. Phones are
    E.164 (a database constraint) written after a tab, so that a spreadsheet keeps them as text with
    their `+` (common.csv_export.spreadsheet_cell)."""
    return csv_response(filename=f"referrals-{user.invite_code}.csv", header=HEADER, rows=_rows(user))
