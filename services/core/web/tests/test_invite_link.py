"""The share link's landing page /r/<invite_code>/ and the link with its QR code on the profile."""

from __future__ import annotations

import pytest
from django.test import Client

from users.models import User
from web.tests.phones import PHONE_A, shown

pytestmark = pytest.mark.django_db


def test_the_landing_page_names_the_inviter_only_by_a_masked_phone(client, user_a: User, settings):
    settings.SITE_URL = "https://ref.example.com"
    response = client.get(f"/r/{user_a.invite_code}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "+7 ••• •••-••-01" in html
    assert PHONE_A not in html and shown(PHONE_A) not in html and PHONE_A[2:] not in html
    assert f'<span class="invite-code" id="invite-code">{user_a.invite_code}</span>' in html
    assert f'href="/login/?invite_code={user_a.invite_code}" id="invite-next"' in html
    assert '<meta name="robots" content="noindex">' in html


def test_the_landing_page_has_open_graph_tags_for_previews(client, user_a: User, settings):
    settings.SITE_URL = "https://ref.example.com"
    html = client.get(f"/r/{user_a.invite_code}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<meta property="og:type" content="website">' in html
    assert f'<meta property="og:url" content="https://ref.example.com/r/{user_a.invite_code}/">' in html
    assert '<meta property="og:title" content="+7 ••• •••-••-01 invites you to Referrals">' in html
    assert '<meta property="og:locale" content="en_US">' in html
    assert f"invite code {user_a.invite_code} is applied for you" in html


def test_the_landing_page_speaks_russian(client, user_a: User):
    html = client.get(f"/r/{user_a.invite_code}/", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert '<html lang="ru">' in html
    assert "Вас пригласили" in html
    assert '<meta property="og:locale" content="ru_RU">' in html


def test_a_link_typed_loosely_redirects_to_its_one_address(client, user_a: User):
    loose = user_a.invite_code.lower()
    response = client.get(f"/r/{loose}/")
    if loose == user_a.invite_code:  # a code of digits only has no lower case
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert response["Location"] == f"/r/{user_a.invite_code}/"


@pytest.mark.parametrize("code", ["ZZZZZZ", "not-a-code", "x" * 40])
def test_an_unknown_code_gets_a_friendly_404_page(client, code, make_user):
    make_user(PHONE_A)
    response = client.get(f"/r/{code}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert "This invite link does not work" in html
    assert 'href="/login/"' in html


def test_a_signed_in_friend_is_sent_to_the_profile_with_the_code(user_a: User, make_user):
    friend = make_user("+79991110009")
    client = Client()
    client.force_login(friend)
    html = client.get(f"/r/{user_a.invite_code}/").content.decode()
    assert f'href="/profile/?invite_code={user_a.invite_code}" id="invite-next"' in html


def test_my_own_link_says_so(client_a: Client, user_a: User):
    html = client_a.get(f"/r/{user_a.invite_code}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "This is your own invite link" in html
    assert 'href="/profile/" id="invite-next"' in html


def test_the_profile_shows_the_link_a_copy_button_and_the_qr_code(client_a: Client, user_a: User, settings):
    settings.SITE_URL = "https://ref.example.com"
    html = client_a.get("/profile/").content.decode()
    url = f"https://ref.example.com/r/{user_a.invite_code}/"
    assert f'<a class="invite-url" id="invite-url" href="{url}">{url}</a>' in html
    assert f'data-copy="{url}"' in html
    assert '<figure class="qr" id="invite-qr">' in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html


def test_the_landing_page_is_limited_per_address_at_the_activation_rate(client, user_a: User, settings):
    settings.THROTTLE_INVITE_PER_USER = "3/min"
    answers = [client.get(f"/r/{code}/", HTTP_ACCEPT_LANGUAGE="en") for code in ("AAAAAA", "BBBBBB", "CCCCCC")]
    assert [r.status_code for r in answers] == [404, 404, 404]
    refused = client.get(f"/r/{user_a.invite_code}/", HTTP_ACCEPT_LANGUAGE="ru")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    html = refused.content.decode()
    assert "Не так быстро" in html and "Слишком много запросов. Попробуйте через" in html
    assert "+7 ••• •••-••-01" not in html
    assert client.get(f"/r/{user_a.invite_code}/", REMOTE_ADDR="10.1.2.3").status_code == 200
