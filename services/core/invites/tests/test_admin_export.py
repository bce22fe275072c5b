"""The admin's referral CSV export shows a staff member only what the admin shows them: a
view-only account on referrals gets the referrals without the inviters' invite codes (the top
inviters' and users' admin show those), and no one gets referral rows without the view
permission on referrals, whichever list the export starts from."""

from __future__ import annotations

import pytest
from django.test import Client

from invites.admin import InviterAdmin
from invites.services import invite_activate
from users.tests.factories import UserFactory
from users.tests.staff import staff_client

pytestmark = pytest.mark.django_db

REFERRALS, INVITERS = "/admin/invites/referral/", "/admin/invites/inviter/"
FULL_HEADER = "referral_phone,activated_at,inviter_phone,invite_code"


@pytest.fixture
def referrals():
    inviter = UserFactory()
    invited = [UserFactory() for _ in range(3)]
    for user in invited:
        invite_activate(user=user, invite_code=inviter.invite_code)
    return inviter, invited


def _export(client: Client, page: str, ids: list[int]):
    return client.post(page, {"action": "export_csv", "_selected_action": [str(pk) for pk in ids]})


def _lines(response) -> list[str]:
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    return b"".join(response.streaming_content).decode().removeprefix("\ufeff").splitlines()


def test_view_only_on_referrals_gets_them_without_the_invite_codes(client, referrals):
    inviter, invited = referrals
    staff = staff_client(client, phone="+79970000010", permissions=["invites.view_referral"])
    assert staff.get(REFERRALS).status_code == 200
    assert staff.get(INVITERS).status_code == 403  # the model the codes come from is refused
    response = _export(staff, REFERRALS, [user.pk for user in invited])
    lines = _lines(response)
    assert lines[0] == "referral_phone,activated_at,inviter_phone"
    # Phones after a tab, so that a spreadsheet keeps them as text (common.csv_export).
    assert sorted(line.split(",")[0] for line in lines[1:]) == sorted(f"\t{user.phone}" for user in invited)
    assert all(line.endswith(f",\t{inviter.phone}") for line in lines[1:])
    assert inviter.invite_code not in "\n".join(lines)


def test_view_on_inviters_too_adds_the_invite_codes(client, referrals):
    inviter, invited = referrals
    staff = staff_client(client, phone="+79970000011", permissions=["invites.view_referral", "invites.view_inviter"])
    lines = _lines(_export(staff, REFERRALS, [user.pk for user in invited]))
    assert lines[0] == FULL_HEADER
    assert all(line.endswith(f",\t{inviter.phone},{inviter.invite_code}") for line in lines[1:])


def test_view_on_users_also_shows_the_invite_codes(client, referrals):
    inviter, invited = referrals
    staff = staff_client(client, phone="+79970000012", permissions=["invites.view_referral", "users.view_user"])
    assert _lines(_export(staff, REFERRALS, [invited[0].pk]))[1].endswith(f",{inviter.invite_code}")


def test_view_only_on_inviters_cannot_export_their_referrals(client, referrals):
    """The inviters' export hands out referral rows: without the view permission on referrals it
    is neither offered nor carried out when posted anyway."""
    inviter, invited = referrals
    staff = staff_client(client, phone="+79970000013", permissions=["invites.view_inviter"])
    page = staff.get(INVITERS)
    assert page.status_code == 200 and 'value="export_csv"' not in page.content.decode()
    response = _export(staff, INVITERS, [inviter.pk])
    assert response["Content-Type"].startswith("text/html")  # the list again, not a file
    assert all(user.phone not in response.content.decode() for user in invited)


def test_inviters_export_with_both_permissions(client, referrals):
    inviter, invited = referrals
    staff = staff_client(client, phone="+79970000014", permissions=["invites.view_referral", "invites.view_inviter"])
    assert 'value="export_csv"' in staff.get(INVITERS).content.decode()
    lines = _lines(_export(staff, INVITERS, [inviter.pk]))
    assert lines[0] == FULL_HEADER and len(lines) == 1 + len(invited)


def test_a_superuser_gets_every_column(client, referrals):
    inviter, invited = referrals
    lines = _lines(_export(staff_client(client), REFERRALS, [user.pk for user in invited]))
    assert lines[0] == FULL_HEADER


def test_the_export_itself_refuses_rows_the_staff_member_may_not_view(client, referrals, monkeypatch):
    """Behind the action's permission, admin_csv_export checks the rows' model again: an action
    that forgot to declare it still hands out nothing."""
    inviter, _ = referrals
    staff = staff_client(client, phone="+79970000015", permissions=["invites.view_inviter"])
    monkeypatch.setattr(InviterAdmin, "has_referral_view_permission", lambda self, request: True)
    assert _export(staff, INVITERS, [inviter.pk]).status_code == 403
