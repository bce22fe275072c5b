#!/usr/bin/env python3
"""`make bench`: start a production-like stack on loopback, load it with locust, report.

Each scenario runs in its own headless locust process (bench/locustfile.py) with bounded
users, run time and request count. The stack is stopped whatever happens (Ctrl-C included).
Writes var/bench/results.json and var/bench/latency.png; logs in var/bench/logs/.

    python bench/run.py [--quick] [--only healthz,code,...] [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil
import requests
from devstack import inbox
from devstack.servers import database_recreate

sys.path.insert(0, str(Path(__file__).resolve().parent))

import probes  # noqa: E402
import profiling  # noqa: E402
import report  # noqa: E402
import targets  # noqa: E402
from stack import BENCH_DB, ROOT, Stack  # noqa: E402

OUT = ROOT / "var" / "bench"
PROFILE_PHONE = "+79990000001"  # the user seeded with 10,000 referrals
REFERRALS = 10_000
JOURNEY = "journey: code → SMS → sign-in → profile → invite"
PROFILE = "GET /api/v1/profile/ (10k referrals)"
SIGNIN = "POST /api/v1/auth/token/ (existing user)"
# 2d prepares a code per sign-in it may make: this rate × its run time, plus a tenth. Should the
# stack go faster, the run ends when the codes are used, and the window with it.
SIGNIN_EXPECTED_RATE = 450
PACED_RATE = 100  # requests/s of 1b and 4b: the profile's latency beside the floor's, neither queued
MAX_REQUESTS = 500_000  # a hard bound per scenario, far above what 2 cores serve in its run time
SETUP_SECONDS = 180  # what locust may spend on a scenario's set-up (sign-ins, codes) before the load


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    user_class: str
    users: int
    main: str  # the request name the scenario's first row reports
    seconds: float = 20  # measured, after the warm-up
    warmup: float = 3
    spawn_rate: float = 50
    user_rate: float | None = None  # requests/s per user: users × user_rate is a constant offered load
    expected_rate: float | None = None  # sign-ins: requests/s to prepare codes for, when not paced


def scenarios(seconds: float, users: int, code_rate: int = 100) -> list[Scenario]:
    code = "POST /api/v1/auth/code/"
    return [
        Scenario("healthz", "1. GET /healthz (floor)", "HealthzUser", users, "GET /healthz", seconds),
        Scenario(
            "healthz_rate",
            f"1b. GET /healthz at {PACED_RATE}/s",
            "HealthzPacedUser",
            PACED_RATE,
            "GET /healthz",
            seconds,
            spawn_rate=PACED_RATE,
            user_rate=1.0,
        ),
        Scenario("code", "2. POST /auth/code/ (fresh phone)", "CodeRequestUser", users, code, seconds),
        Scenario(
            "code_rate",
            f"2b. POST /auth/code/ at {code_rate}/s",
            "CodeRequestPacedUser",
            code_rate,
            code,
            seconds,
            spawn_rate=code_rate,
            user_rate=1.0,
        ),
        Scenario("signin", "2c. POST /auth/token/ at 30/s", "SignInUser", 30, SIGNIN, seconds, 3, 30, 1.0),
        Scenario(
            "signin_max",
            "2d. POST /auth/token/ (saturated)",
            "SignInSaturatingUser",
            users,
            SIGNIN,
            seconds / 2,
            expected_rate=SIGNIN_EXPECTED_RATE,
        ),
        Scenario("journey", "3. journey code→SMS→token→profile→invite", "JourneyUser", users, JOURNEY, seconds * 1.5),
        Scenario("profile", "4. GET /profile/ (10k referrals)", "ProfileUser", users, PROFILE, seconds),
        Scenario(
            "profile_rate",
            f"4b. GET /profile/ at {PACED_RATE}/s",
            "ProfilePacedUser",
            PACED_RATE,
            PROFILE,
            seconds,
            spawn_rate=PACED_RATE,
            user_rate=1.0,
        ),
        Scenario(
            "delivery",
            "5. delivery lag, 1000 codes in 1 s",
            "DeliveryLagUser",
            users=1000,
            main="delivery lag: code request → inbox",
            seconds=0,
            warmup=0,
            spawn_rate=1000,
        ),
    ]


def stack_finder(stack: Stack) -> Callable[[], dict[str, list[psutil.Process]]]:
    """The stack's processes, grouped (probes.stack_processes), the PostgreSQL server's postmaster
    looked up once: it is in the postgres group whether or not a backend of the bench is alive."""
    server = probes.postmaster(stack.config.database_url)
    return lambda: probes.stack_processes(stack.pids(), stack.config.redis_url, BENCH_DB, server)


def run_scenario(stack: Stack, scenario: Scenario, find, *, profile: bool = False) -> dict:
    samples_path = OUT / "raw" / f"{scenario.key}.json"
    samples_path.parent.mkdir(parents=True, exist_ok=True)
    samples_path.unlink(missing_ok=True)
    ready_path, done_path = samples_path.with_suffix(".ready"), samples_path.with_suffix(".done")
    ready_path.unlink(missing_ok=True)
    done_path.unlink(missing_ok=True)
    run_time = scenario.warmup + scenario.seconds
    signin_rate = scenario.users * scenario.user_rate if scenario.user_rate else scenario.expected_rate or 0
    env = {
        **os.environ,
        "OTP_URL": stack.config.otp_url,
        "OTP_SERVICE_TOKEN": stack.config.token,
        "BENCH_PROFILE_PHONE": PROFILE_PHONE,
        "BENCH_SAMPLES": str(samples_path),
        "BENCH_WARMUP": str(scenario.warmup),
        "BENCH_MAX_REQUESTS": str(MAX_REQUESTS),
        "BENCH_LAG_RATE": "1000",
        "BENCH_FORWARDED_FOR": os.environ.get("BENCH_FORWARDED_FOR", "1"),
        "BENCH_READY": str(ready_path),
        "BENCH_DONE": str(done_path),
        "BENCH_USER_RATE": str(scenario.user_rate or 1),
        "BENCH_SIGNIN_COUNT": str(round(signin_rate * run_time * 1.1) + 10),
    }
    # The delivery scenario ends itself once every code is found or given up on (15 s each); the
    # others run for their time once the set-up is done; -t only bounds a hung set-up.
    if scenario.seconds:
        env["BENCH_RUN_SECONDS"] = f"{run_time:.1f}"
    else:
        run_time = 60
    command = [
        str(Path(sys.executable).parent / "locust"),
        *("-f", str(ROOT / "bench" / "locustfile.py"), "--headless", "--only-summary"),
        *("--host", stack.config.core_url, "-u", str(scenario.users), "-r", str(scenario.spawn_rate)),
        *("-t", f"{run_time + SETUP_SECONDS:.0f}s", "--stop-timeout", "5", "--loglevel", "WARNING"),
        scenario.user_class,
    ]
    log = open(OUT / "logs" / f"locust-{scenario.key}.log", "w")  # noqa: SIM115
    recorders = profiling.record(stack.pids(), run_time, OUT / "profiles" / scenario.key) if profile else []
    with probes.Sampler(find) as sampler:
        locust = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            load_ends = scenario.warmup + scenario.seconds if scenario.seconds else None
            cpu, window, load = watch(
                locust,
                find,
                (ready_path, done_path),
                warmup=scenario.warmup,
                load_ends=load_ends,
                limit=run_time + SETUP_SECONDS,
            )
        finally:
            if locust.poll() is None:
                os.killpg(locust.pid, signal.SIGKILL)
            locust.wait()
    for recorder in recorders:
        try:
            recorder.wait(timeout=30)
        except subprocess.TimeoutExpired:
            recorder.kill()
            recorder.wait()
    if not samples_path.exists():
        raise RuntimeError(f"locust wrote no samples for {scenario.key}; see {log.name}")
    raw = json.loads(samples_path.read_text())["requests"]
    names = [scenario.main, *sorted(name for name in raw if name != scenario.main)]
    rows = [report.row(name, raw[name], users=scenario.users) for name in names if name in raw]
    rate = rows[0]["rps"] if rows else None  # requests per second of the first row, over about the same window
    stack_cpu = sum(value for name, value in cpu.items() if name not in report.NOT_STACK)
    return {
        "title": scenario.title,
        "users": scenario.users,
        "locust_exit_code": locust.returncode,
        "rows": rows,
        "offered_rate": scenario.users * scenario.user_rate if scenario.user_rate else None,
        "cpu_window_s": round(window, 2),
        "cpu_percent": {name: round(100 * value / window, 1) for name, value in cpu.items()},
        "cpu_ms_per_request": {name: round(1000 * value / window / rate, 3) for name, value in cpu.items()}
        if rate
        else {},
        "stack_cpu_ms_per_request": round(1000 * stack_cpu / window / rate, 3) if rate else None,
        "load_average": load,
        "peak_memory": probes.memory_summary(sampler.peak) if sampler.peak else None,
        "profile": profiling.summarize_all(OUT / "profiles" / scenario.key, stack.executors) if profile else None,
        "_peak": sampler.peak,
    }


def watch(
    locust: subprocess.Popen, find, marks: tuple[Path, Path], *, warmup: float, load_ends: float | None, limit: float
) -> tuple[dict[str, float], float, dict]:
    """Wait for locust; return the CPU seconds (utime + stime, children included) each part of the
    stack, locust itself and everything else on the machine used between the end of the warm-up and
    the end of the load (or locust's exit), that window's length, and the machine's 1-minute load
    average at both ends. `marks` are the files locust touches when its set-up is done (the clock
    starts) and when its load ends early (the window ends: sign-in codes used up)."""
    ready, done = marks
    started = time.monotonic()
    load_started: float | None = None
    locust_process = psutil.Process(locust.pid)
    locust_cpu = 0.0
    before = after = None

    def mark() -> tuple:
        return (probes.snapshot(find()), probes.system_busy_seconds(), locust_cpu, time.monotonic())

    while locust.poll() is None and time.monotonic() - started < limit:
        try:
            times = locust_process.cpu_times()
            locust_cpu = times.user + times.system
        except psutil.NoSuchProcess:
            pass
        if load_started is None and ready.exists():
            load_started = time.monotonic()
        elapsed = time.monotonic() - load_started if load_started is not None else -1.0
        if before is None and elapsed >= warmup:
            before, load_before = mark(), os.getloadavg()[0]
        load_over = (load_ends is not None and elapsed >= load_ends) or done.exists()
        if before is not None and after is None and load_over:
            after = mark()
        time.sleep(0.05 if load_started is not None else 0.25)
    if before is None:
        if done.exists():
            raise RuntimeError("the prepared sign-in codes ran out in the warm-up: raise SIGNIN_EXPECTED_RATE")
        raise RuntimeError("locust stopped before the end of its set-up and warm-up")
    after = after or mark()
    cpu = {name: probes.cpu_seconds(before[0][name]["cpu"], after[0][name]["cpu"]) for name in after[0]}
    cpu["locust"] = after[2] - before[2]
    cpu["other"] = max(0.0, after[1] - before[1] - sum(cpu.values()))
    load = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    return cpu, max(0.001, after[3] - before[3]), load


def wait_for_sms_backlog(stack: Stack, timeout: float = 60) -> float:
    """Let the worker deliver what the last scenario queued, so it does not slow the next one."""
    started = time.monotonic()
    while stack.sms_backlog() and time.monotonic() - started < timeout:
        time.sleep(0.5)
    return round(time.monotonic() - started, 1)


def smoke_test(stack: Stack) -> None:
    """One code through the core, the OTP service and the worker to the inbox: the path works."""
    phone = "+79990000002"
    requests.post(f"{stack.config.core_url}/api/v1/auth/code/", json={"phone": phone}, timeout=10).raise_for_status()
    try:
        inbox.code(stack.config.otp_url, phone, timeout=20)
    except TimeoutError as exc:
        raise RuntimeError("the smoke test's SMS never reached the inbox: is the Celery worker running?") from exc


def profile_token(stack: Stack) -> str:
    """An access token of the seeded user, signed in once for scenarios 4 and 4b."""
    try:
        return inbox.sign_in(stack.config.core_url, stack.config.otp_url, PROFILE_PHONE)["access"]
    except (requests.RequestException, TimeoutError) as exc:
        raise RuntimeError(f"the seeded user could not sign in: {exc}") from exc


def _interrupt(*_args) -> None:
    raise KeyboardInterrupt


def git_commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return result.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds per scenario (default 20)")
    parser.add_argument("--users", type=int, default=50, help="concurrent users in scenarios 1-4 (default 50)")
    parser.add_argument("--quick", action="store_true", help="5 s per scenario: to check the harness, not to measure")
    parser.add_argument("--profile", action="store_true", help="py-spy every service during each scenario")
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="both web services log each request, as under `make run` (its defaults; honcho's relay not counted)",
    )
    parser.add_argument(
        "--code-rate", type=int, default=100, help="offered code requests/s of scenario 2b (default 100, the target's)"
    )
    parser.add_argument(
        "--only",
        help="comma-separated scenarios: healthz,healthz_rate,code,code_rate,signin,signin_max,journey,profile,"
        "profile_rate,delivery",
    )
    args = parser.parse_args()
    chosen = scenarios(5 if args.quick else args.seconds, args.users, args.code_rate)
    if args.only:
        keys = set(args.only.split(","))
        chosen = [s for s in chosen if s.key in keys]

    (OUT / "logs").mkdir(parents=True, exist_ok=True)
    stack = Stack(logs=OUT / "logs", access_log=args.access_log)
    # Ctrl-C and SIGTERM both end in the clean-up below, even if the caller started us with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    results: dict = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": psutil.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "commit": git_commit(),
        "access_log": args.access_log,
        "tuning": stack.tuning(),
        "scenarios": {},
    }
    memory: dict = {}
    exit_code = 0
    try:
        urls = f"{stack.config.core_url} (core) and {stack.config.otp_url} (OTP)"
        print(f"bench: fresh database {BENCH_DB}, stack on {urls}")
        database_recreate(stack.config.database_url)
        stack.start()
        smoke_test(stack)
        if any(scenario.key.startswith("profile") for scenario in chosen):
            seeded = stack.run_core_command("seed_referrals", "--phone", PROFILE_PHONE, "--count", str(REFERRALS))
            print("bench:", seeded)
            os.environ["BENCH_PROFILE_TOKEN"] = profile_token(stack)
        wait_for_sms_backlog(stack)
        time.sleep(2)
        find = stack_finder(stack)
        rest = probes.snapshot(find())
        memory["rest"] = probes.memory_summary(rest)
        peak = rest
        for scenario in chosen:
            print(f"bench: {scenario.title} ...", flush=True)
            result = run_scenario(stack, scenario, find, profile=args.profile)
            result["sms_backlog_drained_s"] = wait_for_sms_backlog(stack)
            scenario_peak = result.pop("_peak")
            if scenario_peak and probes.total_rss(scenario_peak) > probes.total_rss(peak):
                peak = scenario_peak
            results["scenarios"][scenario.key] = result
        memory["peak"] = probes.memory_summary(peak)
    except KeyboardInterrupt:
        print("bench: interrupted; stopping the stack", file=sys.stderr)
        exit_code = 130
        results["interrupted"] = True
    except RuntimeError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        exit_code = 1
        results["error"] = str(exc)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        stack.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    results["memory"] = memory
    results["targets"] = targets.targets(results["scenarios"], memory)
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report.write_json(OUT / "results.json", results)
    if results["scenarios"]:
        subtitle = f"{results['started_at']}, commit {results['commit']}, {psutil.cpu_count()} CPUs"
        report.plot(OUT / "latency.png", results["scenarios"], subtitle)
        print()
        print(report.cpu_table(results["scenarios"]))
        print()
        print(report.table(results["scenarios"]))
    if memory:
        print()
        for moment, shot in memory.items():
            groups = {k: v for k, v in shot.items() if not k.startswith("total_")}
            parts = ", ".join(f"{k} {v['rss_mb']:.0f} MB ({v['processes']})" for k, v in groups.items())
            print(
                f"stack memory {moment}: RSS {shot['total_rss_mb']:.0f} MB = {parts}; "
                f"PSS {shot['total_pss_mb']:.0f} MB (shared pages counted once)"
            )
    for key, scenario in results["scenarios"].items():
        for name, summary in (scenario.get("profile") or {}).items():
            print(f"\n[{key}] " + profiling.summary_text(name, summary))
    print()
    print(targets.targets_text(results["targets"]))
    print(f"\nwritten: {OUT / 'results.json'}, {OUT / 'latency.png'}")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
