"""Hostile input on every endpoint: always a 4xx JSON error envelope, never a 500."""

import json
import random

import pytest

from users.tests.factories import client_for

POST_URLS = [
    "/api/v1/auth/code/",
    "/api/v1/auth/token/",
    "/api/v1/auth/token/refresh/",
    "/api/v1/auth/logout/",
    "/api/v1/profile/invite/",
]
FIELDS = ["phone", "code", "refresh", "invite_code"]
VALUES = [
    None,
    True,
    0,
    -1,
    1e308,
    10**30,
    "",
    " ",
    "\x00",
    "\u202e",
    "😀" * 10,
    "a" * 5000,
    "+" * 64,
    "89991234567\x00",
    [],
    ["89991234567"],
    {},
    {"phone": "89991234567"},
]
RAW_BODIES = [
    b"",
    b"{",
    b"null",
    b"[]",
    b'"string"',
    b"42",
    b"\xff\xfe\xfd",
    b'{"phone": "8999\\ud800"}',
    b'{"phone": NaN}',
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 3000 + b"1" + b"}" * 3000,
    b'{"phone": "' + b"9" * 20000 + b'"}',
    b'{"phone": 1' + b"0" * 5000 + b"}",
]


def _assert_envelope(response):
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:200])
    error = json.loads(response.content)["error"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and isinstance(error["details"], dict)


@pytest.fixture
def clients(db, fake_otp, settings):
    settings.THROTTLE_AUTH_PER_IP = "100000/min"
    settings.THROTTLE_INVITE_PER_USER = "100000/min"
    from rest_framework.test import APIClient

    from users.tests.factories import UserFactory

    return {"anonymous": APIClient(), "signed_in": client_for(UserFactory())}


@pytest.mark.parametrize("url", POST_URLS)
def test_raw_bodies(clients, url):
    client = clients["signed_in"] if "profile" in url else clients["anonymous"]
    for body in RAW_BODIES:
        _assert_envelope(client.post(url, body, content_type="application/json"))
    _assert_envelope(client.post(url, "phone=1", content_type="application/x-www-form-urlencoded"))
    _assert_envelope(client.post(url, b"{}", content_type="text/plain"))


@pytest.mark.parametrize("url", POST_URLS)
def test_random_json_objects(clients, url):
    client = clients["signed_in"] if "profile" in url else clients["anonymous"]
    rng = random.Random(url)  # reproducible
    for _ in range(60):
        body = {field: rng.choice(VALUES) for field in rng.sample(FIELDS, rng.randint(0, len(FIELDS)))}
        response = client.post(url, body, format="json")
        if response.status_code < 300:  # a body that happens to be valid (e.g. an empty invite code is not)
            continue
        _assert_envelope(response)


def test_query_strings(clients):
    client = clients["signed_in"]
    for query in ["cursor=", "cursor=%FF%FE", "limit=99999999999999999999", "limit=", "cursor=" + "A" * 300, "x=1"]:
        response = client.get(f"/api/v1/profile/referrals/?{query}")
        assert response.status_code in {200, 400}, query
        if response.status_code == 400:
            _assert_envelope(response)


@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/nope", "/api/v1/auth/code/extra/"])
def test_unknown_api_paths_are_json_404(client, db, path):
    response = client.get(path)
    assert response.status_code == 404
    _assert_envelope(response)


def test_wrong_methods_are_405(clients):
    for url in POST_URLS:
        client = clients["signed_in"] if "profile" in url else clients["anonymous"]
        _assert_envelope(client.get(url))
        _assert_envelope(client.put(url, {}, format="json"))
