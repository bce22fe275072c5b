"""Signing in: the first successful sign-in creates the account (and its invite code)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from webhooks.services import USER_REGISTERED, webhook_event_emit

from common.phones import phone_sms_check
from integrations import otp_client
from svckit.errors import ApplicationError
from users import tokens
from users.models import User
from users.signals import InviteOutcome, signed_in

# A new user can lose an INSERT race on its phone (a concurrent first sign-in) or, once in about
# a billion, on its invite code; either way the next round sees the winner or draws a new code.
CREATE_ATTEMPTS = 5


class AccountDisabled(ApplicationError):
    code = "account_disabled"
    message = _("This account has been disabled.")
    status = 403


@dataclass(frozen=True)
class SignIn:
    user: User
    is_new_user: bool
    invite: InviteOutcome | None = None  # None: the sign-in carried no invite code


@dataclass(frozen=True)
class TokenSignIn:
    user: User
    is_new_user: bool
    access: str
    refresh: str
    invite: InviteOutcome | None = None


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


def auth_sign_in(*, phone: str, code: str, invite_code: str | None = None) -> SignIn:
    """Check the one-time code with the OTP service, then get or create the account.

    `invite_code` (the string the client sent along; None: nothing) goes to the `signed_in` receivers: the
    invites app applies it to a new account and reports the outcome in `SignIn.invite`. It never
    fails the sign-in.

    Raises what otp_client.otp_code_verify raises (InvalidCode, TooManyAttempts, TooManyFailures,
    TooManyRequests, InvalidPhone, OtpUnavailable), then AccountDisabled for a deactivated user."""
    otp_client.otp_code_verify(phone=phone, code=code)
    user, created = user_get_or_create_by_phone(phone=phone)
    if not user.is_active:
        raise AccountDisabled()
    answers: list[tuple[Any, Any]] = signed_in.send(sender=User, user=user, created=created, invite_code=invite_code)
    invite = next((answer for _, answer in answers if isinstance(answer, InviteOutcome)), None)
    if invite is not None and invite.applied:
        user.refresh_from_db()
    return SignIn(user=user, is_new_user=created, invite=invite)


def auth_token_sign_in(*, phone: str, code: str, invite_code: str | None = None) -> TokenSignIn:
    """The API's sign-in: as auth_sign_in (and raising what it raises), plus a JWT pair."""
    signed = auth_sign_in(phone=phone, code=code, invite_code=invite_code)
    pair = tokens.token_pair_issue(user=signed.user)
    return TokenSignIn(
        user=signed.user, is_new_user=signed.is_new_user, access=pair.access, refresh=pair.refresh, invite=signed.invite
    )
