"""Staff's second factor: one confirmed TOTP device (django-otp, RFC 6238) per staff account,
made by `manage.py staff_totp_enroll`. Staff never enrol themselves: the admin site would have to
let an unverified session in to do it."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from svckit.errors import ApplicationError
from users.models import User

DEVICE_NAME = "authenticator"


class StaffNotFound(ApplicationError):
    code = "staff_not_found"
    message = _("No account has this phone. Make the staff account first: manage.py createsuperuser.")
    status = 404


class NotStaff(ApplicationError):
    code = "not_staff"
    message = _(
        "This account is not active staff, so it cannot sign in to the admin and gets no authenticator. "
        "Tick 'Staff status' (and 'Active') on its admin page first, or use manage.py createsuperuser."
    )


class AuthenticatorAlreadyEnrolled(ApplicationError):
    code = "authenticator_already_enrolled"
    message = _("This account already has an authenticator. --reset replaces it (the old one stops working).")
    status = 409


@transaction.atomic
def staff_totp_enroll(*, phone: str, reset: bool = False) -> TOTPDevice:
    """A new confirmed TOTP device (SHA-1, 6 digits, 30 s steps: what authenticator apps read
    from an otpauth:// URI) for the active staff account with this E.164 phone.

    With reset, the account's devices are deleted first: the lost one stops working and every
    admin session it verified loses the admin (django-otp's middleware finds no device).
    The account's row is locked, so two enrolments at once leave one device, not two.

    Raises StaffNotFound, NotStaff, or AuthenticatorAlreadyEnrolled (without reset)."""
    user = User.objects.select_for_update().filter(phone=phone).first()
    if user is None:
        raise StaffNotFound
    if not (user.is_staff and user.is_active):
        raise NotStaff
    devices = TOTPDevice.objects.filter(user=user)
    if devices.exists() and not reset:
        raise AuthenticatorAlreadyEnrolled
    devices.delete()
    return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True)
