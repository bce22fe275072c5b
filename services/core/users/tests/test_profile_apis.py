"""GET /api/v1/profile/ and /api/v1/profile/referrals/."""

import base64
from datetime import UTC, timedelta
from unittest import mock

import pytest
from django.core.cache import cache
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone

from invites.services import invite_activate
from users.invite_codes import invite_code_generate
from users.models import User
from users.selectors import PROFILE_CACHE_SECONDS
from users.tests.factories import UserFactory, client_for, referrals_make

pytestmark = pytest.mark.django_db

PROFILE_URL = "/api/v1/profile/"
REFERRALS_URL = "/api/v1/profile/referrals/"


def test_profile_shows_my_code_my_inviter_and_my_referrals_newest_first(user, user_api):
    inviter = UserFactory()
    invite_activate(user=user, invite_code=inviter.invite_code)
    first, second = UserFactory(), UserFactory()
    invite_activate(user=first, invite_code=user.invite_code)
    invite_activate(user=second, invite_code=user.invite_code)

    response = user_api.get(PROFILE_URL)
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "phone": user.phone,
        "invite_code": user.invite_code,
        "invite_url": f"http://testserver/r/{user.invite_code}/",
        "activated_invite_code": inviter.invite_code,
        "referrals": [second.phone, first.phone],
        "referrals_count": 2,
        "date_joined": body["date_joined"],
    }
    assert body["date_joined"].endswith("Z")


def test_profile_takes_two_queries_however_many_referrals(user, django_assert_num_queries):
    referrals = referrals_make(user, 250)
    client = client_for(user)  # issuing the token is not part of the request being measured
    # The token's user (my row) and my newest referrals; the per-day counts are /profile/stats/'s.
    with django_assert_num_queries(2):
        response = client.get(PROFILE_URL)
    body = response.json()
    assert body["referrals_count"] == 250
    assert len(body["referrals"]) == 100
    assert body["referrals"] == [r.phone for r in reversed(referrals)][:100]


def test_profile_of_someone_nobody_referred_reads_only_the_tokens_user(user, django_assert_num_queries):
    client = client_for(user)
    # The token's user is my row; with referrals_count 0 and no inviter there is nothing else to read,
    # in PostgreSQL or in the cache.
    with django_assert_num_queries(1), mock.patch("users.selectors.cache") as cache:
        response = client.get(PROFILE_URL)
    cache.get.assert_not_called()
    body = response.json()
    assert body["referrals"] == []
    assert body["referrals_count"] == 0


def test_a_second_read_is_the_tokens_user_only_and_the_same_answer(user, django_assert_num_queries):
    inviter = UserFactory()
    invite_activate(user=user, invite_code=inviter.invite_code)
    referrals_make(user, 150)
    client = client_for(user)
    first = client.get(PROFILE_URL).json()
    with django_assert_num_queries(1):
        again = client.get(PROFILE_URL).json()
    assert again == first
    assert again["activated_invite_code"] == inviter.invite_code
    assert len(again["referrals"]) == 100


