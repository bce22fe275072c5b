"""Fixtures for the page tests. The core's conftest gives a private Redis key prefix and
`fake_otp`, a real HTTP server standing in for the OTP service, so the pages go through the real
OTP client and its error mapping."""

from __future__ import annotations

import pytest
from django.test import Client

from integrations.tests.fake_otp import FakeOtp
from users.models import User
from users.services import user_get_or_create_by_phone
from web.tests.phones import PHONE_A

SEND = "/v1/codes/"
VERIFY = "/v1/codes/verify/"


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives chromium against the live local stack (run with -m browser)")


@pytest.fixture(autouse=True)
def _english_default(settings):
    settings.LANGUAGE_CODE = "en"


class Otp:
    """`fake_otp` in the words of these tests."""

    def __init__(self, fake: FakeOtp) -> None:
        self.fake = fake

    @property
    def sent(self) -> list[str]:
        return [body["phone"] for body in self.fake.json_bodies(SEND)]

    @property
    def languages(self) -> list[str]:
        return [body["language"] for body in self.fake.json_bodies(SEND)]

    @property
    def verified(self) -> list[tuple[str, str]]:
        return [(body["phone"], body["code"]) for body in self.fake.json_bodies(VERIFY)]

    def resend_in(self, seconds: int) -> None:
        self.fake.answer(SEND, 202, {"expires_in": 300, "resend_in": seconds})

    def send_fails(self, status: int, code: str, retry_after: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after else {}
        self.fake.answer(SEND, status, {"error": {"code": code, "message": "", "details": {}}}, headers=headers)

    def verify_fails(self, status: int, code: str, details: dict | None = None, retry_after: int | None = None):
        headers = {"Retry-After": str(retry_after)} if retry_after else {}
        body = {"error": {"code": code, "message": "", "details": details or {}}}
        self.fake.answer(VERIFY, status, body, headers=headers)


@pytest.fixture
def otp(fake_otp) -> Otp:
    return Otp(fake_otp)


@pytest.fixture
def make_user(db):
    def make(phone: str) -> User:
        return user_get_or_create_by_phone(phone=phone)[0]

    return make


@pytest.fixture
def user_a(make_user) -> User:
    return make_user(PHONE_A)


@pytest.fixture
def client_a(user_a) -> Client:
    client = Client()
    client.force_login(user_a)
    return client


@pytest.fixture
def csrf_client() -> Client:
    return Client(enforce_csrf_checks=True)
