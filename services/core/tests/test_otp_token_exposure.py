"""The OTP service token is the core's secret: it goes to the OTP service and nowhere else. Whatever
the OTP service answers (even echoing the token back), no core answer, page, schema or error carries
it, in its body or its headers."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client
from rest_framework.test import APIClient

from users.tests.factories import UserFactory, client_for

pytestmark = pytest.mark.django_db

SEND, VERIFY = "/v1/codes/", "/v1/codes/verify/"
PHONE = "+79991234567"


@pytest.fixture
def token(settings, fake_otp) -> str:
    settings.OTP_SERVICE_TOKEN = f"otp-service-token-{uuid.uuid4().hex}"
    settings.THROTTLE_AUTH_PER_IP = "100000/min"
    return settings.OTP_SERVICE_TOKEN


def _leaky_answers(token: str) -> list[tuple[int, object, dict, bytes | None]]:
    """OTP answers that carry the token everywhere the core might copy something from."""
    error = {"code": "invalid_code", "message": token, "details": {"attempts_left": 3, "token": token}}
    return [
        (400, {"error": error}, {"X-Token": token}, None),
        (400, {"error": {**error, "code": token}}, {}, None),
        (401, {"error": {"code": "not_authenticated", "message": token, "details": {"token": token}}}, {}, None),
        (429, {"error": {**error, "code": "too_many_attempts"}}, {"Retry-After": token}, None),
        (429, {"error": {**error, "code": "too_many_requests"}}, {"Retry-After": token}, None),
        (500, None, {}, f"<html>Traceback: Authorization: Bearer {token}</html>".encode()),
        (202, {"expires_in": token, "resend_in": token}, {}, None),
        (200, {"verified": token}, {}, None),
    ]


def _assert_clean(response, token: str) -> None:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert token.encode() not in content, (response.status_code, content[:300])
    assert token not in str(response.headers), response.headers


def test_no_api_answer_carries_the_otp_token_whatever_the_otp_service_says(fake_otp, token):
    api = APIClient()
    for status, body, headers, raw in _leaky_answers(token):
        for path in (SEND, VERIFY):
            fake_otp.answer(path, status, body, headers=headers, raw=raw)
        _assert_clean(api.post("/api/v1/auth/code/", {"phone": PHONE}, format="json"), token)
        _assert_clean(api.post("/api/v1/auth/token/", {"phone": PHONE, "code": "1234"}, format="json"), token)
    # The token did travel, to the OTP service only.
    assert {r["headers"]["Authorization"] for r in fake_otp.requests} == {f"Bearer {token}"}


def test_no_page_carries_the_otp_token_whatever_the_otp_service_says(fake_otp, token):
    for status, body, headers, raw in _leaky_answers(token):
        for path in (SEND, VERIFY):
            fake_otp.answer(path, status, body, headers=headers, raw=raw)
        client = Client()
        _assert_clean(client.post("/login/", {"phone": PHONE}), token)
        fake_otp.answer(SEND, 202, {"expires_in": 300, "resend_in": 0})
        client.post("/login/", {"phone": PHONE})
        for path in (SEND, VERIFY):
            fake_otp.answer(path, status, body, headers=headers, raw=raw)
        _assert_clean(client.get("/login/code/"), token)
        _assert_clean(client.post("/login/code/", {"code": "1234"}, follow=True), token)
        _assert_clean(client.post("/login/resend/", follow=True), token)


def test_no_document_or_error_carries_the_otp_token(fake_otp, token):
    user = UserFactory()
    web = Client()
    web.force_login(user)
    api = client_for(user)
    fake_otp.answer("/readyz", 503, {"error": {"code": "unavailable", "message": token}})
    for response in [
        Client().get("/api/schema.json"),
        Client().get("/api/docs/"),
        Client().get("/api/redoc/"),
        Client().get("/healthz"),
        Client().get("/readyz"),
        Client().get("/metrics"),
        Client().get("/admin/login/"),
        Client().get("/login/"),
        Client().get("/no-such-page/"),
        Client().get("/static/web/app.js"),
        web.get("/profile/"),
        api.get("/api/v1/profile/"),
        api.get("/api/v1/profile/referrals/?cursor=bad"),
        api.post("/api/v1/profile/invite/", {"invite_code": "ZZZZZZ"}, format="json"),
        APIClient().get("/api/v1/profile/"),
        APIClient().get("/api/v1/no-such-endpoint/"),
        APIClient().put("/api/v1/auth/code/", {}, format="json"),
        APIClient().post("/api/v1/auth/code/", b"{", content_type="application/json"),
    ]:
        _assert_clean(response, token)
