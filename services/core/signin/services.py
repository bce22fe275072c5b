"""A sign-in and the invite code it carries, as plain calls in one place: the API and the pages call these."""

from __future__ import annotations

from dataclasses import dataclass

from invites.errors import NotNewAccount
from invites.services import invite_activate
from svckit.errors import ApplicationError
from users import tokens
from users.models import User
from users.services import user_sign_in


@dataclass(frozen=True, kw_only=True)
class SignIn:
    """What a sign-in did. `invite_error` is why the invite code sent along was not activated (None
    when it was, or when none was sent); it never failed the sign-in."""

    user: User
    is_new_user: bool
    invite_applied: bool = False
    invite_error: ApplicationError | None = None


@dataclass(frozen=True, kw_only=True)
class TokenSignIn(SignIn):
    access: str
    refresh: str


def auth_sign_in(*, phone: str, code: str, invite_code: str | None = None) -> SignIn:
    """Check the code, get or create the account, then apply `invite_code` (None or "": none sent).

    The code is applied only when this sign-in created the account, with every rule of the profile
    form (invites.services.invite_activate); an existing account gets NotNewAccount instead, so it is
    never given an inviter silently (the pages ask it to confirm on the profile). A refusal of the
    invite code is reported in `invite_error`, never raised: a bad code must not fail the sign-in it
    rode on.

    Raises what users.services.user_sign_in raises (InvalidCode, TooManyAttempts, TooManyRequests,
    InvalidPhone, OtpUnavailable, AccountDisabled)."""
    user, created = user_sign_in(phone=phone, code=code)
    if not invite_code:
        return SignIn(user=user, is_new_user=created)
    if not created:
        return SignIn(user=user, is_new_user=False, invite_error=NotNewAccount())
    try:
        user = invite_activate(user=user, invite_code=invite_code)
    except ApplicationError as error:
        return SignIn(user=user, is_new_user=True, invite_error=error)
    return SignIn(user=user, is_new_user=True, invite_applied=True)


def auth_token_sign_in(*, phone: str, code: str, invite_code: str | None = None) -> TokenSignIn:
    """The API's sign-in: auth_sign_in (raising what it raises), plus a JWT pair for the user."""
    signed = auth_sign_in(phone=phone, code=code, invite_code=invite_code)
    pair = tokens.token_pair_issue(user=signed.user)
    return TokenSignIn(
        user=signed.user,
        is_new_user=signed.is_new_user,
        invite_applied=signed.invite_applied,
        invite_error=signed.invite_error,
        access=pair.access,
        refresh=pair.refresh,
    )
