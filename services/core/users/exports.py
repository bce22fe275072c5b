"""My referrals as CSV (phone, activated at): the API and the profile page serve the same file."""

from __future__ import annotations

from collections.abc import Iterator

from django.http import StreamingHttpResponse

from common.csv_export import csv_response
from users.models import User
from users.selectors import referrals_export

HEADER = ("phone", "activated_at")


def _rows(user: User) -> Iterator[tuple[str, str]]:
    # Phones are E.164 by a database constraint (+ and digits only): no cell can start a spreadsheet formula.
    for phone, activated_at in referrals_export(user=user):
        yield phone, activated_at.isoformat().replace("+00:00", "Z")


def referrals_csv_response(*, user: User) -> StreamingHttpResponse:
    """`phone,activated_at` then one row per referral, newest first; times in ISO 8601 UTC."""
    return csv_response(filename=f"referrals-{user.invite_code}.csv", header=HEADER, rows=_rows(user))
