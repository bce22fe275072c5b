"""Production settings (APP_ENV=production), each in a fresh interpreter: Django's deployment checks
pass, the secrets, DEBUG and the host names are enforced, and the service still answers plain HTTP
(the core calls it on the private network) with the security headers."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from svckit.settings import DEVELOPMENT_SECRETS

SERVICE_DIR = Path(__file__).resolve().parents[2]
OWN = {"APP_ENV", "DEBUG", "SECRET_KEY", "OTP_SECRET", "OTP_SERVICE_TOKEN", "ALLOWED_HOSTS"}
PROVIDER_SETTINGS = ("SMS_", "TWILIO_", "SMSRU_", "OTP_TEST_NUMBERS")
TWILIO = {"SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": "AC1", "TWILIO_AUTH_TOKEN": "t", "TWILIO_FROM": "+15005550006"}
OWN |= {"REDIS_URL", "OTP_CELERY_BROKER_URL"}


def _production(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in OWN and not k.startswith(PROVIDER_SETTINGS)}
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "OTP_SECRET": secrets.token_urlsafe(32),
        "OTP_SERVICE_TOKEN": secrets.token_urlsafe(32),
        "REDIS_URL": f"redis://:{secrets.token_urlsafe(48)}@redis:6379",
        "ALLOWED_HOSTS": "otp",
        **TWILIO,
        "SMS_ALLOWED_COUNTRIES": "RU",
        **extra,
    }


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=SERVICE_DIR, env=env, capture_output=True, text=True, timeout=60)


def test_manage_py_check_deploy_is_clean():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _production())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY (set as OTP_SECRET_KEY under docker compose and Kubernetes) must be set"),
        ({"OTP_SECRET": ""}, "OTP_SECRET must be set"),
        ({"OTP_SERVICE_TOKEN": ""}, "OTP_SERVICE_TOKEN must be set"),
        ({"DEBUG": "true"}, "DEBUG must be off"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS must name the hosts"),
        ({"ALLOWED_HOSTS": "otp,*"}, "ALLOWED_HOSTS must name the hosts"),
        ({"SMS_BACKEND": "inbox"}, "SMS_BACKEND must not be 'inbox' when APP_ENV=production"),
        ({"SMS_BACKEND": "console"}, "SMS_BACKEND must not be 'console' when APP_ENV=production"),
        ({"SMS_BACKEND": "console", "SMS_CONSOLE_IN_PRODUCTION": "true"}, "SMS_CONSOLE_IN_PRODUCTION must be"),
        ({"SMS_ALLOWED_COUNTRIES": ""}, "SMS_ALLOWED_COUNTRIES must be set when APP_ENV=production"),
    ],
)
def test_production_refuses_to_start(change, message):
    result = _run(["-c", "import config.settings"], _production(**change))
    assert result.returncode != 0 and f"ImproperlyConfigured: {message}" in result.stderr


# A code sent by the console backend, as the worker runs it: its log line is what an operator sees.
CONSOLE_DELIVERY = """
import django; django.setup()
from codes.sealing import seal
from codes.tasks import deliver_sms
message = {"message_id": "masked-%s", "phone": "+79991234567"}
kwargs = {**message, "sealed_code": seal(**message, code="4821"), "requested_at": "2026-01-01T00:00:00+00:00"}
print(deliver_sms.apply(kwargs=kwargs).get())
"""


@pytest.fixture
def redis_with_password(private_redis) -> str:
    """A private Redis that requires a password, as production's must: its URL with the password."""
    password = secrets.token_urlsafe(48)
    with redis.Redis.from_url(private_redis.url) as client:
        client.config_set("requirepass", password)
    return private_redis.url.replace("redis://", f"redis://:{password}@", 1)


