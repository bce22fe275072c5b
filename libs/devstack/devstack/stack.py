"""Start declared processes with mirakuru and wait until each answers its readiness URL; stop, kill
or start one again (the fault tests do); stop them all and forget the stack's Redis keys."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from mirakuru import HTTPExecutor, SimpleExecutor
from mirakuru.exceptions import AlreadyRunning, ExecutorError

from devstack.declaration import Config, processes


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.05) -> bool:
    """True as soon as predicate() is truthy, False if it is not within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


class Stack:
    """`config`'s processes: start() starts those `only` names (all four by default), the others
    when named. Each logs to `logs/<name>.log`. A context manager: started on entry, stopped on exit."""

    def __init__(self, config: Config, only: Iterable[str] | None = None, *, logs: Path) -> None:
        self.config, self.declared, self.logs = config, processes(config), logs
        self.only = list(only or self.declared)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.executors: dict[str, SimpleExecutor] = {}
        self.exits: list[int] = []  # the status of each process that ended by itself (see revive)

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, *names: str, timeout: float = 60) -> Stack:
        """Launch the processes at once (their start-ups, mostly imports, overlap), then wait for each.
        Raises RuntimeError with the logs' last lines when one exits or is not ready in time."""
        for name in names or self.only:
            with self.log(name).open("a") as log:  # the child keeps its own copy
                executor = self.executors[name] = self._executor(name, log, timeout)
                if isinstance(executor, HTTPExecutor) and executor.pre_start_check():
                    self.stop()  # another server on its port would pass for it
                    raise AlreadyRunning(executor)
                SimpleExecutor.start(executor)
        for name in names or self.only:
            executor = self.executors[name]
            try:
                if isinstance(executor, HTTPExecutor):
                    executor.wait_for(executor.check_subprocess)
            except ExecutorError as exc:
                tails = self.tails()
                self.stop()
                raise RuntimeError(f"{name} did not become ready ({exc}); logs:\n{tails}") from exc
        return self

    def stop(self, *names: str, sig: int = signal.SIGTERM) -> None:
        """`sig` to each named process group (all when none is named), SIGKILL after the timeout;
        mirakuru finds and kills the children they left too."""
        for name in names or list(self.executors):
            if executor := self.executors.pop(name, None):
                with contextlib.suppress(ExecutorError):  # one that ended by itself reports its status
                    executor.stop(stop_signal=sig)
        if not names and self.config.prefix:
            self.config.forget_keys()

    def revive(self, name: str) -> None:
        """A restart policy like compose's `restart: unless-stopped`: start `name` again if it has
        exited, keeping its exit status in `exits`."""
        process = self.executors[name].process
        if process is not None and process.poll() is not None:
            self.exits.append(process.returncode)
            self.executors.pop(name)
            self.start(name)

    def pids(self) -> dict[str, int]:
        return {name: e.process.pid for name, e in self.executors.items() if e.process is not None}

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def tails(self, lines: int = 40) -> str:
        return "\n".join(
            f"== {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            for path in sorted(self.logs.glob("*.log"))
        )

    def _executor(self, name: str, log: IO[Any], timeout: float) -> SimpleExecutor:
        process, output = self.declared[name], {"stdout": log, "stderr": subprocess.STDOUT}
        options: dict[str, Any] = {"envvars": process.env, "stdin": subprocess.DEVNULL, "timeout": timeout, **output}
        if process.ready_url is None:
            return SimpleExecutor(process.command, **options)
        return HTTPExecutor(process.command, process.ready_url, method="GET", **options)
