"""Schemathesis fuzzes the public API from its own OpenAPI schema, in-process, with a real user's access
token on the protected operations and the OTP client talking to the fake OTP server: no 5xx, and every
answer as documented (status, headers, body)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.db import OperationalError, close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from users.models import User
from users.tests.factories import UserFactory, referrals_make
from users.tokens import token_pair_issue

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


CONFORMANCE = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _otp_error(code: str) -> dict:
    return {"error": {"code": code, "message": "", "details": {}}}


def _answer(operation: str, *, status: int, code: str | None, body=None, query=None, **headers):
    """Call one operation the way a client would and check the answer against the schema."""
    path, method = operation.rsplit(" ", 1)
    case = schema[path][method].Case(query=query, headers=headers, **({} if body is None else {"body": body}))
    response = case.call()
    checks = CONFORMANCE
    if response.status_code == 204:
        # Swagger 2.0 names media types per operation (`produces`), not per answer: a 204 has none.
        assert response.content == b""
        checks = [check for check in CONFORMANCE if check is not content_type_conformance]
    case.validate_response(response, checks=checks)
    assert response.status_code == status, response.text[:300]
    if code is not None:
        assert response.json()["error"]["code"] == code
    if status == 429:
        assert int(response.headers["retry-after"][0]) >= 1  # schemathesis keeps headers lower-cased
    return response


def test_the_answers_fuzzing_cannot_provoke_conform_too(fuzz_user, fake_otp, settings, monkeypatch):
    """Dependencies down, rate limits, refusals that need a particular state, and the token
    rotation (a random string is never a refresh token): each as documented."""
    bearer = {"Authorization": f"Bearer {FuzzUserToken().get(None, None)}"}
    sign_in = {"phone": "+79991234567", "code": "1234"}
    pair = token_pair_issue(user=fuzz_user)
    rotated = _answer("/auth/token/refresh/ POST", status=200, code=None, body={"refresh": pair.refresh}).json()
    _answer("/auth/logout/ POST", status=204, code=None, body={"refresh": rotated["refresh"]})
    _answer("/auth/logout/ POST", status=401, code="invalid_token", body={"refresh": rotated["refresh"]})
    fake_otp.answer("/v1/codes/", 500, _otp_error("internal_error"))
    fake_otp.answer("/v1/codes/verify/", 500, _otp_error("internal_error"))
    _answer("/auth/code/ POST", status=503, code="otp_unavailable", body={"phone": "+79991234567"})
    _answer("/auth/token/ POST", status=503, code="otp_unavailable", body=sign_in)
    fake_otp.answer("/v1/codes/", 429, _otp_error("too_many_requests"), headers={"Retry-After": "7"})
    fake_otp.answer("/v1/codes/verify/", 429, _otp_error("too_many_attempts"), headers={"Retry-After": "9"})
    _answer("/auth/code/ POST", status=429, code="too_many_requests", body={"phone": "+79991234567"})
    _answer("/auth/token/ POST", status=429, code="too_many_attempts", body=sign_in)

    fake_otp.answer("/v1/codes/verify/", 200, {"verified": True})
    User.objects.filter(pk=fuzz_user.pk).update(is_active=False)
    _answer("/auth/token/ POST", status=403, code="account_disabled", body={**sign_in, "phone": fuzz_user.phone})
    User.objects.filter(pk=fuzz_user.pk).update(is_active=True)

    owner, inviter = UserFactory(), UserFactory()
    _answer(
        "/profile/invite/ POST",
        status=400,
        code="own_invite_code",
        body={"invite_code": fuzz_user.invite_code},
        **bearer,
    )
    User.objects.filter(pk=owner.pk).update(invited_by=fuzz_user.pk, invite_activated_at=fuzz_user.date_joined)
    _answer(
        "/profile/invite/ POST", status=400, code="referral_cycle", body={"invite_code": owner.invite_code}, **bearer
    )
    User.objects.filter(pk=fuzz_user.pk).update(invited_by=inviter.pk, invite_activated_at=fuzz_user.date_joined)
    _answer(
        "/profile/invite/ POST",
        status=409,
        code="invite_already_activated",
        body={"invite_code": INVITE_CODE},
        **bearer,
    )

    settings.THROTTLE_AUTH_PER_IP = settings.THROTTLE_INVITE_PER_USER = "1/min"
    throttled: list[tuple[str, Any]] = [("/auth/code/ POST", {"phone": "+79991234567"}), ("/auth/token/ POST", sign_in)]
    for operation, body in throttled:
        schema[operation.split()[0]]["POST"].Case(body=body).call()
        _answer(operation, status=429, code="too_many_requests", body=body)
    schema["/profile/invite/"]["POST"].Case(body={"invite_code": "ZZZZZZ"}, headers=bearer).call()
    _answer("/profile/invite/ POST", status=429, code="too_many_requests", body={"invite_code": "ZZZZZZ"}, **bearer)

    refresh = token_pair_issue(user=fuzz_user).refresh

    def database_down(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")

    settings.THROTTLE_AUTH_PER_IP = settings.THROTTLE_INVITE_PER_USER = "1000000/min"
    with monkeypatch.context() as patch:  # undone before the test's transaction is rolled back
        patch.setattr("django.db.backends.utils.CursorWrapper.execute", database_down)
        for operation, body, headers in [
            ("/auth/token/ POST", sign_in, {}),
            ("/auth/token/refresh/ POST", {"refresh": refresh}, {}),
            ("/auth/logout/ POST", {"refresh": refresh}, {}),
            ("/profile/ GET", None, bearer),
            ("/profile/referrals/ GET", None, bearer),
            ("/profile/invite/ POST", {"invite_code": INVITE_CODE}, bearer),
        ]:
            _answer(operation, status=503, code="database_unavailable", body=body, **headers)
