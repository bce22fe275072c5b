"""The invite a sign-in carries: applied to a new account only, by the same service as the profile form."""

from __future__ import annotations

from django.dispatch import receiver

from invites.errors import NotNewAccount
from invites.services import invite_activate
from svckit.errors import ApplicationError
from users.models import User
from users.signals import InviteOutcome, signed_in


@receiver(signed_in, dispatch_uid="invites.invite_apply_at_sign_in")
def invite_apply_at_sign_in(
    sender, *, user: User, created: bool, invite_code: str | None, **kwargs
) -> InviteOutcome | None:
    """None when the sign-in carried no code. An existing account never gets one silently
    (NotNewAccount): the page asks it to confirm on the profile. Every refusal of invite_activate
    (not a code, unknown, own, cycle, already, busy) is reported, never raised: a bad invite code
    must not fail the sign-in it rode on."""
    if invite_code is None or invite_code == "":
        return None
    if not created:
        return InviteOutcome(applied=False, error=NotNewAccount())
    try:
        invite_activate(user=user, invite_code=invite_code)
    except ApplicationError as error:
        return InviteOutcome(applied=False, error=error)
    return InviteOutcome(applied=True)
