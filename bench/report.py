"""Turn locust's raw samples into rows and tables, print and plot them (targets: targets.py)."""

from __future__ import annotations

import json
import textwrap
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
    lines = [header, "-" * len(header)]
    for scenario in scenarios.values():
        for index, item in enumerate(scenario["rows"]):
            label = scenario["title"] if index == 0 else f"  {item['name']}"
            lines.append(
                f"{label[:43]:<44}{_fmt(item['users'] if index == 0 else None):>6}{item['requests']:>8}"
                f"{item['failures']:>6}{_fmt(item['rps']):>9}{_fmt(item['p50_ms']):>9}{_fmt(item['p95_ms']):>9}"
                f"{_fmt(item['p99_ms']):>9}{_fmt(item['max_ms']):>9}"
            )
        lines += [f"    {note}" for note in notes(scenario)]
    lines.append("latencies in ms; req/s over the measured window (after the warm-up)")
    return "\n".join(lines)


def notes(scenario: dict) -> list[str]:
    """What a row cannot say: how fast the codes went out, and the lag measured by the server."""
    found = []
    for item in scenario["rows"]:
        if item.get("server_side"):
            side = item["server_side"]
            found.append(
                f"lag from the OTP service's acceptance (requested_at → sent_at): p50 {_fmt(side['p50_ms'])}, "
                f"p99 {_fmt(side['p99_ms'])}, max {_fmt(side['max_ms'])} ms; {item['failures']} lost"
            )
        elif item.get("send_window_s") is not None and item["name"].startswith("POST otp"):
            found.append(
                f"{item['requests']} codes sent within {item['send_window_s']:.2f} s; "
                f"the last answer came {item['window_s']:.2f} s after the first was sent"
            )
    return found


NOT_STACK = ("locust", "other")  # CPU groups that are not the system under test
ORDER = ("proxy", "core-web", "otp-web", "otp-worker", "postgres", "redis")  # a request's way through


def stack_parts(scenarios: dict) -> list[str]:
    """The stack's process groups measured in any scenario, in the order a request meets them."""
    found = {name for s in scenarios.values() for name in s.get("cpu_ms_per_request", {}) if name not in NOT_STACK}
    return sorted(found, key=lambda name: (ORDER.index(name) if name in ORDER else len(ORDER), name))


def cpu_table(scenarios: dict) -> str:
    """The headline: CPU per request of each stack process, their sum, throughput and the noise."""
    parts = stack_parts(scenarios)
    header = (
        f"{'CPU per request, ms':<36}{'req/s':>8}"
        + "".join(f"{part:>11}" for part in parts)
        + f"{'stack':>8}{'locust':>8}{'other%':>8}{'load':>11}"
    )
    lines = [header, "-" * len(header)]
    for scenario in scenarios.values():
        per_request = scenario.get("cpu_ms_per_request", {})
        load = scenario.get("load_average") or {}
        lines.append(
            f"{scenario['title'][:35]:<36}{_fmt(scenario['rows'][0]['rps'] if scenario['rows'] else None):>8}"
            + "".join(f"{_fmt(per_request.get(part), 2):>11}" for part in parts)
            + f"{_fmt(scenario.get('stack_cpu_ms_per_request'), 2):>8}{_fmt(per_request.get('locust'), 2):>8}"
            + f"{_fmt(scenario.get('cpu_percent', {}).get('other'), 0):>8}"
            + f"{_fmt(load.get('before')):>5} → {_fmt(load.get('after')):<4}"
        )
    lines.append(
        "utime+stime of each process and its children (/proc) over the measured window, divided by the requests of"
    )
    lines.append(
        "the scenario's first row; stack = their sum (Redis is shared: others' commands count too); locust = the"
    )
    lines.append("load client; other% = the rest of the machine, % of one core; load = 1-minute load average")
    return "\n".join(lines)


def write_json(path: Path, results: dict) -> None:
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


# p99 targets drawn on the plot (scenario key → ms; at saturation, and at a constant 100/s); the
# ratios are in the table.
P99_TARGETS = {"code": 100, "code_rate": 50, "delivery": 2300}
CODE_CPU_TARGET_MS = 4.0  # CPU per code request, whole stack


def plot(path: Path, scenarios: dict, subtitle: str = "") -> None:
    """Latency percentiles per scenario (left) and CPU per request, stacked by process (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = {key: s for key, s in scenarios.items() if s["rows"] and s["rows"][0]["p50_ms"] is not None}
    labels = [textwrap.fill(s["title"], 18, break_long_words=False) for s in shown.values()]
    x = np.arange(len(shown))
    width = 0.27
    figure, (axes, cpu_axes) = plt.subplots(1, 2, figsize=(16, 6), gridspec_kw={"width_ratios": [3, 2]})
    for offset, p in zip((-width, 0, width), PERCENTILES, strict=True):
        values = [s["rows"][0][f"p{p}_ms"] for s in shown.values()]
        bars = axes.bar(x + offset, values, width, label=f"p{p}")
        axes.bar_label(bars, labels=[_fmt(v, 0 if v >= 10 else 1) for v in values], fontsize=7, padding=2)
    for index, key in enumerate(shown):
        if key in P99_TARGETS:
            axes.hlines(P99_TARGETS[key], index - 1.5 * width, index + 1.5 * width, colors="red", linestyles="--")
            axes.annotate("p99 target", (index + 1.5 * width, P99_TARGETS[key]), fontsize=7, color="red")
    axes.set_yscale("log")
    axes.set_ylabel("latency, ms (log scale)")
    axes.set_xticks(x, labels, fontsize=7)
    axes.set_xlim(-0.6, len(shown) - 0.4)
    axes.set_title("Latency percentiles per scenario", fontsize=10)
    axes.legend(loc="upper left")
    axes.grid(axis="y", which="both", alpha=0.3)

    measured = {key: s for key, s in shown.items() if s.get("cpu_ms_per_request")}
    bottom = np.zeros(len(measured))
    for part in stack_parts(measured):
        values = np.array([s["cpu_ms_per_request"].get(part, 0.0) for s in measured.values()])
        cpu_axes.bar(np.arange(len(measured)), values, 0.6, bottom=bottom, label=part)
        bottom += values
    for index, total in enumerate(bottom):
        cpu_axes.annotate(f"{total:.2f}", (index, total), ha="center", va="bottom", fontsize=7)
    if "code_rate" in measured:
        index = list(measured).index("code_rate")
        cpu_axes.hlines(CODE_CPU_TARGET_MS, index - 0.4, index + 0.4, colors="red", linestyles="--")
        cpu_axes.annotate("target", (index + 0.4, CODE_CPU_TARGET_MS), fontsize=7, color="red")
    cpu_axes.set_xticks(
        np.arange(len(measured)),
        [textwrap.fill(s["title"], 18, break_long_words=False) for s in measured.values()],
        fontsize=7,
    )
    cpu_axes.set_ylabel("CPU per request, ms (all stack processes)")
    cpu_axes.set_title("CPU per request by process (/proc utime+stime)", fontsize=10)
    cpu_axes.legend(loc="upper left", fontsize=7)
    cpu_axes.grid(axis="y", alpha=0.3)
    figure.suptitle("make bench" + (f": {subtitle}" if subtitle else ""), fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
