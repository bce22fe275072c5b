"""Schemathesis fuzzes the public API from its own OpenAPI schema, in-process, with a real user's access
token on the protected operations and the OTP client talking to the fake OTP server: no 5xx, and every
answer as documented (status, headers, body)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis.specs.openapi.checks import positive_data_acceptance

from config.wsgi import application
from users.tests.factories import UserFactory, referrals_make

schema = schemathesis.openapi.from_wsgi("/api/schema.json", application)

pytestmark = pytest.mark.fuzz

# Schemathesis draws its coverage cases while collecting, before any fixture has run, so the token
# names a fixed user id that the fixture then creates.
FUZZ_USER_PK = 1_000_000_007
INVITE_CODE = "7KQ2ZD"  # the schema's example invite code: the examples activate it, then get 409


@schema.auth(refresh_interval=None)
class FuzzUserToken:
    def get(self, case, context):
        token = AccessToken()
        token[api_settings.USER_ID_CLAIM] = FUZZ_USER_PK
        token.set_exp(lifetime=timedelta(hours=1))
        return str(token)

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture
def fuzz_user(db, fake_otp, settings):
    settings.THROTTLE_AUTH_PER_IP = settings.THROTTLE_INVITE_PER_USER = "1000000/min"
    user = UserFactory(pk=FUZZ_USER_PK)
    referrals_make(user, 5)  # so that cursors and `next` links come up
    UserFactory(invite_code=INVITE_CODE)
    # The WSGI handler closes the database connection after each request (Django's test client does
    # not), which would end the test's transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield user
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@hypothesis_settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_every_operation_conforms_and_never_fails(case, fuzz_user):
    # positive_data_acceptance wants every schema-valid request to succeed, but the rules are semantic:
    # a string is rarely a phone number (invalid_phone), a well-formed invite code may belong to nobody
    # (404), a refresh token may be any string (401). Everything else is checked, negative data included.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
