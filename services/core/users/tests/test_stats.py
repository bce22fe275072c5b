"""Referral stats: referrals per day for 30 days (one index-backed query), my referrals as CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone

from users.invite_codes import invite_code_generate
from users.models import User
from users.selectors import referrals_by_day, referrals_by_day_rows
from users.tests.factories import UserFactory, client_for

pytestmark = pytest.mark.django_db

CSV_URL = "/api/v1/profile/referrals.csv"


def _referrals_on(inviter: User, days_ago: list[int], *, prefix: str = "+7997") -> None:
    """One referral of `inviter` per entry, activated that many days ago (UTC noon; today: now);
    the inviter's referrals_count grows with them, as an activation makes it."""
    today = timezone.now().astimezone(UTC).date()
    now = timezone.now()
    users = []
    for n, ago in enumerate(days_ago):
        day = today - timedelta(days=ago)
        at = now if ago == 0 else datetime.combine(day, time(12), tzinfo=UTC)
        users.append(
            User(
                phone=f"{prefix}{inviter.pk % 1000:03d}{n:04d}",
                invite_code=invite_code_generate(),
                invited_by=inviter,
                invite_activated_at=at,
            )
        )
    User.objects.bulk_create(users)
    User.objects.filter(pk=inviter.pk).update(referrals_count=F("referrals_count") + len(users))


def test_thirty_days_oldest_first_today_last_empty_days_as_zero(user, django_assert_num_queries):
    _referrals_on(user, [0, 0, 1, 29, 29, 29, 30, 45])
    with django_assert_num_queries(1):
        days = referrals_by_day(user=user)
    today = timezone.now().astimezone(UTC).date()
    assert len(days) == 30
    assert [d.date for d in days] == [today - timedelta(days=29 - n) for n in range(30)]
    counts = {d.date: d.count for d in days}
    assert counts[today] == 2
    assert counts[today - timedelta(days=1)] == 1
    assert counts[today - timedelta(days=29)] == 3  # day 30 and 45 are outside the window
    assert sum(counts.values()) == 6


def test_other_inviters_referrals_are_not_counted(user):
    other = UserFactory()
    _referrals_on(other, [0, 1, 2])
    assert sum(d.count for d in referrals_by_day(user=user)) == 0


def test_the_per_day_query_is_a_scan_of_the_referrals_index(user):
    crowd = UserFactory()
    _referrals_on(crowd, [n % 40 for n in range(3000)], prefix="+7996")
    _referrals_on(user, [n % 40 for n in range(40)])
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {User._meta.db_table}")
    plan = referrals_by_day_rows(user_pk=user.pk, since=timezone.now() - timedelta(days=30)).explain()
    assert "user_referrals_idx" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_the_profile_api_carries_referrals_by_day(user, user_api):
    _referrals_on(user, [0, 3])
    body = user_api.get("/api/v1/profile/").json()
    assert len(body["referrals_by_day"]) == 30
    assert set(body["referrals_by_day"][0]) == {"date", "count"}
    today = timezone.now().astimezone(UTC).date()
    assert body["referrals_by_day"][-1] == {"date": today.isoformat(), "count": 1}
    assert body["referrals_by_day"][-4] == {"date": (today - timedelta(days=3)).isoformat(), "count": 1}


def test_my_referrals_download_as_csv_newest_first(user, user_api):
    _referrals_on(user, [5, 0, 2])
    UserFactory()  # not a referral
    response = user_api.get(CSV_URL, HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="referrals-{user.invite_code}.csv"'
    text = response.getvalue().decode()
    assert text.startswith("\ufeffphone,activated_at\r\n")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    expected = list(
        User.objects.filter(invited_by=user)
        .order_by("-invite_activated_at", "-id")
        .values_list("phone", "invite_activated_at")
    )
    assert rows[1:] == [[phone, at.isoformat().replace("+00:00", "Z")] for phone, at in expected]
    assert len(rows) == 4


def test_the_csv_needs_a_token_and_errors_stay_json(api):
    response = api.get(CSV_URL, HTTP_ACCEPT="text/csv")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_user_without_referrals_gets_the_header_only(user):
    response = client_for(user).get(CSV_URL)
    assert response.getvalue().decode() == "\ufeffphone,activated_at\r\n"
