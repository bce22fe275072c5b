"""The JWTs' own signing key: what a public development key lets an attacker do (and that production
refuses it), and what each rotation keeps. A core started afresh with other keys is a new interpreter
on this run's test database, as a restarted pod would be."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from pathlib import Path

import jwt
import pytest
from django.conf import settings
from django.test import Client

from users.tests.factories import UserFactory
from users.tokens import token_pair_issue

SERVICE_DIR = Path(__file__).resolve().parents[1]
# Published in services/core/config/settings.py, so known to anyone who reads the repository.
DEVELOPMENT_JWT_KEY = "dev-only-core-jwt-signing-key-not-for-production"
OWN = {"APP_ENV", "SECRET_KEY", "SECRET_KEY_FALLBACKS", "JWT_SIGNING_KEY", "DATABASE_URL", "REDIS_URL"}
# A core restarted with other keys: what its API answers to a token, its pages to a session cookie.
ANSWERS = """
import json, sys, django
django.setup()
from django.conf import settings
from django.test import Client
access, refresh, session = sys.argv[1:4]
api = Client(HTTP_HOST="127.0.0.1")
page = Client(HTTP_HOST="127.0.0.1")
page.cookies[settings.SESSION_COOKIE_NAME] = session
refreshed = api.post("/api/v1/auth/token/refresh/", {"refresh": refresh}, content_type="application/json")
print(json.dumps({
    "profile": api.get("/api/v1/profile/", HTTP_AUTHORIZATION=f"Bearer {access}").status_code,
    "refresh": refreshed.status_code,
    "page": page.get("/profile/").status_code,
}))
"""


def _forged_access_token(*, user_id: int, key: str) -> str:
    now = int(time.time())
    claims = {"token_type": "access", "exp": now + 600, "iat": now, "jti": uuid.uuid4().hex, "user_id": str(user_id)}
    return jwt.encode(claims, key, algorithm="HS256")


@pytest.mark.django_db
def test_the_public_development_key_forges_any_users_token_and_production_refuses_it(api, test_database_url):
    attacker, victim = UserFactory(), UserFactory()
    assert settings.JWT_SIGNING_KEY == DEVELOPMENT_JWT_KEY  # this run: development settings
    forged = _forged_access_token(user_id=victim.pk, key=DEVELOPMENT_JWT_KEY)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    stolen = api.get("/api/v1/profile/")
    assert stolen.status_code == 200 and stolen.json()["phone"] == victim.phone != attacker.phone

    env = {k: v for k, v in os.environ.items() if k not in OWN}
    env |= {"APP_ENV": "production", "JWT_SIGNING_KEY": DEVELOPMENT_JWT_KEY, "DATABASE_URL": test_database_url()}
    env |= {"SECRET_KEY": secrets.token_urlsafe(48), "OTP_SERVICE_TOKEN": secrets.token_urlsafe(48)}
    started = subprocess.run(
        [sys.executable, "-c", "import config.settings"], cwd=SERVICE_DIR, env=env, capture_output=True, text=True
    )
    assert started.returncode != 0
    assert "ImproperlyConfigured: JWT_SIGNING_KEY is a development value" in started.stderr


@pytest.mark.django_db
def test_a_token_signed_with_secret_key_is_refused(api):
    forged = _forged_access_token(user_id=UserFactory().pk, key=settings.SECRET_KEY)
    response = api.get("/api/v1/profile/", HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "not_authenticated")


def _restarted_core(test_database_url, **keys: str) -> dict[str, int]:
    """A user's tokens and web sign-in, made here, as a core started with `keys` answers them."""
    user = UserFactory()
    pair = token_pair_issue(user=user)
    browser = Client()
    browser.force_login(user)
    session = browser.cookies[settings.SESSION_COOKIE_NAME].value
    env = {k: v for k, v in os.environ.items() if k not in OWN}
    # Redis on a closed port: the cache fails open, and no key of this run is left on the shared one.
    env |= {"APP_ENV": "development", "DATABASE_URL": test_database_url(), "REDIS_URL": "redis://127.0.0.1:9"}
    result = subprocess.run(
        [sys.executable, "-c", ANSWERS, pair.access, pair.refresh, session],
        cwd=SERVICE_DIR,
        env=env | keys,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
def test_a_new_secret_key_keeps_every_token_and_with_its_fallback_every_web_sign_in(test_database_url):
    jwt_key, new_secret_key = settings.JWT_SIGNING_KEY, secrets.token_urlsafe(48)
    rotated = _restarted_core(
        test_database_url,
        SECRET_KEY=new_secret_key,
        SECRET_KEY_FALLBACKS=settings.SECRET_KEY,
        JWT_SIGNING_KEY=jwt_key,
    )
    assert rotated == {"profile": 200, "refresh": 200, "page": 200}
    # Without the fallback the sessions end (the page sends the visitor to sign in); tokens do not.
    without = _restarted_core(test_database_url, SECRET_KEY=new_secret_key, JWT_SIGNING_KEY=jwt_key)
    assert without == {"profile": 200, "refresh": 200, "page": 302}


@pytest.mark.django_db(transaction=True)
def test_a_new_jwt_key_ends_every_token_and_keeps_web_sign_ins(test_database_url):
    answers = _restarted_core(
        test_database_url, SECRET_KEY=settings.SECRET_KEY, JWT_SIGNING_KEY=secrets.token_urlsafe(48)
    )
    assert answers == {"profile": 401, "refresh": 401, "page": 200}
