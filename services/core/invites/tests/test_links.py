"""The share link in the profile API and its QR code at GET /api/v1/profile/invite-qr.svg."""

import pytest

from invites.qr import invite_qr_svg
from users.tests.factories import UserFactory, client_for

pytestmark = pytest.mark.django_db

QR_URL = "/api/v1/profile/invite-qr.svg"


def test_the_profile_carries_the_share_link_built_from_site_url(settings, user, user_api):
    settings.SITE_URL = "https://ref.example.com"
    body = user_api.get("/api/v1/profile/").json()
    assert body["invite_url"] == f"https://ref.example.com/r/{user.invite_code}/"


def test_without_site_url_the_share_link_uses_the_host_asked_for(settings, user, user_api):
    settings.SITE_URL = ""
    body = user_api.get("/api/v1/profile/", HTTP_HOST="localhost:8000").json()
    assert body["invite_url"] == f"http://localhost:8000/r/{user.invite_code}/"


def test_activation_and_sign_in_answers_carry_the_share_link_too(settings, user, user_api):
    settings.SITE_URL = "https://ref.example.com"
    inviter = UserFactory()
    body = user_api.post("/api/v1/profile/invite/", {"invite_code": inviter.invite_code}, format="json").json()
    assert body["invite_url"] == f"https://ref.example.com/r/{user.invite_code}/"


def test_the_qr_code_is_an_svg_of_my_share_link(settings, user, user_api):
    settings.SITE_URL = "https://ref.example.com"
    url = f"https://ref.example.com/r/{user.invite_code}/"
    response = user_api.get(QR_URL, HTTP_ACCEPT="image/svg+xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    svg = response.content.decode()
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert svg == invite_qr_svg(url=url, title=url)
    assert f"<title>{url}</title>" in svg
    # Drawn from this URL and no other: the symbol's modules differ for another code.
    assert svg != invite_qr_svg(url=url.replace(user.invite_code, "ZZZZZZ"), title=url)


def test_the_qr_code_needs_a_token_and_errors_stay_json(api):
    for accept in ("image/svg+xml", "application/json", "*/*"):
        response = api.get(QR_URL, HTTP_ACCEPT=accept)
        assert response.status_code == 401
        assert response["Content-Type"] == "application/json"
        assert response.json()["error"]["code"] == "not_authenticated"


def test_every_users_qr_is_their_own(settings):
    settings.SITE_URL = "https://ref.example.com"
    first, second = UserFactory(), UserFactory()
    assert client_for(first).get(QR_URL).content != client_for(second).get(QR_URL).content
