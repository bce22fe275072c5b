"""POST /api/v1/profile/invite/: every answer, through the API."""

import pytest

from users.models import User
from users.tests.factories import UserFactory, client_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/profile/invite/"


def _post(client, body):
    response = client.post(URL, body, format="json")
    error = response.json().get("error", {}) if response.status_code != 200 else {}
    return response.status_code, error.get("code")


def test_activation_answers_the_updated_profile(user, user_api):
    owner = UserFactory(invite_code="K7M2PX")
    response = user_api.post(URL, {"invite_code": "k7m-2px"}, format="json")
    assert response.status_code == 200
    assert response.json()["activated_invite_code"] == "K7M2PX"
    assert response.json()["phone"] == user.phone
    owner_profile = User.objects.get(pk=owner.pk)
    assert owner_profile.referrals_count == 1


@pytest.mark.parametrize("code", ["", "   ", "ABC12", "ABCDEFG", "ABCU12", "!!!!!!", 123456, ["ABC123"], True])
def test_malformed_codes_are_invalid_invite_code(user_api, code):
    assert _post(user_api, {"invite_code": code}) == (400, "invalid_invite_code")


@pytest.mark.parametrize("body", [{}, {"invite_code": None}, ["ABC123"], "ABC123"])
def test_a_body_without_a_code_is_a_validation_error(user_api, body):
    assert _post(user_api, body) == (400, "validation_error")


def test_every_refusal_has_its_code(user, user_api):
    assert _post(user_api, {"invite_code": "ZZZZZZ"}) == (404, "invite_code_not_found")
    assert _post(user_api, {"invite_code": user.invite_code}) == (400, "own_invite_code")

    # Build user → b → c: c's code would close a cycle through a chain of three.
    b, c = UserFactory(), UserFactory()
    _post(client_for(b), {"invite_code": user.invite_code})
    _post(client_for(c), {"invite_code": b.invite_code})
    assert _post(user_api, {"invite_code": c.invite_code}) == (400, "referral_cycle")

    other = UserFactory()
    assert _post(user_api, {"invite_code": other.invite_code}) == (200, None)
    assert _post(user_api, {"invite_code": other.invite_code}) == (409, "invite_already_activated")
    assert _post(user_api, {"invite_code": UserFactory().invite_code}) == (409, "invite_already_activated")
