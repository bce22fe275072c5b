"""Referral stats: referrals per day for 30 days in the caller's time zone (one index-backed query,
kept in the cache until the zone's midnight), GET /api/v1/profile/stats/, my referrals as CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import F
from django.utils import timezone

from invites.services import invite_activate
from users.invite_codes import invite_code_generate
from users.models import User
from users.stats import InvalidTimezone, referrals_by_day, referrals_by_day_rows, referrals_stats, timezone_get
from users.tests.factories import UserFactory, client_for

pytestmark = pytest.mark.django_db

CSV_URL = "/api/v1/profile/referrals.csv"
STATS_URL = "/api/v1/profile/stats/"
MOSCOW = ZoneInfo("Europe/Moscow")


def _referrals_at(inviter: User, moments: list[datetime], *, prefix: str = "+7997") -> None:
    """One referral of `inviter` activated at each moment; referrals_count grows with them, as an
    activation makes it."""
    User.objects.bulk_create(
        User(
            phone=f"{prefix}{inviter.pk % 1000:03d}{n:04d}",
            invite_code=invite_code_generate(),
            invited_by=inviter,
            invite_activated_at=at,
        )
        for n, at in enumerate(moments)
    )
    User.objects.filter(pk=inviter.pk).update(referrals_count=F("referrals_count") + len(moments))
    inviter.refresh_from_db()


def _referrals_on(inviter: User, days_ago: list[int], **kwargs) -> None:
    """Activated that many days ago (UTC noon; today: now)."""
    today, now = timezone.now().astimezone(UTC).date(), timezone.now()
    moments = [
        now if ago == 0 else datetime.combine(today - timedelta(days=ago), time(12), tzinfo=UTC) for ago in days_ago
    ]
    _referrals_at(inviter, moments, **kwargs)


def _at(moment: datetime):
    return mock.patch("django.utils.timezone.now", return_value=moment)


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


def test_a_referral_at_half_past_one_in_moscow_is_on_that_moscow_day(user):
    """01:30 in Moscow on 10 March is 22:30 UTC on 9 March; at 05:00 Moscow both calendars agree it is the 10th."""
    made = datetime(2026, 3, 10, 1, 30, tzinfo=MOSCOW)
    _referrals_at(user, [made])
    with _at(datetime(2026, 3, 10, 5, 0, tzinfo=MOSCOW).astimezone(UTC)):
        moscow = referrals_by_day(user=user, zone=MOSCOW)
        utc = referrals_by_day(user=user, zone=UTC)
    assert (moscow[-1].date.isoformat(), moscow[-1].count) == ("2026-03-10", 1)
    assert (utc[-1].date.isoformat(), utc[-1].count, utc[-2].date.isoformat(), utc[-2].count) == (
        "2026-03-10",
        0,
        "2026-03-09",
        1,
    )


def test_today_is_the_callers_today(user):
    """At 22:45 UTC it is already tomorrow in Moscow: the last day differs, and so does what it holds."""
    _referrals_at(user, [datetime(2026, 3, 9, 21, 30, tzinfo=UTC)])  # 00:30 on the 10th in Moscow
    with _at(datetime(2026, 3, 9, 22, 45, tzinfo=UTC)):
        moscow = referrals_stats(user=user, zone=MOSCOW).referrals_by_day
        utc = referrals_stats(user=user, zone=UTC).referrals_by_day
    assert (moscow[-1].date.isoformat(), moscow[-1].count) == ("2026-03-10", 1)
    assert (utc[-1].date.isoformat(), utc[-1].count) == ("2026-03-09", 1)
    assert moscow[0].date.isoformat() == "2026-02-09" and utc[0].date.isoformat() == "2026-02-08"


def test_days_across_a_daylight_saving_change_are_thirty_calendar_days(user):
    new_york = ZoneInfo("America/New_York")  # clocks went forward at 02:00 on 8 March 2026
    made = [datetime(2026, 3, 8, 0, 30, tzinfo=new_york), datetime(2026, 3, 8, 23, 30, tzinfo=new_york)]
    _referrals_at(user, made)
    with _at(datetime(2026, 3, 20, 12, tzinfo=new_york).astimezone(UTC)):
        days = referrals_by_day(user=user, zone=new_york)
    assert [d.date for d in days] == [days[0].date + timedelta(days=n) for n in range(30)]
    assert {d.date.isoformat(): d.count for d in days if d.count} == {"2026-03-08": 2}


def test_the_per_day_query_is_a_scan_of_the_referrals_index(user):
    crowd = UserFactory()
    _referrals_on(crowd, [n % 40 for n in range(3000)], prefix="+7996")
    _referrals_on(user, [n % 40 for n in range(40)])
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {User._meta.db_table}")
    for zone in (UTC, MOSCOW):
        plan = referrals_by_day_rows(user_pk=user.pk, since=timezone.now() - timedelta(days=30), zone=zone).explain()
        assert "user_referrals_idx" in plan, plan
        assert "Seq Scan" not in plan, plan


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "europe/moscow", "../../etc/passwd", "/etc/localtime", "Europe/Moscow\x00", " UTC", ""]
)
def test_only_iana_names_are_time_zones(name):
    with pytest.raises(InvalidTimezone):
        timezone_get(name=name)


@pytest.mark.parametrize(
    "name", ["UTC", "Europe/Moscow", "Asia/Kolkata", "America/Argentina/Buenos_Aires", "Etc/GMT+3"]
)
def test_iana_names_are_time_zones(name):
    assert str(timezone_get(name=name)) == name


def test_stats_answer_thirty_days_in_the_zone_asked_for(user, user_api):
    _referrals_at(user, [timezone.now()])
    body = user_api.get(STATS_URL, {"tz": "Europe/Moscow"}).json()
    assert set(body) == {"tz", "referrals_by_day"}
    assert body["tz"] == "Europe/Moscow"
    assert len(body["referrals_by_day"]) == 30
    today = timezone.now().astimezone(MOSCOW).date()
    assert body["referrals_by_day"][-1] == {"date": today.isoformat(), "count": 1}


@pytest.mark.parametrize("query", ["", "?tz=", "?tz=UTC"])
def test_stats_default_to_utc(user, user_api, query):
    body = user_api.get(STATS_URL + query).json()
    assert body["tz"] == "UTC"
    assert body["referrals_by_day"][-1]["date"] == timezone.now().astimezone(UTC).date().isoformat()


@pytest.mark.parametrize(
    ("tz", "language", "message"),
    [
        ("Mars/Olympus", "en", "Unknown time zone: give an IANA name such as Europe/Moscow."),
        ("../../../etc/passwd", "en", "Unknown time zone: give an IANA name such as Europe/Moscow."),
        ("x" * 5000, "en", "Unknown time zone: give an IANA name such as Europe/Moscow."),
        ("%00", "en", "Unknown time zone: give an IANA name such as Europe/Moscow."),
        ("+03:00", "ru", "Неизвестный часовой пояс: укажите имя из базы IANA, например Europe/Moscow."),
    ],
)
def test_anything_else_is_400_invalid_timezone(user_api, tz, language, message):
    response = user_api.get(f"{STATS_URL}?tz={tz}", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "invalid_timezone", "message": message, "details": {}}}


def test_stats_need_a_token(api):
    response = api.get(STATS_URL)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "not_authenticated")


def test_stats_of_someone_nobody_referred_read_nothing_but_the_token_user(user, django_assert_num_queries):
    client = client_for(user)
    with django_assert_num_queries(1), mock.patch("users.stats.cache") as kept:
        body = client.get(STATS_URL, {"tz": "Europe/Moscow"}).json()
    kept.get.assert_not_called()
    assert {day["count"] for day in body["referrals_by_day"]} == {0} and len(body["referrals_by_day"]) == 30


@pytest.fixture
def at_noon_utc():
    noon = timezone.now().astimezone(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    with _at(noon):
        yield noon


def test_a_second_read_is_kept_per_zone_and_a_new_referral_is_in_the_next_read(
    user, django_assert_num_queries, at_noon_utc
):
    _referrals_at(user, [at_noon_utc - timedelta(hours=1)])
    client = client_for(user)
    first = client.get(STATS_URL, {"tz": "Europe/Moscow"}).json()
    with django_assert_num_queries(1):  # the token's user; the counts come from the cache
        assert client.get(STATS_URL, {"tz": "Europe/Moscow"}).json() == first
    with django_assert_num_queries(2):  # another zone: its own key
        client.get(STATS_URL, {"tz": "Asia/Tokyo"})
    invite_activate(user=UserFactory(), invite_code=user.invite_code)
    after = client.get(STATS_URL, {"tz": "Europe/Moscow"}).json()
    assert after["referrals_by_day"][-1]["count"] == first["referrals_by_day"][-1]["count"] + 1


def test_a_kept_answer_expires_at_the_zones_midnight(user, at_noon_utc):
    _referrals_at(user, [at_noon_utc])
    referrals_stats(user=user, zone=MOSCOW)  # 15:00 in Moscow: nine hours to its midnight
    referrals_stats(user=user, zone=ZoneInfo("America/Los_Angeles"))  # 04:00 or 05:00 there
    ttls = {key.split(":")[-2]: cache.ttl(key) for key in cache.keys(f"stats:v1:{user.pk}:*")}  # type: ignore[attr-defined]
    assert 8 * 3600 < ttls["Europe/Moscow"] <= 9 * 3600
    assert 18 * 3600 < ttls["America/Los_Angeles"] <= 20 * 3600


def test_with_redis_down_the_stats_are_read_from_the_database(user, user_api, settings):
    _referrals_on(user, [0, 2])
    options = {**settings.CACHES["default"]["OPTIONS"], "IGNORE_EXCEPTIONS": True}
    down = {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0", "OPTIONS": options}
    settings.CACHES = {**settings.CACHES, "default": down}
    for _ in range(2):
        response = user_api.get(STATS_URL)
        assert response.status_code == 200
        assert sum(day["count"] for day in response.json()["referrals_by_day"]) == 2


def test_the_profile_carries_no_day_counts(user, user_api):
    _referrals_on(user, [0])
    assert "referrals_by_day" not in user_api.get("/api/v1/profile/").json()


def test_my_referrals_download_as_csv_newest_first_phones_kept_as_text(user, user_api):
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
    # A leading tab: LibreOffice and Excel keep `+7…` as text instead of a number without its `+`.
    assert rows[1:] == [["\t" + phone, at.isoformat().replace("+00:00", "Z")] for phone, at in expected]
    assert len(rows) == 4


def test_the_csv_needs_a_token_and_errors_stay_json(api):
    response = api.get(CSV_URL, HTTP_ACCEPT="text/csv")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_user_without_referrals_gets_the_header_only(user):
    response = client_for(user).get(CSV_URL)
    assert response.getvalue().decode() == "\ufeffphone,activated_at\r\n"
