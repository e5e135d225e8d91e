"""Benchmark: how much of the national run is the statistics engine's own work.

``bench/index_national.py`` compares the whole ``dk-tryghedsindeks`` run with the headline share
alone (target: within 3×). This answers the question behind that target — does the index
layer add little to the engine? — by sampling the running call stack: a second thread looks at
the main thread's stack every half millisecond and counts a sample as *engine* when any frame
is inside ``tryg.stats``, as *index layer* when it is inside ``tryg.index`` only (pandas and
numpy calls made by index code count as index layer). The samples are split by the run's
stages (its progress messages). Sampling adds a little overhead to both kinds alike; the
shares, not the seconds, are the result.

Usage: ``.venv/bin/python bench/index_national_share.py [--repeats K]``.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import Counter
from types import FrameType

from index_national import headline  # bench/ is on the path of a script run from it
from tryg.demo.model import generate
from tryg.index import load_spec, run

ENGINE, INDEX, OTHER = "tryg.stats (engine)", "tryg.index (index layer)", "other"


def kind(frame: FrameType | None) -> str:
    """What the innermost tryg code on this stack is part of."""
    seen_index = False
    while frame is not None:
        name = frame.f_code.co_filename
        if "/tryg/stats/" in name:
            return ENGINE
        seen_index = seen_index or "/tryg/index/" in name
        frame = frame.f_back
    return INDEX if seen_index else OTHER


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data = generate(1, "national")
    spec = load_spec("dk-tryghedsindeks")
    stage = ["start"]

    def progress(message: str, _fraction: float) -> None:
        stage[0] = message.split(",")[0]

    def whole() -> object:
        return run(spec, survey=data.survey, register=data.register,
                   population=data.population, areas=data.areas, progress=progress)

    whole()  # warm-up
    headline(data)
    heads: list[float] = []
    runs: list[float] = []  # unsampled, interleaved: the seconds the shares are taken of
    for _ in range(args.repeats):
        for fn, times in ((lambda: headline(data), heads), (whole, runs)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    head, run_s = min(heads), min(runs)
    samples: Counter[tuple[str, str]] = Counter()
    main_thread = threading.get_ident()
    running = threading.Event()

    def sample() -> None:
        while running.is_set():
            samples[(stage[0], kind(sys._current_frames().get(main_thread)))] += 1
            time.sleep(0.0005)

    for _ in range(args.repeats):
        running.set()
        sampler = threading.Thread(target=sample)
        sampler.start()
        whole()
        running.clear()
        sampler.join()
    total = sum(samples.values())
    by_kind: Counter[str] = Counter()
    for (_, k), n in samples.items():
        by_kind[k] += n
    print(f"whole run {run_s:.2f} s, headline share alone {head:.2f} s (best of "
          f"{args.repeats}, interleaved, unsampled): {run_s / head:.1f}×; shares from "
          f"{args.repeats} sampled runs")
    for k in (ENGINE, INDEX, OTHER):
        share = by_kind[k] / total
        print(f"{k:28s} {share:6.1%}  ~{share * run_s:.2f} s = {share * run_s / head:.1f}× "
              "the headline")
    print("\nby stage:")
    for (name, k), n in sorted(samples.items()):
        if n / total >= 0.001:
            print(f"  {name:28s} {k:28s} {n / total:6.1%}")


if __name__ == "__main__":
    main()
