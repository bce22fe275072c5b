import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from svckit.phones import InvalidPhone
from users.models import User
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_create_user_normalises_the_phone_and_has_no_password():
    user = User.objects.create_user("8 (999) 765-43-21")
    assert user.phone == "+79997654321"
    assert len(user.invite_code) == 6
    assert not user.has_usable_password()
    assert (user.is_active, user.is_staff, user.is_superuser) == (True, False, False)
    assert user.invited_by is None and user.invite_activated_at is None and user.referrals_count == 0


def test_create_superuser_has_a_password_and_admin_rights():
    admin = User.objects.create_superuser("+79990000001", "s3cret-pass")
    assert admin.check_password("s3cret-pass")
    assert admin.is_staff and admin.is_superuser


def test_create_user_refuses_a_non_phone():
    with pytest.raises(InvalidPhone):
        User.objects.create_user("hello")


def _violates(**changes) -> bool:
    user = UserFactory()
    try:
        with transaction.atomic():
            User.objects.filter(pk=user.pk).update(**changes)
    except IntegrityError:
        return True
    return False


def test_a_user_cannot_be_invited_by_themselves():
    user = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=user.pk).update(invited_by=user, invite_activated_at=timezone.now())


def test_invited_by_and_activation_time_are_set_together():
    inviter = UserFactory()
    assert _violates(invited_by=inviter)
    assert _violates(invite_activated_at=timezone.now())
    assert not _violates(invited_by=inviter, invite_activated_at=timezone.now())


@pytest.mark.parametrize("code", ["abc123", "ABC12", "ABCU12", "ABC-12"])
def test_invite_codes_outside_the_alphabet_are_refused_by_the_database(code):
    assert _violates(invite_code=code)


@pytest.mark.parametrize("phone", ["89991234567", "+0123456789", "+7 999 123"])
def test_phones_not_in_e164_are_refused_by_the_database(phone):
    assert _violates(phone=phone)


def test_phone_and_invite_code_are_unique():
    first = UserFactory()
    assert _violates(phone=first.phone)
    assert _violates(invite_code=first.invite_code)