def test_production_accepts_the_console_only_by_its_opt_in_and_then_masks_the_code(settings, redis_with_password):
    env = _production(
        REDIS_URL=redis_with_password,
        SMS_BACKEND="console",
        SMS_CONSOLE_IN_PRODUCTION="unsafe-log-masked",
        SMS_ORIGIN_DOMAIN="example.com",
        LOG_LEVEL="INFO",
        OTP_KEY_PREFIX=settings.OTP_KEY_PREFIX,
    )
    result = _run(["-c", CONSOLE_DELIVERY % secrets.token_hex(8)], env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "True"
    assert result.stderr.count(" sms: ") == 1
    assert " sms: SMS to +7999*****67: Your sign-in code: ****\n@example.com #****\n" in result.stderr
    assert "4821" not in result.stderr and "+79991234567" not in result.stderr


def test_development_logs_the_console_code_in_full(settings):
    env = {**_production(SMS_BACKEND="console", LOG_LEVEL="INFO", OTP_KEY_PREFIX=settings.OTP_KEY_PREFIX)}
    env["REDIS_URL"] = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")  # the delivery record is there
    result = _run(["-c", CONSOLE_DELIVERY % secrets.token_hex(8)], {**env, "APP_ENV": "development"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "SMS to +79991234567: Your sign-in code: 4821" in result.stderr


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


def test_production_refuses_every_weak_or_public_secret():
    """Each secret set to each public value of the repository (the development defaults of both
    services), to a short or a repetitive one, or to another secret's value: refused, named. The
    settings module runs once per case, in one fresh interpreter."""
    weak = {"x": "too short", "k" * 31: "too short", "ab" * 30: "fewer than 5 different characters"}
    weak |= dict.fromkeys(DEVELOPMENT_SECRETS, "a development value")
    cases = [
        (name, value, reason)
        for name in ("SECRET_KEY", "OTP_SECRET", "OTP_SERVICE_TOKEN")
        for value, reason in weak.items()
    ]
    key = secrets.token_urlsafe(48)
    changes = [{name: value} for name, value, _ in cases]
    changes += [{"SECRET_KEY": key, "OTP_SECRET": key}, {"OTP_SECRET": key, "OTP_SERVICE_TOKEN": key}, {}]
    result = _run(["-c", SETTINGS_CASES, json.dumps(changes)], _production())
    assert result.returncode == 0, result.stderr[-3000:]
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    for (name, value, reason), answer in zip(cases, answers, strict=False):
        assert answer.startswith(f"ImproperlyConfigured: {name}") and reason in answer, (name, value, answer)
    assert answers[-3].startswith("ImproperlyConfigured: OTP_SECRET must differ from SECRET_KEY")
    assert answers[-2].startswith("ImproperlyConfigured: OTP_SERVICE_TOKEN must differ from OTP_SECRET")
    assert answers[-1] == ""


def test_production_refuses_redis_without_a_password():
    strong = secrets.token_urlsafe(48)
    changes = [
        {"REDIS_URL": "redis://redis:6379"},
        {"OTP_CELERY_BROKER_URL": "redis://redis:6379/1"},
        {"OTP_CELERY_BROKER_URL": "redis://:x@redis:6379/1"},
        {"OTP_CELERY_BROKER_URL": f"redis://:{strong}@broker:6379/1"},
    ]
    result = _run(["-c", SETTINGS_CASES, json.dumps(changes)], _production())
    assert result.returncode == 0, result.stderr[-3000:]
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    assert answers[0].startswith("ImproperlyConfigured: REDIS_URL must carry a password when APP_ENV=production")
    assert answers[1].startswith("ImproperlyConfigured: OTP_CELERY_BROKER_URL must carry a password")
    assert answers[2].startswith("ImproperlyConfigured: OTP_CELERY_BROKER_URL's password is too short")
    assert answers[3] == ""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({**TWILIO, "TWILIO_AUTH_TOKEN": ""}, "SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN"),
        ({**TWILIO, "TWILIO_ACCOUNT_SID": ""}, "SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN"),
        ({**TWILIO, "TWILIO_FROM": ""}, "SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN"),
        ({"SMS_BACKEND": "smsru"}, "SMS_BACKEND=smsru needs SMSRU_API_ID"),
        ({**TWILIO, "SMS_BACKEND": "twilio,smsru"}, "SMS_BACKEND=smsru needs SMSRU_API_ID"),
        ({"SMS_BACKEND": "twilio,twilio"}, "SMS_BACKEND must be 'console', 'inbox' or a list"),
        ({"SMS_BACKEND": "console,twilio"}, "SMS_BACKEND must be 'console', 'inbox' or a list"),
        ({"SMS_BACKEND": "nexmo"}, "SMS_BACKEND must be 'console', 'inbox' or a list"),
    ],
)
def test_production_refuses_a_provider_without_its_credentials(change, message):
    result = _run(["-c", "import config.settings"], _production(**change))
    assert result.returncode != 0 and f"ImproperlyConfigured: {message}" in result.stderr


@pytest.mark.parametrize(
    "change",
    [
        TWILIO,
        {**TWILIO, "TWILIO_FROM": "", "TWILIO_MESSAGING_SERVICE_SID": "MG1"},
        {"SMS_BACKEND": "smsru", "SMSRU_API_ID": "id"},
        {**TWILIO, "SMS_BACKEND": "twilio, smsru", "SMSRU_API_ID": "id"},
    ],
)
def test_production_starts_with_a_providers_credentials(change):
    script = "from django.conf import settings; import django; django.setup(); print(settings.SMS_PROVIDERS)"
    result = _run(["-c", script], _production(**change))
    assert result.returncode == 0, result.stderr[-2000:]


def test_production_allows_every_country_only_when_told_so():
    script = "from django.conf import settings; print(sorted(settings.SMS_ALLOWED_COUNTRIES))"
    assert _run(["-c", script], _production(SMS_ALLOWED_COUNTRIES="*")).stdout.splitlines()[-1] == "[]"
    assert _run(["-c", script], _production(SMS_ALLOWED_COUNTRIES="RU,KZ")).stdout.splitlines()[-1] == "['KZ', 'RU']"


def test_production_refuses_test_numbers_unless_allowed():
    refused = _run(["-c", "import config.settings"], _production(OTP_TEST_NUMBERS="+79990000001:1234"))
    assert refused.returncode != 0
    assert "ImproperlyConfigured: OTP_TEST_NUMBERS is refused when APP_ENV=production" in refused.stderr
    script = "from django.conf import settings; import django; django.setup(); print(settings.OTP_TEST_NUMBERS)"
    allowed = _run(
        ["-c", script],
        _production(OTP_TEST_NUMBERS="+79990000001:1234, +79990000002:5678", OTP_TEST_NUMBERS_IN_PRODUCTION="true"),
    )
    assert allowed.returncode == 0, allowed.stderr[-2000:]
    assert allowed.stdout.strip().splitlines()[-1] == "{'+79990000001': '1234', '+79990000002': '5678'}"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("79990000001:1234", "OTP_TEST_NUMBERS: '79990000001' is not a valid E.164 number"),
        ("+7999:1234", "OTP_TEST_NUMBERS: '+7999' is not a valid E.164 number"),
        ("+79990000001:12345", "OTP_TEST_NUMBERS: the code of +79990000001 must be 4 digits"),
        ("+79990000001", "OTP_TEST_NUMBERS: the code of +79990000001 must be 4 digits"),
        ("+79990000001:12a4", "OTP_TEST_NUMBERS: the code of +79990000001 must be 4 digits"),
    ],
)
def test_malformed_test_numbers_refuse_to_start_in_any_environment(value, message):
    env = {**_production(OTP_TEST_NUMBERS=value), "APP_ENV": "development"}
    result = _run(["-c", "import config.settings"], env)
    assert result.returncode != 0 and f"ImproperlyConfigured: {message}" in result.stderr