@pytest.fixture
def at_noon():
    """timezone.now() held at today's noon (UTC): no midnight falls between a test's reads."""
    noon = timezone.now().astimezone(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    with mock.patch("django.utils.timezone.now", return_value=noon):
        yield noon


def test_a_new_referral_is_in_the_very_next_read(user, user_api, at_noon):
    referrals_make(user, 3)
    before = user_api.get(PROFILE_URL).json()
    newcomer = UserFactory()
    invite_activate(user=newcomer, invite_code=user.invite_code)
    after = user_api.get(PROFILE_URL).json()
    assert after["referrals_count"] == before["referrals_count"] + 1 == 4
    assert after["referrals"][0] == newcomer.phone


def test_my_own_activation_is_in_the_very_next_read(user, user_api, at_noon):
    referrals_make(user, 1)  # so that the first read is kept too
    assert user_api.get(PROFILE_URL).json()["activated_invite_code"] is None
    inviter = UserFactory()
    invite_activate(user=user, invite_code=inviter.invite_code)
    assert user_api.get(PROFILE_URL).json()["activated_invite_code"] == inviter.invite_code


def test_a_kept_answer_outlives_midnight_and_is_bounded_in_time(user, user_api, django_assert_num_queries, at_noon):
    """Nothing in it depends on the day any more: the next day is still one query, the token's user."""
    invite_activate(user=UserFactory(), invite_code=user.invite_code)
    first = user_api.get(PROFILE_URL).json()
    tomorrow = mock.patch("django.utils.timezone.now", return_value=at_noon + timedelta(days=1))
    with tomorrow, django_assert_num_queries(1):
        assert user_api.get(PROFILE_URL).json() == first
    (key,) = cache.keys(f"profile:v2:{user.pk}:*")  # type: ignore[attr-defined]  # django-redis
    assert 0 < cache.ttl(key) <= PROFILE_CACHE_SECONDS  # type: ignore[attr-defined]


def test_a_kept_answer_is_only_for_the_user_it_was_kept_for(user, user_api):
    """A database restored or re-created beside a cache that kept its keys has other users under
    the same ids: the invite code in the key tells them apart."""
    referrals_make(user, 2)
    assert user_api.get(PROFILE_URL).json()["referrals_count"] == 2
    User.objects.filter(invited_by=user).update(phone=Concat(F("phone"), Value("9")))  # another database's users
    User.objects.filter(pk=user.pk).update(invite_code=invite_code_generate())
    phones = set(User.objects.filter(invited_by=user).values_list("phone", flat=True))
    assert set(user_api.get(PROFILE_URL).json()["referrals"]) == phones


def test_with_redis_down_the_profile_is_read_from_the_database(user, user_api, settings):
    referrals_make(user, 2)
    # Nothing listens on port 1; errors ignored, as the production settings have it (not the tests').
    options = {**settings.CACHES["default"]["OPTIONS"], "IGNORE_EXCEPTIONS": True}
    down = {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0", "OPTIONS": options}
    settings.CACHES = {**settings.CACHES, "default": down}
    for _ in range(2):
        response = user_api.get(PROFILE_URL)
        assert response.status_code == 200
        assert response.json()["referrals_count"] == 2
        assert len(response.json()["referrals"]) == 2


def test_referrals_pages_cover_everyone_once_newest_first(user, user_api):
    referrals = referrals_make(user, 120)
    seen, url, pages = [], f"{REFERRALS_URL}?limit=50", 0
    while url:
        response = user_api.get(url)
        assert response.status_code == 200
        body = response.json()
        seen += body["results"]
        url, pages = body["next"], pages + 1
    assert pages == 3
    assert [item["phone"] for item in seen] == [r.phone for r in reversed(referrals)]
    assert set(seen[0]) == {"phone", "activated_at"}


def test_a_full_last_page_has_no_next(user, user_api):
    referrals_make(user, 10)
    body = user_api.get(f"{REFERRALS_URL}?limit=10").json()
    assert len(body["results"]) == 10 and body["next"] is None


def test_referrals_of_someone_without_any(user_api):
    assert user_api.get(REFERRALS_URL).json() == {"results": [], "next": None}


def test_pages_stay_stable_when_new_referrals_arrive(user, user_api):
    referrals_make(user, 6)
    first = user_api.get(f"{REFERRALS_URL}?limit=3").json()
    invite_activate(user=UserFactory(), invite_code=user.invite_code)  # newest: before page one
    second = user_api.get(first["next"]).json()
    phones = [r["phone"] for r in first["results"] + second["results"]]
    assert len(phones) == len(set(phones)) == 6


@pytest.mark.parametrize(
    "query",
    [
        "cursor=not-a-cursor",
        "cursor=" + base64.urlsafe_b64encode(b"2026-01-01T00:00:00|x").decode(),
        "cursor=" + base64.urlsafe_b64encode(b"2026-01-01T00:00:00|5").decode(),  # naive time
        "cursor=" + base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        "cursor=%00",
    ],
)
def test_a_bad_cursor_is_invalid_cursor(user_api, query):
    response = user_api.get(f"{REFERRALS_URL}?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"invalid_cursor", "validation_error"}


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5"])
def test_a_bad_limit_is_a_validation_error(user_api, limit):
    response = user_api.get(f"{REFERRALS_URL}?limit={limit}")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "validation_error")


def test_profile_does_not_take_writes(user_api):
    response = user_api.post(PROFILE_URL, {}, format="json")
    assert (response.status_code, response.json()["error"]["code"]) == (405, "method_not_allowed")
