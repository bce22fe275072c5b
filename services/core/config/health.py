"""Liveness, readiness and metrics for orchestrators (plain Django views: no auth, no throttling).

Readiness is the process and its own database, PostgreSQL: the profile, the invites and the pages
work while the OTP service or Redis is away (sign-in answers 503 otp_unavailable, throttling fails
open), so neither takes a pod out of its Service. They are metrics instead: `core_dependency_up`,
checked when /metrics is scraped, never by a probe."""

import logging

import redis
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django_prometheus.exports import ExportToDjangoView
from django_redis import get_redis_connection
from prometheus_client import Gauge

from integrations.otp_client import otp_ready
from svckit.handlers import error_body

logger = logging.getLogger(__name__)

# "mostrecent": the web workers share one set of files (multiprocess mode); the value the scraped
# worker has just set is the one exported.
DEPENDENCY_UP = Gauge(
    "core_dependency_up",
    "Whether a dependency answered when /metrics was scraped (1) or not (0): otp (its /readyz), "
    "redis (the core's cache: throttling counters, kept profile reads).",
    ["dependency"],
    multiprocess_mode="mostrecent",
)


def database_ready() -> bool:
    """Whether PostgreSQL answers and takes writes: a primary demoted to a replica by a failover, or
    a server set read-only, answers reads but refuses every write (SQLSTATE 25006), so is not ready."""
    try:
        with connection.cursor() as cursor:
            if connection.vendor != "postgresql":  # development's SQLite
                cursor.execute("SELECT 1")
                return True
            cursor.execute("SHOW transaction_read_only")  # "on" in recovery, as on a read-only server
            read_only = cursor.fetchone()[0] == "on"
    except DatabaseError as exc:
        logger.warning("database not ready: %s", exc)
        return False
    if read_only:
        logger.warning("database not ready: it takes no writes (read-only or a replica)")
    return not read_only


def redis_up() -> bool:
    """Whether the cache's Redis answers a PING within the cache's socket timeouts (0.5 s each)."""
    try:
        return bool(get_redis_connection("default").ping())
    except (redis.RedisError, OSError):
        return False


def healthz(request):
    return JsonResponse({"status": "ok"})


def readyz(request):
    if database_ready():
        return JsonResponse({"status": "ok", "checks": {"database": "ok"}})
    body = error_body("unavailable", "Not reachable: database.", {"database": "unavailable"})
    return JsonResponse(body, status=503)


def metrics(request):
    """GET /metrics: django-prometheus's export, with core_dependency_up refreshed first. The checks
    are bounded by the OTP client's timeouts (1 s to connect, 2 s to answer) and the cache's."""
    DEPENDENCY_UP.labels(dependency="otp").set(otp_ready())
    DEPENDENCY_UP.labels(dependency="redis").set(redis_up())
    return ExportToDjangoView(request)