def test_production_answers_plain_http_with_the_security_headers():
    script = (
        "import json, django; django.setup(); from django.test import Client; "
        "r = Client(HTTP_HOST='otp').get('/healthz'); "
        "s = Client(HTTP_HOST='otp').get('/healthz', secure=True); "
        "print(json.dumps([r.status_code, dict(r.headers), dict(s.headers)]))"
    )
    result = _run(["-c", script], _production())
    assert result.returncode == 0, result.stderr[-3000:]
    status, plain, secure = json.loads(result.stdout.strip().splitlines()[-1])
    assert status == 200  # no redirect to HTTPS: the core's calls stay plain HTTP
    for name, value in {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }.items():
        assert plain[name] == value, name
    assert "Strict-Transport-Security" not in plain  # only ever sent over HTTPS
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_production_has_no_inbox_routes():
    """Whatever SMS_BACKEND says at run time, production resolves neither inbox URL nor documents it."""
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        "settings.SMS_BACKEND = 'inbox'; from django.test import Client; c = Client(HTTP_HOST='otp'); "
        "paths = c.get('/schema.json').json()['paths']; "
        "print(json.dumps([c.get('/v1/inbox/').status_code, c.get('/inbox/').status_code, sorted(paths)]))"
    )
    result = _run(["-c", script], _production())
    assert result.returncode == 0, result.stderr[-3000:]
    api, page, paths = json.loads(result.stdout.strip().splitlines()[-1])
    assert (api, page) == (404, 404)
    assert any(p.endswith("/codes/verify/") for p in paths)
    assert not any("inbox" in p for p in paths)


def test_development_keeps_the_inbox_routes():
    env = {**_production(SMS_BACKEND="inbox"), "APP_ENV": "development"}
    env["REDIS_URL"] = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")  # the inbox reads it
    script = (
        "import django; django.setup(); from django.test import Client; "
        "print(Client(HTTP_HOST='otp').get('/v1/inbox/').status_code)"
    )
    result = _run(["-c", script], env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "200"
