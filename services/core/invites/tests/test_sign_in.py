"""An invite code riding on POST /api/v1/auth/token/: applied to a new account only, with every rule
of the profile form, and never a reason for the sign-in to fail."""

import pytest

from invites.errors import ReferralCycle
from invites.services import invite_activate
from users import managers
from users.models import User
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
NEW_PHONE = "+79991234567"


def _sign_in(api, phone: str = NEW_PHONE, **extra):
    return api.post(TOKEN_URL, {"phone": phone, "code": "1234", **extra}, format="json")


def test_a_new_account_takes_a_valid_invite_code(api, fake_otp):
    inviter = UserFactory()
    response = _sign_in(api, invite_code=inviter.invite_code.lower())
    assert response.status_code == 200
    body = response.json()
    assert body["is_new_user"] is True
    assert body["invite_applied"] is True
    assert body["invite_error"] is None
    assert body["profile"]["activated_invite_code"] == inviter.invite_code
    user = User.objects.get(phone=NEW_PHONE)
    assert user.invited_by_id == inviter.pk and user.invite_activated_at is not None
    inviter.refresh_from_db()
    assert inviter.referrals_count == 1


def test_without_an_invite_code_nothing_is_applied_and_there_is_no_error(api, fake_otp):
    body = _sign_in(api).json()
    assert (body["invite_applied"], body["invite_error"]) == (False, None)
    body = _sign_in(api, invite_code=None).json()
    assert (body["invite_applied"], body["invite_error"]) == (False, None)


@pytest.mark.parametrize(
    ("invite_code", "error"),
    [
        ("ZZZZZZ", "invite_code_not_found"),
        ("ABC", "invalid_invite_code"),
        ("UUUUUU", "invalid_invite_code"),
        ("x" * 5000, "invalid_invite_code"),
        ("ß" * 6, "invalid_invite_code"),
    ],
)
def test_a_bad_invite_code_never_fails_the_sign_in(api, fake_otp, invite_code, error):
    response = _sign_in(api, invite_code=invite_code)
    assert response.status_code == 200
    body = response.json()
    assert body["is_new_user"] is True and body["access"]
    assert (body["invite_applied"], body["invite_error"]) == (False, error)
    assert User.objects.get(phone=NEW_PHONE).invited_by_id is None


@pytest.mark.parametrize("invite_code", [123456, ["ABC123"], {"code": "ABC123"}, True])
def test_an_invite_code_that_is_not_a_string_is_a_malformed_request(api, fake_otp, invite_code):
    """The schema says string: a client bug is refused before the one-time code is spent."""
    response = _sign_in(api, invite_code=invite_code)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert fake_otp.json_bodies("/v1/codes/verify/") == []
    assert not User.objects.filter(phone=NEW_PHONE).exists()


def test_an_empty_invite_code_is_none(api, fake_otp):
    body = _sign_in(api, invite_code="").json()
    assert (body["invite_applied"], body["invite_error"]) == (False, None)


def test_a_new_account_cannot_take_its_own_code(api, fake_otp, monkeypatch):
    # The only way to know a new account's code beforehand: the generator hands out a known one.
    monkeypatch.setattr(managers, "invite_code_generate", lambda: "KNW123")
    body = _sign_in(api, invite_code="knw-123").json()
    assert User.objects.get(phone=NEW_PHONE).invite_code == "KNW123"
    assert (body["invite_applied"], body["invite_error"]) == (False, "own_invite_code")


def test_an_existing_account_never_takes_a_code_silently(api, fake_otp):
    me, inviter = UserFactory(phone=NEW_PHONE), UserFactory()
    body = _sign_in(api, invite_code=inviter.invite_code).json()
    assert body["is_new_user"] is False
    assert (body["invite_applied"], body["invite_error"]) == (False, "not_new_account")
    me.refresh_from_db()
    assert me.invited_by_id is None
    assert body["profile"]["activated_invite_code"] is None


def test_an_existing_account_with_a_cyclic_code_gets_no_cycle_and_no_activation(api, fake_otp):
    """B was invited by me; my signing in with B's code must neither activate it nor fail."""
    me = UserFactory(phone=NEW_PHONE)
    invited = UserFactory()
    invite_activate(user=invited, invite_code=me.invite_code)
    response = _sign_in(api, invite_code=invited.invite_code)
    assert response.status_code == 200
    assert (response.json()["invite_applied"], response.json()["invite_error"]) == (False, "not_new_account")
    me.refresh_from_db()
    assert me.invited_by_id is None
    # The same code through the profile form is refused for the cycle: the rule the sign-in defers to.
    with pytest.raises(ReferralCycle):
        invite_activate(user=me, invite_code=invited.invite_code)


def test_the_invite_rides_only_on_a_successful_sign_in(api, fake_otp):
    inviter = UserFactory()
    fake_otp.answer("/v1/codes/verify/", 400, {"error": {"code": "invalid_code", "message": "", "details": {}}})
    response = _sign_in(api, invite_code=inviter.invite_code)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_code"
    assert not User.objects.filter(phone=NEW_PHONE).exists()
