"""The admin site staff sign in to: password, then a TOTP from their authenticator app (django-otp).

A session made any other way (the pages' SMS sign-in) is not verified, so the admin treats it as
signed out and shows this login. Every refusal after a right password (no code, a wrong or reused
code, no authenticator enrolled) counts as a failed admin login for django-axes, like a wrong
password: the lock after ADMIN_LOGIN_MAX_FAILURES covers guessing codes too.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite
from django_otp.plugins.otp_totp.models import TOTPDevice

ENROL_HINT = _(
    "This staff account has no authenticator yet, so it cannot sign in to the admin. "
    "An operator enrols one on the server with: manage.py staff_totp_enroll <phone>"
)


class StaffLoginForm(OTPAdminAuthenticationForm):
    """Phone, password and the authenticator's current code, in one form.

    Staff have one TOTP device each (users.admin_totp), so it is chosen for them: django-otp would
    otherwise ask for a device on a second round. The choice still goes through django-otp's
    check that the device is this user's."""

    otp_token = forms.CharField(
        required=False,
        label=_("Authenticator code"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    otp_error_messages = {
        **OTPAdminAuthenticationForm.otp_error_messages,
        "token_required": _("Enter the 6-digit code your authenticator app shows."),
        "invalid_token": _("That code is wrong or was already used: enter the one your app shows now."),
    }

    def clean_otp(self, user) -> None:
        """django-otp's second step, with the user's device filled in; any refusal is reported to
        django-axes as a failed login (Django's user_login_failed, the signal it counts).

        Raises ValidationError: code `no_device`, `token_required`, `invalid_token` (django-otp),
        or django-otp's throttling message after repeated wrong codes."""
        if user is None:
            return
        try:
            if not self.cleaned_data.get("otp_device"):
                device = TOTPDevice.objects.devices_for_user(user, confirmed=True).first()
                if device is None:
                    raise ValidationError(ENROL_HINT, code="no_device")
                self.cleaned_data["otp_device"] = device.persistent_id
            super().clean_otp(user)
        except ValidationError:
            user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=self.request)
            raise


class StaffAdminSite(OTPAdminSite):
    """`admin.site` (users.admin_apps): only staff verified by their TOTP device get in."""

    site_header = site_title = "Referrals admin"
    login_form = StaffLoginForm
    login_template = "admin/staff_login.html"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)  # django-otp's default name is "otpadmin"; the URLs are admin:…
