"""Invite codes: 6 characters of Crockford's base32 (no I, L, O, U), so a code read aloud or
copied by hand survives: input is case-insensitive, ignores spaces and hyphens, and maps the
look-alikes O→0 and I/L→1."""

from __future__ import annotations

import secrets

from django.utils.translation import gettext_lazy as _

from svckit.errors import ApplicationError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 6
PATTERN = rf"^[{ALPHABET}]{{{LENGTH}}}$"  # also enforced by a database constraint
MAX_INPUT = 32  # longer input is never a code, however many separators it has

_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1", " ": None, "-": None})


class InvalidInviteCode(ApplicationError):
    code = "invalid_invite_code"
    message = _("An invite code is 6 letters and digits.")


def invite_code_generate() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def invite_code_normalize(raw: object) -> str:
    """`ab-c 1o2` → `ABC102`; anything that is not then 6 alphabet characters → InvalidInviteCode."""
    if not isinstance(raw, str) or len(raw) > MAX_INPUT or not raw.isascii():
        raise InvalidInviteCode()  # non-ASCII first: "ß".upper() is "SS" and would change the length
    code = raw.strip().upper().translate(_LOOK_ALIKES)
    if len(code) != LENGTH or any(char not in ALPHABET for char in code):
        raise InvalidInviteCode()
    return code
