"""Abuse through the real stack: the core under granian (3 workers) in front of the real OTP service
(granian, 3 workers) and its Celery worker, on the real Redis and this run's PostgreSQL.

Attackers are threads released together by a barrier. Each comes from its own address (the core
trusts one proxy, so the last X-Forwarded-For entry is the client): an attacker who controls the
network spreads over addresses, so the per-phone limits of the OTP service are what stops them."""

from __future__ import annotations

import itertools
import random
import statistics
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests
from devstack import Stack, inbox
from devstack.fixtures import FAST_SMS, SHARED_REDIS_URL, stack_config
from django.conf import settings

from users.models import User
from users.tests.factories import UserFactory

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

CODE_URL = "/api/v1/auth/code/"
TOKEN_URL = "/api/v1/auth/token/"
ATTACKERS = 50
PER_IP = 5  # THROTTLE_AUTH_PER_IP of the core under test, per minute
MAX_ATTEMPTS = 5  # the OTP service's default OTP_MAX_ATTEMPTS
ENUMERATION_ROUNDS = 30
ENUMERATION_TOLERANCE = 0.003  # seconds between the median answer times for known and unknown phones

_addresses = itertools.count(random.randrange(1, 1 << 16) << 8)
_phones = iter(random.sample(range(1_000_000, 10_000_000), 1000))


def _address() -> str:
    n = next(_addresses)
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def _phone() -> str:
    return f"+7996{next(_phones):07d}"


def _post(base: str, path: str, body: dict, forwarded_for: str, session=requests) -> requests.Response:
    return session.post(f"{base}{path}", json=body, headers={"X-Forwarded-For": forwarded_for}, timeout=10)


def _in_parallel(count: int, call) -> list[requests.Response]:
    """`call(i)` from `count` threads at once: a barrier releases them together."""
    barrier = threading.Barrier(count)

    def attacker(i: int) -> requests.Response:
        barrier.wait(timeout=10)
        return call(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(attacker, range(count)))


def _outcomes(answers: list[requests.Response]) -> Counter:
    return Counter((r.status_code, r.json()["error"]["code"] if r.status_code >= 400 else None) for r in answers)


@pytest.fixture(scope="module")
def stack(test_database_url, tmp_path_factory):
    """The OTP service and two cores: one behind a trusted proxy (TRUSTED_PROXY_COUNT=1), one facing
    clients directly (0). Both allow PER_IP requests per minute per address on each auth endpoint."""
    otp = stack_config("core", otp_env={**FAST_SMS, "OTP_WEB_WORKERS": "3"})
    proxied, direct = (
        stack_config(
            "core",
            otp_port=otp.otp_port,
            token=otp.token,
            database_url=test_database_url(),
            core_env={"SECRET_KEY": settings.SECRET_KEY, "CORE_WEB_WORKERS": str(workers)}
            | {"THROTTLE_AUTH_PER_IP": f"{PER_IP}/min", "TRUSTED_PROXY_COUNT": str(proxies)},
        )
        for workers, proxies in ((3, 1), (1, 0))
    )
    logs = tmp_path_factory.mktemp("stack")
    with (
        Stack(otp, ["otp-web", "otp-worker"], logs=logs / "otp"),
        Stack(proxied, ["core-web"], logs=logs / "proxied"),
        Stack(direct, ["core-web"], logs=logs / "direct"),
    ):
        yield otp.otp_url, proxied.core_url, direct.core_url


@pytest.fixture
def otp(stack):
    return stack[0]


@pytest.fixture
def core(stack):
    return stack[1]


