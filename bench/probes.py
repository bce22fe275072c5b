"""Memory and CPU of the stack, sampled with psutil while a scenario runs."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

import psutil
import psycopg2


def postmaster(database_url: str) -> psutil.Process | None:
    """The postmaster of the PostgreSQL server at `database_url`: the parent of a backend of ours
    (pg_backend_pid()). None when the server's processes are not on this machine."""
    with contextlib.closing(psycopg2.connect(database_url)) as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
        try:
            return psutil.Process(backend).parent()
        except psutil.Error:
            return None


def stack_processes(
    leaders: dict[str, int], redis_url: str, database: str, postmaster: psutil.Process | None = None
) -> dict[str, list[psutil.Process]]:
    """Every process of the stack, grouped: each service the driver started with its children
    (granian and its workers, the Celery worker), the PostgreSQL backends serving the bench
    database with the server's `postmaster` (see `postmaster()`), and the Redis server (shared
    with whatever else uses it: reported, not hidden). The postmaster is there for the CPU of the
    processes it waited for: a query's parallel workers live for that query only and are its
    children, not the backend's (other databases' exited backends and autovacuum's workers count
    too: an upper bound, as for Redis)."""
    groups: dict[str, list[psutil.Process]] = {name: [] for name in [*leaders, "postgres", "redis"]}
    groups["postgres"] += [postmaster] if postmaster else []
    for name, pid in leaders.items():
        try:
            leader = psutil.Process(pid)
            groups[name] += [leader, *leader.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
    redis_port = urlsplit(redis_url).port or 6379
    for candidate in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(filter(None, candidate.info["cmdline"] or [])).strip()
        if cmdline.startswith("postgres: ") and f" {database} " in cmdline:
            groups["postgres"].append(candidate)
        elif (candidate.info["name"] or "").startswith("redis-server") and cmdline.endswith(f":{redis_port}"):
            groups["redis"].append(candidate)
    return groups


def snapshot(groups: dict[str, list[psutil.Process]]) -> dict[str, dict]:
    """Per group: RSS and PSS in MB (PSS shares a page among the processes mapping it, so PostgreSQL's
    shared buffers count once), CPU seconds per pid (utime + stime of the process and its waited-for
    children, from /proc through psutil; for deltas), and each process."""
    result = {}
    for name, processes in groups.items():
        rss = pss = 0
        cpu: dict[int, float] = {}
        detail = []
        for process in processes:
            try:
                with process.oneshot():
                    memory = process.memory_full_info()
                    times = process.cpu_times()
                    label = " ".join(filter(None, process.cmdline()))[:80]
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            # The postmaster is in its group for its waited-for children's CPU; its memory is the server's.
            if name != "postgres" or label.startswith("postgres: "):
                rss += memory.rss
                pss += memory.pss
            # Children's times count the CPU of workers that exited and were waited for (recycled
            # web workers, a restarted Celery): still the stack's CPU.
            cpu[process.pid] = times.user + times.system + times.children_user + times.children_system
            detail.append({"pid": process.pid, "rss_mb": round(memory.rss / 2**20, 1), "command": label})
        result[name] = {"rss_mb": rss / 2**20, "pss_mb": pss / 2**20, "processes": len(cpu), "cpu": cpu}
        result[name]["detail"] = detail
    return result


def cpu_seconds(before: dict, after: dict) -> float:
    """CPU used by one group between two of its snapshots: what its processes hold at the second
    less what those at the first held. A process gone by the second was waited for by its parent
    in the group (a granian master, the postmaster), whose children's times now hold all of its
    CPU, the part before the window included: subtracting that part keeps it out."""
    return sum(after.values()) - sum(before.values())


def total_rss(shot: dict[str, dict]) -> float:
    return sum(group["rss_mb"] for group in shot.values())


class Sampler:
    """Samples the stack every `interval` seconds in a thread; keeps the peak total RSS."""

    def __init__(self, find: Callable[[], dict[str, list[psutil.Process]]], interval: float = 0.5) -> None:
        self.find = find
        self.interval = interval
        self.peak: dict[str, dict] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            shot = snapshot(self.find())
            if self.peak is None or total_rss(shot) > total_rss(self.peak):
                self.peak = shot

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


def system_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (all cores), to tell our load from others'."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def memory_summary(shot: dict[str, dict]) -> dict:
    groups = {
        name: {
            "rss_mb": round(group["rss_mb"], 1),
            "pss_mb": round(group["pss_mb"], 1),
            "processes": group["processes"],
            "detail": group["detail"],
        }
        for name, group in shot.items()
    }
    return groups | {
        "total_rss_mb": round(total_rss(shot), 1),
        "total_pss_mb": round(sum(group["pss_mb"] for group in shot.values()), 1),
    }
