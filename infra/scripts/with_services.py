#!/usr/bin/env python3
"""Run a command with Redis (and optionally PostgreSQL) reachable.

If something already answers at REDIS_URL / DATABASE_URL it is used as is. Otherwise a private,
throwaway server is started from the installed binaries on a free port (pytest-redis's and
pytest-postgresql's executors), the URL is exported to the command, and the server is removed
afterwards. With neither a server nor the binaries it stops with one line saying what to install.

    with_services.py [--postgres] -- COMMAND ARGS...
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlsplit

from svckit.testing import free_port

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/referrals"


def fail(message: str) -> None:
    print(f"with_services: {message}", file=sys.stderr)
    sys.exit(2)


def redis_answers(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


def postgres_answers(url: str) -> bool:
    import psycopg2

    parts = urlsplit(url)
    try:
        psycopg2.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password,
            dbname="postgres",
            connect_timeout=2,
        ).close()
        return True
    except psycopg2.OperationalError:
        return False


def start_redis(stack: ExitStack) -> str:
    binary = shutil.which("redis-server")
    if not binary:
        fail(
            f"no Redis answers at {os.environ.get('REDIS_URL', DEFAULT_REDIS_URL)} and redis-server is not "
            "installed: apt-get install redis-server (or set REDIS_URL)"
        )
    from pytest_redis.executor import RedisExecutor

    port = free_port()
    datadir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="redis-")))
    executor = RedisExecutor(
        binary, databases=16, redis_timeout=30, loglevel="warning", host="127.0.0.1", port=port, datadir=datadir
    )
    executor.start()
    stack.callback(executor.stop)
    print(f"with_services: started a private Redis on 127.0.0.1:{port}", file=sys.stderr)
    return f"redis://127.0.0.1:{port}"


def start_postgres(stack: ExitStack, url: str) -> str:
    # Hand-written (initdb + pg_ctl) rather than pytest-postgresql's executor: that package pulls in
    # psycopg 3, which Django would then prefer over the psycopg2 the images use.
    candidates = [shutil.which("pg_ctl") or ""] + sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    pg_ctl = next((c for c in reversed(candidates) if c and os.path.exists(c)), None)
    if not pg_ctl:
        fail(
            f"no PostgreSQL answers at {url} and it is not installed: apt-get install postgresql (or set DATABASE_URL)"
        )
    bindir = os.path.dirname(pg_ctl)
    base = stack.enter_context(tempfile.TemporaryDirectory(prefix="pg-"))
    datadir = os.path.join(base, "data")
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses root: run the throwaway cluster as the postgres user
        if not shutil.which("runuser"):
            fail(f"no PostgreSQL answers at {url}; start one (pg_ctlcluster <version> main start)")
        shutil.chown(base, user="postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    run = subprocess.run
    run([*as_user, f"{bindir}/initdb", "-D", datadir, "-U", "postgres", "-A", "trust"], check=True, capture_output=True)
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = [*as_user, pg_ctl, "-D", datadir, "-o", options, "-l", os.path.join(base, "pg.log"), "-w", "start"]
    run(start, check=True, stdout=subprocess.DEVNULL)
    stack.callback(lambda: run([*as_user, pg_ctl, "-D", datadir, "-m", "immediate", "stop"], capture_output=True))
    print(f"with_services: started a private PostgreSQL on 127.0.0.1:{port}", file=sys.stderr)
    dbname = (urlsplit(url).path or "/referrals").lstrip("/")
    run([f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", dbname], check=True)
    return f"postgres://postgres@127.0.0.1:{port}/{dbname}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="also make sure PostgreSQL answers at DATABASE_URL")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command after --")

    env = dict(os.environ)
    with ExitStack() as stack:
        redis_url = env.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
        if not redis_answers(redis_url):
            env["REDIS_URL"] = start_redis(stack)
        if args.postgres:
            db_url = env.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
            if not postgres_answers(db_url):
                env["DATABASE_URL"] = start_postgres(stack, db_url)
        process = subprocess.Popen(command, env=env)
        # Ctrl-C reaches the child's process group too; wait for it to finish its own shutdown.
        signal.signal(signal.SIGINT, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: process.terminate())
        return process.wait()


if __name__ == "__main__":
    sys.exit(main())
