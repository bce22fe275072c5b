"""Production settings (APP_ENV=production), each in a fresh interpreter: Django's deployment checks
pass, plain HTTP is redirected to HTTPS (but the orchestrator's probes), HSTS and the security headers
are sent, and every cookie is Secure, HttpOnly and SameSite."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

SERVICE_DIR = Path(__file__).resolve().parents[1]
HOST = "core.example.com"
OWN = {"APP_ENV", "DEBUG", "SECRET_KEY", "JWT_SIGNING_KEY", "OTP_SERVICE_TOKEN", "ALLOWED_HOSTS", "SECURE_COOKIES"}
OWN |= {"TRUSTED_PROXY_COUNT", "REDIS_URL", "CORE_CELERY_BROKER_URL"}


def _production(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in OWN and k != "DATABASE_URL"}
    return {
        **env,
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(48),
        # Nothing here reaches Redis: the cache fails open, as in production.
        "REDIS_URL": f"redis://:{secrets.token_urlsafe(48)}@127.0.0.1:9",
        "OTP_SERVICE_TOKEN": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": HOST,
        "SMS_ALLOWED_COUNTRIES": "RU",
        "VAR_DIR": str(tmp_path),  # no database is opened: SQLite there, never created
        **extra,
    }


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=SERVICE_DIR, env=env, capture_output=True, text=True, timeout=60)


# Requests that touch no database: the login page (a form, so a CSRF cookie), the language switch
# (a cookie), the probes.
ANSWERS = """
import json, os, django
django.setup()
from django.conf import settings
from django.test import Client

def seen(response):
    cookies = {name: {flag: morsel[flag] for flag in ("secure", "httponly", "samesite")}
               for name, morsel in response.cookies.items()}
    return {"status": response.status_code, "headers": dict(response.headers), "cookies": cookies}

client = Client(HTTP_HOST=os.environ["ALLOWED_HOSTS"])
language = {"language": "ru", "next": "/login/"}
print(json.dumps({
    "http_page": seen(client.get("/login/")),
    "http_probe": seen(client.get("/healthz")),
    "http_metrics": seen(client.get("/metrics")),
    "forwarded_https_page": seen(client.get("/login/", HTTP_X_FORWARDED_PROTO="https")),
    "https_page": seen(client.get("/login/", secure=True)),
    "https_api": seen(client.get("/api/v1/profile/", secure=True)),
    "https_language": seen(client.post("/i18n/setlang/", language, secure=True)),
    "session_cookie": [getattr(settings, f"SESSION_COOKIE_{flag}") for flag in ("SECURE", "HTTPONLY", "SAMESITE")],
}))
"""


def _answers(env: dict[str, str]) -> dict:
    result = _run(["-c", ANSWERS], env)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_manage_py_check_deploy_is_clean(tmp_path):
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _production(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_is_https_only_with_hsts_and_the_security_headers(tmp_path):
    answers = _answers(_production(tmp_path))
    assert answers["http_page"]["status"] == 301
    assert answers["http_page"]["headers"]["Location"] == f"https://{HOST}/login/"
    assert answers["http_probe"]["status"] == 200  # compose's healthchecks speak plain HTTP
    assert answers["http_metrics"]["status"] == 200  # so does Prometheus on the private network
    # Without a trusted proxy, a client's X-Forwarded-Proto is not believed.
    assert answers["forwarded_https_page"]["status"] == 301
    for name in ("https_page", "https_api"):
        headers = answers[name]["headers"]
        assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload", name
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["Referrer-Policy"] == "same-origin", name
        assert headers["X-Frame-Options"] == "DENY", name
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin", name
    assert answers["https_page"]["headers"]["Content-Security-Policy"].startswith("default-src 'self'")


def test_production_cookies_are_secure_httponly_and_same_site(tmp_path):
    answers = _answers(_production(tmp_path))
    assert answers["https_page"]["cookies"]["csrftoken"] == {"secure": True, "httponly": True, "samesite": "Lax"}
    assert answers["https_language"]["cookies"]["django_language"] == {
        "secure": True,
        "httponly": True,
        "samesite": "Lax",
    }
    assert answers["session_cookie"] == [True, True, "Lax"]


def test_behind_a_trusted_proxy_its_x_forwarded_proto_says_https(tmp_path):
    answers = _answers(_production(tmp_path, TRUSTED_PROXY_COUNT="1"))
    assert answers["forwarded_https_page"]["status"] == 200
    assert answers["http_page"]["status"] == 301


def test_without_secure_cookies_production_serves_plain_http_and_check_deploy_says_so(tmp_path):
    env = _production(tmp_path, SECURE_COOKIES="false")
    assert _answers(env)["http_page"]["status"] == 200
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "security.W008" in result.stderr and "security.W012" in result.stderr


@pytest.mark.parametrize("hosts", ["*", "core.example.com,*", "*.example.com"])
def test_production_refuses_wildcard_hosts(tmp_path, hosts):
    result = _run(["-c", "import config.settings"], _production(tmp_path, ALLOWED_HOSTS=hosts))
    assert result.returncode != 0 and "ImproperlyConfigured: ALLOWED_HOSTS must name the hosts" in result.stderr


@pytest.mark.parametrize(("proxies", "secure"), [("1", True), ("0", False)])
def test_in_development_too_only_a_trusted_proxy_says_the_request_was_https(tmp_path, proxies, secure):
    """compose's HTTPS front serves development as well: the pages' form posts come from an
    https:// origin, which CSRF's origin check must match."""
    env = {**_production(tmp_path, TRUSTED_PROXY_COUNT=proxies), "APP_ENV": "development"}
    script = (
        "import django; django.setup(); from django.test import RequestFactory; "
        "print(RequestFactory().get('/', HTTP_X_FORWARDED_PROTO='https').is_secure())"
    )
    result = _run(["-c", script], env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == str(secure)
