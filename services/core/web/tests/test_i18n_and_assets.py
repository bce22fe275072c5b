"""Languages (Accept-Language, the switch), the stylesheet served by the app, HTML 404s."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("accept_language", "lang", "button"),
    [
        ("ru-RU,ru;q=0.9,en;q=0.5", "ru", "Получить код"),
        ("en-US,en;q=0.9", "en", "Get code"),
        ("de-DE", "en", "Get code"),
    ],
)
def test_the_language_comes_from_accept_language(client, accept_language, lang, button):
    html = client.get("/login/", HTTP_ACCEPT_LANGUAGE=accept_language).content.decode()
    assert f'<html lang="{lang}">' in html
    assert button in html


def test_the_switch_sets_the_language_for_the_next_pages(client):
    response = client.post("/i18n/setlang/", {"language": "ru", "next": "/login/"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert response.cookies[django_settings.LANGUAGE_COOKIE_NAME].value == "ru"
    assert "Получить код" in client.get("/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert "Get code" in client.get("/login/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()


def test_the_switch_is_a_csrf_protected_form_on_every_page(client, csrf_client):
    html = client.get("/login/").content.decode()
    assert '<form class="langs" action="/i18n/setlang/" method="post">' in html
    assert 'name="language" value="ru"' in html
    assert 'name="language" value="en"' in html
    assert csrf_client.post("/i18n/setlang/", {"language": "ru"}).status_code == 403


def test_the_switch_does_not_redirect_elsewhere(client):
    response = client.post("/i18n/setlang/", {"language": "ru", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_errors_are_translated(client, otp):
    response = client.post("/login/", {"phone": "12345"}, HTTP_ACCEPT_LANGUAGE="ru")
    assert "Введите правильный номер телефона" in response.content.decode()


def test_attempts_left_uses_russian_plurals(client, otp):
    client.post("/login/", {"phone": "+79991110001"})
    otp.verify_fails(400, "invalid_code", {"attempts_left": 4})
    html = client.post("/login/code/", {"code": "9999"}, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Неверный код. Осталось 4 попытки." in html


def test_the_stylesheet_and_script_are_served_by_the_app(client):
    html = client.get("/login/").content.decode()
    assert '<link rel="stylesheet" href="/static/web/app.css">' in html
    for path, content_type in (("/static/web/app.css", "text/css"), ("/static/web/app.js", "text/javascript")):
        response = client.get(path)
        assert response.status_code == 200
        assert response["Content-Type"].startswith(content_type)


def test_unknown_pages_are_html_and_unknown_api_paths_json(client):
    page = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")
    assert 'href="/"' in page.content.decode()

    api = client.get("/api/v1/no-such-endpoint/")
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(("accept_language", "sms_language"), [("ru-RU,ru;q=0.9", "ru"), ("en-US", "en")])
def test_the_sms_is_in_the_pages_language(client, otp, accept_language, sms_language):
    client.post("/login/", {"phone": "+79991234567"}, HTTP_ACCEPT_LANGUAGE=accept_language)
    client.post("/login/resend/", HTTP_ACCEPT_LANGUAGE=accept_language)
    assert otp.languages == [sms_language, sms_language]


def test_the_switch_chooses_the_sms_language_too(client, otp):
    client.post("/i18n/setlang/", {"language": "ru", "next": "/login/"}, HTTP_ACCEPT_LANGUAGE="en")
    client.post("/login/", {"phone": "+79991234567"}, HTTP_ACCEPT_LANGUAGE="en")
    assert otp.languages == ["ru"]
