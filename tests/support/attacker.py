"""An attacker who reads only what the public can and tries every linear relation the tables
publish to work out a hidden figure.

Written independently of :mod:`tryg.index.disclosure` (which decides what to hide): it works on
the public results table as a reader downloads it, the area hierarchy as the API lists it and
the specification as the methods page states it, and solves the sample-size and count sums
with a linear programme (bounds included: a count shown as "< 5" lies in 0-4), so that a gap in
the protection shows up here rather than being shared with the code it tests.

Relations tried:

* next wave − change since the previous wave (and the same for pooled earlier waves);
* area − difference from the rest of its parent (= the rest; one hidden sibling alone);
* the composite and its sub-indices (a weighted mean with the spec's weights), and the shares
  of one question's categories (they add up to 1);
* parent − published children, for counts and sample sizes, in every hierarchy, with the
  bounds the display gives;
* the same sample size shown for another measure of the same area and wave;
* rate × population (a rate shown while its count is hidden).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from support.frames import tuples
from tryg.index.spec import Spec

Key = tuple[str, int, str]  # area, wave, measure


@dataclass(frozen=True)
class Candidate:
    key: Key
    field: str  # "estimate" or "n"
    value: float
    how: str


def _num(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v


def _n_value(text: Any) -> tuple[float, float, float]:
    """(value, lower, upper) of an ``n_display``: a number, "< k" or hidden."""
    if text is None or (isinstance(text, float) and math.isnan(text)) or str(text) == "":
        return math.nan, 0.0, math.inf
    s = str(text).strip()
    if s.startswith("<"):
        return math.nan, 0.0, float(s[1:].strip()) - 1
    return float(s), float(s), float(s)


def parents_by_year(areas: Iterable[Mapping[str, Any]], year: int) -> dict[str, list[str]]:
    """Child → parents valid in ``year`` (as the API lists them)."""
    out: dict[str, list[str]] = defaultdict(list)
    for a in areas:
        for p in a.get("parents") or []:
            lo, hi = p.get("valid_from"), p.get("valid_to")
            if (lo is None or int(lo) <= year) and (hi is None or year <= int(hi)):
                out[str(a["code"])].append(str(p["code"]))
    return out


def attack(public: pd.DataFrame, areas: list[dict[str, Any]], spec: Spec,
           truth_n: Mapping[Key, float] | None = None) -> list[Candidate]:
    """Every value the attacker can pin down for a cell whose figure is not published.

    ``truth_n``: the true sample sizes and counts, used only to choose which hierarchy sums
    hold (a stronger attacker than one who must guess them); never to derive a value.
    """
    t = public.copy()
    t["wave"] = t["wave"].astype(int)
    t["est"] = t["estimate"].map(_num)
    nv = t["n_display"].map(_n_value)
    t["n_val"] = [v for v, _, _ in nv]
    t["n_lo"] = [lo for _, lo, _ in nv]
    t["n_hi"] = [hi for _, _, hi in nv]
    rows = {(str(r.area_code), int(r.wave), str(r.measure)): r for r in tuples(t)}
    waves = sorted(t["wave"].unique().tolist())
    out: list[Candidate] = []
    register_ids = {m.id for m in spec.register}

    def est(key: Key) -> float:
        r = rows.get(key)
        return math.nan if r is None else float(r.est)

    # 1. changes: next wave − change = the earlier wave (or the pooled earlier waves)
    for (a, w, m), r in rows.items():
        if not math.isfinite(r.est):
            continue
        i = waves.index(w)
        ch = _num(r.change_prev)
        if math.isfinite(ch):
            earlier = [v for v in waves[:i] if (a, v, m) in rows]
            if earlier:
                out.append(Candidate((a, earlier[-1], m), "estimate", r.est - ch, "prev"))
        cp = _num(r.change_pooled)
        if math.isfinite(cp):
            for v in waves[max(0, i - spec.comparisons.pooled_waves):i]:
                out.append(Candidate((a, v, m), "estimate", r.est - cp, "pooled"))
    # 2. area − difference from the rest of its parent = the rest (one sibling alone)
    for (a, w, m), r in rows.items():
        d = _num(r.diff_parent_rest)
        if not math.isfinite(d) or not math.isfinite(r.est):
            continue
        parents = parents_by_year(areas, w).get(a, [])
        kids = _children(areas, w)
        for p in parents:
            for s in kids.get(p, []):
                if s != a and (s, w, m) in rows:
                    out.append(Candidate((s, w, m), "estimate", r.est - d, "rest"))
    # 3. measures linear in one another
    groups: list[tuple[list[str], list[float], float]] = []
    comp = spec.composite
    if comp is not None and comp.transform == "weighted_mean":
        ws = [w for _, w in comp.weights if w > 0]
        total = sum(ws)
        ids = [k for k, w in comp.weights if w > 0]
        # composite − Σ w_i/W · sub_i = 0
        groups.append(([comp.id, *ids], [1.0, *(-w / total for w in ws)], 0.0))
    by_item: dict[str, list[str]] = defaultdict(list)
    for ms in spec.measures:
        if ms.kind == "share" and ms.item is not None:
            by_item[ms.item].append(ms.id)
    groups += [(ids, [1.0] * len(ids), 1.0) for ids in by_item.values() if len(ids) > 1]
    area_waves = {(a, w) for (a, w, _m) in rows}
    for ids, coefs, rhs in groups:
        for a, w in area_waves:
            vals = [est((a, w, m)) for m in ids]
            if any((a, w, m) not in rows for m in ids):
                continue
            unknown = [j for j, v in enumerate(vals) if not math.isfinite(v)]
            if len(unknown) != 1:
                continue
            j = unknown[0]
            known = sum(c * v for k, (c, v) in enumerate(zip(coefs, vals, strict=True))
                        if k != j)
            out.append(Candidate((a, w, ids[j]), "estimate", (rhs - known) / coefs[j],
                                 "linear measures"))
    # 4. rate × population: a raw register rate shown with its count hidden
    for (a, w, m), r in rows.items():
        if m in register_ids and math.isfinite(r.est) and not math.isfinite(r.n_val):
            out.append(Candidate((a, w, m), "n", math.nan, "rate x population"))
    # 5. equal sample sizes: another measure of the same area and wave, same kind
    reg_like = {m.id for m in spec.register} | {f"{m.id}_eb" for m in spec.register} | {
        s.id for s in spec.subindices if s.source == "register"}
    shown: dict[tuple[str, int, bool], set[float]] = defaultdict(set)
    for (a, w, m), r in rows.items():
        if math.isfinite(r.n_val):
            shown[(a, w, m in reg_like)].add(r.n_val)
    for (a, w, m), r in rows.items():
        if not math.isfinite(r.n_val):
            for v in shown[(a, w, m in reg_like)]:
                out.append(Candidate((a, w, m), "n", v, "same n"))
    # 6. sums in the hierarchy, with bounds, by linear programming
    out += _sums(t, rows, areas, waves, truth_n)
    return out


def _children(areas: list[dict[str, Any]], year: int) -> dict[str, list[str]]:
    kids: dict[str, list[str]] = defaultdict(list)
    for child, parents in parents_by_year(areas, year).items():
        for p in parents:
            kids[p].append(child)
    return kids


def _sums(t: pd.DataFrame, rows: dict[Key, Any], areas: list[dict[str, Any]], waves: list[int],
          truth_n: Mapping[Key, float] | None) -> list[Candidate]:
    out: list[Candidate] = []
    level = {str(a["code"]): str(a.get("level")) for a in areas}
    for w in waves:
        kids = _children(areas, w)
        for m in t["measure"].unique().tolist():
            cells = {a: r for (a, ww, mm), r in rows.items() if ww == w and mm == m}
            hidden = [a for a, r in cells.items() if not math.isfinite(r.n_val)]
            if not hidden:
                continue
            equations: list[tuple[str, list[str]]] = []
            for p in cells:
                by_level: dict[str, list[str]] = defaultdict(list)
                for c in _descendants(kids, p):
                    if c in cells:
                        by_level[level.get(c, "")].append(c)
                for members in by_level.values():
                    if truth_n is not None:
                        total = sum(truth_n.get((c, w, m), 0.0) for c in members)
                        if truth_n.get((p, w, m)) != total:
                            continue
                    equations.append((p, members))
            involved = [(p, ms) for p, ms in equations if p in hidden or set(ms) & set(hidden)]
            if not involved:
                continue
            var = {a: i for i, a in enumerate(hidden)}
            a_eq, b_eq = [], []
            for p, ms in involved:
                row = np.zeros(len(var))
                b = 0.0
                for c, coef in [(p, 1.0), *((c, -1.0) for c in ms)]:
                    if c in var:
                        row[var[c]] += coef
                    else:
                        b -= coef * cells[c].n_val
                a_eq.append(row)
                b_eq.append(b)
            bounds = [(cells[a].n_lo, None if math.isinf(cells[a].n_hi) else cells[a].n_hi)
                      for a in hidden]
            for a, i in var.items():
                if not any(row[i] for row in a_eq):
                    continue
                objective = np.zeros(len(var))
                objective[i] = 1.0
                lo = linprog(objective, A_eq=np.array(a_eq), b_eq=b_eq, bounds=bounds)
                hi = linprog(-objective, A_eq=np.array(a_eq), b_eq=b_eq, bounds=bounds)
                if lo.status != 0 or hi.status != 0:
                    continue
                low, high = lo.fun, -hi.fun
                if math.floor(high + 1e-7) <= math.ceil(low - 1e-7):
                    out.append(Candidate((a, w, m), "n", float(round(low)), "sums"))
    return out


def _descendants(kids: dict[str, list[str]], p: str) -> list[str]:
    seen: list[str] = []
    stack = list(kids.get(p, []))
    while stack:
        c = stack.pop()
        if c in seen:
            continue
        seen.append(c)
        stack.extend(kids.get(c, []))
    return seen


def recovered(candidates: list[Candidate], truth: Mapping[Key, tuple[float, float]],
              public: pd.DataFrame) -> list[str]:
    """The candidates that hit a hidden true value: estimate to 1e-6, counts exactly.

    ``truth``: (estimate, n) of every cell as stored (the internal table)."""
    shown_est: set[Key] = set()
    shown_n: set[Key] = set()
    for r in tuples(public):
        key = (str(r.area_code), int(r.wave), str(r.measure))
        if math.isfinite(_num(r.estimate)):
            shown_est.add(key)
        if math.isfinite(_n_value(r.n_display)[0]):
            shown_n.add(key)
    hits = []
    for c in candidates:
        if c.key not in truth:
            continue
        true_est, true_n = truth[c.key]
        if c.field == "estimate" and c.key not in shown_est and math.isfinite(true_est):
            if abs(c.value - true_est) <= 1e-6 * max(1.0, abs(true_est)):
                hits.append(f"{c.key} estimate {true_est} by {c.how}")
        elif (c.field == "n" and c.key not in shown_n and math.isfinite(true_n)
              and (c.how == "rate x population" or abs(c.value - true_n) < 0.5)):
            hits.append(f"{c.key} n {true_n} by {c.how}")
    return sorted(set(hits))
