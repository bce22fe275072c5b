"""The targets the benchmark checks: CPU per request and latency at a constant offered load; throughput
and latency ratios to /healthz, delivery and memory. Each comes with the numbers it was judged on."""

from __future__ import annotations

from report import CODE_CPU_TARGET_MS, _fmt

SIGNIN_CPU_TARGET_MS = 5.0
CODE_RATE_P99_TARGET_MS = 50.0


def targets(scenarios: dict, memory: dict) -> list[dict]:
    """The CPU targets, then the ratio, delivery and memory ones: [{"target", "passed", "measured"}];
    a target whose scenario did not run is left out."""
    return cpu_targets(scenarios) + latency_and_memory_targets(scenarios, memory)


def cpu_targets(scenarios: dict) -> list[dict]:
    """CPU per request summed over every stack process (the worker's delivery included,
    since the window is steady state), next to /healthz's; p99 at a constant 100 code requests/s."""
    checks = []
    healthz_cpu = scenarios.get("healthz", {}).get("stack_cpu_ms_per_request")
    floor = f" (healthz {healthz_cpu:.2f} ms)" if healthz_cpu else ""
    offered = scenarios.get("code_rate", {}).get("offered_rate") or 100
    checks += _cpu_checks(scenarios, "code request", CODE_CPU_TARGET_MS, ("code_rate", offered, "code"), floor)
    paced = scenarios.get("code_rate", {}).get("rows") or [None]
    if paced[0] and paced[0]["p99_ms"] is not None:
        p99, rate = paced[0]["p99_ms"], paced[0]["rps"]
        name = f"code request p99 <= {CODE_RATE_P99_TARGET_MS:.0f} ms at a constant {offered:.0f}/s"
        name += "" if offered == 100 else " (the target's load is 100/s)"
        checks.append(_check(name, p99 <= CODE_RATE_P99_TARGET_MS, f"{p99:.1f} ms ({_fmt(rate)}/s served)"))
    signin_rate = scenarios.get("signin", {}).get("offered_rate") or 30
    what = "sign-in (existing user)"
    checks += _cpu_checks(scenarios, what, SIGNIN_CPU_TARGET_MS, ("signin", signin_rate, "signin_max"), floor)
    return checks


def _cpu_checks(scenarios: dict, what: str, target_ms: float, keys: tuple[str, float, str], floor: str) -> list[dict]:
    """One request's CPU target checked at a constant rate and at saturation: `keys` is (the paced
    scenario, its offered rate in requests/s, the saturated scenario); a scenario not run is left out."""
    paced, rate, saturated = keys
    checks = []
    for key, label in ((paced, f"at {rate:.0f}/s"), (saturated, "at saturation")):
        cpu = scenarios.get(key, {}).get("stack_cpu_ms_per_request")
        if cpu is not None:
            name = f"{what} CPU <= {target_ms} ms, whole stack, {label}"
            checks.append(_check(name, cpu <= target_ms, f"{cpu:.2f} ms{floor}"))
    return checks


def latency_and_memory_targets(scenarios: dict, memory: dict) -> list[dict]:
    """Throughput and latency ratios to /healthz, delivery lag and losses, memory."""

    def main(key: str) -> dict | None:
        return scenarios[key]["rows"][0] if key in scenarios and scenarios[key]["rows"] else None

    checks = []
    healthz, code, profile, lag = main("healthz"), main("code"), main("profile"), main("delivery")
    if healthz and code and healthz["rps"] and code["rps"] is not None:
        ratio = code["rps"] / healthz["rps"]
        checks.append(_check("code request throughput >= 50% of healthz", ratio >= 0.5, f"{ratio:.0%}"))
    if code and code["p99_ms"] is not None:
        checks.append(_check("code request p99 <= 100 ms", code["p99_ms"] <= 100, f"{code['p99_ms']:.1f} ms"))
    for floor, measured, label in (
        (healthz, profile, "at saturation"),
        (main("healthz_rate"), main("profile_rate"), "both at a constant rate"),
    ):
        if floor and measured and floor["p50_ms"] and measured["p50_ms"] is not None:
            ratio = measured["p50_ms"] / floor["p50_ms"]
            name = f"profile (10k referrals) p50 <= 3x healthz p50, {label}"
            checks.append(
                _check(name, ratio <= 3, f"{ratio:.2f}x ({measured['p50_ms']:.1f} / {floor['p50_ms']:.1f} ms)")
            )
    if lag:
        p99 = lag["p99_ms"]
        checks.append(
            _check("delivery lag p99 <= 2.3 s (client sent→inbox)", p99 is not None and p99 <= 2300, f"{_fmt(p99)} ms")
        )
        server = lag.get("server_side") or {}
        checks.append(
            _check(
                "delivery lag p99 <= 2.3 s (OTP accepted→inbox)",
                server.get("p99_ms") is not None and server["p99_ms"] <= 2300,
                f"{_fmt(server.get('p99_ms'))} ms",
            )
        )
        sent = scenarios["delivery"]["rows"][1] if len(scenarios["delivery"]["rows"]) > 1 else None
        not_sent = sent["failures"] if sent else 0
        checks.append(
            _check(
                "delivery: nothing lost",
                lag["failures"] == 0 and not_sent == 0,
                f"{lag['failures']} lost, {not_sent} requests failed",
            )
        )
    for moment in ("rest", "peak"):
        if memory.get(moment):
            rss, pss = memory[moment]["total_rss_mb"], memory[moment]["total_pss_mb"]
            checks.append(_check(f"stack RSS sum < 600 MB ({moment})", rss < 600, f"{rss:.0f} MB"))
            # RSS counts a shared page once per process mapping it: PostgreSQL's shared buffers once
            # per backend. PSS splits it among them, so its sum is what the stack really holds.
            checks.append(_check(f"stack PSS sum < 600 MB ({moment})", pss < 600, f"{pss:.0f} MB"))
    return checks


def _check(name: str, passed: bool, measured: str) -> dict:
    return {"target": name, "passed": bool(passed), "measured": measured}


def targets_text(checks: list[dict]) -> str:
    return "\n".join(f"{'PASS' if c['passed'] else 'FAIL'}  {c['target']:<58} {c['measured']}" for c in checks)
