"""The stack from the command line (the Makefile's targets):

    python -m devstack run                          `make run`: every process, interleaved logs (honcho), .env read
    python -m devstack servers [--postgres] -- CMD  CMD with Redis (and PostgreSQL) answering
    python -m devstack stack -- CMD                 CMD against a live stack at CORE_URL / OTP_URL

Servers and stacks that answer are used as they are; what does not answer is started here (private
Redis or PostgreSQL on free ports, the declared stack on CORE_BIND / OTP_BIND) and stopped after."""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import socket
import subprocess
import sys
from contextlib import ExitStack

import requests
from honcho.environ import parse
from honcho.manager import Manager
from honcho.printer import Printer

from devstack import servers
from devstack.declaration import ROOT, Config, processes
from devstack.stack import Stack


def command(argv: list[str]) -> int:
    """Run argv to its end; Ctrl-C reaches it (its process group), and we wait for its own shutdown."""
    process = subprocess.Popen(argv)
    signal.signal(signal.SIGINT, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda *_: process.terminate())
    return process.wait()


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/readyz", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["run", "servers", "stack"])
    parser.add_argument("--postgres", action="store_true", help="servers: PostgreSQL at DATABASE_URL too")
    given = sys.argv[1:]
    split = given.index("--") if "--" in given else len(given)
    args, argv = parser.parse_args(given[:split]), given[split + 1 :]
    urls = [os.environ.get("CORE_URL", "http://127.0.0.1:8000"), os.environ.get("OTP_URL", "http://127.0.0.1:8001")]
    if args.what == "stack" and all(ready(url) for url in urls):
        print(f"devstack: using the stack already running at {' and '.join(urls)}", file=sys.stderr)
        return command(argv)
    if args.what == "run" and (dotenv := ROOT / ".env").exists():  # as honcho's own command line does
        for name, value in parse(dotenv.read_text()).items():
            os.environ.setdefault(name, value)
    with ExitStack() as exit_stack:
        servers.ensure(exit_stack, postgres=args.postgres)
        config = Config.from_environment()
        if args.what == "servers":
            return command(argv)
        if args.what == "stack":
            print(f"devstack: starting the stack (logs: {ROOT / 'var/log/stack'})", file=sys.stderr)
            exit_stack.enter_context(Stack(config, logs=ROOT / "var/log/stack"))
            os.environ.update(CORE_URL=config.core_url, OTP_URL=config.otp_url)
            return command(argv)
        taken = [port for port in (config.core_port, config.otp_port) if listening(port)]
        if taken:
            sys.exit(f"devstack: 127.0.0.1:{taken[0]} is in use (another make run?): set CORE_BIND / OTP_BIND")
        manager = Manager(Printer(sys.stdout))
        for name, process in processes(config).items():
            manager.add_process(name, shlex.join(process.command), env={**os.environ, **process.env})
        manager.loop()
        return manager.returncode or 0


if __name__ == "__main__":
    sys.exit(main())
