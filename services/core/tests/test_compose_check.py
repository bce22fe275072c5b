"""infra/scripts/compose_check.py (`make compose-check`) refuses a broken container set-up: each
rule gets a resolved configuration (the shape of `compose config --format json`) sound but for
the one thing that breaks it."""

from __future__ import annotations

import copy
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "infra/scripts"))  # compose_check imports compose_rules beside it
_spec = importlib.util.spec_from_file_location("compose_check", ROOT / "infra/scripts/compose_check.py")
assert _spec and _spec.loader
compose_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compose_check)

SECRETS = {"SECRET_KEY": "", "OTP_SECRET": "", "OTP_SERVICE_TOKEN": ""}
HARDENED = {
    "cap_drop": ["ALL"],
    "security_opt": ["no-new-privileges:true"],
    "mem_limit": "268435456",
    "read_only": True,
}
BACK = {"networks": {"back": None}}


REDIS_KEYS = {
    "otp": {
        "OTP_KEY_PREFIX": "otp:",
        "CELERY_KEY_PREFIX": "otp-celery:",
        "OTP_CELERY_BROKER_URL": "redis://otp:@redis/1",
    },
    "core": {
        "CACHE_KEY_PREFIX": "core",
        "CELERY_KEY_PREFIX": "core-celery:",
        "CORE_CELERY_BROKER_URL": "redis://core:@redis/3",
    },
}
REDIS_ALLOWS = {
    **{
        "OTP_KEY_PREFIX": "otp:",
        "OTP_CELERY_KEY_PREFIX": "otp-celery:",
        "OTP_CELERY_FANOUT": "otp-celery:/1.celery.pidbox",
    },
    **{"CORE_CACHE_KEY_PREFIX": "core", "CORE_CELERY_KEY_PREFIX": "core-celery:"},
    "CORE_CELERY_FANOUT": "core-celery:/3.celery.pidbox",
}


def _app(kind: str, command: str, **environment: str) -> dict:
    build = {"context": ".", "dockerfile": f"services/{kind}/Dockerfile"}
    env = SECRETS | {"APP_ENV": "production", "REDIS_URL": f"redis://{kind}:@redis:6379"} | REDIS_KEYS[kind]
    env |= environment
    return {"build": build, "command": [f"services/{kind}/bin/{command}"], "environment": env} | HARDENED | BACK


def _sound() -> tuple[dict, dict]:
    """(development, production), as the repository's compose files resolve."""
    after_migrate = {"migrate": {"condition": "service_completed_successfully"}}
    services = {
        "postgres": {"environment": {"POSTGRES_PASSWORD": ""}} | HARDENED | BACK,
        "redis": {"environment": {"REDIS_OTP_PASSWORD": "", "REDIS_CORE_PASSWORD": ""} | REDIS_ALLOWS}
        | HARDENED
        | BACK,
        "otp": _app("otp", "web"),
        "otp-worker": _app("otp", "worker"),
        "migrate": _app("core", "migrate", DATABASE_URL="postgres://postgres:@postgres:5432/referrals"),
        "core": _app("core", "web", TRUSTED_PROXY_COUNT="1")
        | {"depends_on": after_migrate, "networks": {"front": None, "back": None}},
        "core-worker": _app("core", "worker") | {"depends_on": after_migrate},
        "proxy": {
            "ports": [{"target": 80, "host_ip": ""}, {"target": 443, "host_ip": ""}],
            "cap_add": ["NET_BIND_SERVICE"],
        }
        | HARDENED
        | {"networks": {"front": None}},
    }
    networks = {name: {"driver_opts": {"isolate": "true"}} for name in ("front", "back")}
    prod = {"services": services, "networks": networks}
    dev = copy.deepcopy(prod)
    for name, service in dev["services"].items():
        if "build" in service:
            service["environment"] |= {"APP_ENV": "development", "REDIS_URL": f"redis://{name}:dev@redis:6379"}
        for port in service.get("ports", []):
            port["host_ip"] = "127.0.0.1"
    return dev, prod


def _problems(dev: dict, prod: dict) -> list[str]:
    return compose_check.check_compose(dev, prod)


def test_a_sound_set_up_passes():
    assert _problems(*_sound()) == []


def test_the_repositorys_env_example_names_every_variable_read():
    assert compose_check.check_env_example(ROOT) == []


def test_a_secret_with_a_default_or_a_published_port_fails():
    dev, prod = _sound()
    dev["services"]["otp"]["environment"]["OTP_SECRET"] = "dev"
    prod["services"]["redis"]["ports"] = [{"target": 6379, "host_ip": ""}]
    del prod["services"]["core"]["environment"]["TRUSTED_PROXY_COUNT"]
    problems = _problems(dev, prod)
    assert "otp: OTP_SECRET must be passed through, empty by default" in problems
    assert any(p.startswith("production must publish only the proxy's 80 and 443") for p in problems)
    assert any("TRUSTED_PROXY_COUNT must be 1" in p for p in problems)


