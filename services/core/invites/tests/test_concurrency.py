"""Activation rules under real concurrency: threads, each with its own database connection."""

import threading
from collections import Counter

import pytest
from django.db import connection

from invites.services import invite_activate
from svckit.errors import ApplicationError
from users.models import User
from users.tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _race(calls) -> Counter:
    """Run every call at the same moment; count the outcomes by error code ("ok" for success)."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []

    def run(call):
        try:
            barrier.wait()
            call()
            outcomes.append("ok")
        except ApplicationError as exc:
            outcomes.append(exc.code)
        except Exception as exc:  # anything else is a bug: make it visible in the assertion
            outcomes.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(outcomes)


def test_twenty_concurrent_activations_with_twenty_codes_succeed_once():
    me = UserFactory()
    owners = [UserFactory() for _ in range(20)]
    outcomes = _race([lambda code=o.invite_code: invite_activate(user=me, invite_code=code) for o in owners])
    assert outcomes == Counter({"ok": 1, "invite_already_activated": 19})
    me.refresh_from_db()
    assert me.invited_by_id in {o.pk for o in owners}
    assert sorted(User.objects.filter(pk__in=[o.pk for o in owners]).values_list("referrals_count", flat=True)) == [
        0
    ] * 19 + [1]


def test_twenty_users_activating_one_code_at_once_are_all_counted():
    owner = UserFactory()
    users = [UserFactory() for _ in range(20)]
    outcomes = _race([lambda u=u: invite_activate(user=u, invite_code=owner.invite_code) for u in users])
    assert outcomes == Counter({"ok": 20})
    owner.refresh_from_db()
    assert owner.referrals_count == 20 == User.objects.filter(invited_by=owner).count()


@pytest.mark.parametrize("round_", range(3))
def test_two_activations_that_would_close_a_cycle_never_both_succeed(round_):
    a, b = UserFactory(), UserFactory()
    outcomes = _race(
        [
            lambda: invite_activate(user=a, invite_code=b.invite_code),
            lambda: invite_activate(user=b, invite_code=a.invite_code),
        ]
    )
    assert outcomes == Counter({"ok": 1, "referral_cycle": 1})


def test_a_longer_cycle_closed_from_both_ends_at_once_is_refused():
    # Trees: a ← d (a invited d) and c ← b. At once: a takes b's code, c takes d's code → a→…→c→…→a.
    a, b, c, d = (UserFactory() for _ in range(4))
    invite_activate(user=d, invite_code=a.invite_code)
    invite_activate(user=b, invite_code=c.invite_code)
    outcomes = _race(
        [
            lambda: invite_activate(user=a, invite_code=b.invite_code),
            lambda: invite_activate(user=c, invite_code=d.invite_code),
        ]
    )
    assert outcomes == Counter({"ok": 1, "referral_cycle": 1})
