"""The profile page's 30-day chart and CSV link; the admin's referrals export and top inviters."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from invites.services import invite_activate
from users.models import User
from users.tests.factories import UserFactory
from users.tests.staff import staff_client as signed_in_staff

pytestmark = pytest.mark.django_db


def test_the_profile_draws_thirty_days_and_links_the_csv(client_a: Client, user_a: User):
    for _ in range(3):
        invite_activate(user=UserFactory(), invite_code=user_a.invite_code)
    html = client_a.get("/profile/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert html.count("<rect ") == 30
    assert 'id="referrals-30-days">(3)</span>' in html
    assert 'data-count="3"' in html
    assert 'height="60"' in html  # today's bar, the tallest, is full height
    assert '<a href="/profile/referrals.csv" id="referrals-csv" download>' in html


def _referral_at(inviter: User, moment: datetime) -> None:
    invite_activate(user=UserFactory(), invite_code=inviter.invite_code)
    User.objects.filter(invited_by=inviter).update(invite_activated_at=moment)


def _last_bar(html: str) -> tuple[str, str]:
    last = re.findall(r'<rect [^>]*data-date="([0-9-]+)" data-count="([0-9]+)"', html)[-1]
    return last[0], last[1]


def test_the_chart_counts_days_in_the_browsers_time_zone(client_a: Client, user_a: User):
    """At 22:45 UTC on 9 March it is 01:45 on the 10th in Moscow; a referral made at 00:30 Moscow
    time is today's there, and yesterday's in UTC."""
    now = datetime(2026, 3, 9, 22, 45, tzinfo=UTC)
    _referral_at(user_a, datetime(2026, 3, 10, 0, 30, tzinfo=ZoneInfo("Europe/Moscow")))
    with mock.patch("django.utils.timezone.now", return_value=now):
        client_a.cookies["tz"] = "Europe/Moscow"
        moscow = client_a.get("/profile/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
        del client_a.cookies["tz"]
        utc = client_a.get("/profile/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert _last_bar(moscow) == ("2026-03-10", "1")
    assert 'id="stats-tz">Дни — по часовому поясу Europe/Moscow.</p>' in moscow
    assert 'data-tz="Europe/Moscow"' in moscow
    assert _last_bar(utc) == ("2026-03-09", "1")
    assert 'data-tz="UTC"' in utc


@pytest.mark.parametrize("cookie", ["Mars/Olympus", "../../etc/passwd", "x" * 300, ""])
def test_a_time_zone_cookie_we_do_not_know_is_utc(client_a: Client, user_a: User, cookie):
    invite_activate(user=UserFactory(), invite_code=user_a.invite_code)
    client_a.cookies["tz"] = cookie
    response = client_a.get("/profile/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-tz="UTC"' in html and "Days in the UTC time zone." in html
    assert _last_bar(html) == (timezone.now().astimezone(UTC).date().isoformat(), "1")


def test_the_pages_script_reports_the_browsers_time_zone(client):
    script = client.get("/static/web/app.js")
    text = b"".join(script.streaming_content).decode() if script.streaming else script.content.decode()
    assert "resolvedOptions().timeZone" in text and '"tz=" + zone' in text


def test_the_csv_download_from_the_page(client_a: Client, user_a: User):
    invited = UserFactory()
    invite_activate(user=invited, invite_code=user_a.invite_code)
    response = client_a.get("/profile/referrals.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert invited.phone in response.getvalue().decode()


def test_the_csv_page_needs_a_sign_in(client):
    response = client.get("/profile/referrals.csv")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.fixture
def staff_client(client):
    return signed_in_staff(client)


def test_the_admin_exports_every_referral_as_csv(staff_client):
    inviter = UserFactory()
    invited = [UserFactory() for _ in range(3)]
    for user in invited:
        invite_activate(user=user, invite_code=inviter.invite_code)
    UserFactory()  # not a referral: not listed
    page = staff_client.get("/admin/invites/referral/")
    assert page.status_code == 200
    ids = [str(user.pk) for user in invited]
    response = staff_client.post(
        "/admin/invites/referral/", {"action": "export_csv", "_selected_action": ids, "select_across": "1"}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = response.getvalue().decode().removeprefix("\ufeff").splitlines()
    assert lines[0] == "referral_phone,activated_at,inviter_phone,invite_code"
    # Phones after a tab, so that a spreadsheet keeps them as text (common.csv_export).
    assert sorted(line.split(",")[0] for line in lines[1:]) == sorted(f"\t{user.phone}" for user in invited)
    assert all(line.endswith(f",\t{inviter.phone},{inviter.invite_code}") for line in lines[1:])


def test_the_admin_lists_top_inviters_most_referrals_first(staff_client):
    top, second, nobody = UserFactory(), UserFactory(), UserFactory()
    for _ in range(3):
        invite_activate(user=UserFactory(), invite_code=top.invite_code)
    invite_activate(user=UserFactory(), invite_code=second.invite_code)
    html = staff_client.get("/admin/invites/inviter/").content.decode()
    assert html.index(top.phone) < html.index(second.phone)
    assert nobody.phone not in html
