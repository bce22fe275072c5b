"""Turn locust's raw samples into rows, check the targets of issue 7, print and plot them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

PERCENTILES = (50, 95, 99)


def row(name: str, entry: dict, *, users: int | None = None) -> dict:
    """One line of the table: count, failures, throughput over the measured window, percentiles."""
    ms = np.asarray(entry["ms"], dtype=float)
    window = (entry["last"] - entry["first"]) if entry["first"] is not None else 0.0
    result = {
        "name": name,
        "users": users,
        "requests": int(ms.size) + entry["failures"],
        "failures": entry["failures"],
        "errors": dict(entry["errors"]),
        "rps": round(ms.size / window, 1) if window > 0 else None,
        "window_s": round(window, 2),
    }
    for p in PERCENTILES:
        result[f"p{p}_ms"] = round(float(np.percentile(ms, p)), 1) if ms.size else None
    result["max_ms"] = round(float(ms.max()), 1) if ms.size else None
    if entry.get("extra"):
        extra = np.asarray(entry["extra"], dtype=float)
        result["server_side"] = {f"p{p}_ms": round(float(np.percentile(extra, p)), 1) for p in (50, 99)} | {
            "max_ms": round(float(extra.max()), 1)
        }
    if entry.get("last_start") is not None and entry["first"] is not None:
        result["send_window_s"] = round(entry["last_start"] - entry["first"], 3)
    return result


def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def table(scenarios: dict) -> str:
    header = f"{'scenario':<44}{'users':>6}{'n':>8}{'fail':>6}{'req/s':>9}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}"
    header += f"{'CPU stack/pg/locust/other %':>30}"
    lines = [header, "-" * len(header)]
    for scenario in scenarios.values():
        cpu = scenario.get("cpu_percent", {})
        cpu_text = "/".join(_fmt(cpu.get(k), 0) for k in ("app", "postgres", "locust", "other"))
        for index, item in enumerate(scenario["rows"]):
            label = scenario["title"] if index == 0 else f"  {item['name']}"
            lines.append(
                f"{label[:43]:<44}{_fmt(item['users'] if index == 0 else None):>6}{item['requests']:>8}"
                f"{item['failures']:>6}{_fmt(item['rps']):>9}{_fmt(item['p50_ms']):>9}{_fmt(item['p95_ms']):>9}"
                f"{_fmt(item['p99_ms']):>9}{_fmt(item['max_ms']):>9}{cpu_text if index == 0 else '':>30}"
            )
    lines.append("latencies in ms; req/s over the measured window (after warm-up); CPU % of one core")
    return "\n".join(lines)


def targets(scenarios: dict, memory: dict) -> list[dict]:
    """The targets of issue 7, each with the numbers it was judged on."""

    def main(key: str) -> dict | None:
        return scenarios[key]["rows"][0] if key in scenarios and scenarios[key]["rows"] else None

    checks = []
    healthz, code, profile, lag = main("healthz"), main("code"), main("profile"), main("delivery")
    if healthz and code and healthz["rps"] and code["rps"] is not None:
        ratio = code["rps"] / healthz["rps"]
        checks.append(_check("code request throughput >= 50% of healthz", ratio >= 0.5, f"{ratio:.0%}"))
    if code and code["p99_ms"] is not None:
        checks.append(_check("code request p99 <= 100 ms", code["p99_ms"] <= 100, f"{code['p99_ms']:.1f} ms"))
    if healthz and profile and healthz["p50_ms"] and profile["p50_ms"] is not None:
        ratio = profile["p50_ms"] / healthz["p50_ms"]
        checks.append(_check("profile (10k referrals) p50 <= 3x healthz p50", ratio <= 3, f"{ratio:.2f}x"))
    if lag:
        p99 = lag["p99_ms"]
        checks.append(_check("delivery lag p99 <= 2.3 s", p99 is not None and p99 <= 2300, f"{_fmt(p99)} ms"))
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
            total = memory[moment]["total_rss_mb"]
            checks.append(_check(f"stack RSS < 600 MB ({moment})", total < 600, f"{total:.0f} MB"))
    return checks


def _check(name: str, passed: bool, measured: str) -> dict:
    return {"target": name, "passed": bool(passed), "measured": measured}


def targets_text(checks: list[dict]) -> str:
    return "\n".join(f"{'PASS' if c['passed'] else 'FAIL'}  {c['target']:<50} {c['measured']}" for c in checks)


def write_json(path: Path, results: dict) -> None:
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


def plot(path: Path, scenarios: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [s["title"] for s in scenarios.values() if s["rows"] and s["rows"][0]["p50_ms"] is not None]
    mains = [s["rows"][0] for s in scenarios.values() if s["rows"] and s["rows"][0]["p50_ms"] is not None]
    x = np.arange(len(names))
    width = 0.27
    figure, axes = plt.subplots(figsize=(11, 5.5))
    for offset, p in zip((-width, 0, width), PERCENTILES, strict=True):
        values = [m[f"p{p}_ms"] for m in mains]
        bars = axes.bar(x + offset, values, width, label=f"p{p}")
        axes.bar_label(bars, labels=[_fmt(v, 0 if v >= 10 else 1) for v in values], fontsize=7, padding=2)
    axes.set_yscale("log")
    axes.set_ylabel("latency, ms (log scale)")
    axes.set_xticks(x, [n.replace(" ", "\n", 1) for n in names], fontsize=8)
    axes.set_title("Latency percentiles per scenario (make bench)")
    axes.legend()
    axes.grid(axis="y", which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
