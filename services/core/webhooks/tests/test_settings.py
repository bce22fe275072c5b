"""Start-up refusals of the webhook settings (the settings module in a fresh interpreter)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from webhooks.tests.conftest import SECRET, new_secret

SERVICE_DIR = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "APP_ENV": "production",
    **{name: secrets.token_urlsafe(48) for name in ("SECRET_KEY", "JWT_SIGNING_KEY", "OTP_SERVICE_TOKEN")},
    "REDIS_URL": f"redis://:{secrets.token_urlsafe(48)}@redis:6379",
    "SMS_ALLOWED_COUNTRIES": "RU",
    "WEBHOOK_SECRETS": SECRET,
}


def _start(**env: str) -> subprocess.CompletedProcess:
    own = ("WEBHOOK_", "APP_ENV", "DEBUG", "SECRET_KEY", "JWT_", "OTP_SERVICE_TOKEN", "REDIS_URL", "CORE_CELERY")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(own)}
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=SERVICE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_production_refuses_a_plain_http_webhook_url():
    urls = "https://crm.example.com/hooks,http://rewards.example.com/hooks"
    result = _start(**PRODUCTION, WEBHOOK_URLS=urls)
    assert result.returncode != 0
    assert "ImproperlyConfigured: WEBHOOK_URLS must all be https:// URLs in production" in result.stderr


def test_production_starts_with_https_webhook_urls():
    result = _start(**PRODUCTION, WEBHOOK_URLS="https://crm.example.com/hooks")
    assert result.returncode == 0, result.stderr


def test_development_may_use_plain_http():
    result = _start(WEBHOOK_URLS="http://127.0.0.1:9000/hooks", WEBHOOK_SECRETS=SECRET)
    assert result.returncode == 0, result.stderr


def test_several_secrets_are_read_and_each_is_checked():
    urls = "http://127.0.0.1:9000/hooks"
    assert _start(WEBHOOK_URLS=urls, WEBHOOK_SECRETS=f"{SECRET},{new_secret()}").returncode == 0
    weak = _start(WEBHOOK_URLS=urls, WEBHOOK_SECRETS=f"{SECRET},whsec_short")
    assert "ImproperlyConfigured: WEBHOOK_SECRETS must be set with WEBHOOK_URLS" in weak.stderr


def test_urls_without_a_secret_are_refused():
    result = _start(WEBHOOK_URLS="http://127.0.0.1:9000/hooks")
    assert "ImproperlyConfigured: WEBHOOK_SECRETS must be set with WEBHOOK_URLS" in result.stderr


def test_the_old_single_secret_variable_still_signs():
    code = "import config.settings as s; print(s.WEBHOOK_SECRETS == [s.env.str('WEBHOOK_SECRET')])"
    env = {**os.environ, "WEBHOOK_URLS": "http://127.0.0.1:9000/hooks", "WEBHOOK_SECRET": SECRET}
    env.pop("WEBHOOK_SECRETS", None)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=SERVICE_DIR, env=env, capture_output=True, text=True, timeout=30
    )
    assert result.stdout.strip() == "True", result.stderr


def test_the_pause_period_and_the_tick_are_checked():
    assert "WEBHOOK_DISABLE_AFTER_HOURS must be" in _start(WEBHOOK_DISABLE_AFTER_HOURS="0").stderr
    assert "WEBHOOK_DISPATCH_INTERVAL_SECONDS must be" in _start(WEBHOOK_DISPATCH_INTERVAL_SECONDS="0").stderr
    assert _start(WEBHOOK_DISABLE_AFTER_HOURS="24", WEBHOOK_DISPATCH_INTERVAL_SECONDS="5").returncode == 0


def test_production_refuses_a_weak_secret_in_the_list():
    env = {**PRODUCTION, "WEBHOOK_URLS": "https://crm.example.com/hooks", "WEBHOOK_SECRETS": f"{SECRET},x"}
    result = _start(**env)
    assert "ImproperlyConfigured: WEBHOOK_SECRETS is too short for a secret" in result.stderr
    # whsec_ alone brings 6 different characters: the part after it is what must be random.
    env["WEBHOOK_SECRETS"] = f"{SECRET},whsec_{'A' * 40}"
    assert "ImproperlyConfigured: WEBHOOK_SECRETS has fewer than" in _start(**env).stderr
