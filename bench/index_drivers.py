"""Benchmark: what the drivers of insecurity add to an index run (issue 18, point 5).

Runs the shipped ``dk-tryghedsindeks`` on a demo data set with its ``[drivers]`` table and
without it (the same text, the table cut off), interleaved, best of ``--repeats``, and reports
the process's CPU seconds (``time.process_time``, all threads) and wall seconds of each, and
the difference: the drivers' cost. Also the cells modelled and the area-problem rows.

Usage: ``.venv/bin/python bench/index_drivers.py [--size small|national] [--repeats K]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

from tryg.demo.model import generate
from tryg.index import load_spec, run
from tryg.index.spec import parse_spec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="small", choices=["small", "national"])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    warnings.simplefilter("ignore", RuntimeWarning)
    data = generate(1, args.size)
    spec = load_spec("dk-tryghedsindeks")
    without = parse_spec(spec.source.split("\n[drivers]")[0].rsplit("# Drivers", 1)[0])
    seen: dict[str, list[tuple[float, float]]] = {"without drivers": [], "with drivers": []}
    result = None
    for _ in range(args.repeats):
        for name, s in (("without drivers", without), ("with drivers", spec)):
            cpu, wall = time.process_time(), time.perf_counter()
            out = run(s, survey=data.survey, register=data.register,
                      population=data.population, areas=data.areas)
            seen[name].append((time.process_time() - cpu, time.perf_counter() - wall))
            if out.drivers is not None:
                result = out.drivers
    best = {k: (min(c for c, _ in v), min(w for _, w in v)) for k, v in seen.items()}
    print(f"demo {args.size}, best of {args.repeats}")
    print("| what | CPU seconds | wall seconds |")
    print("| --- | --- | --- |")
    for name, (cpu, wall) in best.items():
        print(f"| {name} | {cpu:.2f} | {wall:.2f} |")
    extra = best["with drivers"][0] - best["without drivers"][0]
    print(f"| drivers (difference) | {extra:.2f} | |")
    if result is not None:
        d = result.drivers
        cells = d.drop_duplicates(["level", "area_code", "wave"])
        print(f"\ncells: {len(cells)} ({int((~cells['suppressed']).sum())} with a model), "
              f"area-problem rows: {len(result.problems)}")


if __name__ == "__main__":
    main()
