"""Staff in tests: an enrolled account, its authenticator's codes, and the real admin sign-in."""

from __future__ import annotations

import time
from collections.abc import Sequence

from django.contrib.auth.models import Permission
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from users.admin_totp import staff_totp_enroll
from users.models import User

ADMIN_LOGIN = "/admin/login/?next=/admin/"
STAFF_PHONE, STAFF_PASSWORD = "+79970000000", "admin-pass-123"


def totp_code(device: TOTPDevice, *, steps: int = 0) -> str:
    """The code the authenticator app shows now (steps=-1: the one before, +1: the next)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps * device.step
    return f"{totp.token():0{device.digits}d}"


def enrolled_superuser(phone: str = STAFF_PHONE, password: str = STAFF_PASSWORD) -> tuple[User, TOTPDevice]:
    user = User.objects.create_superuser(phone, password)
    return user, staff_totp_enroll(phone=phone)


def enrolled_staff(phone: str, *, permissions: Sequence[str], password: str = STAFF_PASSWORD) -> User:
    """A staff account (not a superuser) holding exactly `permissions` (`app.codename`), enrolled."""
    user = User.objects.create_user(phone, password=password, is_staff=True)
    for permission in permissions:
        app_label, codename = permission.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    staff_totp_enroll(phone=phone)
    return user


def admin_sign_in(client: Client, *, phone: str, password: str, code: str = "", address: str = "127.0.0.1", **extra):
    """POST the admin login form (phone, password, authenticator code, any `extra` field) from
    `address`, as a browser would."""
    fields = {"username": phone, "password": password, "otp_token": code, **extra}
    return client.post(ADMIN_LOGIN, fields, REMOTE_ADDR=address)


def signed_in_to_admin(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def staff_client(client: Client, *, phone: str = STAFF_PHONE, permissions: Sequence[str] | None = None) -> Client:
    """`client` signed in to the admin through the real form, as an enrolled superuser, or as
    staff holding exactly `permissions`."""
    if permissions is None:
        enrolled_superuser(phone)
    else:
        enrolled_staff(phone, permissions=permissions)
    code = totp_code(TOTPDevice.objects.get(user__phone=phone))
    assert signed_in_to_admin(admin_sign_in(client, phone=phone, password=STAFF_PASSWORD, code=code))
    return client
