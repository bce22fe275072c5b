"""Start-up refusals of the webhook settings (the settings module in a fresh interpreter)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from webhooks.tests.conftest import SECRET

SERVICE_DIR = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "APP_ENV": "production",
    **{name: secrets.token_urlsafe(48) for name in ("SECRET_KEY", "JWT_SIGNING_KEY", "OTP_SERVICE_TOKEN")},
    "REDIS_URL": f"redis://:{secrets.token_urlsafe(48)}@redis:6379",
    "SMS_ALLOWED_COUNTRIES": "RU",
    "WEBHOOK_SECRET": SECRET,
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
    result = _start(WEBHOOK_URLS="http://127.0.0.1:9000/hooks", WEBHOOK_SECRET=SECRET)
    assert result.returncode == 0, result.stderr
