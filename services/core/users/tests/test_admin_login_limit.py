"""The admin login limit (django-axes), through the real admin login form: 5 failures per
username and address, then 429 with Retry-After for an hour, the right password and code included.
(test_admin_2fa.py: wrong authenticator codes count as failures too.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from users.tests.staff import enrolled_superuser, totp_code

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
ADMIN_PHONE, PASSWORD = "+79990000000", "admin-pass-123"
OTHER_PHONE = "+79990000001"


@pytest.fixture
def admin_user():
    user, _ = enrolled_superuser(ADMIN_PHONE, PASSWORD)
    return user


def _log_in(client, password: str, *, username: str = ADMIN_PHONE, address: str = "10.0.0.1", steps: int = 0):
    """The admin login with this password and the account's current authenticator code
    (steps=1: the next one, so a second sign-in in the same 30 s is not a replay)."""
    code = totp_code(TOTPDevice.objects.get(user__phone=username), steps=steps)
    return client.post(LOGIN, {"username": username, "password": password, "otp_token": code}, REMOTE_ADDR=address)


def _signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def test_five_failures_lock_the_username_at_that_address_for_an_hour(client, admin_user):
    for _ in range(4):
        assert _log_in(client, "wrong").status_code == 200  # the form again, with its error
    locked = _log_in(client, "wrong")
    assert locked.status_code == 429
    assert locked["Retry-After"] == "3600"
    assert "Too many failed sign-ins" in locked.content.decode()
    right = _log_in(client, PASSWORD)  # the right password is refused too while locked
    assert right.status_code == 429 and not _signed_in(right)


def test_the_lock_is_per_username_and_address(client, admin_user):
    enrolled_superuser(OTHER_PHONE, PASSWORD)
    for _ in range(5):
        _log_in(client, "wrong")
    assert _log_in(client, "wrong").status_code == 429
    assert _signed_in(_log_in(client, PASSWORD, address="10.0.0.2"))  # another address
    client.logout()
    assert _signed_in(_log_in(client, PASSWORD, username=OTHER_PHONE))  # another username


def test_after_the_cool_off_the_right_password_works(client, admin_user):
    for _ in range(5):
        _log_in(client, "wrong")
    assert _log_in(client, PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(hours=1, seconds=1))
    assert _signed_in(_log_in(client, PASSWORD))


def test_a_success_before_the_limit_forgets_the_failures(client, admin_user):
    for _ in range(4):
        _log_in(client, "wrong")
    assert _signed_in(_log_in(client, PASSWORD))
    client.logout()
    for _ in range(4):
        assert _log_in(client, "wrong").status_code == 200
    assert _signed_in(_log_in(client, PASSWORD, steps=1))


def test_the_address_is_the_one_the_throttles_trust(client, admin_user, settings):
    """Behind TRUSTED_PROXY_COUNT=1 proxies the last X-Forwarded-For entry is the client (as for
    the API's throttles), so a forged first entry buys no fresh attempts."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    for n in range(5):
        client.post(
            LOGIN,
            {"username": ADMIN_PHONE, "password": "wrong"},
            REMOTE_ADDR="10.9.9.9",
            HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 10.0.0.7",
        )
    response = client.post(
        LOGIN, {"username": ADMIN_PHONE, "password": PASSWORD}, REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="10.0.0.7"
    )
    assert response.status_code == 429


def test_an_sms_sign_in_on_the_pages_does_not_forgive_the_failures(client, admin_user, fake_otp):
    """Only a sign-in on the admin resets its count: whoever receives the staff member's SMS could
    otherwise wipe it after every few guesses."""
    for _ in range(4):
        assert _log_in(client, "wrong", address="127.0.0.1").status_code == 200
    assert client.post("/login/", {"phone": ADMIN_PHONE})["Location"] == "/login/code/"
    assert client.post("/login/code/", {"code": "1234"})["Location"] == "/profile/"  # same address
    assert _log_in(client, "wrong", address="127.0.0.1").status_code == 429
