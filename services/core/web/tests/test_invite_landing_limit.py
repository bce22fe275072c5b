"""The share-link page /r/<invite_code>/ says whether a code exists (and whose it is, masked), so it
is limited per client address at the activation's rate (THROTTLE_INVITE_PER_USER), on the counters
the API uses. Tried as an attacker would: a burst of guesses against the real core (granian, two
workers) on the real Redis is cut off at the limit; another client keeps its budget."""

from __future__ import annotations

import itertools
import random
import string
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from devstack.fixtures import stack_config

from users.tests.factories import UserFactory

LIMIT = 6  # THROTTLE_INVITE_PER_USER of the core under test, per minute
BURST = 30

_codes = (
    "".join(random.choices(string.ascii_uppercase + string.digits, k=8)) for _ in itertools.count()
)  # 8 characters: never one of the factories' codes


@pytest.fixture
def core(test_database_url, start_stack):
    """The core behind one trusted proxy: the last X-Forwarded-For entry is the client's address."""
    core_env = {"THROTTLE_INVITE_PER_USER": f"{LIMIT}/min", "TRUSTED_PROXY_COUNT": "1", "CORE_WEB_WORKERS": "2"}
    config = stack_config("core", database_url=test_database_url(), core_env=core_env)
    return start_stack(config, "core-web").config.core_url


def _guess(core: str, address: str, code: str | None = None) -> requests.Response:
    headers = {"X-Forwarded-For": address, "Accept-Language": "en"}
    return requests.get(f"{core}/r/{code or next(_codes)}/", headers=headers, timeout=10, allow_redirects=False)


def _burst(core: str, addresses: list[str]) -> list[requests.Response]:
    barrier = threading.Barrier(len(addresses))

    def guess(address: str) -> requests.Response:
        barrier.wait(timeout=10)
        return _guess(core, address)

    with ThreadPoolExecutor(len(addresses)) as pool:
        return list(pool.map(guess, addresses))


@pytest.mark.faults
@pytest.mark.django_db(transaction=True)
def test_a_burst_of_guesses_from_one_address_is_cut_off_at_the_limit(core):
    answers = _burst(core, ["198.51.100.23"] * BURST)
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [404] * LIMIT + [429] * (BURST - LIMIT)
    refused = next(r for r in answers if r.status_code == 429)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["Content-Type"].startswith("text/html")
    assert "Slow down a little" in refused.text and "Too many requests. Try again in" in refused.text
    # A real code is refused too: the limit does not tell a hit from a miss.
    assert _guess(core, "198.51.100.23", UserFactory().invite_code).status_code == 429
    # Another client has its whole budget.
    assert [_guess(core, "198.51.100.24").status_code for _ in range(LIMIT)] == [404] * LIMIT


@pytest.mark.faults
@pytest.mark.django_db(transaction=True)
def test_rotating_addresses_inside_one_ipv6_64_buys_nothing(core):
    rotating = [f"2001:db8:42:1:{n:x}:{n:x}:{n:x}:{n:x}" for n in range(1, BURST + 1)]
    statuses = sorted(r.status_code for r in _burst(core, rotating))
    assert statuses == [404] * LIMIT + [429] * (BURST - LIMIT)
    assert _guess(core, "2001:db8:42:2::1").status_code == 404  # the next /64: another client
    assert _guess(core, "::ffff:198.51.100.99").status_code == 404
    assert [_guess(core, "198.51.100.99").status_code for _ in range(LIMIT)] == [404] * (LIMIT - 1) + [429]
