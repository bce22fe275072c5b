"""The pages' forms check only the shape of the input; the services decide what is valid
(phone parsing, invite codes), so a rule is never written twice. Field names are the API's."""

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from invites import codes
from svckit.phones import ascii_digits

CODE_LENGTH = 4  # the OTP service's OTP_LENGTH; the page asks for exactly this many digits


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=64,
        error_messages={"required": _("Enter your phone number."), "max_length": _("Enter a valid phone number.")},
        widget=forms.TextInput(
            attrs={
                "type": "tel",
                "inputmode": "tel",
                "autocomplete": "tel",
                "autofocus": True,
                "placeholder": "+7 999 123-45-67",
            }
        ),
    )


class OtpCodeField(forms.CharField):
    """Digits of any script (`٤٨٢١`) are read as ASCII ones by the API's rule (svckit.phones.ascii_digits)."""

    def to_python(self, value):
        return ascii_digits(super().to_python(value) or "")  # "" is CharField's empty value, never None


class CodeForm(forms.Form):
    code = OtpCodeField(
        label=_("Code from the SMS"),
        max_length=CODE_LENGTH,
        min_length=CODE_LENGTH,
        strip=True,
        validators=[RegexValidator(rf"^[0-9]{{{CODE_LENGTH}}}$", _("The code is 4 digits."))],
        error_messages={
            "required": _("Enter the code from the SMS."),
            "max_length": _("The code is 4 digits."),
            "min_length": _("The code is 4 digits."),
        },
        widget=forms.TextInput(
            attrs={
                "class": "code",
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                # \p{Nd}: the browser lets through the digits of any script, as the server does.
                "pattern": rf"\p{{Nd}}{{{CODE_LENGTH}}}",
                "autofocus": True,
                "title": _("4 digits"),
            }
        ),
    )


class InviteCodeForm(forms.Form):
    invite_code = forms.CharField(
        label=_("Invite code"),
        max_length=codes.MAX_INPUT,
        error_messages={
            "required": _("Enter an invite code."),
            "max_length": _("An invite code is 6 letters and digits."),
        },
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "placeholder": "ABC123",
            }
        ),
    )
