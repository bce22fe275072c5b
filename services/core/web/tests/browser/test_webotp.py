"""The code page's WebOTP support in a real browser against the live stack. Headless Chromium has
no SMS to read, so the page gets a stand-in for the browser's side of the API (OTPCredential and
navigator.credentials.get) before it loads; everything else — the page, app.js under the page's
Content-Security-Policy, the SMS from the dev inbox, the sign-in — is the real thing."""

from __future__ import annotations

import re
import time

import pytest
from devstack import inbox
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

BROWSER_SIDE = """
window.OTPCredential = function OTPCredential() {};
window.otpRequests = [];
navigator.credentials.get = function (options) {
  window.otpRequests.push(JSON.stringify(options.otp));
  return new Promise(function (resolve) { window.deliverOtp = resolve; });
};
"""


def test_webotp_fills_in_the_code_and_signs_in(new_context, random_phone, inbox_code, otp_url, screenshot):
    context = new_context(locale="ru-RU", mobile=True)
    context.add_init_script(BROWSER_SIDE)
    page = context.new_page()
    phone, typed = random_phone()

    page.goto("/login/")
    page.fill("input[name=phone]", typed)
    requested_at = time.time()
    page.locator("form[action='/login/'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/login/code/$"))
    page.wait_for_function("() => typeof window.deliverOtp === 'function'")
    assert page.evaluate("window.otpRequests") == ['{"transport":["sms"]}']

    code = inbox_code(phone, since=requested_at)
    assert inbox.messages(otp_url, phone)[0]["text"].startswith(f"Код для входа: {code}")  # asked in Russian
    page.evaluate("code => window.deliverOtp({type: 'otp', id: '', code: code})", code)
    expect(page).to_have_url(re.compile(r"/profile/$"))
    screenshot(page, "webotp-profile")
