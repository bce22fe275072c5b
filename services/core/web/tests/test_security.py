"""The pages against cross-site attacks: every form needs the CSRF token, a sign-in gets a fresh
session (the one before it is gone), no cookie is readable by scripts, the pages carry a
Content-Security-Policy, and a page's session never signs anyone in to the API.
(test_login.py and test_profile.py test the sign-in and profile forms' CSRF one by one.)"""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from users.models import User
from web.middleware import PAGES_POLICY
from web.tests.phones import PHONE_A, PHONE_B

pytestmark = pytest.mark.django_db

ADMIN_PHONE, ADMIN_PASSWORD = "+79990000001", "admin-pass-123"


def _token(client: Client, page: str) -> str:
    assert client.get(page).status_code == 200
    return client.cookies[settings.CSRF_COOKIE_NAME].value


def _forms(user_a, owner) -> list[tuple[str, str, dict, bool]]:
    """(page with the form, form action, fields, signed in?) for every form the site has."""
    return [
        ("/login/", "/login/", {"phone": PHONE_B}, False),
        ("/login/code/", "/login/code/", {"code": "1234"}, False),
        ("/login/code/", "/login/resend/", {}, False),
        ("/profile/", "/profile/", {"invite_code": owner.invite_code}, True),
        ("/profile/", "/logout/", {}, True),
        ("/login/", "/i18n/setlang/", {"language": "ru", "next": "/login/"}, False),
        ("/admin/login/", "/admin/login/", {"username": ADMIN_PHONE, "password": ADMIN_PASSWORD}, False),
    ]


def test_every_form_needs_the_csrf_token(otp, user_a, make_user):
    owner = make_user(PHONE_B)
    User.objects.create_superuser(ADMIN_PHONE, ADMIN_PASSWORD)
    for page, action, fields, signed_in in _forms(user_a, owner):
        client = Client(enforce_csrf_checks=True)
        if signed_in:
            client.force_login(user_a)
        else:  # a sign-in in progress, for the code page's forms
            client.post("/login/", {"phone": PHONE_A, "csrfmiddlewaretoken": _token(client, "/login/")})
        sent_before, session_before = len(otp.fake.requests), dict(client.session)

        refused = client.post(action, fields)
        assert refused.status_code == 403, action
        assert len(otp.fake.requests) == sent_before, action
        assert dict(client.session) == session_before, action
        assert settings.LANGUAGE_COOKIE_NAME not in client.cookies, action

        wrong = client.post(action, {**fields, "csrfmiddlewaretoken": "x" * 64})
        assert wrong.status_code == 403, action
        accepted = client.post(action, {**fields, "csrfmiddlewaretoken": _token(client, page)})
        assert accepted.status_code in {200, 302}, action
    assert User.objects.get(pk=user_a.pk).invited_by_id == owner.pk  # only the accepted post activated


def test_a_csrf_token_from_another_visitor_is_refused(otp, user_a):
    """The token must match this visitor's cookie: one copied from another visitor does not do."""
    victim, attacker = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    victim.force_login(user_a)
    stolen = _token(attacker, "/login/")
    _token(victim, "/profile/")
    assert victim.post("/logout/", {"csrfmiddlewaretoken": stolen}).status_code == 403
    assert victim.session[SESSION_KEY] == str(user_a.pk)


def test_sign_in_replaces_the_session_and_the_csrf_token(otp, client):
    client.post("/login/", {"phone": PHONE_A})
    planted_key = client.session.session_key  # what an attacker who planted the cookie would know
    csrf_before = client.get("/login/code/").cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post("/login/code/", {"code": "1234"})
    assert response.status_code == 302
    assert client.session.session_key != planted_key
    assert not SessionStore().exists(planted_key)
    assert client.cookies[settings.CSRF_COOKIE_NAME].value != csrf_before


def test_sign_out_ends_the_session_on_the_server(client_a):
    key = client_a.session.session_key
    client_a.post("/logout/")
    assert not SessionStore().exists(key)
    assert SESSION_KEY not in client_a.session


def test_no_cookie_is_readable_by_scripts_and_none_goes_cross_site(otp, client):
    client.get("/login/")
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    client.post("/login/", {"phone": PHONE_A})
    client.post("/login/code/", {"code": "1234"})
    names = {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME}
    assert names <= set(client.cookies)
    for name in names:
        assert client.cookies[name]["httponly"] is True, name
        assert client.cookies[name]["samesite"] == "Lax", name


def test_a_signed_in_page_session_is_no_api_credential(client_a):
    """The API takes only Bearer tokens, so a forged cross-site request riding the cookie gets nothing."""
    for url in ("/api/v1/profile/", "/api/v1/profile/referrals/"):
        response = client_a.get(url)
        assert (response.status_code, response.json()["error"]["code"]) == (401, "not_authenticated")
    response = client_a.post("/api/v1/profile/invite/", {"invite_code": "7KQ2ZD"}, content_type="application/json")
    assert response.status_code == 401


@pytest.mark.parametrize("url", ["/login/", "/profile/", "/no-such-page/"])
def test_pages_carry_the_content_security_policy_and_the_security_headers(client_a, url):
    response = client_a.get(url)
    assert response["Content-Security-Policy"] == PAGES_POLICY
    assert "script-src 'self'" in PAGES_POLICY and "'unsafe-inline'" not in PAGES_POLICY
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_pages_use_no_inline_script_or_style(client_a):
    """What the policy forbids, the pages must not need."""
    for url in ("/login/", "/profile/", "/no-such-page/"):
        html = client_a.get(url).content.decode()
        assert "<script>" not in html and "<style" not in html and " style=" not in html, url
        assert not re.search(r"\son[a-z]+=", html), url


@pytest.mark.parametrize("url", ["/admin/login/", "/api/docs/", "/api/v1/profile/", "/healthz"])
def test_the_admin_docs_and_api_keep_the_headers_without_the_pages_policy(client, url):
    response = client.get(url)
    assert "Content-Security-Policy" not in response  # Swagger UI, ReDoc and the admin inline their own code
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
