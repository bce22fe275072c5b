"""The profile's chart counts days in the browser's time zone, which the pages' script reports in
the `tz` cookie; a browser without JavaScript gets UTC days."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from web.tests.browser.test_referral_flow import sign_in

pytestmark = pytest.mark.browser


def test_the_chart_is_in_the_browsers_time_zone(new_context, random_phone, inbox_code, screenshot):
    phone, typed = random_phone()
    context = new_context(locale="ru-RU", timezone_id="Asia/Tokyo")
    page = context.new_page()
    sign_in(page, e164=phone, typed=typed, inbox_code=inbox_code, screenshot=screenshot, label="tokyo")
    assert {cookie["name"]: cookie["value"] for cookie in context.cookies()}["tz"] == "Asia/Tokyo"
    expect(page.locator("#stats")).to_have_attribute("data-tz", "Asia/Tokyo")
    expect(page.locator("#stats-tz")).to_have_text("Дни — по часовому поясу Asia/Tokyo.")
    today = datetime.now(ZoneInfo("Asia/Tokyo")).date().isoformat()
    expect(page.locator("#referrals-chart rect").last).to_have_attribute("data-date", today)
    screenshot(page, "tokyo-profile")


def test_without_javascript_the_chart_is_in_utc(new_context, random_phone, inbox_code, screenshot):
    phone, typed = random_phone()
    context = new_context(javascript=False, timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.goto("/login/")
    page.fill("input[name=phone]", typed)
    requested_at = datetime.now().timestamp()
    page.locator("form[action='/login/'] button[type=submit]").click()
    page.locator("input[name=code]").fill(inbox_code(phone, since=requested_at))
    page.locator("form[action='/login/code/'] button[type=submit]").click()
    expect(page.locator("#stats")).to_have_attribute("data-tz", "UTC")
    assert "tz" not in {cookie["name"] for cookie in context.cookies()}
    screenshot(page, "no-js-profile")
