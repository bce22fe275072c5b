"""services/core/bin/web migrates the database before serving in development (`make run`) and never
in production, where the deploy migrates once (bin/migrate: compose's migrate service, the
Kubernetes Job) before any replica starts. Each test starts the real script against a fresh, empty
PostgreSQL database; only the HTTP server it finally execs is a stand-in that records its call."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

BIN_WEB = Path(__file__).resolve().parents[1] / "bin" / "web"


@pytest.fixture
def empty_database() -> Iterator[tuple[str, dict]]:
    """(DATABASE_URL, psycopg2 connection arguments) of a database created empty for the test."""
    db = connection.settings_dict
    server = {"host": db.get("HOST") or "127.0.0.1", "port": db.get("PORT") or 5432}
    server |= {"user": db.get("USER") or "postgres"} | ({"password": db["PASSWORD"]} if db.get("PASSWORD") else {})
    name = f"{db['NAME']}_bin_web_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(dbname="postgres", **server)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    password = f":{server['password']}" if "password" in server else ""
    try:
        url = f"postgres://{server['user']}{password}@{server['host']}:{server['port']}/{name}"
        yield url, {**server, "dbname": name}
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _start(tmp_path: Path, database_url: str, app_env: str) -> Path:
    """Runs bin/web with a `granian` that writes its arguments to a file; returns that file."""
    stand_in = tmp_path / "bin" / "granian"
    stand_in.parent.mkdir()
    served = tmp_path / "served"
    stand_in.write_text(f'#!/bin/sh\necho "$@" > "{served}"\n')
    stand_in.chmod(0o755)
    own = {"APP_ENV", "DATABASE_URL", "PATH", "SECRET_KEY", "OTP_SERVICE_TOKEN"}
    env = {k: v for k, v in os.environ.items() if k not in own}
    env |= {"APP_ENV": app_env, "DATABASE_URL": database_url, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    env["PATH"] = f"{stand_in.parent}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    ran = subprocess.run([str(BIN_WEB)], env=env, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    return served


def _tables(connect: dict) -> set[str]:
    with psycopg2.connect(**connect) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
        tables = {row[0] for row in cursor.fetchall()}
    conn.close()
    return tables


def test_in_production_it_serves_without_migrating(tmp_path, empty_database):
    database_url, connect = empty_database
    served = _start(tmp_path, database_url, "production")
    assert "config.wsgi:application" in served.read_text()
    assert _tables(connect) == set(), "bin/web migrated in production"


def test_in_development_it_migrates_then_serves(tmp_path, empty_database):
    database_url, connect = empty_database
    served = _start(tmp_path, database_url, "development")
    assert "config.wsgi:application" in served.read_text()
    assert {"django_migrations", "users_user"} <= _tables(connect)
