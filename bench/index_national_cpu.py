"""Benchmark: processor seconds of the headline share and of the whole national run.

``bench/index_national.py`` reports wall-clock seconds, which on a shared machine measure the
other processes as much as ours. This reports the process's own CPU seconds
(``time.process_time``, all its threads) next to the wall seconds, best of ``--repeats``,
headline and whole run interleaved. To compare two versions in one session, run it once per
version (e.g. ``PYTHONPATH=<old checkout>/src``) one after the other.

Usage: ``.venv/bin/python bench/index_national_cpu.py [--repeats K]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import tryg
from index_national import headline  # bench/ is on the path of a script run from it
from tryg.demo.model import generate
from tryg.index import load_spec, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=4)
    args = parser.parse_args()
    data = generate(1, "national")
    spec = load_spec("dk-tryghedsindeks")

    def whole() -> object:
        return run(spec, survey=data.survey, register=data.register,
                   population=data.population, areas=data.areas)

    sides: dict[str, Callable[[], object]] = {"headline": lambda: headline(data),
                                              "whole run": whole}
    seen: dict[str, list[tuple[float, float]]] = {k: [] for k in sides}
    for fn in sides.values():
        fn()  # warm-up
    for _ in range(args.repeats):
        for name, fn in sides.items():
            cpu, wall = time.process_time(), time.perf_counter()
            fn()
            seen[name].append((time.process_time() - cpu, time.perf_counter() - wall))
    best = {k: (min(c for c, _ in v), min(w for _, w in v)) for k, v in seen.items()}
    print(f"tryg from {Path(tryg.__file__).parent}")
    print("| what | CPU seconds | wall seconds |")
    print("| --- | --- | --- |")
    for name, (cpu, wall) in best.items():
        print(f"| {name} | {cpu:.2f} | {wall:.2f} |")
    ratio = best["whole run"][0] / best["headline"][0]
    print(f"| whole run / headline (CPU) | {ratio:.1f}× | |")


if __name__ == "__main__":
    main()
