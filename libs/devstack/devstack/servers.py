"""Redis and PostgreSQL for a development run: the ones at REDIS_URL / DATABASE_URL when they answer,
otherwise private throwaway servers from the installed binaries on free ports (mirakuru executors)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import psycopg2
import redis
from mirakuru import TCPExecutor
from mirakuru.exceptions import ExecutorError
from pytest_redis.executor import RedisExecutor

from devstack.declaration import free_port


def redis_answers(url: str) -> bool:
    try:
        with redis.Redis.from_url(url, socket_timeout=1) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


def postgres_answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        psycopg2.connect(url.replace(parts.path, "/postgres", 1) if parts.path else url, connect_timeout=2).close()
        return True
    except psycopg2.OperationalError:
        return False


def _binary(name: str, hint: str) -> str:
    found = shutil.which(name) or max(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), default=None)
    if not found:
        raise SystemExit(f"devstack: {name} is not installed and no server answers: {hint}")
    return found


class PrivateRedis(RedisExecutor):
    """redis-server on a free port with its data in a temporary directory; `stop()` and `start()`
    keep the port. With `appendonly` its data survives a restart, as compose's Redis volume does."""

    def __init__(self, *, appendonly: bool = False) -> None:
        self.datadir = Path(tempfile.mkdtemp(prefix="devstack-redis-"))
        self.url = f"redis://127.0.0.1:{(port := free_port())}"
        super().__init__(
            _binary("redis-server", "apt-get install redis-server (or set REDIS_URL)"),
            databases=16,
            redis_timeout=30,
            loglevel="warning",
            host="127.0.0.1",
            port=port,
            datadir=self.datadir,
            appendonly="yes" if appendonly else "no",
        )

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.datadir, ignore_errors=True)


class PrivatePostgres(TCPExecutor):
    """A throwaway cluster (initdb, then `postgres` in the foreground) on a free port, trusting local
    connections, with database `dbname`. initdb refuses to run as root: then both run as the
    postgres user. Stopped with SIGINT (PostgreSQL's fast shutdown)."""

    def __init__(self, dbname: str) -> None:
        self.base = tempfile.mkdtemp(prefix="devstack-pg-")
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if as_user:
            shutil.chown(self.base, user="postgres")
        hint = "apt-get install postgresql (or set DATABASE_URL)"
        bindir = os.path.dirname(_binary("initdb", hint))
        data = f"{self.base}/data"
        initdb = [*as_user, f"{bindir}/initdb", "-D", data, "-U", "postgres", "-A", "trust"]
        subprocess.run(initdb, check=True, capture_output=True)
        self.dbname, port = dbname, free_port()
        self.url = f"postgres://postgres@127.0.0.1:{port}/{dbname}"
        options = ["-p", str(port), "-k", self.base, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]
        log = open(f"{self.base}/postgres.log", "w")  # noqa: SIM115 - the server keeps it
        command = [*as_user, f"{bindir}/postgres", "-D", data, *options]
        super().__init__(
            command,
            host="127.0.0.1",
            port=port,
            timeout=60,
            stop_signal=signal.SIGINT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def start(self) -> PrivatePostgres:
        super().start()
        connection = psycopg2.connect(self.url.replace(f"/{self.dbname}", "/postgres"))
        connection.autocommit = True
        connection.cursor().execute(f'CREATE DATABASE "{self.dbname}"')
        connection.close()
        return self

    def remove(self) -> None:
        with contextlib.suppress(ExecutorError):  # runuser may report the signal as its status
            self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
