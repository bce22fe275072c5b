"""CORS for browser apps on other origins (django-cors-headers): only the origins CORS_ALLOWED_ORIGINS
names (none by default), only the API, the JWT in Authorization and never cookies across origins."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.test_settings import _secrets, _settings
from users.tests.factories import UserFactory, client_for

APP = "https://app.example.com"
FOREIGN = "https://evil.example"
STATS = "/api/v1/profile/stats/"


def _preflight(origin: str, path: str = STATS, method: str = "GET"):
    return Client().options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )


@pytest.fixture
def app_allowed(settings):
    settings.CORS_ALLOWED_ORIGINS = [APP]


def test_by_default_no_other_origin_may_call_the_api():
    response = _preflight(APP)
    assert "Access-Control-Allow-Origin" not in response


def test_a_preflight_from_an_allowed_origin_may_send_the_bearer_token(app_allowed):
    response = _preflight(APP)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    assert {"authorization", "content-type"} <= {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert "GET" in response["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response  # cookies never cross origins
    assert response["Access-Control-Max-Age"] == "86400"


def test_a_preflight_from_a_foreign_origin_gets_no_cors_headers(app_allowed):
    for origin in (FOREIGN, "https://app.example.com.evil.example", "http://app.example.com", "null"):
        response = _preflight(origin)
        assert "Access-Control-Allow-Origin" not in response, origin
        assert "Access-Control-Allow-Headers" not in response, origin


@pytest.mark.django_db
def test_an_allowed_origins_request_with_the_token_can_read_the_answer_and_retry_after(app_allowed):
    client = client_for(UserFactory())
    response = client.get(STATS, {"tz": "Europe/Moscow"}, HTTP_ORIGIN=APP)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == APP
    assert "Retry-After" in response["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in response
    assert "origin" in response["Vary"].lower()


@pytest.mark.django_db
def test_a_foreign_origins_request_gets_an_answer_its_page_may_not_read(app_allowed):
    response = client_for(UserFactory()).get(STATS, HTTP_ORIGIN=FOREIGN)
    assert "Access-Control-Allow-Origin" not in response


@pytest.mark.django_db
def test_the_pages_session_is_no_credential_from_another_origin(app_allowed):
    """Even from an allowed origin, and even were a browser to send the cookie, the API reads only the JWT."""
    client = Client()
    client.force_login(UserFactory())
    assert client.get("/profile/").status_code == 200
    response = client.get(STATS, HTTP_ORIGIN=APP)
    assert (response.status_code, response.json()["error"]["code"]) == (401, "not_authenticated")


@pytest.mark.django_db
def test_the_pages_are_never_shared_with_another_origin(app_allowed):
    for path in ("/login/", "/profile/", "/i18n/setlang/"):
        assert "Access-Control-Allow-Origin" not in _preflight(APP, path, "POST"), path
        assert "Access-Control-Allow-Origin" not in Client().get(path, HTTP_ORIGIN=APP), path


@pytest.mark.parametrize(
    "origins",
    ["app.example.com", "https://app.example.com/", "https://app.example.com/api", "*", "https://*.example.com"],
)
def test_an_origin_that_is_not_one_stops_the_start(origins):
    result = _settings(CORS_ALLOWED_ORIGINS=origins)
    assert result.returncode != 0 and "ImproperlyConfigured: CORS_ALLOWED_ORIGINS" in result.stderr


def test_production_takes_https_origins_only():
    production = {"APP_ENV": "production", **_secrets()}
    assert "CORS_ALLOWED_ORIGINS" in _settings(**production, CORS_ALLOWED_ORIGINS="http://app.example.com").stderr
    assert _settings(**production, CORS_ALLOWED_ORIGINS=f"{APP},https://admin.example.com:8443").returncode == 0
    assert _settings(CORS_ALLOWED_ORIGINS="http://localhost:3000").returncode == 0
