"""The admin's second factor, tried as an attacker would: a session from the pages' SMS sign-in,
the password without a code, wrong, reused and borrowed codes, a non-staff account with a device,
and guessing codes against django-axes' lock."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from users.models import User
from users.tests.staff import (
    STAFF_PASSWORD,
    STAFF_PHONE,
    admin_sign_in,
    enrolled_superuser,
    signed_in_to_admin,
    totp_code,
)

pytestmark = pytest.mark.django_db


def _sms_sign_in(client: Client, phone: str) -> None:
    """The pages' sign-in: phone, then the SMS code (the fake OTP service accepts it)."""
    assert client.post("/login/", {"phone": phone})["Location"] == "/login/code/"
    assert client.post("/login/code/", {"code": "1234"})["Location"] == "/profile/"


def _failures() -> int:
    return sum(AccessAttempt.objects.filter(username=STAFF_PHONE).values_list("failures_since_start", flat=True))


def _admin_is_closed(client: Client) -> None:
    index = client.get("/admin/")
    assert index.status_code == 302 and index["Location"] == "/admin/login/?next=/admin/"
    login = client.get(index["Location"])
    html = login.content.decode()
    assert login.status_code == 200 and 'name="otp_token"' in html and "Site administration" not in html
    assert client.get("/admin/users/user/").status_code == 302


def test_an_sms_sign_in_of_a_superuser_does_not_open_the_admin(client, fake_otp):
    enrolled_superuser()
    _sms_sign_in(client, STAFF_PHONE)
    assert client.session[SESSION_KEY]  # signed in to the pages
    _admin_is_closed(client)
    assert "an SMS code never" in client.get("/admin/login/?next=/admin/").content.decode()


def test_an_sms_sign_in_of_staff_still_opens_the_profile(client, fake_otp):
    enrolled_superuser()
    _sms_sign_in(client, STAFF_PHONE)
    profile = client.get("/profile/")
    assert profile.status_code == 200 and User.objects.get(phone=STAFF_PHONE).invite_code in profile.content.decode()


def test_the_password_alone_is_refused_and_counted(client):
    enrolled_superuser()
    response = admin_sign_in(client, phone=STAFF_PHONE, password=STAFF_PASSWORD)
    assert response.status_code == 200
    assert "Enter the 6-digit code your authenticator app shows." in response.content.decode()
    assert SESSION_KEY not in client.session
    assert _failures() == 1
    _admin_is_closed(client)


def test_a_wrong_code_is_refused_and_counted(client):
    _, device = enrolled_superuser()
    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    response = admin_sign_in(client, phone=STAFF_PHONE, password=STAFF_PASSWORD, code=wrong)
    assert response.status_code == 200
    assert "That code is wrong or was already used" in response.content.decode()
    assert SESSION_KEY not in client.session
    assert _failures() == 1
    _admin_is_closed(client)


def test_guessing_codes_locks_the_login_like_wrong_passwords(client):
    """Five wrong codes behind the right password lock phone and address: then even the right
    password with the right code is refused for the cool-off."""
    _, device = enrolled_superuser()
    for guess in ("000000", "111111", "222222", "333333"):
        assert admin_sign_in(client, phone=STAFF_PHONE, password=STAFF_PASSWORD, code=guess).status_code == 200
    locked = admin_sign_in(client, phone=STAFF_PHONE, password=STAFF_PASSWORD, code="444444")
    assert locked.status_code == 429 and locked["Retry-After"] == "3600"
    right = admin_sign_in(client, phone=STAFF_PHONE, password=STAFF_PASSWORD, code=totp_code(device))
    assert right.status_code == 429 and SESSION_KEY not in client.session


def test_password_and_the_right_code_open_the_admin(client):
    enrolled_superuser()
    device = TOTPDevice.objects.get()
    response = admin_sign_in(client, phone=STAFF_PHONE, password=STAFF_PASSWORD, code=totp_code(device))
    assert signed_in_to_admin(response)
    index = client.get("/admin/")
    assert index.status_code == 200 and "Site administration" in index.content.decode()
    assert client.get("/admin/users/user/").status_code == 200
    assert _failures() == 0


def test_a_success_forgives_earlier_failures(client):
    _, device = enrolled_superuser()
    for _ in range(4):
        admin_sign_in(client, phone=STAFF_PHONE, password="wrong")
    assert signed_in_to_admin(admin_sign_in(client, phone=STAFF_PHONE, password=STAFF_PASSWORD, code=totp_code(device)))
    assert _failures() == 0


def test_a_code_used_once_is_refused_the_second_time(client):
    """django-otp's replay protection: a code seen over a shoulder or a network is spent."""
    _, device = enrolled_superuser()
    code = totp_code(device)
    assert signed_in_to_admin(admin_sign_in(client, phone=STAFF_PHONE, password=STAFF_PASSWORD, code=code))
    client.post("/admin/logout/")
    replayed = admin_sign_in(Client(), phone=STAFF_PHONE, password=STAFF_PASSWORD, code=code)
    assert replayed.status_code == 200 and "already used" in replayed.content.decode()
    earlier = admin_sign_in(Client(), phone=STAFF_PHONE, password=STAFF_PASSWORD, code=totp_code(device, steps=-1))
    assert earlier.status_code == 200  # nor an older one still inside the clock tolerance


def test_a_code_from_another_staff_members_device_is_refused(client):
    """Our password, their device and code: django-otp checks the device is the user's own."""
    enrolled_superuser()
    _, theirs = enrolled_superuser("+79970000002")
    response = admin_sign_in(
        client,
        phone=STAFF_PHONE,
        password=STAFF_PASSWORD,
        code=totp_code(theirs),
        otp_device=theirs.persistent_id,
    )
    assert response.status_code == 200 and SESSION_KEY not in client.session
    _admin_is_closed(client)


def test_a_non_staff_account_with_a_device_is_refused(client):
    user = User.objects.create_user("+79970000003", password=STAFF_PASSWORD)
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    response = admin_sign_in(client, phone=user.phone, password=STAFF_PASSWORD, code=totp_code(device))
    assert response.status_code == 200 and SESSION_KEY not in client.session
    assert "staff account" in response.content.decode()
    _admin_is_closed(client)


def test_staff_without_an_authenticator_are_refused_and_told_how_to_enrol(client):
    User.objects.create_superuser(STAFF_PHONE, STAFF_PASSWORD)
    response = admin_sign_in(client, phone=STAFF_PHONE, password=STAFF_PASSWORD, code="123456")
    html = response.content.decode()
    assert response.status_code == 200 and SESSION_KEY not in client.session
    assert "no authenticator yet" in html and "manage.py staff_totp_enroll &lt;phone&gt;" in html
    assert _failures() == 1
    _admin_is_closed(client)


def test_an_unconfirmed_device_does_not_count(client):
    user = User.objects.create_superuser(STAFF_PHONE, STAFF_PASSWORD)
    device = TOTPDevice.objects.create(user=user, name="half-made", confirmed=False)
    response = admin_sign_in(client, phone=STAFF_PHONE, password=STAFF_PASSWORD, code=totp_code(device))
    assert response.status_code == 200 and "no authenticator yet" in response.content.decode()
