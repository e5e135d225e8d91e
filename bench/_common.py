"""Helpers shared by the benchmark scripts: timing, peak memory, machine description, tables."""

from __future__ import annotations

import datetime as dt
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

T = TypeVar("T")

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    """Run ``fn`` once; its result and the wall-clock seconds it took."""
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB.

    Linux's VmHWM where there is one: ``ru_maxrss`` of a subprocess also counts its parent's
    memory at the time of the fork (Linux carries the high-water mark over ``exec``).
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def r_version(rscript: str = "Rscript") -> str:
    """R and R `survey` versions, or why they are unavailable."""
    code = 'cat(R.version$version.string, "/ survey", format(packageVersion("survey")))'
    try:
        run = subprocess.run([rscript, "-e", code], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc})"
    return run.stdout.strip() if run.returncode == 0 else "unavailable"


def machine(packages: Sequence[str] = ("numpy", "pandas", "scipy", "polars", "svy"),
            with_r: bool = True) -> dict[str, str]:
    """What the benchmark ran on: CPU, cores, memory, software versions, date."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kib / 1024**2:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    info = {
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": f"{cpu} ({os.cpu_count()} cores visible, nproc {len(os.sched_getaffinity(0))})",
        "memory": mem,
        "python": sys.version.split()[0],
        "tryg": _version("tryg"),
    }
    info.update({p: _version(p) for p in packages})
    if with_r:
        info["R"] = r_version()
    return info


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def seconds(value: float) -> str:
    """Seconds with a sensible number of digits."""
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"


def ratio(a: float, b: float) -> str:
    """How many times ``a`` is ``b``, e.g. "340×"."""
    return f"{a / b:,.0f}×" if a / b >= 10 else f"{a / b:.1f}×"



def largest_remainder(total: int, shares: np.ndarray, minimum: int = 0) -> np.ndarray:
    """Split ``total`` into integers proportional to ``shares``, each at least ``minimum``."""
    rest = total - minimum * len(shares)
    exact = rest * shares / shares.sum()
    out = np.floor(exact).astype(np.int64)
    out[np.argsort(out - exact)[: rest - out.sum()]] += 1
    return np.asarray(out + minimum, dtype=np.int64)


def draw(rng: np.random.Generator, group: np.ndarray, probs: list[np.ndarray]) -> np.ndarray:
    """For each row, a category drawn from the probabilities of its group (0-based)."""
    offsets = np.cumsum([0] + [len(p) for p in probs])
    cum = np.concatenate([g + np.cumsum(p) / p.sum() for g, p in enumerate(probs)])
    cum[offsets[1:] - 1] = np.arange(len(probs)) + 1.0  # exact upper end of each group
    pos = np.searchsorted(cum, group + rng.random(len(group)), side="right")
    return np.asarray(np.minimum(pos, offsets[group + 1] - 1) - offsets[group], dtype=np.int64)


def agreement(ref: pd.DataFrame, other: pd.DataFrame, keys: list[str],
              only: np.ndarray | None = None) -> dict[str, float]:
    """Largest differences of ``estimate`` and ``se`` between two tables of domain results, and
    how many domains only one has (``only``: compare just the domains whose first key is in it)."""
    if only is not None:
        ref = ref[ref[keys[0]].isin(only)]
    m = ref.merge(other[[*keys, "estimate", "se"]], on=keys, suffixes=("", "_o"))
    return {
        "domains": float(len(m)),
        "missing": float(len(ref) + len(other) - 2 * len(m)),
        "estimate": float((m["estimate"] - m["estimate_o"]).abs().max()),
        "se": float((m["se"] - m["se_o"]).abs().max()),
    }


def agrees(a: dict[str, float], tol: float) -> bool:
    """Every domain matched, and within ``tol``."""
    return a["missing"] == 0 and max(a["estimate"], a["se"]) <= tol


def format_agreement(a: dict[str, float], tol: float) -> str:
    """One line for the table: ✓ when every domain matched within ``tol``."""
    return (f"{'✓' if agrees(a, tol) else '✗'} {int(a['domains']):,} domains, max abs Δ estimate "
            f"{a['estimate']:.1e}, max abs Δ SE {a['se']:.1e}"
            + (f", {int(a['missing'])} domains unmatched" if a["missing"] else ""))
