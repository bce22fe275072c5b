"""The framework's floors, in process: CPU per request of a plain Django view (`/healthz`), of an
empty DRF view, of an empty DRF view behind SimpleJWT (the token's user read from PostgreSQL, as
every authenticated endpoint does), and of the profile of a user nobody referred (that view and
nothing else: no cache, no other rows). Django's test client calls the core's WSGI handler with
the core's settings and middleware, each request preceded by the connection's health check as in
the server; no server and no network, so the figures are the Python work of each request alone,
and their ratios say what an endpoint built on DRF and SimpleJWT costs before it does anything
of its own.

    .venv/bin/python -m devstack servers --postgres -- .venv/bin/python bench/floors.py

It uses a throwaway database on DATABASE_URL's server (test_referrals_floors: created, migrated,
dropped) and Redis at REDIS_URL under a prefix of its own; prints one line per request and the
ratios to `/healthz`."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "services" / "core"


def configure() -> None:
    """The core's production-like settings (as bench/stack.py's) for an in-process Django."""
    server = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"{server.scheme}://{server.netloc}/referrals_floors",
            "APP_ENV": "development",
            "DEBUG": "false",
            "ALLOWED_HOSTS": "localhost",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "CACHE_KEY_PREFIX": f"floors-{secrets.token_hex(4)}:",
            "LOG_LEVEL": "WARNING",
        }
    )
    sys.path.insert(0, str(CORE))
    os.chdir(CORE)


def cpu_per_request(client, url: str, headers: dict, *, requests: int) -> float:
    """Microseconds of this process's CPU (user + system) per GET of `url`, after a warm-up.

    Each request starts as a server's does: Django's test client leaves out the request_started
    handler `close_old_connections`, which marks a persistent connection for its health check
    (CONN_HEALTH_CHECKS: a `SELECT 1` before the request's first query), so it is called here."""
    from django.db import close_old_connections

    def get() -> None:
        close_old_connections()
        response = client.get(url, **headers)
        if response.status_code != 200:
            raise SystemExit(f"floors: GET {url} answered {response.status_code}: {response.content[:200]!r}")

    for _ in range(requests // 10):
        get()
    started = time.process_time()
    for _ in range(requests):
        get()
    return (time.process_time() - started) / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000, help="requests per line (default 3000)")
    args = parser.parse_args()
    configure()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.urls import clear_url_caches, path
    from rest_framework.permissions import IsAuthenticated
    from rest_framework.response import Response
    from rest_framework.views import APIView
    from rest_framework_simplejwt.authentication import JWTAuthentication

    import config.urls

    class EmptyApi(APIView):
        authentication_classes: list = []
        permission_classes: list = []

        def get(self, request):
            return Response({})

    class EmptyJwtApi(EmptyApi):
        authentication_classes = [JWTAuthentication]
        permission_classes = [IsAuthenticated]

    config.urls.urlpatterns += [path("floors/drf/", EmptyApi.as_view()), path("floors/jwt/", EmptyJwtApi.as_view())]
    clear_url_caches()
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from users import tokens
        from users.services import user_get_or_create_by_phone

        user, _ = user_get_or_create_by_phone(phone="+79990000001")
        bearer = {"HTTP_AUTHORIZATION": f"Bearer {tokens.token_pair_issue(user=user).access}"}
        client = Client(HTTP_HOST="localhost")
        rows = [
            ("GET /healthz (a plain Django view)", "/healthz", {}),
            ("GET an empty DRF view", "/floors/drf/", {}),
            ("GET an empty DRF view behind SimpleJWT", "/floors/jwt/", bearer),
            ("GET /api/v1/profile/ (nobody referred)", "/api/v1/profile/", bearer),
        ]
        results = [(name, cpu_per_request(client, url, headers, requests=args.requests)) for name, url, headers in rows]
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    floor = results[0][1]
    print(f"{'CPU per request, in process':<45} {'µs':>8} {'× healthz':>10}")
    for name, us in results:
        print(f"{name:<45} {us:8.0f} {us / floor:9.1f}×")


if __name__ == "__main__":
    main()
