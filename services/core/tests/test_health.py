"""Liveness, readiness and the dependency gauges: /readyz is the process and PostgreSQL only, so
neither the OTP service nor Redis going away takes the core out of its Service; /metrics says
which dependency answers (core_dependency_up)."""

from __future__ import annotations

import copy
import re
import socket
import time
import uuid

import pytest
import requests
from devstack.fixtures import stack_config
from devstack.tcpproxy import TcpProxy
from django.db import connection
from port_for import select_random

pytestmark = pytest.mark.django_db

CLOSED = f"127.0.0.1:{select_random()}"  # nothing listens there


def gauges(text: str) -> dict[str, float]:
    """core_dependency_up by dependency, from a /metrics page."""
    return {name: float(value) for name, value in re.findall(r'core_dependency_up\{dependency="(\w+)"\} (\S+)', text)}


@pytest.fixture
def redis_unreachable(settings):
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["LOCATION"] = f"redis://{CLOSED}/2"
    caches["default"]["OPTIONS"]["IGNORE_EXCEPTIONS"] = True  # as in production: throttling fails open
    settings.CACHES = caches


def test_healthz_is_always_ok(client):
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_is_the_database_and_the_dependencies_are_gauges(client, fake_otp):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}
    assert gauges(client.get("/metrics").content.decode()) == {"otp": 1.0, "redis": 1.0}


def test_readyz_stays_200_with_the_otp_service_stopped_and_redis_unreachable(client, settings, redis_unreachable):
    settings.OTP_SERVICE_URL = f"http://{CLOSED}"
    response = client.get("/readyz")
    assert (response.status_code, response.json()["checks"]) == (200, {"database": "ok"})
    assert gauges(client.get("/metrics").content.decode()) == {"otp": 0.0, "redis": 0.0}


def test_a_hung_otp_service_never_holds_a_probe_and_holds_a_scrape_no_longer_than_its_timeouts(client, settings):
    """An OTP service that takes the connection and never answers: the probe does not ask it, the
    scrape waits the OTP client's read timeout (2 s) and reads 0."""
    with socket.create_server(("127.0.0.1", 0), backlog=8) as silent:
        settings.OTP_SERVICE_URL = f"http://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        assert client.get("/readyz").status_code == 200
        assert time.monotonic() - started < 1.0
        started = time.monotonic()
        assert gauges(client.get("/metrics").content.decode())["otp"] == 0.0
        assert 1.5 < time.monotonic() - started < 4.0


def test_an_otp_service_that_is_not_ready_reads_0(client, fake_otp):
    fake_otp.answer("/readyz", 503, {"error": {"code": "unavailable"}})
    assert client.get("/readyz").status_code == 200
    assert gauges(client.get("/metrics").content.decode()) == {"otp": 0.0, "redis": 1.0}


def test_readyz_reports_a_database_that_does_not_answer(client, monkeypatch):
    monkeypatch.setattr("config.health.database_ready", lambda: False)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert response.json()["error"]["details"] == {"database": "unavailable"}


@pytest.mark.faults
@pytest.mark.django_db(transaction=True)
def test_the_running_core_stays_ready_without_otp_or_redis_and_not_without_postgres(
    test_database_url, private_redis, start_stack
):
    """The real core (granian, two worker processes sharing the metric files) with the real OTP
    service on its own Redis, and PostgreSQL behind a proxy that can cut it."""
    db = connection.settings_dict
    with TcpProxy(db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)) as proxy:
        database = test_database_url(port=proxy.port, application_name=f"core-ready-{uuid.uuid4().hex[:8]}")
        config = stack_config("core", redis_url=private_redis.url, database_url=database)
        stack = start_stack(config, "otp-web", "core-web")
        ready = lambda: requests.get(f"{config.core_url}/readyz", timeout=5)  # noqa: E731
        scraped = lambda: gauges(requests.get(f"{config.core_url}/metrics", timeout=10).text)  # noqa: E731
        assert ready().status_code == 200 and scraped() == {"otp": 1.0, "redis": 1.0}

        stack.stop("otp-web")
        assert ready().status_code == 200
        assert scraped() == {"otp": 0.0, "redis": 1.0}

        private_redis.stop()
        assert ready().status_code == 200
        assert scraped() == {"otp": 0.0, "redis": 0.0}

        proxy.cut()
        answer = ready()
        assert answer.status_code == 503
        assert answer.json()["error"]["details"] == {"database": "unavailable"}
        assert scraped() == {"otp": 0.0, "redis": 0.0}  # /metrics needs no database

        proxy.restore()
        private_redis.start()
        stack.start("otp-web")
        assert ready().status_code == 200 and scraped() == {"otp": 1.0, "redis": 1.0}


@pytest.mark.django_db(transaction=True)
def test_readyz_reports_a_database_that_takes_no_writes(client, read_only_database):
    read_only_database.on()  # as a primary turned replica by a failover: it answers, writes fail
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["details"] == {"database": "unavailable"}
    read_only_database.off()
    assert client.get("/readyz").status_code == 200