@pytest.mark.parametrize(
    ("service", "variable", "value", "problem"),
    [
        ("postgres", "POSTGRES_PASSWORD", "postgres", "postgres: POSTGRES_PASSWORD must have no default in production"),
        ("redis", "REDIS_CORE_PASSWORD", "x", "redis: REDIS_CORE_PASSWORD must have no default in production"),
        ("migrate", "DATABASE_URL", "postgres://postgres:postgres@postgres/referrals", "migrate: DATABASE_URL must"),
        ("otp", "REDIS_URL", "redis://otp:secret@redis:6379", "otp: REDIS_URL must have no password of its own"),
        ("core", "REDIS_URL", "redis://redis:6379", "core: REDIS_URL must name its Redis user"),
        ("core", "JWT_SIGNING_KEY", "k" * 50, "core: JWT_SIGNING_KEY must have no default in production"),
    ],
)
def test_a_password_or_secret_with_a_production_default_fails(service, variable, value, problem):
    dev, prod = _sound()
    prod["services"][service]["environment"][variable] = value
    assert any(p.startswith(problem) for p in _problems(dev, prod)), _problems(dev, prod)


def test_docker_compose_yml_alone_must_be_production_and_the_override_development():
    dev, prod = _sound()
    prod["services"]["core"]["environment"]["APP_ENV"] = "development"
    dev["services"]["otp-worker"]["environment"]["APP_ENV"] = "production"
    dev["services"]["proxy"]["ports"][0]["host_ip"] = "0.0.0.0"  # noqa: S104  # the published address under test
    assert _problems(dev, prod) == [
        "core: APP_ENV must be production in production",
        "otp-worker: APP_ENV must be development in development",
        "proxy: development must publish port 80 on 127.0.0.1 only",
    ]


@pytest.mark.parametrize(
    ("service", "change", "problem"),
    [
        ("redis", {"cap_drop": []}, "redis: cap_drop must be [ALL]"),
        ("core", {"cap_add": ["NET_ADMIN"]}, "core: adds capabilities it has not shown it needs: ['NET_ADMIN']"),
        ("proxy", {"cap_add": ["NET_BIND_SERVICE", "CHOWN"]}, "proxy: adds capabilities it has not shown it needs"),
        ("otp", {"security_opt": []}, 'otp: security_opt must hold "no-new-privileges:true"'),
        ("postgres", {"mem_limit": None}, "postgres: mem_limit must be set"),
        ("core-worker", {"read_only": False}, "core-worker: read_only must be true"),
    ],
)
def test_a_container_that_keeps_privileges_or_has_no_limit_fails(service, change, problem):
    dev, prod = _sound()
    prod["services"][service] |= change
    assert any(p.startswith(problem) for p in _problems(dev, prod)), _problems(dev, prod)


@pytest.mark.parametrize(
    ("service", "networks", "problem"),
    [
        ("proxy", {"front": None, "back": None}, "proxy: must be on the ['front'] network(s), not ['back', 'front']"),
        ("redis", {"front": None, "back": None}, "redis: must be on the ['back'] network(s), not ['back', 'front']"),
        ("postgres", None, "postgres: must be on the ['back'] network(s), not ['default']"),
        ("core", {"back": None}, "core: must be on the ['back', 'front'] network(s), not ['back']"),
    ],
)
def test_a_service_outside_its_trust_zone_fails(service, networks, problem):
    dev, prod = _sound()
    prod["services"][service]["networks"] = networks
    assert _problems(dev, prod) == [problem]


def test_networks_that_podman_would_route_between_fail():
    dev, prod = _sound()
    del prod["networks"]["back"]["driver_opts"]
    assert _problems(dev, prod) == ["network back: driver_opts isolate must be true (podman routes between bridges)"]


def test_a_core_process_that_does_not_wait_for_the_migrations_fails():
    dev, prod = _sound()
    prod["services"]["core-worker"]["depends_on"] = {"migrate": {"condition": "service_started"}}
    assert _problems(dev, prod) == ["core-worker: must depend on migrate with condition service_completed_successfully"]
    del prod["services"]["migrate"]
    assert _problems(dev, prod) == ["migrate: a one-shot service must run services/core/bin/migrate"]


@pytest.mark.parametrize(
    ("service", "variable", "value", "problem"),
    [
        ("otp-worker", "OTP_KEY_PREFIX", "codes:", "otp-worker: OTP_KEY_PREFIX must be what Redis' otp user may touch"),
        ("migrate", "CACHE_KEY_PREFIX", "cache", "migrate: CACHE_KEY_PREFIX must be what Redis' core user may touch"),
        ("core", "CELERY_KEY_PREFIX", "otp-celery:", "core: CELERY_KEY_PREFIX must be what Redis' core user may touch"),
        (
            "otp",
            "OTP_CELERY_BROKER_URL",
            "redis://otp:@redis/5",
            "redis: OTP_CELERY_FANOUT must be 'otp-celery:/5.celery",
        ),
    ],
)
def test_a_service_using_keys_its_redis_user_may_not_touch_fails(service, variable, value, problem):
    dev, prod = _sound()
    prod["services"][service]["environment"][variable] = value
    assert any(p.startswith(problem) for p in _problems(dev, prod)), _problems(dev, prod)


def test_an_undocumented_or_unread_variable_fails(tmp_path):
    settings = tmp_path / "services/otp/config/settings.py"
    settings.parent.mkdir(parents=True)
    settings.write_text('import os\nA = env.int("NEW_LIMIT", default=1)\nB = os.environ["DOCUMENTED"]\n')
    (tmp_path / "libs/svckit/svckit").mkdir(parents=True)
    (tmp_path / "libs/svckit/svckit/settings.py").write_text("")
    (tmp_path / ".env.example").write_text("# DOCUMENTED=1\nCOMPOSE_FILE=x\nGONE=1\n")
    assert compose_check.check_env_example(tmp_path) == [
        ".env.example: NEW_LIMIT (read in services/otp/config/settings.py) is not documented",
        ".env.example: GONE is documented but nothing reads it",
    ]
