"""The share-link scenario in a real browser against the live stack: A shares the link, B opens it,
signs in through it (a new account), and A sees B among the referrals."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from web.tests.browser.test_referral_flow import sign_in
from web.tests.phones import shown

pytestmark = pytest.mark.browser


def test_a_shares_the_link_b_signs_in_through_it_and_a_sees_b(
    new_context, random_phone, inbox_code, screenshot, core_url
):
    phone_a, typed_a = random_phone()
    phone_b, typed_b = random_phone()

    # A: signs in and copies the share link; the QR code is beside it.
    page_a = new_context(locale="en-US").new_page()
    sign_in(page_a, e164=phone_a, typed=typed_a, inbox_code=inbox_code, screenshot=screenshot, label="a")
    invite_code_a = page_a.locator("#invite-code").inner_text().strip()
    link = page_a.locator("#invite-url").inner_text().strip()
    assert link == f"{core_url}/r/{invite_code_a}/"
    expect(page_a.locator("#invite-qr svg")).to_be_visible()
    copy = page_a.locator("#copy-invite-url")
    copy.click()
    expect(copy).to_have_text("Copied")
    assert page_a.evaluate("navigator.clipboard.readText()") == link
    expect(page_a.locator("#referrals-chart rect")).to_have_count(30)
    screenshot(page_a, "a-share-link")

    # B: a Russian phone opens the link from a messenger.
    page_b = new_context(locale="ru-RU", mobile=True).new_page()
    page_b.goto(link)
    expect(page_b.locator("h1")).to_have_text("Вас пригласили")
    masked = page_b.locator("#inviter-phone").inner_text()
    assert masked.endswith(phone_a[-2:]) and phone_a[2:] not in page_b.content()
    expect(page_b.locator("meta[property='og:url']")).to_have_attribute("content", link)
    screenshot(page_b, "b-landing")

    page_b.locator("#invite-next").click()
    expect(page_b).to_have_url(re.compile(r"/login/\?invite_code="))
    expect(page_b.locator("#invite-notice")).to_contain_text(invite_code_a)
    page_b.fill("input[name=phone]", typed_b)
    requested_at = time.time()
    page_b.locator("form[action='/login/'] button[type=submit]").click()
    expect(page_b).to_have_url(re.compile(r"/login/code/$"))
    expect(page_b.locator("#invite-notice")).to_contain_text(invite_code_a)
    screenshot(page_b, "b-code")
    page_b.locator("input[name=code]").fill(inbox_code(phone_b, since=requested_at))
    page_b.locator("form[action='/login/code/'] button[type=submit]").click()
    expect(page_b).to_have_url(re.compile(r"/profile/$"))
    expect(page_b.locator("p.notice.success")).to_have_text("Инвайт-код активирован.")
    expect(page_b.locator("#activated-invite-code")).to_have_text(invite_code_a)
    screenshot(page_b, "b-profile")

    # A sees B: the list, the count and today's bar.
    page_a.reload()
    expect(page_a.locator("#referrals-count")).to_have_text("(1)")
    expect(page_a.locator(".referral-phone")).to_have_text([shown(phone_b)])
    expect(page_a.locator("#referrals-30-days")).to_have_text("(1)")
    expect(page_a.locator("#referrals-chart rect").last).to_have_attribute("data-count", "1")
    screenshot(page_a, "a-sees-b")
