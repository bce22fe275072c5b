"""Load scenarios for the referral system: one user class, and one tag, per scenario.

Aim it at any deployment whose OTP service has the dev inbox on (SMS_BACKEND=inbox) and whose
throttles are lifted (THROTTLE_AUTH_PER_IP, THROTTLE_INVITE_PER_USER), e.g.:

    locust -f bench/locustfile.py --host http://127.0.0.1:8000 --headless -u 50 -t 30s CodeRequestUser

Environment:
    OTP_URL              the OTP service (dev inbox; DeliveryLagUser), default http://127.0.0.1:8001
    OTP_SERVICE_TOKEN    the OTP service token (DeliveryLagUser only)
    BENCH_INVITE_CODE    invite code every journey activates (default: a user signed in at start)
    BENCH_USER_RATE      requests per second of each paced user (HealthzPacedUser, CodeRequestPacedUser,
                         SignInUser, ProfilePacedUser; default 1):
                         -u 100 is a constant offered load of 100 requests/s
    BENCH_SIGNIN_COUNT   existing users SignInUser and SignInSaturatingUser sign in (one code each, sent
                         and read at start; needs the OTP service's resend cooldown at most 1 s,
                         OTP_RESEND_COOLDOWN_SECONDS); the run ends when they are all used
    BENCH_PROFILE_PHONE  the user ProfileUser reads, signed in at start (seed it with 10,000 referrals:
                         `manage.py seed_referrals --phone ... --count 10000` in services/core)
    BENCH_PROFILE_TOKEN  or an access token of that user
    BENCH_FORWARDED_FOR  1: each sign-in comes from its own made-up client address (X-Forwarded-For),
                         for a server behind TRUSTED_PROXY_COUNT=1, as real sign-ins come from many
                         clients; otherwise every request comes from this machine's one address
    BENCH_LAG_RATE       codes per second DeliveryLagUser sends (default 1000); -u is how many codes
    BENCH_MAX_REQUESTS   stop after this many requests (default: no bound but --run-time)
    BENCH_WARMUP         seconds left out of BENCH_SAMPLES at the start (default 0)
    BENCH_RUN_SECONDS    quit this long after the set-up is done (default: --run-time alone, which
                         counts the set-up too)
    BENCH_READY          touch this file when the set-up is done and the load starts
    BENCH_DONE           touch this file when the load ends before the run time (sign-in codes used up)
    BENCH_SAMPLES        write every latency (ms) per request name to this JSON file at the end
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import random
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

import gevent
import gevent.event
import gevent.pool
import requests
from devstack import inbox
from locust import FastHttpUser, constant, events, tag, task
from locust.exception import StopUser

logger = logging.getLogger("bench")

OTP_URL = os.environ.get("OTP_URL", "http://127.0.0.1:8001").rstrip("/")
JOURNEY = "journey: code → SMS → sign-in → profile → invite"
SIGNIN = "POST /api/v1/auth/token/ (existing user)"
LAG = "delivery lag: code request → inbox"
MAX_REQUESTS = int(os.environ.get("BENCH_MAX_REQUESTS", "0"))
WARMUP_SECONDS = float(os.environ.get("BENCH_WARMUP", "0"))
SMS_WAIT_SECONDS = 15  # a code not in the inbox by then counts as lost
LAG_FIRST_POLL_SECONDS = 3.5  # after the 2 s maximum delay, so polling does not compete with delivery
USER_RATE = float(os.environ.get("BENCH_USER_RATE", "1"))

# Fresh phones: +7 90x xxx xx xx from a random point, so runs against one deployment don't collide
# with the per-phone cooldown and hourly cap.
_phone_numbers = itertools.count(random.randrange(10**8 - 10**7))


def evenly_paced(rate: float):
    """A wait_time like locust's constant_throughput(rate), each user at its own random phase.
    locust starts its users in batches and anchors constant_throughput's pacing at each user's
    start, so paced users started together fire together every period: bursts that queue behind
    each other, not the constant offered load the scenario stands for. Here each user's requests
    are due on a grid of its own, one period apart from a random first point; a request that ran
    past its slot waits for the next one (no catching up in bursts)."""
    period = 1 / rate

    def wait_time(user) -> float:
        now = time.monotonic()
        if not hasattr(user, "bench_grid"):
            user.bench_grid = now + random.uniform(0, period)
        slots_passed = max(0, math.floor((now - user.bench_grid) / period) + 1)
        return user.bench_grid + slots_passed * period - now

    return wait_time


def fresh_phone() -> str:
    return f"+790{next(_phone_numbers) % 10**8:08d}"


_client_addresses = itertools.count(random.randrange(2**24))


def client_headers() -> dict:
    """A new client's headers: with BENCH_FORWARDED_FOR=1, its own address in 10.0.0.0/8."""
    if os.environ.get("BENCH_FORWARDED_FOR") != "1":
        return {}
    n = next(_client_addresses) % 2**24
    return {"X-Forwarded-For": f"10.{n >> 16}.{(n >> 8) & 255}.{n & 255}"}


