"""`run.py --profile`: py-spy samples each service while a scenario runs, then a summary of where
the CPU went (the functions most often on the stack, and the ones running at the top of it)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path


def py_spy() -> str:
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if not found:
        raise SystemExit("bench: --profile needs py-spy: .venv/bin/pip install -r bench/requirements.txt")
    return found


def record(targets: dict[str, int], seconds: float, out: Path) -> list[subprocess.Popen]:
    """One py-spy per service (its master and, with -s, every worker); raw collapsed stacks."""
    out.mkdir(parents=True, exist_ok=True)
    recorders = []
    for name, pid in targets.items():
        command = [py_spy(), "record", "-p", str(pid), "-s", "-d", str(max(1, round(seconds))), "-r", "100"]
        command += ["--gil", "--nolineno", "--nonblocking", "-f", "raw", "-o", str(out / f"{name}.txt")]
        log = open(out / f"{name}.log", "w")  # noqa: SIM115 - py-spy keeps it open
        recorders.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT))
    return recorders


def summarize(path: Path, top: int = 25) -> dict:
    """Shares of the samples holding the GIL (Python CPU time): `inclusive` = the function is anywhere
    on the stack, `self` = it is the frame running. Frames on (nearly) every stack are left out."""
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    total = 0
    if not path.exists():
        return {"samples": 0, "inclusive": [], "self": []}
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        total += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
        leaf[frames[-1]] += int(count)

    def shares(counter: Counter[str], limit: float) -> list[dict]:
        rows = [(frame, n / total) for frame, n in counter.most_common() if n / total < limit]
        return [{"frame": frame, "share": round(share, 3)} for frame, share in rows[:top]]

    return {"samples": total, "inclusive": shares(inclusive, 0.6), "self": shares(leaf, 1.01)}


def summarize_all(folder: Path, names) -> dict:
    return {name: summarize(folder / f"{name}.txt") for name in names}


def summary_text(name: str, summary: dict) -> str:
    lines = [f"{name}: {summary['samples']} samples holding the GIL (100/s)"]
    for kind in ("inclusive", "self"):
        lines.append(f"  {kind}:")
        lines += [f"    {row['share']:6.1%}  {row['frame'][:110]}" for row in summary[kind]]
    return "\n".join(lines)
