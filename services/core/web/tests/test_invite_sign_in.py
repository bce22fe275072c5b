"""Signing in through a share link: the code rides through the phone and code pages, a new account
takes it at its first sign-in, an existing one is asked to confirm it on the profile."""

from __future__ import annotations

import pytest
from django.test import Client

from users.models import User
from web.tests.phones import PHONE_A, PHONE_B

pytestmark = pytest.mark.django_db


def _through_the_link(client: Client, invite_code: str, phone: str):
    """Landing button → phone page → code page → signed in; returns the last answer."""
    page = client.get(f"/login/?invite_code={invite_code}", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    client.post("/login/", {"phone": phone})
    return client.post("/login/code/", {"code": "1234"}, follow=True, HTTP_ACCEPT_LANGUAGE="en")


def test_the_code_survives_the_phone_and_code_pages(client, otp, user_a: User):
    html = client.get(f"/login/?invite_code={user_a.invite_code.lower()}").content.decode()
    assert 'id="invite-notice"' in html and user_a.invite_code in html
    client.post("/login/", {"phone": PHONE_B})
    html = client.get("/login/code/").content.decode()
    assert 'id="invite-notice"' in html and user_a.invite_code in html
    client.post("/login/resend/")
    assert user_a.invite_code in client.get("/login/code/").content.decode()


def test_a_new_account_takes_the_code_at_its_first_sign_in(client, otp, user_a: User):
    response = _through_the_link(client, user_a.invite_code, PHONE_B)
    assert response.redirect_chain[-1][0] == "/profile/"
    html = response.content.decode()
    assert "Invite code activated." in html
    assert f'<span class="invite-code" id="activated-invite-code">{user_a.invite_code}</span>' in html
    assert User.objects.get(phone=PHONE_B).invited_by_id == user_a.pk
    # The code is used up with the sign-in: the next one on this browser carries none.
    assert 'id="invite-notice"' not in client.get("/login/").content.decode()


def test_an_existing_account_is_asked_to_confirm_never_activated_silently(client, otp, user_a: User, make_user):
    me = make_user(PHONE_B)
    response = _through_the_link(client, user_a.invite_code, PHONE_B)
    assert response.redirect_chain[-1][0] == f"/profile/?invite_code={user_a.invite_code}"
    me.refresh_from_db()
    assert me.invited_by_id is None
    html = response.content.decode()
    assert f'value="{user_a.invite_code}"' in html
    assert 'id="invite-offer"' in html
    assert ">Confirm</button>" in html

    confirmed = client.post("/profile/", {"invite_code": user_a.invite_code}, follow=True)
    assert "Invite code activated." in confirmed.content.decode()
    me.refresh_from_db()
    assert me.invited_by_id == user_a.pk


def test_a_code_nobody_has_does_not_stop_the_sign_in(client, otp, make_user):
    make_user(PHONE_A)
    response = _through_the_link(client, "ZZZZZZ", PHONE_B)
    assert response.redirect_chain[-1][0] == "/profile/"
    assert "No one has this invite code." in response.content.decode()
    assert User.objects.get(phone=PHONE_B).invited_by_id is None


def test_a_mangled_link_signs_in_without_an_invite(client, otp, user_a: User):
    html = client.get("/login/?invite_code=not-a-code!").content.decode()
    assert 'id="invite-notice"' not in html
    response = _through_the_link(client, "not-a-code!", PHONE_B)
    assert response.redirect_chain[-1][0] == "/profile/"
    assert User.objects.get(phone=PHONE_B).invited_by_id is None


def test_the_profile_link_with_a_code_only_fills_the_form(client_a: Client, user_a: User, make_user):
    inviter = make_user(PHONE_B)
    html = client_a.get(f"/profile/?invite_code={inviter.invite_code}").content.decode()
    assert f'value="{inviter.invite_code}"' in html
    user_a.refresh_from_db()
    assert user_a.invited_by_id is None
