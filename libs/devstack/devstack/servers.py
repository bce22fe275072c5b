"""Redis and PostgreSQL for a development run: the ones at REDIS_URL / DATABASE_URL when they answer,
else private throwaway servers (pytest-redis's executor; Debian's pg_virtualenv)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import redis
from port_for import select_random
from pytest_redis.executor import RedisExecutor


def _binary(name: str, hint: str) -> str:
    found = shutil.which(name) or max(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), default=None)
    if not found:
        raise SystemExit(f"devstack: {name} is not installed and no server answers: {hint}")
    return found


class PrivateRedis(RedisExecutor):
    """redis-server on a free port (`url`), its files in `datadir`; `stop()` and `start()` keep the
    port. With `appendonly` the data survives a restart, as on compose's Redis volume."""

    def __init__(self, datadir: str | Path, *, appendonly: bool = False) -> None:
        port, aof = select_random(), "yes" if appendonly else "no"
        self.url = f"redis://127.0.0.1:{port}"
        server = _binary("redis-server", "apt-get install redis-server (or set REDIS_URL)")
        super().__init__(server, 16, 30, "warning", "127.0.0.1", port, datadir=Path(datadir), appendonly=aof)


def database_recreate(url: str) -> None:
    """Drop the database of the PostgreSQL `url` (ending its sessions) if it exists, and create it empty."""
    name = urlsplit(url).path.lstrip("/")
    with contextlib.closing(psycopg2.connect(url.replace(f"/{name}", "/postgres", 1))) as connection:
        connection.autocommit = True
        cursor = connection.cursor()
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')


def answers(url: str) -> bool:
    """Whether the Redis or PostgreSQL server of `url` answers (PostgreSQL: its `postgres` database)."""
    try:
        if url.startswith("redis"):
            with redis.Redis.from_url(url, socket_timeout=1) as client:
                return bool(client.ping())
        psycopg2.connect(url.replace(urlsplit(url).path, "/postgres", 1), connect_timeout=2).close()
        return True
    except (redis.RedisError, psycopg2.OperationalError):
        return False


def ensure(exit_stack: ExitStack, *, postgres: bool) -> None:
    """Export REDIS_URL (and DATABASE_URL) of servers that answer, starting private ones if needed:
    Redis on a free port; PostgreSQL by running this same command again inside Debian's
    pg_virtualenv (postgresql-common: a throwaway cluster, as the postgres user when root)."""
    if postgres and not answers(
        url := os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1/referrals")
    ):
        e = os.environ
        if not e.get("DEVSTACK_PG_VIRTUALENV"):
            print("devstack: no PostgreSQL answers; starting a private one (pg_virtualenv)", file=sys.stderr)
            _binary("pg_virtualenv", "apt-get install postgresql (or set DATABASE_URL)")
            e["DEVSTACK_PG_VIRTUALENV"] = "1"
            sys.exit(subprocess.call(["pg_virtualenv", "-t", sys.executable, "-m", "devstack", *sys.argv[1:]]))
        name = urlsplit(url).path.lstrip("/") or "referrals"
        e["DATABASE_URL"] = f"postgres://{e['PGUSER']}:{e['PGPASSWORD']}@{e['PGHOST']}:{e.get('PGPORT', 5432)}/{name}"
        database_recreate(e["DATABASE_URL"])
    os.environ["REDIS_URL"] = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
    if not answers(os.environ["REDIS_URL"]):
        datadir = exit_stack.enter_context(tempfile.TemporaryDirectory(prefix="devstack-redis-"))
        server = exit_stack.enter_context(PrivateRedis(datadir))
        os.environ["REDIS_URL"] = server.url
        print(f"devstack: started a private Redis at {server.url}", file=sys.stderr)
