"""End to end through the real OTP service (gunicorn) and its Celery worker, started here as
subprocesses with the dev SMS inbox and private Redis key prefixes: two people sign in with the
codes they receive, one activates the other's invite code, and the referral shows in the profile."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
import requests

OTP_DIR = Path(__file__).resolve().parents[2] / "otp"
READY_TIMEOUT = 30
SMS_TIMEOUT = 20

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(processes: list[subprocess.Popen]) -> None:
    """SIGTERM to every process group at once (they shut down in parallel), SIGKILL what lingers."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _redis_forget(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=f"{prefix}*", count=500))
    if keys:
        client.delete(*keys)


def _wait_ready(url: str, processes: list[subprocess.Popen], logs: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            break
        try:
            if requests.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(f"the OTP service did not become ready; logs:\n{logs.read_text()[-4000:]}")


@pytest.fixture(scope="module")
def otp_service(tmp_path_factory):
    """The OTP web process and worker, sharing this run's Redis under keys no one else uses."""
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
    run = uuid.uuid4().hex[:12]
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if key not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL"}}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        APP_ENV="development",
        OTP_BIND=f"127.0.0.1:{port}",
        OTP_WEB_WORKERS="1",
        OTP_WORKER_CONCURRENCY="2",
        OTP_SERVICE_TOKEN=f"e2e-token-{run}",
        SMS_BACKEND="inbox",
        SMS_DELAY_MIN_SECONDS="0.05",
        SMS_DELAY_MAX_SECONDS="0.1",
        REDIS_URL=redis_url,
        OTP_REDIS_DB="0",
        OTP_KEY_PREFIX=f"e2e-{run}:",
        CELERY_BROKER_URL=f"{redis_url}/1",
        CELERY_KEY_PREFIX=f"e2e-{run}:",
        LOG_LEVEL="WARNING",
        ACCESS_LOG="/dev/null",
    )
    logs = tmp_path_factory.mktemp("otp") / "otp.log"
    processes: list[subprocess.Popen] = []
    with logs.open("w") as log:
        try:
            for script in ("bin/web", "bin/worker"):
                processes.append(
                    subprocess.Popen(
                        [str(OTP_DIR / script)], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                    )
                )
            url = f"http://127.0.0.1:{port}"
            _wait_ready(url, processes, logs)
            yield {"url": url, "token": env["OTP_SERVICE_TOKEN"]}
        finally:
            _stop(processes)
            _redis_forget(f"{redis_url}/0", env["OTP_KEY_PREFIX"])
            _redis_forget(f"{redis_url}/1", env["CELERY_KEY_PREFIX"])


@pytest.fixture
def core_uses_otp(otp_service, settings):
    settings.OTP_SERVICE_URL = otp_service["url"]
    settings.OTP_SERVICE_TOKEN = otp_service["token"]
    return otp_service


def _code_from_inbox(otp_url: str, phone: str) -> str:
    deadline = time.monotonic() + SMS_TIMEOUT
    while time.monotonic() < deadline:
        messages = requests.get(f"{otp_url}/v1/inbox/", params={"phone": phone}, timeout=2).json()["messages"]
        if messages:
            return messages[0]["code"]
        time.sleep(0.1)
    pytest.fail(f"no SMS for {phone} within {SMS_TIMEOUT} s (is the worker consuming?)")


def _sign_in(api, otp_url: str, typed_phone: str) -> dict:
    sent = api.post("/api/v1/auth/code/", {"phone": typed_phone}, format="json")
    assert sent.status_code == 202, sent.content
    phone = sent.json()["phone"]
    code = _code_from_inbox(otp_url, phone)
    wrong = "0000" if code != "0000" else "1111"
    refused = api.post("/api/v1/auth/token/", {"phone": typed_phone, "code": wrong}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid_code"
    assert refused.json()["error"]["details"]["attempts_left"] >= 1
    signed_in = api.post("/api/v1/auth/token/", {"phone": typed_phone, "code": code}, format="json")
    assert signed_in.status_code == 200, signed_in.content
    return signed_in.json()


def test_two_people_sign_in_and_one_invites_the_other(api, core_uses_otp):
    otp_url = core_uses_otp["url"]
    anna = _sign_in(api, otp_url, "8 (999) 000-11-22")
    boris = _sign_in(api, otp_url, "+7 999 000-33-44")
    assert anna["is_new_user"] and boris["is_new_user"]

    api.credentials(HTTP_AUTHORIZATION=f"Bearer {boris['access']}")
    activated = api.post("/api/v1/profile/invite/", {"invite_code": anna["profile"]["invite_code"]}, format="json")
    assert activated.status_code == 200, activated.content
    assert activated.json()["activated_invite_code"] == anna["profile"]["invite_code"]

    api.credentials(HTTP_AUTHORIZATION=f"Bearer {anna['access']}")
    profile = api.get("/api/v1/profile/").json()
    assert profile["referrals"] == ["+79990003344"]
    assert profile["referrals_count"] == 1


def test_a_code_is_good_once_and_a_resend_waits_for_the_cooldown(api, core_uses_otp):
    first = _sign_in(api, core_uses_otp["url"], "89990005566")
    assert first["is_new_user"]
    again = api.post("/api/v1/auth/code/", {"phone": "89990005566"}, format="json")
    assert again.status_code == 429
    assert again.json()["error"]["code"] == "too_many_requests"
    assert 1 <= int(again["Retry-After"]) <= 60


def test_a_wrong_service_token_is_otp_unavailable(api, core_uses_otp, settings):
    settings.OTP_SERVICE_TOKEN = "not-the-token"
    response = api.post("/api/v1/auth/code/", {"phone": "89990007788"}, format="json")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "otp_unavailable"


def test_the_core_is_ready_when_the_otp_service_is(client, core_uses_otp):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "otp": "ok"}