def test_fifty_parallel_guessers_get_five_guesses_and_then_the_code_is_dead(core, otp):
    phone = _phone()
    assert _post(core, CODE_URL, {"phone": phone}, _address()).status_code == 202
    code = inbox.code(otp, phone)
    wrong = [guess for guess in (f"{n:04d}" for n in random.sample(range(10_000), ATTACKERS + 1)) if guess != code]

    answers = _in_parallel(ATTACKERS, lambda i: _post(core, TOKEN_URL, {"phone": phone, "code": wrong[i]}, _address()))

    assert _outcomes(answers) == {(400, "invalid_code"): MAX_ATTEMPTS, (429, "too_many_attempts"): ATTACKERS - 5}
    left = sorted(r.json()["error"]["details"]["attempts_left"] for r in answers if r.status_code == 400)
    assert left == [0, 1, 2, 3, 4]
    assert all(1 <= int(r.headers["Retry-After"]) <= 3600 for r in answers if r.status_code == 429)
    # The right code comes too late: the code was used up by the wrong ones.
    right = _post(core, TOKEN_URL, {"phone": phone, "code": code}, _address())
    assert (right.status_code, right.json()["error"]["code"]) == (429, "too_many_attempts")
    assert not User.objects.filter(phone=phone).exists()


def test_fifty_parallel_code_requests_for_one_phone_send_one_sms(core, otp):
    phone = _phone()
    answers = _in_parallel(ATTACKERS, lambda i: _post(core, CODE_URL, {"phone": phone}, _address()))

    assert _outcomes(answers) == {(202, None): 1, (429, "too_many_requests"): ATTACKERS - 1}
    assert all(1 <= int(r.headers["Retry-After"]) <= 60 for r in answers if r.status_code == 429)
    inbox.code(otp, phone)
    time.sleep(0.5)  # the SMS delay is 0.05–0.1 s here: a second message would have arrived
    assert len(inbox.messages(otp, phone)) == 1


@pytest.mark.parametrize("path", [CODE_URL, TOKEN_URL])
def test_one_address_gets_exactly_its_budget_across_all_workers(core, path):
    address, phones = _address(), [_phone() for _ in range(4 * PER_IP)]
    body = (lambda i: {"phone": phones[i]}) if path == CODE_URL else (lambda i: {"phone": phones[i], "code": "0000"})

    answers = _in_parallel(len(phones), lambda i: _post(core, path, body(i), address))

    passed = 202 if path == CODE_URL else 400  # no code was requested: invalid_code, from the OTP service
    expected_code = None if path == CODE_URL else "invalid_code"
    assert _outcomes(answers) == {(passed, expected_code): PER_IP, (429, "too_many_requests"): 3 * PER_IP}
    assert all(1 <= int(r.headers["Retry-After"]) <= 60 for r in answers if r.status_code == 429)
    # One counter in the shared Redis, whichever of the three workers answered.
    scope = "code" if path == CODE_URL else "token"
    assert redis.Redis.from_url(f"{SHARED_REDIS_URL}/2").keys(f"core-test-*:throttle_auth_ip:{scope}_{address}")


def test_behind_one_trusted_proxy_the_last_hop_is_the_client(core):
    client = _address()
    answers = [_post(core, CODE_URL, {"phone": _phone()}, f"{_address()}, {client}") for _ in range(PER_IP + 1)]
    # A new forged first entry each time buys nothing: the proxy's own entry (the last) counts.
    assert [r.status_code for r in answers] == [202] * PER_IP + [429]
    assert _post(core, CODE_URL, {"phone": _phone()}, f"{_address()}, {_address()}").status_code == 202


def test_without_trusted_proxies_a_forged_x_forwarded_for_buys_nothing(stack):
    direct = stack[2]
    answers = [_post(direct, CODE_URL, {"phone": _phone()}, _address()) for _ in range(PER_IP + 1)]
    assert [r.status_code for r in answers] == [202] * PER_IP + [429]


def _timed(session: requests.Session, core: str, path: str, body: dict) -> tuple[requests.Response, float]:
    started = time.perf_counter()
    response = _post(core, path, body, _address(), session)
    return response, time.perf_counter() - started


