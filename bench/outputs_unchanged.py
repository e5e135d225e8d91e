"""Check: the shipped specs give the same tables before and after a change.

Runs every shipped spec (``src/tryg/index/specs/*.toml``) on the small and the national demo
data (seed 1) and either saves the result tables (``save DIR``) or compares them with saved
ones (``compare DIR``): the non-float columns must be identical, the floats equal within a
relative 1e-9. A spec with a ``[drivers]`` table also has its drivers and area-problems tables
saved and compared (``<run>-drivers``, ``<run>-problems``). Prints a markdown table of the
largest differences.

Usage: ``.venv/bin/python bench/outputs_unchanged.py save /tmp/house-before`` before the change,
``.venv/bin/python bench/outputs_unchanged.py compare /tmp/house-before`` after it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from tryg.demo.model import generate
from tryg.index import load_spec, run, shipped_specs


def tables() -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    for size in ("small", "national"):
        data = generate(1, size)
        for spec_id in sorted(shipped_specs()):
            spec = load_spec(spec_id)
            result = run(spec, survey=data.survey, register=data.register,
                         population=data.population, areas=data.areas)
            out[f"{size}-{spec_id}"] = result.table
            if result.drivers is not None:
                out[f"{size}-{spec_id}-drivers"] = result.drivers.drivers
                out[f"{size}-{spec_id}-problems"] = result.drivers.problems
    return out


def compare(before: pd.DataFrame, after: pd.DataFrame) -> tuple[bool, float, str]:
    """(identical non-floats, max relative float difference, first problem)."""
    if list(before.columns) != list(after.columns) or len(before) != len(after):
        return False, np.inf, f"shape {before.shape} -> {after.shape}"
    worst = 0.0
    for c in before.columns:
        b, a = before[c], after[c]
        if str(b.dtype) != str(a.dtype):
            return False, np.inf, f"dtype of {c}: {b.dtype} -> {a.dtype}"
        if b.dtype == np.float64:
            bv, av = b.to_numpy(), a.to_numpy()
            if not np.array_equal(np.isnan(bv), np.isnan(av)):
                return False, np.inf, f"missing values of {c} differ"
            ok = ~np.isnan(bv)
            scale = np.maximum(np.abs(bv[ok]), 1e-300)
            rel = np.abs(bv[ok] - av[ok]) / scale
            # a difference against an exact zero is measured absolutely
            rel = np.where(bv[ok] == 0, np.abs(av[ok]), rel)
            worst = max(worst, float(rel.max()) if rel.size else 0.0)
        elif not b.equals(a):
            rows = np.flatnonzero(~((b == a) | (b.isna() & a.isna())).to_numpy(bool))
            return False, worst, f"{c} differs in {len(rows)} rows, first {rows[:3]}"
    return True, worst, ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("save", "compare"))
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    now = tables()
    if args.action == "save":
        args.folder.mkdir(parents=True, exist_ok=True)
        for name, table in now.items():
            table.to_pickle(args.folder / f"{name}.pkl")
            print(f"saved {name}: {len(table):,} rows")
        return
    print("| run | rows | non-floats identical | max relative float difference | problem |")
    print("| --- | --- | --- | --- | --- |")
    bad = False
    saved = {p.stem for p in args.folder.glob("*.pkl")}
    for name in sorted(saved - now.keys()):
        bad = True
        print(f"| {name} | | NO | | saved but not produced now |")
    for name, table in now.items():
        if name not in saved:
            bad = True
            print(f"| {name} | {len(table):,} | NO | | not saved before |")
            continue
        before = pd.read_pickle(args.folder / f"{name}.pkl")
        same, worst, problem = compare(before, table)
        bad |= not same or worst > 1e-9
        print(f"| {name} | {len(table):,} | {'yes' if same else 'NO'} | {worst:.1e} | {problem} |")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
