"""The sign-in and its invite code as one plain call: what it did comes back typed, and the account
row is written and read once (django_assert_num_queries counts every statement, savepoints included)."""

import pytest

from invites.errors import InviteCodeNotFound, NotNewAccount, OwnInviteCode
from signin.services import SignIn, TokenSignIn, auth_sign_in, auth_token_sign_in
from users import managers
from users.invite_codes import InvalidInviteCode
from users.models import User
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PHONE = "+79991234567"
TOKEN_URL = "/api/v1/auth/token/"
# SELECT the phone's user; SAVEPOINT, INSERT, RELEASE: the new account.
CREATE_ACCOUNT = 4
# SAVEPOINT; already activated?; the code's owner; the owner's root (a recursive CTE); SELECT … FOR
# UPDATE of both roots; UPDATE me; UPDATE the owner's referrals_count; RELEASE.
ACTIVATE = 8


def _fields(user: User) -> dict:
    return {field.attname: getattr(user, field.attname) for field in User._meta.concrete_fields}


def test_a_new_account_takes_the_code_and_is_not_read_again(fake_otp, django_assert_num_queries):
    inviter = UserFactory()
    with django_assert_num_queries(CREATE_ACCOUNT + ACTIVATE):
        signed = auth_sign_in(phone=PHONE, code="1234", invite_code=inviter.invite_code.lower())
    assert (signed.is_new_user, signed.invite_applied, signed.invite_error) == (True, True, None)
    # What the caller holds is what was written, field for field.
    assert _fields(signed.user) == _fields(User.objects.get(phone=PHONE))
    assert signed.user.invited_by_id == inviter.pk and signed.user.invite_activated_at is not None


def test_without_a_code_only_the_account_is_touched(fake_otp, django_assert_num_queries):
    for invite_code in (None, ""):
        User.objects.filter(phone=PHONE).delete()
        with django_assert_num_queries(CREATE_ACCOUNT):
            signed = auth_sign_in(phone=PHONE, code="1234", invite_code=invite_code)
        assert signed == SignIn(user=signed.user, is_new_user=True)
        assert (signed.invite_applied, signed.invite_error) == (False, None)


def test_an_existing_account_is_told_not_new_account_without_a_look_at_the_code(fake_otp, django_assert_num_queries):
    me = UserFactory(phone=PHONE)
    with django_assert_num_queries(1):
        signed = auth_sign_in(phone=PHONE, code="1234", invite_code="ZZZZZZ")
    assert (signed.user.pk, signed.is_new_user, signed.invite_applied) == (me.pk, False, False)
    assert isinstance(signed.invite_error, NotNewAccount)


@pytest.mark.parametrize(
    ("invite_code", "error"),
    [("ZZZZZZ", InviteCodeNotFound), ("ABC", InvalidInviteCode), ("x" * 5000, InvalidInviteCode)],
)
def test_a_refused_code_is_reported_never_raised(fake_otp, invite_code, error):
    signed = auth_sign_in(phone=PHONE, code="1234", invite_code=invite_code)
    assert signed.is_new_user and not signed.invite_applied
    assert type(signed.invite_error) is error
    assert User.objects.get(phone=PHONE).invited_by_id is None


def test_a_new_account_offered_its_own_code_is_refused(fake_otp, monkeypatch):
    monkeypatch.setattr(managers, "invite_code_generate", lambda: "KNW123")
    signed = auth_sign_in(phone=PHONE, code="1234", invite_code="KNW123")
    assert isinstance(signed.invite_error, OwnInviteCode) and not signed.invite_applied


def test_the_token_sign_in_is_the_same_sign_in_plus_a_pair(fake_otp, django_assert_num_queries):
    inviter = UserFactory()
    # + INSERT of the refresh token's outstanding row.
    with django_assert_num_queries(CREATE_ACCOUNT + ACTIVATE + 1):
        signed = auth_token_sign_in(phone=PHONE, code="1234", invite_code=inviter.invite_code)
    assert isinstance(signed, TokenSignIn) and signed.access and signed.refresh
    assert (signed.is_new_user, signed.invite_applied, signed.invite_error) == (True, True, None)


def test_the_sign_in_answer_with_an_invite_costs_one_query_more_than_the_service(
    api, fake_otp, django_assert_num_queries
):
    """The API's answer adds the profile's one read (my inviter's code) to the token sign-in."""
    inviter = UserFactory()
    with django_assert_num_queries(CREATE_ACCOUNT + ACTIVATE + 2):
        response = api.post(
            TOKEN_URL, {"phone": PHONE, "code": "1234", "invite_code": inviter.invite_code}, format="json"
        )
    assert response.status_code == 200
    assert response.json()["profile"]["activated_invite_code"] == inviter.invite_code
