"""POST /api/v1/auth/code/ and /api/v1/auth/token/ through the real OTP client (a fake OTP server)."""

import pytest

from users.models import User
from users.tests.factories import UserFactory

CODE_URL = "/api/v1/auth/code/"
TOKEN_URL = "/api/v1/auth/token/"


def _error(code: str, **details) -> dict:
    return {"error": {"code": code, "message": "…", "details": details}}


@pytest.mark.parametrize("typed", ["89991234567", "+7 (999) 123-45-67", "8-999-123-45-67", "9991234567"])
def test_code_request_answers_202_with_the_e164_phone(api, fake_otp, typed):
    response = api.post(CODE_URL, {"phone": typed}, format="json")
    assert response.status_code == 202
    assert response.json() == {"phone": "+79991234567", "expires_in": 300, "resend_in": 60}
    assert fake_otp.json_bodies("/v1/codes/") == [{"phone": "+79991234567", "language": "en"}]


@pytest.mark.parametrize(
    ("accept", "language"), [("ru-RU,ru;q=0.9", "ru"), ("en-GB", "en"), ("de-DE", "en"), ("", "en")]
)
def test_the_sms_is_in_the_requests_language(api, fake_otp, accept, language):
    response = api.post(CODE_URL, {"phone": "+79991234567"}, format="json", HTTP_ACCEPT_LANGUAGE=accept)
    assert response.status_code == 202
    assert fake_otp.json_bodies("/v1/codes/") == [{"phone": "+79991234567", "language": language}]


@pytest.mark.django_db
def test_code_request_never_touches_the_database(api, fake_otp, django_assert_num_queries):
    UserFactory(phone="+79991234567")
    with django_assert_num_queries(0):
        known = api.post(CODE_URL, {"phone": "+79991234567"}, format="json")
        unknown = api.post(CODE_URL, {"phone": "+79997654321"}, format="json")
    assert known.status_code == unknown.status_code == 202
    assert known.json().keys() == unknown.json().keys()


@pytest.mark.parametrize("phone", ["123", "", "hello", "+7 999", 89991234567, None, True, ["89991234567"], {"a": 1}])
def test_code_request_refuses_a_non_phone(api, fake_otp, phone):
    response = api.post(CODE_URL, {"phone": phone}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"invalid_phone", "validation_error"}
    assert fake_otp.requests == []


