"""The internal HTTP API: every endpoint, every error code, and bad input never answers 500."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from codes import services


def _error(response) -> str:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return body["error"]["code"]


def test_send_answers_202_at_once(api_client, phone):
    response = api_client.post("/v1/codes/", {"phone": phone}, format="json")
    assert response.status_code == 202
    assert response.json() == {"expires_in": 300, "resend_in": 60}


@pytest.mark.parametrize("language", [None, "en", "ru"])
def test_send_queues_the_sms_in_the_requests_language(api_client, phone, monkeypatch, language):
    queued: list[dict] = []
    monkeypatch.setattr(services.deliver_sms, "apply_async", lambda kwargs, **_options: queued.append(kwargs))
    body = {"phone": phone} if language is None else {"phone": phone, "language": language}
    assert api_client.post("/v1/codes/", body, format="json").status_code == 202
    assert [kwargs["language"] for kwargs in queued] == [language or "en"]


def test_the_queued_message_headers_repeat_neither_phone_nor_sealed_code(api_client, phone, monkeypatch):
    published: list[dict] = []
    monkeypatch.setattr(
        services.deliver_sms, "apply_async", lambda kwargs, **options: published.append({"kwargs": kwargs} | options)
    )
    assert api_client.post("/v1/codes/", {"phone": phone}, format="json").status_code == 202
    [message] = published
    assert message["argsrepr"] == "" and message["kwargsrepr"] == message["kwargs"]["message_id"]


@pytest.mark.parametrize("language", ["de", "", 7, None, ["ru"]])
def test_an_unknown_language_is_a_validation_error(api_client, phone, language):
    response = api_client.post("/v1/codes/", {"phone": phone, "language": language}, format="json")
    assert response.status_code == 400 and _error(response) == "validation_error"


def test_resend_answers_429_with_retry_after(api_client, phone):
    api_client.post("/v1/codes/", {"phone": phone}, format="json")
    response = api_client.post("/v1/codes/", {"phone": phone}, format="json")
    assert response.status_code == 429 and _error(response) == "too_many_requests"
    assert 59 <= int(response["Retry-After"]) <= 60


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Token x", "Bearer", "Bearer a b"])
def test_v1_calls_need_the_service_token(header, phone):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    for path in ("/v1/codes/", "/v1/codes/verify/"):
        response = client.post(path, {"phone": phone, "code": "1234"}, format="json")
        assert response.status_code == 401 and _error(response) == "not_authenticated"
        assert response["WWW-Authenticate"]


@pytest.mark.parametrize(
    "value",
    [
        "89991234567",
        "79991234567",
        "+7 999 123-45-67",
        "+7999",
        "+70000000000",
        "abc",
        "",
        " ",
        79991234567,
        None,
        [],
        {},
        True,
        "+7999123456７",
        "x" * 10_000,
        "<script>",
        "'; DROP TABLE users; --",
        "+7999123OO01",  # letter O for zero: a keypad would read 6 (a stranger's number)
        "+1800FLOWERS",
        "+7999123ОО01",  # Cyrillic О
        "+7999123ＯＯ01",  # fullwidth Ｏ
    ],
)
def test_anything_but_e164_is_invalid_phone(api_client, value):
    for path in ("/v1/codes/", "/v1/codes/verify/"):
        response = api_client.post(path, {"phone": value, "code": "1234"}, format="json")
        assert response.status_code == 400, response.content
        assert _error(response) in {"invalid_phone", "validation_error"}
    response = api_client.post("/v1/codes/", {"phone": value}, format="json")
    assert _error(response) == ("validation_error" if value in (None, [], {}, "", " ", True) else "invalid_phone")


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ("{not json", "application/json", 400, "malformed_request"),
        ("[]", "application/json", 400, "validation_error"),
        ('"+79991234567"', "application/json", 400, "validation_error"),
        ("null", "application/json", 400, "validation_error"),
        ("{}", "application/json", 400, "validation_error"),
        ("phone=%2B79991234567", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        ("phone", "text/plain", 415, "unsupported_media_type"),
        ('{"phone": "' + "9" * 20_000 + '"}', "application/json", 413, "payload_too_large"),
        ("[" * 5000 + "]" * 5000, "application/json", 400, "malformed_request"),
        ('{"phone": "+7999\u0000"}', "application/json", 400, "malformed_request"),
        (r'{"phone": "+7999\u0000"}', "application/json", 400, "invalid_phone"),
        ("\xff\xfe", "application/json", 400, "malformed_request"),
    ],
)
def test_malformed_bodies_get_a_json_4xx(api_client, body, content_type, status, code):
    for path in ("/v1/codes/", "/v1/codes/verify/"):
        response = api_client.generic("POST", path, body, content_type=content_type)
        assert response.status_code == status, response.content
        assert _error(response) == code


def test_wrong_method_is_405(api_client):
    response = api_client.get("/v1/codes/")
    assert response.status_code == 405 and _error(response) == "method_not_allowed"


def test_verify_the_right_code(api_client, phone, known_code):
    known_code("2468")
    api_client.post("/v1/codes/", {"phone": phone}, format="json")
    response = api_client.post("/v1/codes/verify/", {"phone": phone, "code": "2468"}, format="json")
    assert response.status_code == 200 and response.json() == {"verified": True}


@pytest.mark.parametrize("code", ["0000", "12345", "abcd", "", 1234, None])
def test_verify_a_wrong_code(api_client, phone, known_code, code):
    known_code("2468")
    api_client.post("/v1/codes/", {"phone": phone}, format="json")
    response = api_client.post("/v1/codes/verify/", {"phone": phone, "code": code}, format="json")
    assert response.status_code == 400
    if code in ("", None):
        assert _error(response) == "validation_error"
    else:
        assert _error(response) == "invalid_code"
        assert response.json()["error"]["details"] == {"attempts_left": 4}


def test_verify_after_too_many_attempts_is_429_with_retry_after(api_client, phone, known_code):
    known_code("2468")
    api_client.post("/v1/codes/", {"phone": phone}, format="json")
    for _ in range(5):
        api_client.post("/v1/codes/verify/", {"phone": phone, "code": "0000"}, format="json")
    response = api_client.post("/v1/codes/verify/", {"phone": phone, "code": "2468"}, format="json")
    assert response.status_code == 429 and _error(response) == "too_many_attempts"
    assert int(response["Retry-After"]) >= 1


def test_inbox_is_off_with_the_console_backend(settings):
    settings.SMS_BACKEND, settings.SMS_PROVIDERS = "console", ["console"]
    response = APIClient().get("/v1/inbox/")
    assert response.status_code == 404 and _error(response) == "not_found"
    assert APIClient().get("/inbox/").status_code == 404


def test_inbox_lists_messages_newest_first_without_a_token(inbox_backend, phone, run_delivery):
    run_delivery("a-" + phone, phone, "1111")
    run_delivery("b-" + phone, phone, "2222")
    for query in (f"?phone=%2B{phone[1:]}", f"?phone=+{phone[1:]}"):  # `+` unencoded arrives as a space
        response = APIClient().get("/v1/inbox/" + query)
        assert response.status_code == 200
        messages = response.json()["messages"]
        assert [m["code"] for m in messages] == ["2222", "1111"]
        assert {"phone", "text", "code", "sent_at"} <= set(messages[0])
    page = APIClient().get("/inbox/")
    assert page.status_code == 200 and "2222" in page.content.decode()


def test_inbox_rejects_a_bad_phone(inbox_backend):
    response = APIClient().get("/v1/inbox/?phone=123")
    assert response.status_code == 400 and _error(response) == "invalid_phone"


def test_health_and_readiness():
    assert APIClient().get("/healthz").json() == {"status": "ok"}
    ready = APIClient().get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"redis": "ok"}


def test_readyz_is_503_when_redis_is_down(monkeypatch):
    monkeypatch.setattr(services, "redis_ready", lambda: False)
    response = APIClient().get("/readyz")
    assert response.status_code == 503 and _error(response) == "unavailable"


def test_schema_and_docs():
    schema = APIClient().get("/schema.json")
    assert schema.status_code == 200
    base = schema.json().get("basePath", "").rstrip("/")
    paths = {base + path: spec for path, spec in schema.json()["paths"].items()}
    assert {"/v1/codes/", "/v1/codes/verify/", "/v1/inbox/"} <= set(paths)
    responses = paths["/v1/codes/verify/"]["post"]["responses"]
    assert {"200", "400", "401", "429", "503"} <= set(responses)
    assert APIClient().get("/docs/").status_code == 200


def test_unknown_paths_are_json_404():
    response = APIClient().get("/nope/")
    assert response.status_code == 404 and _error(response) == "not_found"


def test_the_right_code_at_the_phones_failure_budget_is_429_with_retry_after(api_client, phone, known_code, settings):
    settings.OTP_MAX_FAILURES_PER_DAY = 3
    known_code("2468")
    api_client.post("/v1/codes/", {"phone": phone}, format="json")
    for _ in range(3):
        api_client.post("/v1/codes/verify/", {"phone": phone, "code": "0000"}, format="json")
    response = api_client.post("/v1/codes/verify/", {"phone": phone, "code": "2468"}, format="json")
    assert response.status_code == 429 and _error(response) == "too_many_attempts"
    assert response.json()["error"]["details"] == {"scope": "phone"}
    assert 86_390 <= int(response["Retry-After"]) <= 86_400
