"""Benchmark: the index's table operations, pandas' own against the hand-written ones.

Issue 13 replaced the hand-written join, small-area row replacement and sort of
``tryg.index.compute`` and the Arrow-buffer duplicate check of ``tryg.index.respondents`` by
pandas operations (:mod:`tryg.index._frames`), on the condition that the national run loses no
more than 10 %. This times both versions on national-size tables in one process, interleaved
(best of ``--repeats``): the hand-written versions are read from a checkout of the code before
the change (``--before``, a ``src`` folder), the new ones from this tree.

Usage: ``.venv/bin/python bench/frames_ab.py --before /tmp/hc-base/src``.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

from tryg.demo.model import generate
from tryg.index import _frames, load_spec, run

KEY = ["area_code", "wave", "measure"]


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def best(fn: Callable[[], object], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    old = _load(args.before / "tryg/index/compute.py", "old_compute")
    old_resp = _load(args.before / "tryg/index/respondents.py", "old_respondents")
    data = generate(1, "national")
    spec = load_spec("dk-tryghedsindeks")
    t0 = time.perf_counter()
    result = run(spec, survey=data.survey, register=data.register,
                 population=data.population, areas=data.areas)
    whole = time.perf_counter() - t0
    final = result.table
    table = final[[*KEY, "estimate", "se", "n", "n_eff", "method", "flags"]].assign(
        df=1.0, area_code=final["area_code"].astype("str"), measure=final["measure"].astype("str"))
    small = table["flags"].str.contains("model_based", regex=False).to_numpy()
    sa = table.loc[small, [*KEY, "estimate", "se", "n", "method", "flags"]].reset_index(drop=True)
    pooled = final.loc[final["change_pooled"].notna(), [*KEY, "change_pooled", "sig_pooled"]]
    rest = final.loc[final["diff_parent_rest"].notna(), [*KEY, "diff_parent_rest",
                                                          "sig_parent_rest"]]
    parts = [pooled.reset_index(drop=True), rest.reset_index(drop=True)]

    def old_joins() -> object:
        codes = {c: old._factorize(table[c]) for c in KEY}
        t, codes = old._replace_small_areas(table, sa, codes)
        for part in parts:
            t = old._left_join(t, part, KEY, codes)
        return t

    def new_joins() -> object:
        t, codes = _frames.replace_rows([table], sa, KEY, ("n_eff", "df"))
        for part in parts:
            t = _frames.left_join(t, part, KEY)
        return t, codes

    area, area_u = old._factorize(table["area_code"])
    measure, measure_u = old._factorize(table["measure"])
    level = np.zeros(len(table))
    wave = table["wave"].to_numpy(np.float64, na_value=np.nan)

    def old_sort() -> object:
        return np.lexsort((old._ranks(measure, measure_u), level, wave,
                           old._ranks(area, area_u), level))

    def new_sort() -> object:
        return _frames.sort_order([_frames.ranks((area, area_u)),
                                   _frames.ranks(_frames.factorize(pd.Series(wave))),
                                   _frames.ranks((measure, measure_u))])

    responses = data.survey.responses
    rows = [
        ("joins and small-area replacement", best(old_joins, args.repeats),
         best(new_joins, args.repeats)),
        ("final sort", best(old_sort, args.repeats), best(new_sort, args.repeats)),
        ("repeated respondents", best(lambda: old_resp._repeated_respondents(responses),
                                      args.repeats),
         best(lambda: _frames.repeated_rows(responses, ["wave", "respondent_id"]),
              args.repeats)),
    ]
    assert np.array_equal(old_sort(), new_sort())
    assert np.array_equal(old_resp._repeated_respondents(responses),
                          _frames.repeated_rows(responses, ["wave", "respondent_id"]))
    print(f"pandas {pd.__version__}; one whole national run in this process: {whole:.2f} s")
    print()
    print("| operation | hand-written (s) | pandas (s) | difference (s) |")
    print("| --- | --- | --- | --- |")
    for name, a, b in rows:
        print(f"| {name} | {a:.3f} | {b:.3f} | {b - a:+.3f} |")
    total = sum(b - a for _, a, b in rows)
    print(f"| **all** | | | **{total:+.3f}** ({total / whole:+.1%} of the whole run) |")


if __name__ == "__main__":
    main()
