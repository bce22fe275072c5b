"""Sign-in pages: /, /login/, /login/code/, /login/resend/."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import SESSION_KEY

from users.models import User
from users.services import AccountDisabled
from web import pending
from web.tests.phones import PHONE_A, shown

pytestmark = pytest.mark.django_db


def _request_code(client, phone="8 (999) 111-00-01"):
    return client.post("/login/", {"phone": phone})


def test_home_sends_visitors_to_login_and_users_to_profile(client, client_a):
    assert client.get("/")["Location"] == "/login/"
    assert client_a.get("/")["Location"] == "/profile/"


def test_login_page_has_the_phone_field_and_the_button(client):
    response = client.get("/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<input type="tel" name="phone"[^>]*autocomplete="tel"', html)
    assert "Get code" in html
    assert 'name="csrfmiddlewaretoken"' in html


@pytest.mark.parametrize("typed", ["89991110001", "+7 (999) 111-00-01", "8-999-111-00-01", "9991110001"])
def test_any_common_format_sends_the_code_to_the_e164_phone(client, otp, typed):
    response = _request_code(client, typed)
    assert response.status_code == 302
    assert response["Location"] == "/login/code/"
    assert otp.sent == [PHONE_A]
    assert client.session[pending.PHONE_KEY] == PHONE_A


@pytest.mark.parametrize(
    ("typed", "message"),
    [("12345", "Enter a valid phone number"), ("", "Enter your phone number."), ("9" * 70, "Enter a valid phone")],
)
def test_bad_phone_is_an_inline_error(client, otp, typed, message):
    response = _request_code(client, typed)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="field-error"' in html
    assert message in html
    assert 'aria-invalid="true"' in html
    assert otp.sent == []


@pytest.mark.parametrize(
    ("typed", "language", "message"),
    [
        ("+7 999 123 OO O1", "en", "Letters are not allowed in a phone number: type it in digits."),
        ("8 999 111 OO O1", "ru", "В номере телефона не может быть букв: введите его цифрами."),
        ("8 809 123-45-67", "en", "A code can only be sent to a mobile number."),
        ("8 800 123-45-67", "ru", "Код можно отправить только на мобильный номер."),
    ],
    ids=["letters-en", "letters-ru", "premium-en", "toll-free-ru"],
)
def test_letters_and_numbers_without_sms_are_inline_errors_in_the_visitors_language(
    client, otp, typed, language, message
):
    response = client.post("/login/", {"phone": typed}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    error = re.search(r'class="field-error"[^>]*>(.*?)<', response.content.decode(), re.S)
    assert error and error.group(1).strip() == message
    assert otp.sent == []


def test_a_country_outside_the_allowed_ones_is_an_inline_error(client, otp, settings):
    settings.SMS_ALLOWED_COUNTRIES = frozenset({"RU"})
    response = _request_code(client, "+7 701 234 5678")
    assert "Codes are not sent to numbers of this country." in response.content.decode()
    assert otp.sent == []


def test_too_many_requests_shows_the_seconds_left(client, otp):
    otp.send_fails(429, "too_many_requests", retry_after=42)
    response = _request_code(client)
    assert response.status_code == 200
    assert "Too many requests. Try again in 42 seconds." in response.content.decode()
    assert pending.PHONE_KEY not in client.session


def test_otp_service_down_is_an_inline_error(client, otp):
    otp.send_fails(503, "unavailable")
    response = _request_code(client)
    assert response.status_code == 200
    assert "The SMS service is not answering right now" in response.content.decode()


def test_code_page_without_a_pending_sign_in_goes_back_to_login(client):
    assert client.get("/login/code/")["Location"] == "/login/"
    assert client.post("/login/code/", {"code": "1234"})["Location"] == "/login/"


def test_code_page_shows_the_phone_field_hints_and_a_disabled_resend(client, otp, settings):
    settings.DEV_SMS_INBOX_URL = "http://127.0.0.1:8001/inbox/"
    otp.resend_in(60)
    _request_code(client)
    html = client.get("/login/code/").content.decode()
    assert f'<strong class="phone">{shown(PHONE_A)}</strong>' in html
    assert "The SMS arrives in 1–2 seconds." in html
    field = re.search(r'<input[^>]*name="code"[^>]*>', html).group(0)
    assert 'inputmode="numeric"' in field
    assert 'autocomplete="one-time-code"' in field
    assert r'pattern="\p{Nd}{4}"' in field
    resend = re.search(r'<button[^>]*id="resend"[^>]*>(.*?)</button>', html, re.S)
    assert " disabled" in resend.group(0)
    seconds = int(re.search(r'data-countdown="(\d+)"', resend.group(0)).group(1))
    assert 58 <= seconds <= 60
    assert f"<span data-seconds>{seconds}</span>" in resend.group(1)
    assert 'href="http://127.0.0.1:8001/inbox/"' in html


def test_no_inbox_link_when_the_dev_inbox_is_off(client, otp, settings):
    settings.DEV_SMS_INBOX_URL = ""
    _request_code(client)
    assert "inbox-link" not in client.get("/login/code/").content.decode()


def test_resend_is_enabled_once_the_cooldown_is_over(client, otp):
    otp.resend_in(0)
    _request_code(client)
    html = client.get("/login/code/").content.decode()
    resend = re.search(r'<button[^>]*id="resend"[^>]*>', html).group(0)
    assert "disabled" not in resend


def test_right_code_signs_in_a_new_user_with_a_new_session_key(client, otp, settings):
    _request_code(client)
    key_before = client.session.session_key
    response = client.post("/login/code/", {"code": "1234"})
    assert response.status_code == 302
    assert response["Location"] == "/profile/"
    user = User.objects.get(phone=PHONE_A)
    assert client.session[SESSION_KEY] == str(user.pk)
    assert client.session.session_key != key_before
    assert pending.PHONE_KEY not in client.session
    assert otp.verified == [(PHONE_A, "1234")]
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


@pytest.mark.parametrize("typed", ["١٢٣٤", "۱۲۳۴", "１２３４"], ids=["arabic-indic", "persian", "fullwidth"])
def test_a_code_in_another_scripts_digits_signs_in(client, otp, typed):
    _request_code(client)
    response = client.post("/login/code/", {"code": typed})
    assert response["Location"] == "/profile/"
    assert otp.verified == [(PHONE_A, "1234")]


def test_right_code_signs_in_the_existing_user(client, otp, user_a):
    _request_code(client)
    client.post("/login/code/", {"code": "1234"})
    assert client.session[SESSION_KEY] == str(user_a.pk)
    assert User.objects.count() == 1


def test_wrong_code_shows_the_attempts_left(client, otp):
    _request_code(client)
    otp.verify_fails(400, "invalid_code", {"attempts_left": 4})
    response = client.post("/login/code/", {"code": "9999"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Wrong code. 4 attempts left." in html
    assert 'id="id_code_error"' in html
    assert SESSION_KEY not in client.session
    assert not User.objects.exists()


@pytest.mark.parametrize(("language", "message"), [("en", "Request a new code."), ("ru", "Запросите новый код.")])
def test_a_code_with_no_attempts_left_asks_for_a_new_one(client, otp, language, message):
    _request_code(client)
    otp.verify_fails(400, "invalid_code", {"attempts_left": 0})
    html = client.post("/login/code/", {"code": "9999"}, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert message in html
    assert "0 attempts" not in html and "0 попыт" not in html


@pytest.mark.parametrize("typed", ["12a4", "123", "12345", ""])
def test_a_code_that_is_not_4_digits_never_reaches_the_otp_service(client, otp, typed):
    _request_code(client)
    response = client.post("/login/code/", {"code": typed})
    assert response.status_code == 200
    assert 'class="field-error"' in response.content.decode()
    assert otp.verified == []


@pytest.mark.parametrize("typed", ["123", "12345"])
def test_a_code_of_the_wrong_length_is_told_once_and_described_by_its_error(client, otp, typed):
    _request_code(client)
    html = client.post("/login/code/", {"code": typed}).content.decode()
    assert html.count('class="field-error"') == 1
    assert 'aria-describedby="id_code_error"' in html
    assert 'id="id_code_error"' in html


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (429, "too_many_attempts", "Too many wrong codes. Request a new code."),
        (503, "unavailable", "The SMS service is not answering right now"),
        (400, "invalid_code", "Wrong code."),
    ],
)
def test_verify_failures_are_inline_errors(client, otp, status, code, message):
    _request_code(client)
    otp.verify_fails(status, code, retry_after=300)
    response = client.post("/login/code/", {"code": "1234"})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert SESSION_KEY not in client.session


def test_a_disabled_account_cannot_sign_in(client, otp, user_a):
    User.objects.filter(pk=user_a.pk).update(is_active=False)
    _request_code(client)
    response = client.post("/login/code/", {"code": "1234"})
    assert str(AccountDisabled.message) in response.content.decode()
    assert SESSION_KEY not in client.session


def test_resend_sends_a_new_code_and_restarts_the_countdown(client, otp):
    otp.resend_in(0)
    _request_code(client)
    otp.resend_in(60)
    response = client.post("/login/resend/", follow=True)
    html = response.content.decode()
    assert otp.sent == [PHONE_A, PHONE_A]
    assert "A new code is on its way." in html
    assert re.search(r'<button[^>]*id="resend"[^>]*disabled', html)


def test_resend_during_the_cooldown_says_how_long_to_wait(client, otp):
    _request_code(client)
    otp.send_fails(429, "too_many_requests", retry_after=30)
    html = client.post("/login/resend/", follow=True).content.decode()
    assert "Too many requests. Try again in 30 seconds." in html
    assert re.search(r'data-countdown="(29|30)"', html)


def test_resend_without_a_pending_sign_in_goes_to_login(client):
    assert client.post("/login/resend/")["Location"] == "/login/"


def test_resend_is_post_only(client, otp):
    _request_code(client)
    assert client.get("/login/resend/").status_code == 405


def test_the_pages_share_the_apis_per_ip_rate_limit(client, otp, settings):
    settings.THROTTLE_AUTH_PER_IP = "2/min"
    otp.resend_in(0)
    assert _request_code(client).status_code == 302
    assert _request_code(client).status_code == 302
    response = _request_code(client)
    assert response.status_code == 200
    assert re.search(r"Too many requests. Try again in \d+ seconds?\.", response.content.decode())
    assert len(otp.sent) == 2


def test_sign_in_forms_need_the_csrf_token(csrf_client, otp):
    assert csrf_client.post("/login/", {"phone": PHONE_A}).status_code == 403
    assert otp.sent == []
    csrf_client.get("/login/")
    token = csrf_client.cookies["csrftoken"].value
    assert csrf_client.post("/login/", {"phone": PHONE_A, "csrfmiddlewaretoken": token}).status_code == 302
    assert csrf_client.post("/login/code/", {"code": "1234"}).status_code == 403
    assert csrf_client.post("/login/code/", {"code": "1234", "csrfmiddlewaretoken": token}).status_code == 302


@pytest.mark.parametrize(
    ("language", "retry_after", "message"),
    [
        ("en", 86_400, "Too many wrong codes for this number. Try again in 24 hours."),
        ("en", 1_000, "Too many wrong codes for this number. Try again in 1 hour."),
        ("ru", 7_200, "Слишком много неверных кодов для этого номера. Попробуйте через 2 часа."),
    ],
)
def test_a_spent_failure_budget_says_when_to_come_back(client, otp, language, retry_after, message):
    _request_code(client)
    otp.verify_fails(429, "too_many_attempts", {"scope": "phone"}, retry_after=retry_after)
    response = client.post("/login/code/", {"code": "1234"}, HTTP_ACCEPT_LANGUAGE=language)
    assert message in response.content.decode()


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Too many codes were sent to numbers like this one. Try again later."),
        ("ru", "На похожие номера отправлено слишком много кодов. Попробуйте позже."),
    ],
)
def test_the_sms_pumping_guard_is_an_error_above_the_form(client, otp, language, message):
    otp.send_fails(429, "sms_limit_reached", retry_after=3000)
    response = client.post("/login/", {"phone": "8 (999) 111-00-01"}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert message in response.content.decode()
