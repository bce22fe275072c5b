"""`make compose-smoke`: the docker-compose stack started for real, with podman from Debian behind
the pinned Docker Compose binary, and removed again.

1. podman (apt-get install podman catatonit runc debootstrap when missing), its containers.conf
   without default ulimits and with runc (see CONTAINERS_SETTINGS), and `podman system service` as
   the Docker API socket (mirakuru starts it and waits for the socket).
2. Base images built locally (no registry is reachable): Debian bookworm from debootstrap, then
   infra/smoke/Containerfile's stages; they stay as a cache between runs on one machine.
3. Development: docker-compose.yml + docker-compose.override.yml + infra/smoke/compose.smoke.yml
   with no .env, every service healthy (podman runs no healthcheck timer without systemd: this
   drives `podman healthcheck run`), the checks of the HTTPS front, the Postman collection with
   newman through https://localhost, and Redis' ACL log empty: the services touched only their
   own keys and channels.
4. Production (docker-compose.yml alone): with no .env Redis and PostgreSQL refuse to start,
   naming the passwords; with SMS_BACKEND=inbox the OTP service refuses. With secrets and a real
   provider backend (SMS.ru's API, played by infra/smoke/fake_smsru.py) the stack is healthy,
   publishes no OTP port and answers HTTPS only; a sign-in gets its code by SMS; scaled out to two
   replicas of core, OTP and worker, parallel guesses still get exactly the attempt limit. Then
   the trust zones (smoke_zones.py): the migrations ran once, Redis' ACL log is still empty, the
   proxy reaches neither Redis, PostgreSQL nor the OTP service, and Redis refuses a client without
   credentials and each service's user the other's keys. Each container's memory is logged.
5. Everything the run started is removed (containers, volumes, networks). The images stay as a
   cache for the next run on this machine (podman's layer cache rebuilds only what changed);
   SMOKE_REMOVE_IMAGES=1 removes the app images too.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import smoke_zones
from compose_check import COMPOSE, tool
from podman_compose import ROOT, VAR, Stack, build_base_images, ensure_podman, log, podman_service, run

# Run inside the OTP container: the status of its inbox route.
INBOX_PROBE = (
    "import urllib.request as u, urllib.error as e\n"
    "try: print(u.urlopen('http://127.0.0.1:8001/v1/inbox/').status)\n"
    "except e.HTTPError as x: print(x.code)"
)
# Run inside the fake SMS.ru container: what it accepted.
SMS_RECEIVED = "import urllib.request as u; print(u.urlopen('http://127.0.0.1:8080/messages').read().decode())"
PRODUCTION_FILES = ["docker-compose.yml", "infra/smoke/compose.smoke.yml"]


def check_https_front(ca: Path) -> None:
    """Plain HTTP redirects; probes and metrics are not public; the core sees HTTPS via the proxy."""
    redirect = requests.get("http://localhost/login/", allow_redirects=False, timeout=10)
    assert redirect.status_code in {301, 308}, redirect.status_code
    assert redirect.headers["Location"] == "https://localhost/login/", redirect.headers
    for path in ("/readyz", "/metrics"):
        answer = requests.get(f"https://localhost{path}", verify=ca, timeout=10)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found", (path, answer.text)
    assert requests.get("https://localhost/healthz", verify=ca, timeout=10).status_code == 200
    too_large = requests.post("https://localhost/api/v1/auth/code/", data=b"x" * 200_000, verify=ca, timeout=10)
    assert too_large.status_code == 413 and too_large.json()["error"]["code"] == "payload_too_large", too_large.text


def proxy_root_certificate(stack: Stack) -> Path:
    ca = VAR / "caddy-root.crt"
    stack.compose("cp", "proxy:/data/caddy/pki/authorities/local/root.crt", str(ca))
    return ca


def newman(ca: Path) -> None:
    postman = ROOT / "postman"
    binary = postman / "node_modules" / ".bin" / "newman"
    if not binary.exists():
        run("npm", "ci", "--prefix", postman, "--no-audit", "--no-fund", "--loglevel=error", stdout=subprocess.DEVNULL)
    run(
        binary, "run", postman / "referrals.postman_collection.json",
        "--environment", postman / "local.postman_environment.json",
        "--env-var", "core_url=https://localhost", "--env-var", "otp_url=http://127.0.0.1:8001",
        "--env-var", "behind_proxy=true",
        "--ssl-extra-ca-certs", ca, "--timeout-request", "10000", "--color", "off",
    )  # fmt: skip


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def development(compose: Path, docker_host: str) -> None:
    stack = Stack(
        compose, docker_host, ["docker-compose.yml", "docker-compose.override.yml", "infra/smoke/compose.smoke.yml"], {}
    )
    try:
        log("development stack with no .env: build, start, every service healthy")
        assert stack.up(), "the development stack did not start"
        ca = proxy_root_certificate(stack)
        log("HTTPS front: redirect, hidden probes and metrics, body limit")
        check_https_front(ca)
        log("Postman collection (newman) through https://localhost")
        newman(ca)
        config = json.loads(stack.compose("config", "--format", "json", capture=True).stdout)
        admin = config["services"]["redis"]["environment"]["REDIS_ADMIN_PASSWORD"]
        log("Redis' ACL log after the collection: no command, key or channel refused")
        assert smoke_zones.acl_log(stack, admin) == [], smoke_zones.acl_log(stack, admin)
    finally:
        stack.remove()


def production_secrets() -> dict[str, str]:
    """A production .env: every secret long, random and URL-safe (they go into URLs)."""
    names = [
        *("SECRET_KEY", "CORE_SECRET_KEY", "OTP_SECRET_KEY", "JWT_SIGNING_KEY", "OTP_SECRET", "OTP_SERVICE_TOKEN"),
        *("POSTGRES_PASSWORD", "REDIS_OTP_PASSWORD", "REDIS_CORE_PASSWORD", "REDIS_ADMIN_PASSWORD"),
    ]
    return {name: secrets.token_urlsafe(36) for name in names} | {"SMS_ALLOWED_COUNTRIES": "RU"}


def wait_for_log(stack: Stack, service: str, message: str) -> None:
    def logs() -> str:
        return stack.compose("logs", service, capture=True).stdout

    deadline = time.monotonic() + 60
    while message not in logs() and time.monotonic() < deadline:
        time.sleep(1)
    assert message in logs(), logs()[-2000:]


def refusals(compose: Path, docker_host: str, env: dict[str, str]) -> None:
    bare = Stack(compose, docker_host, PRODUCTION_FILES, {})
    try:
        log("production with no .env: Redis and PostgreSQL refuse to start, naming the password")
        bare.up("redis", "postgres", healthy=False)
        wait_for_log(bare, "redis", "REDIS_OTP_PASSWORD must be set")
        wait_for_log(bare, "postgres", "You must specify POSTGRES_PASSWORD")
    finally:
        bare.remove()
    inbox = Stack(compose, docker_host, PRODUCTION_FILES, {**env, "SMS_BACKEND": "inbox"})
    try:
        log("production with SMS_BACKEND=inbox: the OTP service must refuse to start")
        inbox.up("otp", healthy=False)
        wait_for_log(inbox, "otp", "SMS_BACKEND must not be 'inbox' when APP_ENV=production")
        otp = inbox.service("otp")
        assert otp and not inbox.check(otp[0]), "the refused OTP service reports healthy"
    finally:
        inbox.remove()


def production(compose: Path, docker_host: str) -> None:
    env = production_secrets()
    refusals(compose, docker_host, env)
    provider = {"SMS_BACKEND": "smsru", "SMSRU_API_ID": secrets.token_hex(16)}
    provider["SMSRU_API_BASE"] = "http://sms-provider:8080"
    stack = Stack(compose, docker_host, [*PRODUCTION_FILES, "infra/smoke/compose.sms.yml"], env | provider)
    try:
        log("production with SMS.ru as the provider: healthy, no OTP port, HTTPS only")
        assert stack.up(), "the production stack did not start"
        assert not port_open(8001), "production publishes the OTP service"
        published = stack.compose("port", "otp", "8001", check=False, capture=True).stdout.strip()
        assert not published or published.endswith(":0"), published
        ca = proxy_root_certificate(stack)
        check_https_front(ca)
        page = requests.get("https://localhost/login/", verify=ca, timeout=10)
        assert page.status_code == 200 and "max-age=31536000" in page.headers["Strict-Transport-Security"]
        inbox = stack.compose("exec", "-T", "otp", "python", "-c", INBOX_PROBE, capture=True).stdout.strip()
        assert inbox == "404", f"the production OTP service answers its inbox route: {inbox}"
        sign_in_by_sms(stack, ca)
        scaled_out(stack, ca)
        smoke_zones.check(stack, admin_password=env["REDIS_ADMIN_PASSWORD"])
        log("memory of each container (MiB, cache included): peak, now")
        for name, (peak, now) in sorted(stack.memory().items()):
            print(f"   {name:34} {peak:7.1f} {now:7.1f}", flush=True)
    except BaseException:
        stack.report()
        raise
    finally:
        stack.remove()


def sign_in_by_sms(stack: Stack, ca: Path) -> None:
    """A code asked for through the proxy reaches the provider through the OTP worker, and signs in."""
    log("production sign-in: the code arrives by SMS (the provider's API) and returns a token pair")
    phone = f"+7999{secrets.randbelow(10_000_000):07d}"
    for _ in range(3):  # as a client would: a 503 says when to try again
        asked = requests.post("https://localhost/api/v1/auth/code/", json={"phone": phone}, verify=ca, timeout=10)
        if asked.status_code != 503:
            break
        log(f"503 {asked.json()['error']['code']}, Retry-After {asked.headers.get('Retry-After')}: once more")
        time.sleep(float(asked.headers.get("Retry-After", 1)))
    assert asked.status_code == 202, asked.text
    code = None
    deadline = time.monotonic() + 30
    while code is None and time.monotonic() < deadline:
        time.sleep(1)
        received = stack.compose("exec", "-T", "sms-provider", "python", "-c", SMS_RECEIVED, capture=True).stdout
        texts = [m["msg"] for m in json.loads(received) if m["to"] == phone.removeprefix("+")]
        code = next((match[1] for text in texts if (match := re.search(r"\b(\d{4,8})\b", text))), None)
    assert code, f"no SMS reached the provider for {phone}"
    token = requests.post(
        "https://localhost/api/v1/auth/token/", json={"phone": phone, "code": code}, verify=ca, timeout=10
    )
    assert token.status_code == 200 and token.json().get("access"), token.text


def scaled_out(stack: Stack, ca: Path) -> None:
    """Two replicas of the core, the OTP service and the worker behind the proxy: parallel wrong
    guesses at one code, spread over the replicas, get exactly OTP_MAX_ATTEMPTS (5) answers
    400 invalid_code, and every other one 429 too_many_attempts."""
    log("production scaled out: two core, OTP and worker replicas; the attempt limit holds across them")
    replicas = {"core": 2, "otp": 2, "otp-worker": 2}
    assert stack.up(scale=replicas), "the scaled-out stack did not start"
    running = [c["Labels"].get("com.docker.compose.service") for c in stack.containers() if c["State"] == "running"]
    assert all(running.count(name) == n for name, n in replicas.items()), running
    phone = f"+7999{secrets.randbelow(10_000_000):07d}"
    code_url, token_url = "https://localhost/api/v1/auth/code/", "https://localhost/api/v1/auth/token/"
    assert requests.post(code_url, json={"phone": phone}, verify=ca, timeout=10).status_code == 202
    barrier = threading.Barrier(12)

    def guess(_: int) -> tuple[int, str]:
        barrier.wait()
        answer = requests.post(token_url, json={"phone": phone, "code": "0000"}, verify=ca, timeout=20)
        return answer.status_code, answer.json()["error"]["code"]

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = sorted(pool.map(guess, range(12)))
    assert answers == [(400, "invalid_code")] * 5 + [(429, "too_many_attempts")] * 7, answers


def main() -> int:
    started = time.monotonic()
    ensure_podman()
    compose = tool(COMPOSE, "docker-compose")
    with podman_service() as docker_host:
        build_base_images()
        try:
            development(compose, docker_host)
            production(compose, docker_host)
        finally:
            if os.environ.get("SMOKE_REMOVE_IMAGES"):
                log("removing the app images")
                files = ["docker-compose.yml", "docker-compose.override.yml", "infra/smoke/compose.smoke.yml"]
                Stack(compose, docker_host, files, {}).remove(images=True)
    log(f"compose smoke test passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
