"""Production refuses development defaults and weak secrets; a run without DATABASE_URL uses SQLite in var/.

The settings module runs for real, in a fresh interpreter: once per case, or once for a list of
cases (SETTINGS_CASES imports it again for each environment)."""

import ast
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from devstack.declaration import Config, processes

from svckit.settings import DEVELOPMENT_SECRETS

SERVICE_DIR = Path(__file__).resolve().parents[1]
ROOT = SERVICE_DIR.parents[1]
OWN = {"SECRET_KEY", "JWT_SIGNING_KEY", "SECRET_KEY_FALLBACKS", "OTP_SERVICE_TOKEN", "DEBUG", "APP_ENV"}
OWN |= {"WEBHOOK_URLS", "WEBHOOK_SECRET", "REDIS_URL", "CORE_CELERY_BROKER_URL"}
# Every variable that holds a secret, as the services and compose read them.
SECRET_VARIABLES = {"SECRET_KEY", "CORE_SECRET_KEY", "OTP_SECRET_KEY", "JWT_SIGNING_KEY", "SECRET_KEY_FALLBACKS"}
SECRET_VARIABLES |= {"OTP_SECRET", "OTP_SERVICE_TOKEN", "WEBHOOK_SECRET"}
WEBHOOK_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SETTINGS_CASES = """
import importlib, json, os, sys
base, answers = dict(os.environ), []
for change in json.loads(sys.argv[1]):
    os.environ.clear()
    os.environ.update({**base, **change})
    sys.modules.pop("config.settings", None)
    try:
        importlib.import_module("config.settings")
        answers.append("")
    except Exception as exc:
        answers.append(f"{type(exc).__name__}: {exc}")
print(json.dumps(answers))
"""


def _clean() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in OWN}


def _secrets() -> dict[str, str]:
    """A sound production environment: the secrets, Redis with a password, the countries codes may be sent to."""
    keys = {name: secrets.token_urlsafe(48) for name in ("SECRET_KEY", "JWT_SIGNING_KEY", "OTP_SERVICE_TOKEN")}
    return keys | {"REDIS_URL": f"redis://:{secrets.token_urlsafe(48)}@redis:6379", "SMS_ALLOWED_COUNTRIES": "RU"}


def _settings(**env) -> subprocess.CompletedProcess:
    code = "import config.settings as s; print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'])"
    run = [sys.executable, "-c", code]
    return subprocess.run(run, cwd=SERVICE_DIR, env={**_clean(), **env}, capture_output=True, text=True, timeout=30)


