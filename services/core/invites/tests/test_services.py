import pytest
from django.utils import translation

from invites import services
from invites.errors import (
    InviteAlreadyActivated,
    InviteCodeNotFound,
    OwnInviteCode,
    ReferralCycle,
)
from invites.services import invite_activate
from svckit.errors import ServiceUnavailable
from users.invite_codes import InvalidInviteCode
from users.models import User
from users.selectors import referral_root_pk
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_activation_links_me_to_the_code_owner_and_counts_the_referral():
    owner, me = UserFactory(), UserFactory()
    updated = invite_activate(user=me, invite_code=owner.invite_code)
    assert updated.invited_by_id == owner.pk and updated.invite_activated_at is not None
    owner.refresh_from_db()
    assert owner.referrals_count == 1


def test_the_code_is_read_forgivingly():
    owner, me = UserFactory(invite_code="A0B1C2"), UserFactory()
    assert invite_activate(user=me, invite_code=" a-o b-l c2 ").invited_by_id == owner.pk


@pytest.mark.parametrize("code", ["", "ABC12", "ABCDEFG", "ABCU12", "**&&^^"])
def test_a_malformed_code_is_invalid(code):
    with pytest.raises(InvalidInviteCode):
        invite_activate(user=UserFactory(), invite_code=code)


def test_an_unknown_code_is_not_found():
    with pytest.raises(InviteCodeNotFound):
        invite_activate(user=UserFactory(invite_code="AAAAAA"), invite_code="ZZZZZZ")


def test_my_own_code_is_refused():
    me = UserFactory()
    with pytest.raises(OwnInviteCode):
        invite_activate(user=me, invite_code=me.invite_code.lower())


def test_a_second_activation_is_refused_even_with_the_same_code():
    first, second, me = UserFactory(), UserFactory(), UserFactory()
    invite_activate(user=me, invite_code=first.invite_code)
    for code in (first.invite_code, second.invite_code, me.invite_code):
        with pytest.raises(InviteAlreadyActivated):
            invite_activate(user=me, invite_code=code)
    me.refresh_from_db()
    first.refresh_from_db()
    assert me.invited_by_id == first.pk and first.referrals_count == 1


def test_a_direct_cycle_is_refused():
    a, b = UserFactory(), UserFactory()
    invite_activate(user=b, invite_code=a.invite_code)  # a invited b
    with pytest.raises(ReferralCycle):
        invite_activate(user=a, invite_code=b.invite_code)


def test_a_cycle_through_a_chain_of_four_is_refused():
    a, b, c, d = (UserFactory() for _ in range(4))
    invite_activate(user=b, invite_code=a.invite_code)  # a → b
    invite_activate(user=c, invite_code=b.invite_code)  # b → c
    invite_activate(user=d, invite_code=c.invite_code)  # c → d
    for descendant in (b, c, d):
        with pytest.raises(ReferralCycle):
            invite_activate(user=a, invite_code=descendant.invite_code)
    a.refresh_from_db()
    assert a.invited_by_id is None


def test_joining_another_tree_is_fine():
    a, b, x = UserFactory(), UserFactory(), UserFactory()
    invite_activate(user=b, invite_code=a.invite_code)  # a → b
    invite_activate(user=a, invite_code=x.invite_code)  # x → a → b: no cycle
    assert referral_root_pk(pk=b.pk) == x.pk


def test_root_walk_finds_the_top_of_a_long_chain():
    chain = [UserFactory() for _ in range(30)]
    for inviter, invited in zip(chain, chain[1:], strict=False):
        invite_activate(user=invited, invite_code=inviter.invite_code)
    assert referral_root_pk(pk=chain[-1].pk) == chain[0].pk
    assert referral_root_pk(pk=chain[0].pk) == chain[0].pk
    assert User.objects.filter(referrals_count=1).count() == 29


def test_activations_that_keep_moving_the_tree_are_a_translated_503(monkeypatch):
    def moved(**kwargs):
        raise services._RootMoved()

    monkeypatch.setattr(services, "_activate_once", moved)
    with pytest.raises(ServiceUnavailable) as caught:
        invite_activate(user=UserFactory(), invite_code=UserFactory().invite_code)
    assert caught.value.status == 503
    with translation.override("ru"):
        assert (
            str(caught.value.message) == "Инвайт-код не активирован из-за одновременных изменений. Попробуйте ещё раз."
        )