def _shape(response: requests.Response) -> tuple:
    headers = {k: v for k, v in response.headers.items() if k.lower() != "date"}
    body = response.json()
    body.pop("phone", None)
    return response.status_code, headers, body


def _same_answers_and_timing(core: str, path: str, known: list[str], unknown: list[str], extra: dict) -> float:
    """Alternate known and unknown phones (swapping who goes first); return the gap in median time."""
    session = requests.Session()
    for _ in range(3):  # warm the keep-alive connections on both hops
        session.get(f"{core}/healthz", timeout=5)
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    shapes: dict[str, set] = {"known": set(), "unknown": set()}
    for n, pair in enumerate(zip(known, unknown, strict=True)):
        order = [("known", pair[0]), ("unknown", pair[1])]
        for kind, phone in order if n % 2 else reversed(order):
            response, seconds = _timed(session, core, path, {"phone": phone, **extra})
            times[kind].append(seconds)
            shapes[kind].add(repr(_shape(response)))
    assert shapes["known"] == shapes["unknown"]
    assert len(shapes["known"]) == 1, shapes["known"]
    known_median, unknown_median = statistics.median(times["known"]), statistics.median(times["unknown"])
    print(f"{path}: median {known_median * 1000:.2f} ms known, {unknown_median * 1000:.2f} ms unknown")
    return abs(known_median - unknown_median)


def test_known_and_unknown_phones_get_the_same_answers_in_the_same_time(core):
    known = [UserFactory(phone=_phone()).phone for _ in range(ENUMERATION_ROUNDS)]
    unknown = [_phone() for _ in range(ENUMERATION_ROUNDS)]

    code_gap = _same_answers_and_timing(core, CODE_URL, known, unknown, {})
    # Every phone now has a live code: a wrong guess is invalid_code, attempts_left 4, for all.
    sign_in_gap = _same_answers_and_timing(core, TOKEN_URL, known, unknown, {"code": "0000"})

    print(f"median gap: code request {code_gap * 1000:.2f} ms, failed sign-in {sign_in_gap * 1000:.2f} ms")
    assert code_gap < ENUMERATION_TOLERANCE
    assert sign_in_gap < ENUMERATION_TOLERANCE
    assert User.objects.filter(phone__in=unknown).count() == 0


def test_pumping_one_number_block_from_a_thousand_addresses_sends_at_most_the_prefix_limit(core, otp):
    """SMS pumping: 1,000 code requests over 200 numbers of one prefix, each from its own address (so
    the per-address throttle never sees them), 50 at a time, against the default guard (20 a prefix
    an hour; the conversion tripwire at 10 unverified sends). At most 20 SMS go out."""
    block = f"+7995{random.randrange(1000):03d}"
    phones = [f"{block}{n:04d}" for n in random.sample(range(10_000), 200)] * 5
    random.shuffle(phones)
    with requests.Session() as session, ThreadPoolExecutor(ATTACKERS) as pool:
        answers = list(
            pool.map(lambda phone: _post(core, CODE_URL, {"phone": phone}, _address(), session=session), phones)
        )
    outcomes = _outcomes(answers)
    sent = outcomes[(202, None)]
    assert sent <= 20, outcomes
    assert set(outcomes) <= {(202, None), (429, "sms_limit_reached"), (429, "too_many_requests")}, outcomes
    refused = [r for r in answers if r.status_code == 429 and r.json()["error"]["code"] == "sms_limit_reached"]
    assert refused and all(r.json()["error"]["details"]["scope"] in {"prefix", "conversion"} for r in refused)
    assert all(1 <= int(r.headers["Retry-After"]) <= 3600 for r in refused)
    for phone in {phone for phone, answer in zip(phones, answers, strict=True) if answer.status_code == 202}:
        inbox.code(otp, phone)  # waits for its SMS
    time.sleep(0.5)  # the SMS delay is 0.05–0.1 s here: any other message would have arrived
    assert sum(len(inbox.messages(otp, phone)) for phone in set(phones)) == sent
