import pytest

from invites.services import invite_activate
from users.admin import UserAdmin
from users.models import User
from users.tests.factories import UserFactory
from users.tests.staff import staff_client as signed_in_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    return signed_in_staff(client)


def test_phone_users_cannot_log_into_the_admin(client):
    user = UserFactory()
    response = client.post("/admin/login/?next=/admin/", {"username": user.phone, "password": ""})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_users_are_listed_with_their_inviter_and_referral_count(staff_client):
    inviter, invited = UserFactory(), UserFactory()
    invite_activate(user=invited, invite_code=inviter.invite_code)
    response = staff_client.get("/admin/users/user/")
    assert response.status_code == 200
    html = response.content.decode()
    assert inviter.phone in html and invited.phone in html
    assert f"?invited_by__id__exact={inviter.pk}" in html  # the link to who they invited


@pytest.mark.parametrize("query", ["8 (999) 555-12-34", "+79995551234", "k7m2px", "K7M2"])
def test_search_by_phone_in_any_format_or_by_invite_code(staff_client, query):
    UserFactory(phone="+79995551234", invite_code="K7M2PX")
    other = UserFactory()
    html = staff_client.get("/admin/users/user/", {"q": query}).content.decode()
    assert "+79995551234" in html and other.phone not in html


def test_referrals_link_lists_who_a_user_invited(staff_client):
    inviter, invited, stranger = UserFactory(), UserFactory(), UserFactory()
    invite_activate(user=invited, invite_code=inviter.invite_code)
    response = staff_client.get(f"/admin/users/user/?invited_by__id__exact={inviter.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert invited.phone in html and stranger.phone not in html


def test_the_change_page_shows_referral_fields_read_only(staff_client):
    user = UserFactory()
    response = staff_client.get(f"/admin/users/user/{user.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert user.invite_code in html
    assert 'name="invited_by"' not in html and 'name="invite_code"' not in html


def test_users_are_neither_added_nor_deleted_in_the_admin(staff_client):
    user = UserFactory()
    assert staff_client.get("/admin/users/user/add/").status_code == 403
    assert staff_client.get(f"/admin/users/user/{user.pk}/delete/").status_code == 403


def test_saving_a_user_writes_only_what_the_form_changed(staff_client, monkeypatch):
    inviter, newcomer = UserFactory(), UserFactory()
    read_by_the_admin = User.objects.get(pk=inviter.pk)
    invite_activate(user=newcomer, invite_code=inviter.invite_code)  # commits while the admin saves
    monkeypatch.setattr(UserAdmin, "get_object", lambda *args, **kwargs: read_by_the_admin)

    response = staff_client.post(f"/admin/users/user/{inviter.pk}/change/", {"_save": "Save"})  # is_active unticked

    assert response.status_code == 302
    inviter.refresh_from_db()
    assert inviter.is_active is False
    assert inviter.referrals_count == 1
