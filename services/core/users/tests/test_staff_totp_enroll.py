"""`manage.py staff_totp_enroll`: the printed URI is the authenticator that opens the admin, it is
shown once, non-staff accounts are refused, and --reset replaces a lost device for good."""

from __future__ import annotations

import base64
import threading
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from users.admin_totp import staff_totp_enroll
from users.models import User
from users.tests.staff import STAFF_PASSWORD, STAFF_PHONE, admin_sign_in, signed_in_to_admin, totp_code

pytestmark = pytest.mark.django_db


def _enrol(*args: str) -> str:
    out = StringIO()
    call_command("staff_totp_enroll", *args, stdout=out)
    return out.getvalue()


def _uri(output: str) -> str:
    return next(line for line in output.splitlines() if line.startswith("otpauth://"))


def _code_from_uri(uri: str) -> str:
    """What an authenticator app that scanned `uri` shows now (RFC 6238 with the URI's parameters)."""
    query = parse_qs(urlsplit(uri).query)
    assert query["algorithm"] == ["SHA1"] and query["digits"] == ["6"] and query["period"] == ["30"]
    totp = TOTP(base64.b32decode(query["secret"][0]), step=30, digits=6)
    return f"{totp.token():06d}"


@pytest.fixture
def superuser() -> User:
    return User.objects.create_superuser(STAFF_PHONE, STAFF_PASSWORD)


def test_the_printed_uri_is_the_authenticator_that_opens_the_admin(client, superuser):
    output = _enrol("8 (997) 000-00-00")  # any common format of the phone
    uri = _uri(output)
    assert urlsplit(uri).path == "/Referrals%20admin%3A%2B79970000000"  # issuer:phone, as apps list it
    assert "issuer=Referrals%20admin" in uri
    assert "▀" in output or "▄" in output  # the QR code, in the terminal's block characters
    device = TOTPDevice.objects.get(user=superuser)
    assert device.confirmed
    response = admin_sign_in(client, phone=STAFF_PHONE, password=STAFF_PASSWORD, code=_code_from_uri(uri))
    assert signed_in_to_admin(response)


def test_the_issuer_comes_from_the_settings(superuser, settings):
    settings.OTP_TOTP_ISSUER = "Referrals staging"
    assert "issuer=Referrals%20staging" in _uri(_enrol(STAFF_PHONE))


def test_the_secret_is_shown_once(client, superuser):
    _enrol(STAFF_PHONE)
    with pytest.raises(CommandError, match="already has an authenticator"):
        _enrol(STAFF_PHONE)
    assert TOTPDevice.objects.count() == 1
    staff = Client()
    device = TOTPDevice.objects.get()
    assert signed_in_to_admin(admin_sign_in(staff, phone=STAFF_PHONE, password=STAFF_PASSWORD, code=totp_code(device)))
    change_page = staff.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
    assert device.key not in change_page and base64.b32encode(device.bin_key).decode() not in change_page
    assert staff.get("/admin/otp_totp/totpdevice/add/").status_code == 403  # made by the command only
    with pytest.raises(NoReverseMatch):  # django-otp's own admin's page with the secret and its QR code
        reverse("admin:otp_totp_totpdevice_config", kwargs={"pk": device.pk})


def test_a_non_staff_account_is_refused(client):
    user = User.objects.create_user("+79970000004", password=STAFF_PASSWORD)
    with pytest.raises(CommandError, match="not active staff"):
        _enrol(user.phone)
    assert not TOTPDevice.objects.exists()


def test_an_inactive_staff_account_is_refused(superuser):
    User.objects.filter(pk=superuser.pk).update(is_active=False)
    with pytest.raises(CommandError, match="not active staff"):
        _enrol(STAFF_PHONE)


@pytest.mark.parametrize(("phone", "message"), [("+79970000099", "No account has this phone"), ("12", "valid phone")])
def test_an_unknown_or_malformed_phone_is_refused(phone, message):
    with pytest.raises(CommandError, match=message):
        _enrol(phone)


def test_reset_replaces_a_lost_authenticator_and_ends_its_sessions(superuser):
    old_uri = _uri(_enrol(STAFF_PHONE))
    signed_in = Client()
    assert signed_in_to_admin(
        admin_sign_in(signed_in, phone=STAFF_PHONE, password=STAFF_PASSWORD, code=_code_from_uri(old_uri))
    )
    assert signed_in.get("/admin/").status_code == 200

    new_uri = _uri(_enrol(STAFF_PHONE, "--reset"))

    assert new_uri != old_uri and TOTPDevice.objects.count() == 1
    assert signed_in.get("/admin/")["Location"] == "/admin/login/?next=/admin/"  # the lost phone's session is out
    found = admin_sign_in(Client(), phone=STAFF_PHONE, password=STAFF_PASSWORD, code=_code_from_uri(new_uri))
    assert signed_in_to_admin(found)
    lost = admin_sign_in(Client(), phone=STAFF_PHONE, password=STAFF_PASSWORD, code=_code_from_uri(old_uri))
    assert lost.status_code == 200 and "That code is wrong" in lost.content.decode()


def test_deleting_a_device_in_the_admin_revokes_it(superuser):
    other = User.objects.create_superuser("+79970000005", STAFF_PASSWORD)
    staff_totp_enroll(phone=other.phone)
    _enrol(STAFF_PHONE)
    staff = Client()
    mine = TOTPDevice.objects.get(user=superuser)
    assert signed_in_to_admin(admin_sign_in(staff, phone=STAFF_PHONE, password=STAFF_PASSWORD, code=totp_code(mine)))
    theirs = TOTPDevice.objects.get(user=other)
    staff.post(f"/admin/otp_totp/totpdevice/{theirs.pk}/delete/", {"post": "yes"})
    assert not TOTPDevice.objects.filter(pk=theirs.pk).exists()
    refused = admin_sign_in(Client(), phone=other.phone, password=STAFF_PASSWORD, code=totp_code(theirs))
    assert refused.status_code == 200 and "no authenticator yet" in refused.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_resets_at_once_leave_one_authenticator():
    """The account's row is locked for the enrolment: racing resets do not leave two devices."""
    User.objects.create_superuser(STAFF_PHONE, STAFF_PASSWORD)
    barrier, errors = threading.Barrier(4), []

    def reset() -> None:
        try:
            barrier.wait()
            staff_totp_enroll(phone=STAFF_PHONE, reset=True)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=reset) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert TOTPDevice.objects.count() == 1
