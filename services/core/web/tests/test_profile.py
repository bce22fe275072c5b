"""The profile page: facts, invite activation with every error inline, referrals, sign-out."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.utils import timezone

from invites.services import invite_activate
from users.models import User
from web.tests.phones import PHONE_B, PHONE_C, shown

pytestmark = pytest.mark.django_db


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _activate(client: Client, invite_code: str):
    return client.post("/profile/", {"invite_code": invite_code})


def _field_error(response) -> str:
    match = re.search(
        r'<p class="field-error" id="id_invite_code_error" role="alert">(.*?)</p>', response.content.decode()
    )
    return match.group(1) if match else ""


def test_profile_needs_a_signed_in_user(client):
    response = client.get("/profile/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/profile/"


def test_profile_shows_phone_invite_code_copy_button_and_date_joined(client_a, user_a):
    html = client_a.get("/profile/").content.decode()
    assert f'<dd id="phone">{shown(user_a.phone)}</dd>' in html
    assert f'<span class="invite-code" id="invite-code">{user_a.invite_code}</span>' in html
    assert re.search(rf'<button[^>]*id="copy-invite-code"[^>]*data-copy="{user_a.invite_code}"', html)
    assert f'<time datetime="{user_a.date_joined.isoformat()}">' in html
    assert 'name="invite_code"' in html
    assert "No one has activated your code yet." in html
    assert '<span class="count" id="referrals-count">(0)</span>' in html
    assert re.search(r'<form class="signout" method="post" action="/logout/">', html)


def test_activation_shows_the_code_and_puts_me_in_the_owners_referrals(make_user, user_a, client_a):
    user_b = make_user(PHONE_B)
    client_b = _signed_in(user_b)
    response = _activate(client_b, user_a.invite_code.lower()[:3] + "-" + user_a.invite_code.lower()[3:])
    assert response.status_code == 302
    html = client_b.get(response["Location"]).content.decode()
    assert "Invite code activated." in html
    assert f'id="activated-invite-code">{user_a.invite_code}</span>' in html
    assert 'name="invite_code"' not in html

    owner_html = client_a.get("/profile/").content.decode()
    assert '<span class="count" id="referrals-count">(1)</span>' in owner_html
    assert f'<span class="referral-phone">{shown(PHONE_B)}</span>' in owner_html


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter an invite code."),
        ("ABC", "An invite code is 6 letters and digits."),
        ("ABCDEU", "An invite code is 6 letters and digits."),
        ("x" * 40, "An invite code is 6 letters and digits."),
        ("ZZZZZZ", "No one has this invite code."),
    ],
)
def test_bad_or_unknown_codes_are_inline_errors(client_a, user_a, typed, message):
    response = _activate(client_a, typed)
    assert response.status_code == 200
    assert _field_error(response) == message
    assert User.objects.get(pk=user_a.pk).invited_by_id is None


def test_own_code_is_an_inline_error(client_a, user_a):
    response = _activate(client_a, user_a.invite_code)
    assert _field_error(response) == "This is your own invite code: ask a friend for theirs."


def test_a_cycle_is_an_inline_error(make_user, user_a, client_a):
    user_b, user_c = make_user(PHONE_B), make_user(PHONE_C)
    invite_activate(user=user_b, invite_code=user_a.invite_code)
    invite_activate(user=user_c, invite_code=user_b.invite_code)
    response = _activate(client_a, user_c.invite_code)
    assert _field_error(response) == "This code belongs to someone you invited (directly or through others)."


def test_a_second_activation_is_an_inline_error_next_to_the_activated_code(make_user, user_a):
    user_b, user_c = make_user(PHONE_B), make_user(PHONE_C)
    client_b = _signed_in(user_b)
    assert _activate(client_b, user_a.invite_code).status_code == 302
    response = _activate(client_b, user_c.invite_code)
    assert response.status_code == 200
    assert _field_error(response) == "You have already activated an invite code."
    assert f'id="activated-invite-code">{user_a.invite_code}</span>' in response.content.decode()
    assert User.objects.get(pk=user_b.pk).invited_by_id == user_a.pk


def test_activation_shares_the_apis_per_user_rate_limit(client_a, settings):
    settings.THROTTLE_INVITE_PER_USER = "2/min"
    for _ in range(2):
        assert _field_error(_activate(client_a, "ZZZZZZ")) == "No one has this invite code."
    assert re.fullmatch(r"Too many requests. Try again in \d+ seconds?\.", _field_error(_activate(client_a, "ZZZZZZ")))


def _add_referrals(owner: User, count: int) -> None:
    start = timezone.now() - timedelta(days=1)
    User.objects.bulk_create(
        User(
            phone=f"+7999200{n:04d}",
            invite_code=f"R{n:05d}",
            invited_by=owner,
            invite_activated_at=start + timedelta(seconds=n),
        )
        for n in range(count)
    )
    User.objects.filter(pk=owner.pk).update(referrals_count=count)


def test_referrals_are_listed_newest_first_100_a_page(client_a, user_a):
    _add_referrals(user_a, 101)
    html = client_a.get("/profile/").content.decode()
    phones = re.findall(r'<span class="referral-phone">(.*?)</span>', html)
    assert '<span class="count" id="referrals-count">(101)</span>' in html
    assert len(phones) == 100
    assert phones[0] == shown("+79992000100")
    assert phones[-1] == shown("+79992000001")
    older = re.search(r'<a href="(/profile/\?cursor=[^"#]+)#referrals" rel="next">', html).group(1)

    html = client_a.get(older.replace("&amp;", "&")).content.decode()
    assert re.findall(r'<span class="referral-phone">(.*?)</span>', html) == [shown("+79992000000")]
    assert 'rel="next"' not in html
    assert '<a href="/profile/#referrals">' in html


def test_no_pager_up_to_100_referrals(client_a, user_a):
    _add_referrals(user_a, 100)
    html = client_a.get("/profile/").content.decode()
    assert len(re.findall(r'class="referral-phone"', html)) == 100
    assert 'class="pager"' not in html


def test_a_bad_cursor_shows_the_first_page(client_a, user_a):
    _add_referrals(user_a, 2)
    response = client_a.get("/profile/?cursor=not-a-cursor")
    assert response.status_code == 200
    assert len(re.findall(r'class="referral-phone"', response.content.decode())) == 2


def test_sign_out_is_post_only(client_a, user_a):
    assert client_a.get("/logout/").status_code == 405
    assert client_a.session[SESSION_KEY] == str(user_a.pk)
    response = client_a.post("/logout/", follow=True)
    assert response.redirect_chain == [("/login/", 302)]
    assert "You have signed out." in response.content.decode()
    assert SESSION_KEY not in client_a.session
    assert client_a.get("/profile/").status_code == 302


def test_profile_forms_need_the_csrf_token(user_a, make_user):
    owner = make_user(PHONE_B)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user_a)
    assert client.post("/profile/", {"invite_code": owner.invite_code}).status_code == 403
    assert client.post("/logout/").status_code == 403
    assert User.objects.get(pk=user_a.pk).invited_by_id is None
    client.get("/profile/")
    token = client.cookies["csrftoken"].value
    assert client.post("/profile/", {"invite_code": owner.invite_code, "csrfmiddlewaretoken": token}).status_code == 302
    assert client.post("/logout/", {"csrfmiddlewaretoken": token}).status_code == 302
