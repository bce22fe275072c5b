"""Forged and misused JWTs: whatever is wrong with a token, the protected endpoints answer
401 not_authenticated and the refresh/logout endpoints 401 invalid_token. (test_token_apis.py has
the expired, garbage and access-for-refresh cases.)"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import pytest
from django.conf import settings

from users.tests.factories import UserFactory
from users.tokens import token_pair_issue

pytestmark = pytest.mark.django_db

PROTECTED = [("get", "/api/v1/profile/"), ("get", "/api/v1/profile/referrals/"), ("post", "/api/v1/profile/invite/")]
REFRESH_URLS = ["/api/v1/auth/token/refresh/", "/api/v1/auth/logout/"]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _segments(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
    return decode(header), decode(payload), signature


def _unsigned(header: dict, payload: dict) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"


def _sign(header: dict, payload: dict, *, key: str | None = None, digest=hashlib.sha256) -> str:
    """A JWT signed by hand, so the header can say anything (alg none, RS256...)."""
    signing_input = _unsigned(header, payload)
    key = settings.JWT_SIGNING_KEY if key is None else key
    signature = hmac.new(key.encode(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{_b64(signature)}"


def _claims(user, token_type: str) -> dict:
    now = int(time.time())
    return {"token_type": token_type, "exp": now + 600, "iat": now, "jti": uuid.uuid4().hex, "user_id": user.pk}


def _forgeries(user, other, token_type: str) -> dict[str, str]:
    """Each value differs from a genuine token of `user` in one way only."""
    genuine = token_pair_issue(user=user).access if token_type == "access" else token_pair_issue(user=user).refresh
    header, payload, signature = _segments(genuine)
    claims = _claims(user, token_type)
    no_exp = {k: v for k, v in claims.items() if k != "exp"}
    no_type = {k: v for k, v in claims.items() if k != "token_type"}
    return {
        # another user's id in the payload, the genuine signature kept
        "tampered-payload": f"{_unsigned(header, {**payload, 'user_id': other.pk})}.{signature}",
        "tampered-signature": genuine[:-4] + ("AAAA" if not genuine.endswith("AAAA") else "BBBB"),
        "no-signature": genuine.rsplit(".", 1)[0] + ".",
        "alg-none": _unsigned({"alg": "none", "typ": "JWT"}, claims) + ".",
        "alg-None": _unsigned({"alg": "None", "typ": "JWT"}, claims) + ".",
        # the right key, another algorithm than the one configured (HS256)
        "hs512": _sign({"alg": "HS512", "typ": "JWT"}, claims, digest=hashlib.sha512),
        "hs384": _sign({"alg": "HS384", "typ": "JWT"}, claims, digest=hashlib.sha384),
        # algorithm confusion: claims RSA, signed with the HMAC secret
        "rs256-header": _sign({"alg": "RS256", "typ": "JWT"}, claims),
        "es256-header": _sign({"alg": "ES256", "typ": "JWT"}, claims),
        "another-key": _sign({"alg": "HS256", "typ": "JWT"}, claims, key="not-the-" + settings.JWT_SIGNING_KEY),
        # Django's SECRET_KEY, SimpleJWT's default key: the tokens have one of their own
        "secret-key": _sign({"alg": "HS256", "typ": "JWT"}, claims, key=settings.SECRET_KEY),
        "empty-key": _sign({"alg": "HS256", "typ": "JWT"}, claims, key=""),
        # well signed with our key, but missing what a token must carry
        "expired": _sign({"alg": "HS256", "typ": "JWT"}, {**claims, "exp": int(time.time()) - 1}),
        "no-exp": _sign({"alg": "HS256", "typ": "JWT"}, no_exp),
        "no-token-type": _sign({"alg": "HS256", "typ": "JWT"}, no_type),
        "unknown-user": _sign({"alg": "HS256", "typ": "JWT"}, {**claims, "user_id": 2**62}),
    }


NAMES = [
    "tampered-payload",
    "tampered-signature",
    "no-signature",
    "alg-none",
    "alg-None",
    "hs512",
    "hs384",
    "rs256-header",
    "es256-header",
    "another-key",
    "secret-key",
    "empty-key",
    "expired",
    "no-exp",
    "no-token-type",
    "unknown-user",
]


def _code(response) -> str:
    return response.json()["error"]["code"]


def test_the_hand_signed_tokens_are_right_when_nothing_is_forged(api):
    """The forging helper itself: a hand-signed HS256 access token with our key is accepted."""
    user = UserFactory()
    token = _sign({"alg": "HS256", "typ": "JWT"}, _claims(user, "access"))
    assert api.get("/api/v1/profile/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200


@pytest.mark.parametrize("name", NAMES)
def test_a_forged_access_token_is_401_on_every_protected_endpoint(api, name):
    user, other = UserFactory(), UserFactory()
    token = _forgeries(user, other, "access")[name]
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    for method, url in PROTECTED:
        response = getattr(api, method)(url, {"invite_code": other.invite_code} if method == "post" else None)
        assert (response.status_code, _code(response)) == (401, "not_authenticated"), (name, url)
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert user.__class__.objects.get(pk=user.pk).invited_by_id is None


@pytest.mark.parametrize("url", REFRESH_URLS)
@pytest.mark.parametrize("name", NAMES)
def test_a_forged_refresh_token_is_401_invalid_token(api, name, url):
    user, other = UserFactory(), UserFactory()
    response = api.post(url, {"refresh": _forgeries(user, other, "refresh")[name]}, format="json")
    assert (response.status_code, _code(response)) == (401, "invalid_token"), name


def test_a_refresh_token_is_no_bearer_token_even_blacklisted_and_an_access_token_never_refreshes(api):
    user = UserFactory()
    pair = token_pair_issue(user=user)
    assert api.post("/api/v1/auth/logout/", {"refresh": pair.refresh}, format="json").status_code == 204
    for method, url in PROTECTED:
        response = getattr(api, method)(url, HTTP_AUTHORIZATION=f"Bearer {pair.refresh}")
        assert (response.status_code, _code(response)) == (401, "not_authenticated"), url
    for url in REFRESH_URLS:
        response = api.post(url, {"refresh": pair.access}, format="json")
        assert (response.status_code, _code(response)) == (401, "invalid_token"), url


@pytest.mark.parametrize(
    "header",
    [
        "Bearer " + "a" * 10_000,
        "Bearer " + "тест😀".encode().decode("latin-1"),  # UTF-8 as a WSGI server hands it over
        "Bearer a.b.c\x00",
        "Bearer {access} {access}",
        "Bearer {access}, Bearer {access}",
        "JWT {access}",
    ],
)
def test_odd_authorization_headers_are_401(api, header):
    access = token_pair_issue(user=UserFactory()).access
    response = api.get("/api/v1/profile/", HTTP_AUTHORIZATION=header.format(access=access))
    assert (response.status_code, _code(response)) == (401, "not_authenticated")
