"""What the users app announces. Apps above it (invites) act on it, so users imports none of them."""

from __future__ import annotations

from dataclasses import dataclass

from django.dispatch import Signal

from svckit.errors import ApplicationError

# Sent by auth_sign_in after every successful sign-in, outside any transaction, with `user`,
# `created` (this sign-in made the account) and `invite_code` (the string the client sent along,
# None when nothing). The receiver that owns invites answers with an InviteOutcome.
signed_in = Signal()


@dataclass(frozen=True)
class InviteOutcome:
    """What became of the invite code a sign-in carried: applied, or the error that stopped it."""

    applied: bool
    error: ApplicationError | None = None
