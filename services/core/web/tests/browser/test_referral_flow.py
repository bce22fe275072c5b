"""The referral scenario in a real browser against the live stack: two people sign in with codes from
the dev SMS inbox, one activates the other's invite code, and the referral shows up."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from web.tests.phones import shown

pytestmark = pytest.mark.browser


def sign_in(page: Page, *, e164: str, typed: str, inbox_code, screenshot, label: str) -> None:
    """Through the pages: phone → code from the dev inbox (after one wrong try) → profile."""
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/$"))
    screenshot(page, f"{label}-login")

    page.fill("input[name=phone]", typed)
    requested_at = time.time()
    page.locator("form[action='/login/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/login/code/$"))
    expect(page.locator("strong.phone")).to_have_text(shown(e164))
    code_input = page.locator("input[name=code]")
    expect(code_input).to_have_attribute("inputmode", "numeric")
    expect(code_input).to_have_attribute("autocomplete", "one-time-code")
    resend = page.locator("#resend")
    expect(resend).to_be_disabled()
    expect(page.locator("#inbox-link")).to_have_attribute("href", re.compile(r"/inbox/$"))
    screenshot(page, f"{label}-code")

    code = inbox_code(e164, since=requested_at)
    wrong = "0000" if code != "0000" else "1111"
    code_input.fill(wrong)
    page.locator("form[action='/login/code/'] button[type=submit]").click()
    expect(page.locator("#id_code_error")).to_be_visible()
    screenshot(page, f"{label}-wrong-code")

    page.locator("input[name=code]").fill(code)
    page.locator("form[action='/login/code/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/profile/$"))
    expect(page.locator("#phone")).to_have_text(shown(e164))
    screenshot(page, f"{label}-profile")


def test_two_people_sign_in_and_one_activates_the_others_code(
    new_context, random_phone, inbox_code, screenshot, core_url
):
    phone_a, typed_a = random_phone()
    phone_b, typed_b = random_phone()

    # A: an English desktop browser.
    page_a = new_context(locale="en-US").new_page()
    sign_in(page_a, e164=phone_a, typed=typed_a, inbox_code=inbox_code, screenshot=screenshot, label="a")
    expect(page_a.locator("#id_code_error")).to_have_count(0)
    expect(page_a.locator("#referrals-count")).to_have_text("(0)")

    invite_code_a = page_a.locator("#invite-code").inner_text().strip()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{6}", invite_code_a)
    copy = page_a.locator("#copy-invite-code")
    expect(copy).to_be_visible()
    copy.click()
    expect(copy).to_have_text("Copied")
    copied = page_a.evaluate("navigator.clipboard.readText()")
    assert copied == invite_code_a

    # B: a Russian phone-sized browser.
    context_b = new_context(locale="ru-RU", mobile=True)
    page_b = context_b.new_page()
    sign_in(page_b, e164=phone_b, typed=typed_b, inbox_code=inbox_code, screenshot=screenshot, label="b")
    expect(page_b.locator("html")).to_have_attribute("lang", "ru")
    expect(page_b.locator("form[action='/logout/'] button")).to_have_text("Выйти")

    stale_tab = context_b.new_page()  # a second tab still showing the activation form
    stale_tab.goto("/profile/")

    page_b.fill("input[name=invite_code]", copied.lower())
    page_b.locator("#activation button[type=submit]").click()
    expect(page_b).to_have_url(re.compile(r"/profile/$"))
    expect(page_b.locator("#activated-invite-code")).to_have_text(invite_code_a)
    expect(page_b.locator("input[name=invite_code]")).to_have_count(0)
    screenshot(page_b, "b-activated")

    stale_tab.fill("input[name=invite_code]", invite_code_a)
    stale_tab.locator("#activation button[type=submit]").click()
    expect(stale_tab.locator("#id_invite_code_error")).to_have_text("Вы уже активировали инвайт-код.")
    screenshot(stale_tab, "b-second-activation")

    # B switches the language with the switch in the header.
    page_b.locator("form.langs button[value=en]").click()
    expect(page_b.locator("html")).to_have_attribute("lang", "en")
    expect(page_b.locator("h1")).to_have_text("Your profile")

    # A sees B among the referrals.
    page_a.reload()
    expect(page_a.locator("#referrals-count")).to_have_text("(1)")
    expect(page_a.locator(".referral-phone")).to_have_text([shown(phone_b)])
    screenshot(page_a, "a-profile-with-referral")

    page_a.locator("#sign-out").click()
    expect(page_a).to_have_url(re.compile(r"/login/$"))
    page_a.goto("/profile/")
    expect(page_a).to_have_url(re.compile(r"/login/\?next=/profile/$"))
    screenshot(page_a, "a-signed-out")


def test_resend_countdown_ticks_and_the_inbox_link_opens_the_inbox(new_context, random_phone, screenshot):
    phone, typed = random_phone()
    page = new_context().new_page()
    page.goto("/login/")
    page.fill("input[name=phone]", typed)
    page.locator("form[action='/login/'] button[type=submit]").click()
    seconds = page.locator("#resend [data-seconds]")
    first = int(seconds.inner_text())
    assert first > 1
    expect(seconds).not_to_have_text(str(first), timeout=3_000)
    assert int(seconds.inner_text()) < first
    expect(page.locator("#resend")).to_be_disabled()

    with page.context.expect_page() as new_tab:
        page.locator("#inbox-link").click()
    inbox = new_tab.value
    inbox.wait_for_load_state()
    expect(inbox.locator("body")).to_contain_text(phone, timeout=10_000)
    screenshot(inbox, "dev-inbox")


def test_the_pages_work_without_javascript(new_context, random_phone, inbox_code, screenshot):
    phone, typed = random_phone()
    page = new_context(javascript=False, mobile=True).new_page()
    page.goto("/login/")
    page.fill("input[name=phone]", typed)
    requested_at = time.time()
    page.locator("form[action='/login/'] button[type=submit]").click()
    expect(page.locator("#resend")).to_be_disabled()
    expect(page.locator("#resend")).to_contain_text(re.compile(r"New code in \d+ s"))
    page.fill("input[name=code]", inbox_code(phone, since=requested_at))
    page.locator("form[action='/login/code/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/profile/$"))
    expect(page.locator("#invite-code")).to_be_visible()
    expect(page.locator("#copy-invite-code")).to_be_hidden()
    screenshot(page, "profile-no-js")
