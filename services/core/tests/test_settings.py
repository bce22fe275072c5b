"""Production refuses development defaults; a run without DATABASE_URL uses SQLite in var/."""

import os
import subprocess
import sys
from pathlib import Path

SERVICE_DIR = Path(__file__).resolve().parents[1]


def _settings(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "OTP_SERVICE_TOKEN", "DEBUG", "APP_ENV"}}
    code = "import config.settings as s; print(s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'])"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=SERVICE_DIR, env={**clean, **env}, capture_output=True, text=True, timeout=30
    )


def test_production_needs_the_secret_key():
    result = _settings(APP_ENV="production", OTP_SERVICE_TOKEN="t")
    assert result.returncode != 0 and "ImproperlyConfigured: SECRET_KEY must be set" in result.stderr


def test_production_needs_the_otp_service_token():
    result = _settings(APP_ENV="production", SECRET_KEY="k" * 50)
    assert result.returncode != 0 and "ImproperlyConfigured: OTP_SERVICE_TOKEN must be set" in result.stderr


def test_production_refuses_debug():
    result = _settings(APP_ENV="production", SECRET_KEY="k" * 50, OTP_SERVICE_TOKEN="t", DEBUG="true")
    assert result.returncode != 0 and "ImproperlyConfigured: DEBUG must be off" in result.stderr


def test_production_with_its_secrets_starts():
    result = _settings(APP_ENV="production", SECRET_KEY="k" * 50, OTP_SERVICE_TOKEN="t", SMS_ALLOWED_COUNTRIES="RU")
    assert result.returncode == 0, result.stderr


def test_production_needs_the_allowed_countries():
    result = _settings(APP_ENV="production", SECRET_KEY="k" * 50, OTP_SERVICE_TOKEN="t", SMS_ALLOWED_COUNTRIES="")
    assert result.returncode != 0
    assert "ImproperlyConfigured: SMS_ALLOWED_COUNTRIES must be set when APP_ENV=production" in result.stderr


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