def inbox_url(phone: str) -> str:
    return f"{OTP_URL}/v1/inbox/?phone={quote(phone)}"


def iso_seconds(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# --- Set-up: users the scenarios need, signed in through the public API --------------------------


def sign_in(core_url: str, phone: str) -> dict:
    """Request a code, read it from the dev inbox, exchange it for tokens; the token response."""
    return inbox.sign_in(core_url, OTP_URL, phone, headers=client_headers())


def codes_by_phone(phones: list[str], *, messages: int) -> dict[str, str]:
    """Send each phone a code straight from the OTP service, 20 at a time, and read it back from the
    inbox once the phone has `messages` messages there (the newest is first)."""
    token = os.environ.get("OTP_SERVICE_TOKEN", "")
    pool = gevent.pool.Pool(20)

    def send(phone: str) -> None:
        url = f"{OTP_URL}/v1/codes/"
        requests.post(url, json={"phone": phone}, headers=bearer(token), timeout=10).raise_for_status()

    def read(phone: str) -> str:
        return inbox.code(OTP_URL, phone, count=messages, timeout=SMS_WAIT_SECONDS)

    pool.map(send, phones)
    gevent.sleep(2.0)  # the SMS is delayed 1–2 s
    return dict(zip(phones, pool.map(read, phones), strict=True))


def existing_users_with_codes(core_url: str, count: int) -> list[tuple[str, str]]:
    """`count` phones that are users already (each signed in once), each with a fresh code."""
    phones = [fresh_phone() for _ in range(count)]
    first = codes_by_phone(phones, messages=1)

    def sign_in_once(phone: str) -> None:
        body = {"phone": phone, "code": first[phone]}
        url = f"{core_url}/api/v1/auth/token/"
        requests.post(url, json=body, headers=client_headers(), timeout=10).raise_for_status()

    gevent.pool.Pool(20).map(sign_in_once, phones)
    return list(codes_by_phone(phones, messages=2).items())


setup: dict[str, str] = {}
signin_codes: list[tuple[str, str]] = []
_codes_used_up = gevent.event.Event()


@events.test_start.add_listener
def sign_in_setup_users(environment, **_kwargs):
    names = {user_class.__name__ for user_class in environment.user_classes}
    try:
        if "JourneyUser" in names:
            setup["invite_code"] = (
                os.environ.get("BENCH_INVITE_CODE")
                or (sign_in(environment.host, fresh_phone())["profile"]["invite_code"])
            )
        if names & {"ProfileUser", "ProfilePacedUser"}:
            token = os.environ.get("BENCH_PROFILE_TOKEN")
            if not token:
                phone = os.environ.get("BENCH_PROFILE_PHONE")
                if not phone:
                    raise RuntimeError("ProfileUser needs BENCH_PROFILE_PHONE or BENCH_PROFILE_TOKEN")
                token = sign_in(environment.host, phone)["access"]
            setup["profile_token"] = token
        if names & {"SignInUser", "SignInSaturatingUser"}:
            signin_codes.extend(existing_users_with_codes(environment.host, int(os.environ["BENCH_SIGNIN_COUNT"])))
    except (requests.RequestException, RuntimeError, TimeoutError, KeyError) as exc:
        logger.error("set-up failed: %s", exc)
        environment.process_exit_code = 2
        gevent.spawn_later(0.1, environment.runner.quit)


# --- The scenarios ---------------------------------------------------------------------------------


class HealthzUser(FastHttpUser):
    """1. GET /healthz of the core: the floor of the framework on this machine."""

    wait_time = constant(0)

    @tag("healthz")
    @task
    def healthz(self):
        self.client.get("/healthz", name="GET /healthz")


class HealthzPacedUser(HealthzUser):
    """1b. The same request at BENCH_USER_RATE per user: the floor's latency when it is not queued."""

    wait_time = evenly_paced(USER_RATE)


class CodeRequestUser(FastHttpUser):
    """2. POST /api/v1/auth/code/ with a fresh phone per request."""

    wait_time = constant(0)

    @tag("code")
    @task
    def request_code(self):
        with self.client.post(
            "/api/v1/auth/code/",
            json={"phone": fresh_phone()},
            headers=client_headers(),
            name="POST /api/v1/auth/code/",
            catch_response=True,
        ) as response:
            if response.status_code != 202:
                response.failure(f"status {response.status_code}")


class CodeRequestPacedUser(CodeRequestUser):
    """2b. The same request at BENCH_USER_RATE per user: a constant offered load, not saturation."""

    wait_time = evenly_paced(USER_RATE)


class SignInUser(FastHttpUser):
    """2c. POST /api/v1/auth/token/ of an existing user with a valid code (BENCH_SIGNIN_COUNT of them,
    prepared at start), at BENCH_USER_RATE per user. The run ends when every prepared code is used,
    so the measured window never holds time without load."""

    wait_time = evenly_paced(USER_RATE)

    @tag("signin")
    @task
    def sign_in(self):
        if not signin_codes:
            if self.environment.process_exit_code == 2:
                raise StopUser()  # the set-up failed and has said so: the run is ending
            if not _codes_used_up.is_set():
                _codes_used_up.set()
                logger.warning("every prepared sign-in code is used: the run ends")
                if os.environ.get("BENCH_DONE"):
                    Path(os.environ["BENCH_DONE"]).touch()
                gevent.spawn_later(0, self.environment.runner.quit)
            raise StopUser()
        phone, code = signin_codes.pop()
        with self.client.post(
            "/api/v1/auth/token/",
            json={"phone": phone, "code": code},
            headers=client_headers(),
            name=SIGNIN,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")


class SignInSaturatingUser(SignInUser):
    """2d. The same sign-ins with no pause: CPU per sign-in at saturation, as for the code request (2)."""

    wait_time = constant(0)


class JourneyUser(FastHttpUser):
    """3. The whole journey with a new phone: code → inbox → token → profile → activate an invite code."""

    wait_time = constant(0)

    def _expect(self, response, status: int) -> dict | None:
        if response.status_code != status:
            response.failure(f"status {response.status_code}")
            return None
        return response.json()

    def _wait_for_code(self, phone: str) -> str | None:
        gevent.sleep(1.0)  # the SMS is delayed 1–2 s
        deadline = time.monotonic() + SMS_WAIT_SECONDS
        while time.monotonic() < deadline:
            with self.client.get(inbox_url(phone), name="GET otp /v1/inbox/", catch_response=True) as response:
                body = self._expect(response, 200)
            if body and body["messages"]:
                return body["messages"][0]["code"]
            gevent.sleep(0.25)
        return None

    @tag("journey")
    @task
    def journey(self):
        started = time.time()
        error = self._journey(fresh_phone())
        events.request.fire(
            request_type="JOURNEY",
            name=JOURNEY,
            response_time=(time.time() - started) * 1000,
            response_length=0,
            exception=RuntimeError(error) if error else None,
            context={},
            start_time=started,
        )

    def _journey(self, phone: str) -> str | None:
        """None when the invite code was activated, else what went wrong."""
        client = client_headers()
        with self.client.post(
            "/api/v1/auth/code/",
            json={"phone": phone},
            # The SMS takes 1–2 s: longer than a server may keep an idle connection would be a race
            # between its close and our next request, so this one closes the connection itself.
            headers=client | {"Connection": "close"},
            name="POST /api/v1/auth/code/",
            catch_response=True,
        ) as response:
            if self._expect(response, 202) is None:
                return "code request failed"
        code = self._wait_for_code(phone)
        if code is None:
            return f"no SMS within {SMS_WAIT_SECONDS} s"
        with self.client.post(
            "/api/v1/auth/token/",
            json={"phone": phone, "code": code},
            headers=client,
            name="POST /api/v1/auth/token/",
            catch_response=True,
        ) as response:
            body = self._expect(response, 200)
        if body is None:
            return "sign-in failed"
        headers = bearer(body["access"])
        with self.client.get(
            "/api/v1/profile/", headers=headers, name="GET /api/v1/profile/ (new user)", catch_response=True
        ) as response:
            if self._expect(response, 200) is None:
                return "profile failed"
        with self.client.post(
            "/api/v1/profile/invite/",
            json={"invite_code": setup["invite_code"]},
            headers=headers,
            name="POST /api/v1/profile/invite/",
            catch_response=True,
        ) as response:
            if self._expect(response, 200) is None:
                return "invite activation failed"
        return None


class ProfileUser(FastHttpUser):
    """4. GET /api/v1/profile/ of a user with many referrals (BENCH_PROFILE_PHONE / BENCH_PROFILE_TOKEN)."""

    wait_time = constant(0)

    @tag("profile")
    @task
    def profile(self):
        with self.client.get(
            "/api/v1/profile/",
            headers=bearer(setup["profile_token"]),
            name="GET /api/v1/profile/ (10k referrals)",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")


class ProfilePacedUser(ProfileUser):
    """4b. The same request at BENCH_USER_RATE per user, to set its latency beside 1b's."""

    wait_time = evenly_paced(USER_RATE)


_lag_index = itertools.count()
_lag_start: list[float] = []
_lag_spawned = gevent.event.Event()


@events.spawning_complete.add_listener
def start_lag_clock(**_kwargs):
    """Codes go out on a schedule from here on, whatever the spawning of 1,000 users cost."""
    _lag_start.append(time.time() + 0.2)
    _lag_spawned.set()


_lag_done = itertools.count(1)


class DeliveryLagUser(FastHttpUser):
    """5. Delivery lag: each user sends one code straight to the OTP service, paced at BENCH_LAG_RATE per
    second (-u is the number of codes), then finds it in the dev inbox. The lag is the message's
    `sent_at` minus the moment the client sent the request (same clock on one machine)."""

    wait_time = constant(0)

    @tag("delivery")
    @task
    def code_then_inbox(self):
        _lag_spawned.wait()
        rate = float(os.environ.get("BENCH_LAG_RATE", "1000"))
        gevent.sleep(max(0.0, _lag_start[0] + next(_lag_index) / rate - time.time()))
        phone = fresh_phone()
        requested = time.time()
        with self.client.post(
            f"{OTP_URL}/v1/codes/",
            json={"phone": phone},
            headers=bearer(os.environ.get("OTP_SERVICE_TOKEN", "")) | {"Connection": "close"},  # idle 3.5 s next
            name="POST otp /v1/codes/",
            catch_response=True,
        ) as response:
            accepted = response.status_code == 202
            if not accepted:
                response.failure(f"status {response.status_code}")
        if accepted:
            self._find_in_inbox(phone, requested)
        if next(_lag_done) >= self.environment.runner.target_user_count:
            gevent.spawn_later(0.1, self.environment.runner.quit)
        raise StopUser()

    def _find_in_inbox(self, phone: str, requested: float) -> None:
        gevent.sleep(max(0.0, requested + LAG_FIRST_POLL_SECONDS - time.time()))
        while time.time() < requested + SMS_WAIT_SECONDS:
            response = self.client.get(inbox_url(phone), name="GET otp /v1/inbox/")
            messages = response.json()["messages"] if response.status_code == 200 else []
            if messages:
                message = messages[-1]
                events.request.fire(
                    request_type="LAG",
                    name=LAG,
                    response_time=(iso_seconds(message["sent_at"]) - requested) * 1000,
                    response_length=0,
                    exception=None,
                    context={
                        "server_lag_ms": (iso_seconds(message["sent_at"]) - iso_seconds(message["requested_at"])) * 1000
                    },
                    start_time=requested,
                )
                return
            gevent.sleep(0.5)
        events.request.fire(
            request_type="LAG",
            name=LAG,
            response_time=SMS_WAIT_SECONDS * 1000,
            response_length=0,
            exception=RuntimeError(f"lost: not in the inbox {SMS_WAIT_SECONDS} s after the request"),
            context={},
            start_time=requested,
        )


# --- Bounds and raw samples ------------------------------------------------------------------------


class Samples:
    """Every latency in ms per request name (exact, unlike locust's rounded histogram)."""

    def __init__(self) -> None:
        self.started = time.time()
        self.count = 0
        self.by_name: dict[str, dict] = defaultdict(
            lambda: {"ms": [], "failures": 0, "errors": defaultdict(int), "first": None, "last": None, "extra": []}
        )

    def add(self, name, response_time, exception, context=None, start_time=None, **_kwargs):
        self.count += 1
        if MAX_REQUESTS and self.count == MAX_REQUESTS:
            logger.warning("BENCH_MAX_REQUESTS=%s reached; stopping", MAX_REQUESTS)
            gevent.spawn_later(0, environment_ref[0].runner.quit)
        now = time.time()
        begun = start_time if start_time is not None else now - response_time / 1000
        if begun < self.started + WARMUP_SECONDS:
            return
        entry = self.by_name[name]
        entry["first"] = begun if entry["first"] is None else min(entry["first"], begun)
        entry["last_start"] = max(entry.get("last_start") or begun, begun)
        entry["last"] = max(entry["last"] or now, now)
        if exception is not None:
            entry["failures"] += 1
            entry["errors"][str(exception)[:200]] += 1
            return
        entry["ms"].append(round(response_time, 3))
        if context and "server_lag_ms" in context:
            entry["extra"].append(round(context["server_lag_ms"], 3))


samples = Samples()
environment_ref: list = []


@events.init.add_listener
def on_init(environment, **_kwargs):
    environment_ref.append(environment)
    events.request.add_listener(samples.add)


@events.test_start.add_listener
def restart_clock(environment, **_kwargs):
    """The set-up is done (test_start listeners run in order): the load and its clock start now."""
    samples.started = time.time()
    if os.environ.get("BENCH_RUN_SECONDS"):
        gevent.spawn_later(float(os.environ["BENCH_RUN_SECONDS"]), environment.runner.quit)
    if os.environ.get("BENCH_READY"):
        with open(os.environ["BENCH_READY"], "w") as marker:
            marker.write(str(samples.started))


@events.quitting.add_listener
def write_samples(environment, **_kwargs):
    path = os.environ.get("BENCH_SAMPLES")
    if not path:
        return
    with open(path, "w") as out:
        json.dump({"started": samples.started, "warmup": WARMUP_SECONDS, "requests": samples.by_name}, out)
