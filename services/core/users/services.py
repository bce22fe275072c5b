"""Signing in: the first successful sign-in creates the account (and its invite code). An invite code
carried by a sign-in is the sign-in package's business (signin.services): users knows no invites."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from webhooks.services import USER_REGISTERED, webhook_event_emit

from common.phones import phone_sms_check
from integrations import otp_client
from svckit.errors import ApplicationError
from users.models import User

# A new user can lose an INSERT race on its phone (a concurrent first sign-in) or, once in about
# a billion, on its invite code; either way the next round sees the winner or draws a new code.
CREATE_ATTEMPTS = 5


class AccountDisabled(ApplicationError):
    code = "account_disabled"
    message = _("This account has been disabled.")
    status = 403


def user_get_or_create_by_phone(*, phone: str) -> tuple[User, bool]:
    """Exactly one user per phone, however many first sign-ins race (the unique index decides).

    Returns (user, created). Raises RuntimeError if CREATE_ATTEMPTS rounds all lose a race (a bug)."""
    for _attempt in range(CREATE_ATTEMPTS):
        user = User.objects.filter(phone=phone).first()
        if user is not None:
            return user, False
        try:
            with transaction.atomic():  # a savepoint, so a lost race leaves any outer transaction usable
                user = User.objects.create_user(phone)
                # Queued for Celery when this commits: a lost race sends nothing.
                webhook_event_emit(
                    event_type=USER_REGISTERED,
                    data={"user": {"id": user.pk, "phone": user.phone}, "invite_code": user.invite_code},
                )
                return user, True
        except IntegrityError:
            continue
    raise RuntimeError(f"could not create a user for {phone} in {CREATE_ATTEMPTS} attempts")


def auth_code_send(*, phone: str, language: str = "en") -> otp_client.CodeSent:
    """Text a sign-in code, in the sign-in request's `language`. Never reads the database: the
    answer must not reveal whether the phone has an account. Raises UnsupportedNumber /
    UnsupportedCountry for a number that must not be sent an SMS (common.phones.phone_sms_check),
    before the OTP service is asked; then what otp_client.otp_code_send raises (TooManyRequests,
    SmsLimitReached, InvalidPhone, UnsupportedNumber / UnsupportedCountry, OtpUnavailable)."""
    phone_sms_check(phone=phone)
    return otp_client.otp_code_send(phone=phone, language=language)


def user_sign_in(*, phone: str, code: str) -> tuple[User, bool]:
    """Check the one-time code with the OTP service, then get or create the account: (user, created).

    Nothing about the account is read until the code is right, so known and unknown phones get the
    same failures. Raises what otp_client.otp_code_verify raises (InvalidCode, TooManyAttempts,
    TooManyRequests, InvalidPhone, OtpUnavailable), then AccountDisabled for a deactivated user."""
    otp_client.otp_code_verify(phone=phone, code=code)
    user, created = user_get_or_create_by_phone(phone=phone)
    if not user.is_active:
        raise AccountDisabled()
    return user, created
