"""The pages' forms check only the shape of the input; the services decide what is valid
(phone parsing, invite codes), so a rule is never written twice. Field names are the API's."""

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from svckit.phones import InvalidPhone, ascii_digits
from users import invite_codes
from users.invite_codes import InvalidInviteCode


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=64,
        error_messages={"required": _("Enter your phone number."), "max_length": InvalidPhone.message},
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


def _code_field(length: int) -> OtpCodeField:
    """The code box for codes of `length` digits (OTP_LENGTH, which the OTP service makes them)."""
    wrong = ngettext("The code is %(count)d digit.", "The code is %(count)d digits.", length) % {"count": length}
    return OtpCodeField(
        label=_("Code from the SMS"),
        strip=True,
        validators=[RegexValidator(rf"^[0-9]{{{length}}}$", wrong)],
        error_messages={"required": _("Enter the code from the SMS.")},
        widget=forms.TextInput(
            attrs={
                "class": "code",
                "maxlength": length,
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                # \p{Nd}: the browser lets through the digits of any script, as the server does.
                "pattern": rf"\p{{Nd}}{{{length}}}",
                "autofocus": True,
                "title": ngettext("%(count)d digit", "%(count)d digits", length) % {"count": length},
            }
        ),
    )


class CodeForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Built per form, in the visitor's language, from the setting the OTP service reads too.
        self.fields["code"] = _code_field(settings.OTP_LENGTH)


class InviteCodeForm(forms.Form):
    invite_code = forms.CharField(
        label=_("Invite code"),
        max_length=invite_codes.MAX_INPUT,
        error_messages={
            "required": _("Enter an invite code."),
            "max_length": InvalidInviteCode.message,
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
