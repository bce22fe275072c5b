"""Invite activation: a user may activate one other user's code, once, and never close a cycle.

Referrals form a forest: `invited_by` points to the parent, and only a root (someone who has not
activated a code yet) can ever gain a parent. Activating the code of `owner` hangs my tree under
owner's tree, so the activation locks both trees' roots, me and root(owner), in id order:
  * 20 concurrent activations by one user all queue on my row; the first wins, the rest see
    invited_by set and get 409;
  * two activations that together would close a cycle (A takes B's code while B takes A's) lock the
    same two roots, so the second one sees the first one's edge and gets referral_cycle.
The plain reads before the lock only order the error answers; every decision is re-checked under it.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from webhooks.services import REFERRAL_ACTIVATED, webhook_event_emit

from invites.errors import InviteAlreadyActivated, InviteCodeNotFound, OwnInviteCode, ReferralCycle
from svckit.errors import ServiceUnavailable
from users.invite_codes import invite_code_normalize
from users.models import User
from users.selectors import referral_root_pk

# Another activation can move root(owner) between our read and our lock; we then look again.
ACTIVATE_ATTEMPTS = 5


class _RootMoved(Exception):
    pass


def _activate_once(*, user_pk: int, user_phone: str, code: str) -> tuple[int, datetime]:
    """(the owner's pk, when activated), as written; raises the refusals invite_activate lists."""
    with transaction.atomic():
        if User.objects.filter(pk=user_pk, invited_by__isnull=False).exists():
            raise InviteAlreadyActivated()
        owner = User.objects.filter(invite_code=code).values_list("pk", "phone").first()
        if owner is None:
            raise InviteCodeNotFound()
        owner_pk, owner_phone = owner
        if owner_pk == user_pk:
            raise OwnInviteCode()
        root_pk = referral_root_pk(pk=owner_pk)
        if root_pk == user_pk:
            raise ReferralCycle()

        # ORDER BY + FOR UPDATE locks the rows in id order: no deadlock between two activations.
        locked = dict(
            User.objects.select_for_update()
            .filter(pk__in=[user_pk, root_pk])
            .order_by("pk")
            .values_list("pk", "invited_by_id")
        )
        if locked.get(user_pk) is not None:
            raise InviteAlreadyActivated()
        if root_pk not in locked or locked[root_pk] is not None:
            raise _RootMoved()  # owner's tree was just hung under another one

        activated_at = timezone.now()
        User.objects.filter(pk=user_pk).update(invited_by_id=owner_pk, invite_activated_at=activated_at)
        User.objects.filter(pk=owner_pk).update(referrals_count=F("referrals_count") + 1)
        # Recorded in this transaction, handed to Celery when it commits: a rollback sends nothing.
        webhook_event_emit(
            event_type=REFERRAL_ACTIVATED,
            data={
                "referral": {"id": user_pk, "phone": user_phone},
                "inviter": {"id": owner_pk, "phone": owner_phone},
                "invite_code": code,
                "activated_at": activated_at.isoformat().replace("+00:00", "Z"),
            },
        )
    return owner_pk, activated_at


def invite_activate(*, user: User, invite_code: str) -> User:
    """Make the owner of `invite_code` the one who invited `user`. Returns `user` itself with
    invited_by and invite_activated_at set as they were written (the row is not read again).

    Raises InvalidInviteCode (not 6 alphabet characters, users.invite_codes), InviteCodeNotFound,
    OwnInviteCode, ReferralCycle (the owner is below `user` in the referral tree),
    InviteAlreadyActivated, or ServiceUnavailable when concurrent activations keep moving the tree."""
    code = invite_code_normalize(invite_code)
    for _attempt in range(ACTIVATE_ATTEMPTS):
        try:
            owner_pk, activated_at = _activate_once(user_pk=user.pk, user_phone=user.phone, code=code)
        except _RootMoved:
            continue
        user.invited_by_id, user.invite_activated_at = owner_pk, activated_at
        return user
    raise ServiceUnavailable(_("Invite activation is busy. Try again."))
