"""The trust zones of a running production compose stack, checked as an attacker would try them
(`make compose-smoke`; docs/trust-zones.md describes them).

- The migrations ran once, in the migrate service: no core process applied any.
- Redis' ACL log is empty after the traffic: each service's user touched only its own keys and
  channels (what kombu's broker, the pidbox of `celery inspect ping`, django-redis and the OTP
  store really use).
- From the proxy, the internet-facing container, only the core answers: Redis, PostgreSQL, the
  OTP service and the worker's metrics are unreachable, by name and by address.
- Redis refuses a client without credentials or with a wrong password; the otp user can neither
  read nor write the core's keys, nor the core's user the OTP service's, nor either run admin
  commands; the refusals are in the ACL log.
"""

from __future__ import annotations

import json
import re

from podman_compose import ROOT, Stack, log

PROBE = (ROOT / "infra/smoke/redis_probe.py").read_text()
# From the proxy: what answers on the back network, by name or by address.
BACK_SERVICES = {"redis": 6379, "postgres": 5432, "otp": 8001, "otp-worker": 9101}


def redis(stack: Stack, service: str, *command: str, user: str = "", password: str = "") -> dict:
    """One Redis command from inside `service`'s container (infra/smoke/redis_probe.py): as its
    own user, or as `user` ("anonymous": no credentials)."""
    who = [arg for name, value in (("USER", user), ("PASSWORD", password)) if value
           for arg in ("-e", f"REDIS_PROBE_{name}={value}")]  # fmt: skip
    ran = stack.compose("exec", "-T", *who, service, "python", "-", *command, capture=True, stdin=PROBE)
    return json.loads(ran.stdout)


def acl_log(stack: Stack, admin_password: str) -> list[tuple[str, str, str]]:
    """Redis' ACL log as (username, reason, object): every refused command, key, channel or login."""
    entries = redis(stack, "otp", "ACL", "LOG", "128", user="admin", password=admin_password)["value"]
    fields = [
        entry if isinstance(entry, dict) else dict(zip(entry[::2], entry[1::2], strict=True)) for entry in entries
    ]
    return sorted((f["username"], f["reason"], f["object"]) for f in fields)


def check_migrated_once(stack: Stack) -> None:
    log("migrations: applied once, by the migrate service; no core process migrated")
    (migrate,) = stack.service("migrate")
    assert migrate["State"] == "exited" and migrate["ExitCode"] == 0, migrate
    applied = re.findall(r"Applying (\S+)\.\.\. OK", stack.logs(migrate))
    assert applied and len(applied) == len(set(applied)), applied
    for container in [*stack.service("core"), *stack.service("core-worker")]:
        assert "Applying " not in stack.logs(container), f"{container['Names'][0]} applied migrations"
    query = "SELECT count(*), count(DISTINCT (app, name)) FROM django_migrations"
    psql = ["exec", "-T", "postgres", "psql", "-U", "postgres", "-d", "referrals", "-tAc", query]
    rows = stack.compose(*psql, capture=True).stdout.strip()
    assert rows == f"{len(applied)}|{len(applied)}", rows


def check_proxy_isolated(stack: Stack) -> None:
    log("from the proxy: the core answers; Redis, PostgreSQL, the OTP service and its worker do not")

    def reaches(host: str, port: int) -> bool:
        probe = f"timeout 3 bash -c 'exec 3<>/dev/tcp/{host}/{port}'"
        return stack.compose("exec", "-T", "proxy", "bash", "-c", probe, check=False, capture=True).returncode == 0

    assert reaches("core", 8000), "the probe cannot reach the core either: it proves nothing"
    for service, port in BACK_SERVICES.items():
        for host in (service, stack.address(stack.service(service)[0], "back")):
            assert not reaches(host, port), f"the proxy reaches {service} at {host}:{port}"


def check_redis_refusals(stack: Stack, admin_password: str) -> None:
    log("Redis: no login without credentials; each service's user kept to its own keys")
    # redis-py raises AuthenticationError for Redis' NOAUTH and WRONGPASS alike, without the prefix;
    # without credentials its connection's first command (HELLO) is already refused.
    anonymous = redis(stack, "otp", "GET", "otp:smoke", user="anonymous")
    assert anonymous.get("error") == "AuthenticationError" and "authenticated" in anonymous["message"], anonymous
    wrong = redis(stack, "otp", "PING", user="otp", password="not-the-password")
    assert wrong.get("error") == "AuthenticationError" and "invalid username-password" in wrong["message"], wrong
    for service in ("core", "otp"):
        written = redis(stack, service, "SET", f"{service}:smoke", f"written by {service}")
        assert written == {"value": True}, (service, written)
    refused = {
        "otp": [("GET", "core:smoke"), ("SET", "core:smoke", "x"), ("PUBLISH", "core-celery:/3.celery.pidbox", "x")],
        "core": [("HGETALL", "otp:smoke"), ("DEL", "otp:smoke")],
    }
    for service in refused:
        refused[service] += [("KEYS", "*"), ("SCAN", "0"), ("CONFIG", "GET", "*"), ("ACL", "LIST"), ("FLUSHALL",)]
    for service, commands in refused.items():
        for command in commands:
            answer = redis(stack, service, *command)
            assert answer.get("error") == "NoPermissionError", (service, command, answer)
    logged = acl_log(stack, admin_password)
    assert ("otp", "key", "core:smoke") in logged and ("core", "key", "otp:smoke") in logged, logged


def check(stack: Stack, *, admin_password: str) -> None:
    check_migrated_once(stack)
    log("Redis' ACL log after the traffic: no command, key or channel refused")
    assert acl_log(stack, admin_password) == [], acl_log(stack, admin_password)
    check_proxy_isolated(stack)
    check_redis_refusals(stack, admin_password)
