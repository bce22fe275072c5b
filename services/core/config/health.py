"""Liveness and readiness for orchestrators (plain Django views: no auth, no throttling)."""

import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse

from integrations.otp_client import otp_ready
from svckit.handlers import error_body

logger = logging.getLogger(__name__)


def database_ready() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError as exc:
        logger.warning("database not ready: %s", exc)
        return False


def healthz(request):
    return JsonResponse({"status": "ok"})


def readyz(request):
    checks = {
        "database": "ok" if database_ready() else "unavailable",
        "otp": "ok" if otp_ready() else "unavailable",
    }
    down = [name for name, state in checks.items() if state != "ok"]
    if not down:
        return JsonResponse({"status": "ok", "checks": checks})
    body = error_body("unavailable", f"Not reachable: {', '.join(down)}.", checks)
    return JsonResponse(body, status=503)