def _refusals(changes: list[dict[str, str]]) -> list[str]:
    """For each change on top of a sound production environment: "" if the settings load, else the error."""
    env = {**_clean(), "APP_ENV": "production", **_secrets()}
    result = subprocess.run(
        [sys.executable, "-c", SETTINGS_CASES, json.dumps(changes)],
        cwd=SERVICE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_with_its_secrets_starts():
    result = _settings(APP_ENV="production", **_secrets())
    assert result.returncode == 0, result.stderr


def test_production_needs_the_allowed_countries():
    result = _settings(APP_ENV="production", **{**_secrets(), "SMS_ALLOWED_COUNTRIES": ""})
    assert result.returncode != 0
    assert "ImproperlyConfigured: SMS_ALLOWED_COUNTRIES must be set when APP_ENV=production" in result.stderr


@pytest.mark.parametrize("name", ["SECRET_KEY", "JWT_SIGNING_KEY", "OTP_SERVICE_TOKEN"])
def test_production_needs_each_secret(name):
    result = _settings(APP_ENV="production", **{**_secrets(), name: ""})
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {name}" in result.stderr and "must be set when APP_ENV=production" in result.stderr
    assert "secrets.token_urlsafe(48)" in result.stderr  # says how to make one


def test_production_refuses_every_weak_or_public_secret():
    """Each variable, set to each public value of the repository, to a short or a repetitive one:
    refused, with the variable named."""
    weak = {"x": "too short", "k" * 31: "too short", "ab" * 30: "fewer than 5 different characters"}
    weak |= dict.fromkeys(DEVELOPMENT_SECRETS, "a development value")
    # Near-misses: a public value in capitals or with a copy's blanks, a short one padded with blanks.
    weak |= {value.upper(): "a development value" for value in DEVELOPMENT_SECRETS}
    weak |= {f" {value}\n": "a development value" for value in DEVELOPMENT_SECRETS}
    weak |= {"k" * 31 + "   ": "too short"}
    webhooks = {"WEBHOOK_URLS": "https://crm.example.com/hooks"}
    cases = [
        (name, value, reason, extra)
        for name, extra in [
            ("SECRET_KEY", {}),
            ("JWT_SIGNING_KEY", {}),
            ("OTP_SERVICE_TOKEN", {}),
            ("SECRET_KEY_FALLBACKS", {}),
            ("WEBHOOK_SECRET", webhooks),
        ]
        for value, reason in weak.items()
    ]
    answers = _refusals([{name: value, **extra} for name, value, _, extra in cases])
    for (name, value, reason, _), answer in zip(cases, answers, strict=True):
        assert answer.startswith(f"ImproperlyConfigured: {name}"), (name, value, answer)
        assert reason in answer, (name, value, answer)
    assert "SECRET_KEY (set as CORE_SECRET_KEY under docker compose and Kubernetes)" in answers[0]


def test_production_refuses_a_webhook_secret_whose_random_part_is_weak():
    """whsec_ alone brings 6 different characters: the part after it is what must be random."""
    webhooks = {"WEBHOOK_URLS": "https://crm.example.com/hooks"}
    answers = _refusals(
        [{**webhooks, "WEBHOOK_SECRET": "whsec_" + "A" * 40}, {**webhooks, "WEBHOOK_SECRET": WEBHOOK_SECRET}]
    )
    assert answers[0].startswith("ImproperlyConfigured: WEBHOOK_SECRET has fewer than 5 different characters")
    assert answers[1] == ""


def test_production_refuses_one_value_for_two_secrets():
    key = secrets.token_urlsafe(48)
    answers = _refusals(
        [
            {"SECRET_KEY": key, "JWT_SIGNING_KEY": key},
            {"JWT_SIGNING_KEY": key, "OTP_SERVICE_TOKEN": key},
            {"SECRET_KEY": key, "JWT_SIGNING_KEY": f" {key}\n"},
            {"SECRET_KEY": key, "JWT_SIGNING_KEY": key.upper()},
        ]
    )
    assert answers[0].startswith("ImproperlyConfigured: JWT_SIGNING_KEY must differ from SECRET_KEY")
    assert answers[1].startswith("ImproperlyConfigured: OTP_SERVICE_TOKEN must differ from JWT_SIGNING_KEY")
    assert answers[2].startswith("ImproperlyConfigured: JWT_SIGNING_KEY must differ from SECRET_KEY")
    assert answers[3].startswith("ImproperlyConfigured: JWT_SIGNING_KEY must differ from SECRET_KEY")


def test_production_takes_strong_optional_secrets_and_leaves_unused_ones_alone():
    old = secrets.token_urlsafe(48)
    answers = _refusals(
        [
            {"SECRET_KEY_FALLBACKS": f"{old},{secrets.token_urlsafe(48)}"},
            {"WEBHOOK_URLS": "https://crm.example.com/hooks", "WEBHOOK_SECRET": WEBHOOK_SECRET},
            {"WEBHOOK_SECRET": "x"},  # no endpoint: nothing is signed with it
        ]
    )
    assert answers == ["", "", ""]


def test_production_refuses_redis_without_a_strong_password():
    strong = secrets.token_urlsafe(48)
    cases = {
        "REDIS_URL": ["", "redis://redis:6379", "redis://referrals@redis:6379/", "redis://:short@redis:6379"],
        "CORE_CELERY_BROKER_URL": ["redis://redis:6379/3", f"redis://:{'ab' * 20}@redis:6379/3"],
    }
    changes = [{name: url} for name, urls in cases.items() for url in urls]
    changes += [
        {"REDIS_URL": f"redis://referrals:{strong}@redis:6379"},  # an ACL user
        {"REDIS_URL": f"rediss://:{strong}@redis:6380", "CORE_CELERY_BROKER_URL": f"rediss://:{strong}@broker:6380/3"},
    ]
    answers = _refusals(changes)
    refusals, accepted = answers[:-2], answers[-2:]
    for change, answer in zip(changes, refusals, strict=False):
        [name] = change
        assert answer.startswith(f"ImproperlyConfigured: {name}"), (change, answer)
    assert refusals[0].startswith("ImproperlyConfigured: REDIS_URL must carry a password when APP_ENV=production")
    assert "REDIS_URL's password is too short" in refusals[3]
    assert "CORE_CELERY_BROKER_URL's password has fewer than 5 different characters" in refusals[5]
    assert accepted == ["", ""]


def test_every_public_value_is_a_known_development_value():
    """What the repository hands out as a secret (the settings' development defaults, .env.example,
    libs/devstack's declaration, the Postman environment) is in DEVELOPMENT_SECRETS, which
    production refuses above."""
    public: dict[str, str] = {}
    for path in ROOT.glob("services/*/config/settings.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "env_secret":
                default = next(k.value for k in node.keywords if k.arg == "dev_default")
                public[f"{path.parts[-3]} {ast.literal_eval(node.args[0])}"] = ast.literal_eval(default)
    for name, value in re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=(.*)$", (ROOT / ".env.example").read_text(), re.M):
        if name in SECRET_VARIABLES:
            public[f".env.example {name}"] = value
    for config in (Config(), Config.from_environment()):
        for process, declared in processes(config).items():
            public |= {f"{process} {k}": v for k, v in declared.env.items() if k in SECRET_VARIABLES}
    postman = json.loads((ROOT / "postman/local.postman_environment.json").read_text())
    public |= {f"postman {v['key']}": v["value"] for v in postman["values"] if v["type"] == "secret"}
    assert {"core SECRET_KEY", "core JWT_SIGNING_KEY", "otp OTP_SECRET", "postman otp_service_token"} <= set(public)
    unknown = {where: value for where, value in public.items() if value and value not in DEVELOPMENT_SECRETS}
    assert unknown == {}, "add these to svckit.settings.DEVELOPMENT_SECRETS (or leave them empty)"


def test_development_keeps_its_defaults_and_takes_any_value():
    script = "import config.settings as s; print(s.SECRET_KEY, s.JWT_SIGNING_KEY, s.OTP_SERVICE_TOKEN)"
    run = lambda **env: subprocess.run(  # noqa: E731
        [sys.executable, "-c", script], cwd=SERVICE_DIR, env={**_clean(), **env}, capture_output=True, text=True
    )
    defaults = run().stdout.split()
    assert defaults == [
        "dev-only-core-secret-key-not-for-production",
        "dev-only-core-jwt-signing-key-not-for-production",
        "dev-otp-service-token",
    ]
    assert run(SECRET_KEY="x", JWT_SIGNING_KEY="y", OTP_SERVICE_TOKEN="z").stdout.split() == ["x", "y", "z"]


def test_production_refuses_debug():
    result = _settings(APP_ENV="production", **_secrets(), DEBUG="true")
    assert result.returncode != 0 and "ImproperlyConfigured: DEBUG must be off" in result.stderr


def test_an_unknown_app_env_is_refused():
    assert "APP_ENV must be" in _settings(APP_ENV="prod").stderr


def test_without_database_url_the_database_is_sqlite_in_var(tmp_path):
    result = _settings(DATABASE_URL="", VAR_DIR=str(tmp_path / "var"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", str(tmp_path / "var" / "core.sqlite3")]
    assert (tmp_path / "var").is_dir()


def test_a_malformed_throttle_rate_stops_the_start():
    result = _settings(THROTTLE_AUTH_PER_IP="thirty a minute")
    assert result.returncode != 0 and "THROTTLE_AUTH_PER_IP must look like" in result.stderr
    assert _settings(THROTTLE_INVITE_PER_USER="1000/hour").returncode == 0


def test_site_url_must_be_a_scheme_and_a_host():
    assert "SITE_URL must look like" in _settings(SITE_URL="ref.example.com").stderr
    assert "SITE_URL must look like" in _settings(SITE_URL="https://ref.example.com/app").stderr
    assert _settings(SITE_URL="https://ref.example.com/").returncode == 0
