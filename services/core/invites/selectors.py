"""Reads about invite codes for people who are not signed in (the share link's landing page)."""

from __future__ import annotations

from dataclasses import dataclass

from common.phones import phone_mask
from invites.errors import InviteCodeNotFound
from users.invite_codes import invite_code_normalize
from users.models import User


@dataclass(frozen=True)
class Inviter:
    invite_code: str  # normalised: the canonical form of the link
    phone_masked: str  # never the full number: anyone with the link sees this


def inviter_get(*, invite_code: str) -> Inviter:
    """Who owns `invite_code` (any case, look-alikes allowed), as much as a stranger may see.

    One query on the unique index. Raises InvalidInviteCode (not a code) or InviteCodeNotFound."""
    code = invite_code_normalize(invite_code)
    phone = User.objects.filter(invite_code=code).values_list("phone", flat=True).first()
    if phone is None:
        raise InviteCodeNotFound()
    return Inviter(invite_code=code, phone_masked=phone_mask(phone))