def test_code_request_without_a_phone_is_a_validation_error(api, fake_otp):
    response = api.post(CODE_URL, {}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "phone" in response.json()["error"]["details"]["fields"]


def test_code_request_passes_the_otp_cooldown_on_with_retry_after(api, fake_otp):
    fake_otp.answer("/v1/codes/", 429, _error("too_many_requests"), headers={"Retry-After": "58"})
    response = api.post(CODE_URL, {"phone": "89991234567"}, format="json")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "too_many_requests"
    assert response["Retry-After"] == "58"


def test_code_request_is_503_when_the_otp_service_is_down(api, fake_otp):
    fake_otp.answer("/v1/codes/", 500, _error("internal_error"))
    response = api.post(CODE_URL, {"phone": "89991234567"}, format="json")
    assert response.status_code == 503
    assert response.json() == {
        "error": {
            "code": "otp_unavailable",
            "message": "The code service is unavailable. Try again shortly.",
            "details": {},
        }
    }


@pytest.mark.django_db
def test_first_sign_in_creates_the_user_and_returns_tokens_and_profile(api, fake_otp):
    response = api.post(TOKEN_URL, {"phone": "8 999 123 45 67", "code": "1234"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access", "refresh", "is_new_user", "invite_applied", "invite_error", "profile"}
    assert body["is_new_user"] is True
    user = User.objects.get(phone="+79991234567")
    assert body["profile"] == {
        "phone": "+79991234567",
        "invite_code": user.invite_code,
        "invite_url": f"http://testserver/r/{user.invite_code}/",
        "activated_invite_code": None,
        "referrals": [],
        "referrals_count": 0,
        "date_joined": body["profile"]["date_joined"],
    }
    assert fake_otp.json_bodies("/v1/codes/verify/") == [{"phone": "+79991234567", "code": "1234"}]
    profile = api.get("/api/v1/profile/", HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert profile.status_code == 200 and profile.json() == body["profile"]


@pytest.mark.django_db
def test_a_later_sign_in_finds_the_same_account(api, fake_otp):
    first = api.post(TOKEN_URL, {"phone": "89991234567", "code": "1234"}, format="json").json()
    again = api.post(TOKEN_URL, {"phone": "+7 (999) 123-45-67", "code": "5678"}, format="json").json()
    assert again["is_new_user"] is False
    assert again["profile"]["invite_code"] == first["profile"]["invite_code"]
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_a_wrong_code_is_invalid_code_with_attempts_left_and_creates_nobody(api, fake_otp):
    fake_otp.answer("/v1/codes/verify/", 400, _error("invalid_code", attempts_left=2))
    response = api.post(TOKEN_URL, {"phone": "89991234567", "code": "0000"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_code"
    assert response.json()["error"]["details"] == {"attempts_left": 2}
    assert User.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "message"), [("en", "The code is wrong or has expired."), ("ru", "Код неверен или устарел.")]
)
def test_a_wrong_code_is_told_in_the_clients_language(api, fake_otp, language, message):
    fake_otp.answer("/v1/codes/verify/", 400, _error("invalid_code", attempts_left=2))
    response = api.post(
        TOKEN_URL, {"phone": "89991234567", "code": "0000"}, format="json", HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.json()["error"]["message"] == message


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "body"),
    [(400, _error("invalid_code", attempts_left=3)), (429, _error("too_many_attempts")), (503, _error("unavailable"))],
)
def test_a_failed_sign_in_never_touches_the_database(api, fake_otp, django_assert_num_queries, status, body):
    # Nothing about the account is looked at until the code is right: known and unknown phones
    # get the same answer (the timing through the real stack is in tests/test_abuse.py).
    UserFactory(phone="+79991234567")
    fake_otp.answer("/v1/codes/verify/", status, body, headers={"Retry-After": "30"})
    with django_assert_num_queries(0):
        known = api.post(TOKEN_URL, {"phone": "+79991234567", "code": "0000"}, format="json")
        unknown = api.post(TOKEN_URL, {"phone": "+79997654321", "code": "0000"}, format="json")
    assert known.status_code == unknown.status_code >= 400
    assert known.json() == unknown.json()
    assert known.get("Retry-After") == unknown.get("Retry-After")


@pytest.mark.django_db
def test_a_burned_code_is_too_many_attempts_with_retry_after(api, fake_otp):
    fake_otp.answer("/v1/codes/verify/", 429, _error("too_many_attempts"), headers={"Retry-After": "31"})
    response = api.post(TOKEN_URL, {"phone": "89991234567", "code": "0000"}, format="json")
    assert (response.status_code, response["Retry-After"]) == (429, "31")
    assert response.json()["error"]["code"] == "too_many_attempts"


@pytest.mark.django_db
def test_sign_in_is_503_when_the_otp_service_times_out(api, fake_otp, settings):
    settings.OTP_READ_TIMEOUT = 0.3
    fake_otp.answer("/v1/codes/verify/", 200, {"verified": True}, delay=1)
    response = api.post(TOKEN_URL, {"phone": "89991234567", "code": "1234"}, format="json")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "otp_unavailable"
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_a_disabled_account_cannot_sign_in(api, fake_otp):
    UserFactory(phone="+79991234567", is_active=False)
    response = api.post(TOKEN_URL, {"phone": "89991234567", "code": "1234"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "account_disabled"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"phone": "89991234567"}, "validation_error"),
        ({"code": "1234"}, "validation_error"),
        ({"phone": "89991234567", "code": ""}, "validation_error"),
        ({"phone": "89991234567", "code": 1234}, "validation_error"),
        ({"phone": "89991234567", "code": "1" * 17}, "validation_error"),
        ({"phone": "nope", "code": "1234"}, "invalid_phone"),
    ],
)
def test_sign_in_validates_its_body(api, fake_otp, body, code):
    response = api.post(TOKEN_URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert fake_otp.requests == []


def test_a_stale_bearer_token_does_not_block_signing_in(api, fake_otp):
    api.credentials(HTTP_AUTHORIZATION="Bearer expired.or.garbage")
    assert api.post(CODE_URL, {"phone": "89991234567"}, format="json").status_code == 202


@pytest.mark.parametrize(
    ("language", "letters", "unsupported"),
    [
        ("en", "Letters are not allowed in a phone number", "A code can only be sent to a mobile number."),
        ("ru", "В номере телефона не может быть букв", "Код можно отправить только на мобильный номер."),
    ],
)
def test_phone_policy_messages_speak_the_clients_language(api, fake_otp, language, letters, unsupported):
    response = api.post(CODE_URL, {"phone": "+7 999 123 OO O1"}, format="json", HTTP_ACCEPT_LANGUAGE=language)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_phone")
    assert letters in response.json()["error"]["message"]
    response = api.post(CODE_URL, {"phone": "8 809 123-45-67"}, format="json", HTTP_ACCEPT_LANGUAGE=language)
    assert (response.status_code, response.json()["error"]) == (
        400,
        {"code": "unsupported_number", "message": unsupported, "details": {"number_type": "premium_rate"}},
    )
    assert fake_otp.requests == []


def test_allowed_countries_refuse_other_countries_before_the_otp_service(api, fake_otp, settings):
    settings.SMS_ALLOWED_COUNTRIES = frozenset({"RU"})
    response = api.post(CODE_URL, {"phone": "+7 701 234 5678"}, format="json", HTTP_ACCEPT_LANGUAGE="ru")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "unsupported_country",
        "message": "На номера этой страны коды не отправляются.",
        "details": {"country": "KZ"},
    }
    assert fake_otp.requests == []


@pytest.mark.parametrize(
    ("code", "detail"), [("unsupported_number", "number_type"), ("unsupported_country", "country")]
)
def test_the_otp_services_stricter_policy_is_passed_on(api, fake_otp, code, detail):
    fake_otp.answer("/v1/codes/", 400, _error(code, **{detail: "XX"}))
    response = api.post(CODE_URL, {"phone": "89991234567"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["details"] == {detail: "XX"}


def test_a_code_typed_in_arabic_indic_digits_signs_in(api, fake_otp, db):
    response = api.post(TOKEN_URL, {"phone": "+79991234567", "code": "٤٨٢١"}, format="json")
    assert response.status_code == 200
    assert fake_otp.json_bodies("/v1/codes/verify/") == [{"phone": "+79991234567", "code": "4821"}]


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Too many wrong codes for this number. Try again later."),
        ("ru", "Слишком много неверных кодов для этого номера. Попробуйте позже."),
    ],
)
def test_a_spent_failure_budget_is_429_with_retry_after_in_the_clients_language(api, fake_otp, language, message):
    body = _error("too_many_attempts", scope="phone")
    fake_otp.answer("/v1/codes/verify/", 429, body, headers={"Retry-After": "86000"})
    response = api.post(
        TOKEN_URL, {"phone": "89991234567", "code": "1234"}, format="json", HTTP_ACCEPT_LANGUAGE=language
    )
    assert (response.status_code, response["Retry-After"]) == (429, "86000")
    assert response.json()["error"] == {"code": "too_many_attempts", "message": message, "details": {"scope": "phone"}}
