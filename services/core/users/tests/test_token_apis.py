"""Refresh (rotation, single use), logout (blacklist), and what counts as a valid access token."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from users.tests.factories import UserFactory
from users.tokens import token_pair_issue

pytestmark = pytest.mark.django_db

REFRESH_URL = "/api/v1/auth/token/refresh/"
LOGOUT_URL = "/api/v1/auth/logout/"
PROFILE_URL = "/api/v1/profile/"


def _code(response) -> str:
    return response.json()["error"]["code"]


def test_refresh_rotates_and_the_old_refresh_token_is_used_up(api, user):
    pair = token_pair_issue(user=user)
    response = api.post(REFRESH_URL, {"refresh": pair.refresh}, format="json")
    assert response.status_code == 200
    fresh = response.json()
    assert set(fresh) == {"access", "refresh"} and fresh["refresh"] != pair.refresh
    assert api.get(PROFILE_URL, HTTP_AUTHORIZATION=f"Bearer {fresh['access']}").status_code == 200

    replay = api.post(REFRESH_URL, {"refresh": pair.refresh}, format="json")
    assert (replay.status_code, _code(replay)) == (401, "invalid_token")
    assert api.post(REFRESH_URL, {"refresh": fresh["refresh"]}, format="json").status_code == 200


def test_logout_blacklists_the_refresh_token(api, user):
    pair = token_pair_issue(user=user)
    response = api.post(LOGOUT_URL, {"refresh": pair.refresh}, format="json")
    assert response.status_code == 204 and response.content == b""
    after = api.post(REFRESH_URL, {"refresh": pair.refresh}, format="json")
    assert (after.status_code, _code(after)) == (401, "invalid_token")
    again = api.post(LOGOUT_URL, {"refresh": pair.refresh}, format="json")
    assert (again.status_code, _code(again)) == (401, "invalid_token")


def _expired_refresh(user) -> str:
    token = RefreshToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    return str(token)


@pytest.mark.parametrize("url", [REFRESH_URL, LOGOUT_URL])
@pytest.mark.parametrize(
    "make", [lambda u: "garbage", lambda u: token_pair_issue(user=u).access, _expired_refresh, lambda u: "a.b.c"]
)
def test_a_bad_refresh_token_is_401_invalid_token(api, user, url, make):
    response = api.post(url, {"refresh": make(user)}, format="json")
    assert response.status_code == 401
    assert _code(response) == "invalid_token"
    assert response["WWW-Authenticate"]


@pytest.mark.parametrize("url", [REFRESH_URL, LOGOUT_URL])
@pytest.mark.parametrize("body", [{}, {"refresh": ""}, {"refresh": 42}, {"refresh": None}, ["x"]])
def test_a_malformed_refresh_body_is_400(api, url, body):
    response = api.post(url, body, format="json")
    assert (response.status_code, _code(response)) == (400, "validation_error")


def test_a_disabled_user_cannot_refresh(api, user):
    pair = token_pair_issue(user=user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert _code(api.post(REFRESH_URL, {"refresh": pair.refresh}, format="json")) == "invalid_token"
    assert api.get(PROFILE_URL, HTTP_AUTHORIZATION=f"Bearer {pair.access}").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_one_refresh_token_sent_twice_at_once_is_rotated_once():
    user = UserFactory()
    refresh = token_pair_issue(user=user).refresh
    barrier = threading.Barrier(10)
    statuses = []

    def rotate():
        try:
            barrier.wait()
            statuses.append(APIClient().post(REFRESH_URL, {"refresh": refresh}, format="json").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=rotate) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [401] * 9


def _expired_access(user) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=1))
    return str(token)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer garbage",
        "Bearer a.b.c",
        "Token abc",
        "Basic dXNlcjpwYXNz",
        "Bearer one two",
    ],
)
def test_protected_endpoints_answer_401_not_authenticated(api, header):
    if header:
        api.credentials(HTTP_AUTHORIZATION=header)
    for method, url in [
        ("get", PROFILE_URL),
        ("get", "/api/v1/profile/referrals/"),
        ("post", "/api/v1/profile/invite/"),
    ]:
        response = getattr(api, method)(url, {"invite_code": "ABC123"} if method == "post" else None, format="json")
        assert response.status_code == 401, (header, url)
        assert _code(response) == "not_authenticated"


@pytest.mark.parametrize("make", [_expired_access, lambda u: token_pair_issue(user=u).refresh])
def test_an_expired_access_token_or_a_refresh_token_is_not_an_access_token(api, user, make):
    response = api.get(PROFILE_URL, HTTP_AUTHORIZATION=f"Bearer {make(user)}")
    assert (response.status_code, _code(response)) == (401, "not_authenticated")


def test_a_token_signed_with_another_key_is_refused(api, user):
    token = AccessToken.for_user(user)
    forged = str(token)  # the payload is fine; the signature below is not
    header, payload, _ = forged.split(".")
    response = api.get(PROFILE_URL, HTTP_AUTHORIZATION=f"Bearer {header}.{payload}.c2lnbmF0dXJl")
    assert (response.status_code, _code(response)) == (401, "not_authenticated")
