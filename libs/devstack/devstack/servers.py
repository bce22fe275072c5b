"""Redis and PostgreSQL for a development run: the ones at REDIS_URL / DATABASE_URL when they answer,
else private throwaway servers from the installed binaries on free ports (mirakuru executors)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import redis
from mirakuru import TCPExecutor
from mirakuru.exceptions import ExecutorError
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


class PrivatePostgres(TCPExecutor):
    """A throwaway cluster trusting local connections, with database `dbname`: initdb, then `postgres`
    in the foreground, stopped with SIGINT (fast shutdown). initdb refuses root: then both run as the
    postgres user."""

    def __init__(self, dbname: str) -> None:
        self.base, port = tempfile.mkdtemp(prefix="devstack-pg-"), select_random()
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if as_user:
            shutil.chown(self.base, user="postgres")
        bindir = os.path.dirname(_binary("initdb", "apt-get install postgresql (or set DATABASE_URL)"))
        initdb = [*as_user, f"{bindir}/initdb", "-D", f"{self.base}/data", "-U", "postgres", "-A", "trust"]
        subprocess.run(initdb, check=True, capture_output=True)
        self.url = f"postgres://postgres@127.0.0.1:{port}/{dbname}"
        options = ["-p", str(port), "-k", self.base, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]
        log = open(f"{self.base}/postgres.log", "w")  # noqa: SIM115 - the server keeps it
        command = [*as_user, f"{bindir}/postgres", "-D", f"{self.base}/data", *options]
        super().__init__(command, "127.0.0.1", port, timeout=60, stop_signal=signal.SIGINT, stdout=log, stderr=-2)

    def start(self) -> PrivatePostgres:
        super().start()
        database_recreate(self.url)
        return self

    def remove(self) -> None:
        with contextlib.suppress(ExecutorError):  # runuser may report the signal as its status
            self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


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
    """Export REDIS_URL (and DATABASE_URL) of servers that answer, starting private ones if needed."""
    os.environ["REDIS_URL"] = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
    if not answers(os.environ["REDIS_URL"]):
        datadir = exit_stack.enter_context(tempfile.TemporaryDirectory(prefix="devstack-redis-"))
        server = exit_stack.enter_context(PrivateRedis(datadir))
        os.environ["REDIS_URL"] = server.url
        print(f"devstack: started a private Redis at {server.url}", file=sys.stderr)
    if postgres and not answers(
        url := os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1/referrals")
    ):
        database = PrivatePostgres(urlsplit(url).path.lstrip("/") or "referrals").start()
        exit_stack.callback(database.remove)
        os.environ["DATABASE_URL"] = database.url
        print(f"devstack: started a private PostgreSQL at {database.url}", file=sys.stderr)
