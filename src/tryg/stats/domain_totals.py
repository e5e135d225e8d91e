"""One variance interface: per-domain totals of a set of variables and their covariances.

Every statistic of the package that is a smooth function of domain totals — a domain mean, an
area against the rest of its parent, this wave against earlier waves pooled — needs of the
design no more than, per domain ``d`` and variable ``v`` (rows outside ``v``'s base left out):

* the weight total ``W = Σ w`` and the mean ``ȳ = Σ w y / W``,
* the 2 × 2 covariance of ``D = Σ w (y − ȳ)`` and ``W`` (``Var(ȳ) = Var(D) / W²``),
* for a domain nested in another, the cross covariances of their ``(D, W)``,
* ``Var(Σ_v k_v D_v)`` (a linear combination of variables, e.g. a composite index),
* its degrees of freedom and a few plain sums (for the design effect).

:class:`DomainTotals` says so; three back-ends give it, and :func:`totals_for` picks one from
the design: per-cell moments when every row is its own unit (:class:`CellTotals`, see
:mod:`tryg.stats.cell_moments`), score patterns for other designs the block engine takes
(:class:`PatternTotals`, :mod:`tryg.stats.score_patterns`), sparse linearisation otherwise
(:class:`SparseTotals`, :mod:`tryg.stats.variance`). The statistics are written once over
the interface (:mod:`tryg.stats.domain_means`, :mod:`tryg.stats.rest_contrasts`,
:mod:`tryg.stats.area_waves`).

Domains are given as a :class:`Grouping`: each row's domain (-1: none) and their number. A
back-end keeps what it derives from a grouping (cell families, score patterns) for as long as
the same grouping object is asked about again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import numpy as np
import scipy.sparse as sp

from tryg.stats.calibration_blocks import supported
from tryg.stats.cell_moments import CellEngine, CellMoments, Family, applies
from tryg.stats.design import Design, FloatArray, IntArray, SurveyDesign
from tryg.stats.errors import EstimationError
from tryg.stats.score_patterns import ScorePattern, engine_for
from tryg.stats.variance import covariance_with_aggregate, linearized_variance

Sparse = Any  # scipy.sparse matrices are not generic types

T = TypeVar("T")

#: Variables handled together by the row-wise back-ends (work arrays are entries × GROUP).
GROUP = 4


class Grouping(Protocol):
    """Which domain every row falls in (-1: none) and how many domains there are."""

    @property
    def codes(self) -> IntArray: ...

    @property
    def count(self) -> int: ...


@dataclass(frozen=True, eq=False)
class Groups:
    """A plain :class:`Grouping`."""

    codes: IntArray
    count: int


@dataclass(frozen=True)
class Sums:
    """Plain sums per domain × variable: answered rows, Σ w², answered rows with weight, and
    ``Σ w (y − ȳ)²``."""

    n: FloatArray
    sw2: FloatArray
    nobs: FloatArray
    ss: FloatArray


class DomainTotals(Protocol):
    """Per-domain totals of the variables a back-end was built with (in order: the columns
    of every D × V answer) and their design covariances."""

    @property
    def names(self) -> list[str]: ...

    def totals(self, g: Grouping) -> tuple[FloatArray, FloatArray]:
        """Mean and weight total per domain (D × V; the mean is NaN without weight)."""
        ...

    def centred_variance(self, g: Grouping) -> FloatArray:
        """``Var(D)`` per domain (D × V)."""
        ...

    def pair(self, g: Grouping) -> tuple[FloatArray, FloatArray, FloatArray]:
        """``Var(D), Cov(D, W), Var(W)`` per domain (D × V)."""
        ...

    def nested(self, area: Grouping, parent: Grouping, up: IntArray
               ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """``Cov(D_a, D_p), Cov(D_a, W_p), Cov(W_a, D_p), Cov(W_a, W_p)`` for every domain a of
        ``area`` and its parent ``p = up[a]`` of ``parent``, which holds all of a's rows
        (A × V)."""
        ...

    def combination_variance(self, g: Grouping, k: FloatArray) -> FloatArray:
        """``Var(Σ_v k[d, v] D_v)`` per domain d (``k``: D × V, NaN read as 0)."""
        ...

    def degrees_of_freedom(self, g: Grouping) -> FloatArray:
        """PSUs minus strata with an answer, per domain × variable (R's ``degf``)."""
        ...

    def sums(self, g: Grouping) -> Sums:
        """Plain sums per domain (see :class:`Sums`)."""
        ...


def _stack(values: Mapping[str, FloatArray], n: int) -> FloatArray:
    for name, v in values.items():
        if np.shape(v) != (n,):
            raise EstimationError(f"values[{name!r}] must have one value per design row")
    if not values:
        return np.zeros((n, 0))
    return np.column_stack([np.asarray(v, dtype=np.float64) for v in values.values()])


def totals_for(
    design: SurveyDesign, values: Mapping[str, FloatArray], keys: Sequence[IntArray] = (),
) -> DomainTotals:
    """The back-end for ``values`` (row-aligned, NaN: outside the variable's base) on
    ``design``: per-cell moments when the design's units are its rows and ``keys`` (row-aligned
    domain codes) are given (the cells then nest in every grouping that is a union of the keys'
    domains), score patterns when the block engine takes the design, sparse linearisation
    otherwise."""
    if not isinstance(design, Design):
        raise EstimationError("these estimates support linearised designs only")
    if keys and applies(design) and values:
        engine = CellEngine(design, list(keys))
        Y = _stack(values, design.n)
        return CellTotals(list(values), engine, engine.moments(Y), Y)
    if supported(design):
        return PatternTotals(design, values)
    return SparseTotals(design, values)


class _Kept(Generic[T]):
    """What a back-end derived from groupings, by the grouping object (kept alive, so that
    its id is not reused)."""

    def __init__(self, derive: Callable[[Grouping], T], size: int = 32) -> None:
        self._items: dict[int, tuple[Grouping, T]] = {}
        self._derive = derive
        self._size = size

    def __call__(self, g: Grouping) -> T:
        hit = self._items.get(id(g))
        if hit is not None and hit[0] is g:
            return hit[1]
        value = self._derive(g)
        while len(self._items) >= self._size:
            del self._items[next(iter(self._items))]
        self._items[id(g)] = (g, value)
        return value


# -- per-cell moments ------------------------------------------------------------------------


@dataclass(frozen=True)
class _CellDomains:
    fam: Family
    mine: IntArray  # the grouping's number of every family domain
    back: IntArray  # the family's number of every grouping domain


class CellTotals:
    """:class:`DomainTotals` from per-cell moments (:class:`~tryg.stats.cell_moments.CellEngine`):
    the grouping's domains must be unions of the engine's cells."""

    def __init__(self, names: list[str], engine: CellEngine, mom: CellMoments,
                 values: FloatArray, families: list[tuple[IntArray, Family]] | None = None,
                 ) -> None:
        self._names = names
        self.engine = engine
        self.mom = mom
        self.values = values
        # the engine's domain families (they depend on the cells, not on the values)
        self._families: list[tuple[IntArray, Family]] = [] if families is None else families
        self._domains = _Kept(self._derive)

    @property
    def names(self) -> list[str]:
        return self._names

    def with_values(self, values: Mapping[str, FloatArray]) -> CellTotals:
        """The back-end of other variables (row-aligned with the design) on the same cells:
        their moments only, the engine and the domain families it built are shared."""
        Y = _stack(values, self.engine.design.n)
        return CellTotals(list(values), self.engine, self.engine.moments(Y), Y,
                          self._families)

    def _derive(self, g: Grouping) -> _CellDomains:
        """The family of ``g``'s domains (one built before if it has the same domains)."""
        engine = self.engine
        codes = np.asarray(g.codes, dtype=np.int64)
        inside = engine.cell >= 0
        dom = codes[engine.first]
        if (not np.array_equal(dom[engine.cell[inside]], codes[inside])
                or (codes[~inside] >= 0).any()):
            raise EstimationError("the cells must nest in the domains")
        known = _matching(self._families, codes, g.count)
        if known is None:
            fam = engine.family(dom, g.count)
            self._families.append((codes, fam))
            mine = np.arange(g.count, dtype=np.int64)
        else:
            fam, mine = known
        back = np.empty(g.count, dtype=np.int64)
        back[mine] = np.arange(g.count)
        return _CellDomains(fam, mine, back)

    def totals(self, g: Grouping) -> tuple[FloatArray, FloatArray]:
        c = self._domains(g)
        parts = self.engine.domain_parts(self.mom, c.fam)  # kept by the engine
        return parts.mean[c.back], parts.W[c.back]

    def centred_variance(self, g: Grouping) -> FloatArray:
        c = self._domains(g)
        out: FloatArray = self.engine.centred_variance(self.mom, c.fam)[c.back]
        return out

    def pair(self, g: Grouping) -> tuple[FloatArray, FloatArray, FloatArray]:
        c = self._domains(g)
        _mean, _W, vdd, vdw, vww = self.engine.pair(self.mom, c.fam)
        return vdd[c.back], vdw[c.back], vww[c.back]

    def nested(self, area: Grouping, parent: Grouping, up: IntArray
               ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        a, p = self._domains(area), self._domains(parent)
        # in the families' numbering (the formulas are per area), put into the groupings'
        up_f = p.back[np.asarray(up, dtype=np.int64)[a.mine]]
        out = self.engine.nested(self.mom, a.fam, p.fam, up_f)
        x_dd, x_dw, x_wd, x_ww = (x[a.back] for x in out[10:])
        return x_dd, x_dw, x_wd, x_ww

    def combination_variance(self, g: Grouping, k: FloatArray) -> FloatArray:
        c = self._domains(g)
        k = np.asarray(k, dtype=np.float64)
        used = [v for v in range(k.shape[1]) if np.any(np.nan_to_num(k[:, v]) != 0)]
        pairs = sorted((i, j) for i in used for j in used if i < j)
        cross = self.engine.cross_moments(self.mom, self.values, pairs)
        out: FloatArray = self.engine.sum_variance(self.mom, c.fam, k[c.mine], cross)[c.back]
        return out

    def degrees_of_freedom(self, g: Grouping) -> FloatArray:
        c = self._domains(g)
        out: FloatArray = self.engine.degrees_of_freedom(self.mom, c.fam)[c.back]
        return out

    def sums(self, g: Grouping) -> Sums:
        c = self._domains(g)
        fam, mom = c.fam, self.mom
        parts = self.engine.domain_parts(mom, fam)
        ind = fam.dom_ind
        ss = np.asarray(ind @ (mom.T2 + parts.delta**2 * mom.W))
        return Sums(n=np.asarray(ind @ mom.n)[c.back], sw2=np.asarray(ind @ mom.Q0)[c.back],
                    nobs=np.asarray(ind @ mom.nz)[c.back], ss=ss[c.back])


def _matching(
    families: Sequence[tuple[IntArray, Family]], codes: IntArray, D: int
) -> tuple[Family, IntArray] | None:
    """A family of ``families`` (given with its rows' domain codes) whose domains are those of
    ``codes`` (D domains), and the number here of each of its domains."""
    inside = codes >= 0
    for row_codes, fam in families:
        if fam.n_dom != D or not np.array_equal(row_codes >= 0, inside):
            continue
        mine = np.full(D, -1, dtype=np.int64)
        mine[row_codes[inside]] = codes[inside]
        if ((mine >= 0).all() and np.array_equal(mine[row_codes[inside]], codes[inside])
                and len(np.unique(mine)) == D):  # one to one: not a coarser grouping
            return fam, mine
    return None


# -- row-wise back-ends ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Rows:
    """A grouping's rows (in a domain), their domain, weight, values and means."""

    rows: IntArray
    dom: IntArray
    count: int
    ind: Sparse  # domains × entries
    w: FloatArray  # entries × V: the weight, 0 where the answer is missing
    valid: np.ndarray
    Y: FloatArray  # entries × V (0 where missing)
    mean: FloatArray  # D × V
    W: FloatArray  # D × V

    def dev(self) -> FloatArray:
        """``w (y − ȳ_d)`` of every entry (0 outside the base)."""
        with np.errstate(invalid="ignore"):
            out = np.where(self.valid, self.w * (self.Y - self.mean[self.dom]), 0.0)
        return np.asarray(out, dtype=np.float64)


class _RowTotals:
    """The parts the row-wise back-ends share: totals from the rows."""

    def __init__(self, design: Design, values: Mapping[str, FloatArray]) -> None:
        self.design = design
        self._names = list(values)
        self.values = _stack(values, design.n)
        self._rows = _Kept(self._derive)

    @property
    def names(self) -> list[str]:
        return self._names

    def _derive(self, g: Grouping) -> _Rows:
        pattern = ScorePattern.of_domains(np.asarray(g.codes, dtype=np.int64), g.count)
        rows, dom = pattern.rows, pattern.cols
        D, N = g.count, len(rows)
        ind = sp.csc_matrix((np.ones(N), (dom, np.arange(N))), shape=(D, N))
        Y = self.values[rows]
        valid = ~np.isnan(Y)
        w = np.where(valid, np.asarray(self.design.weights)[rows][:, None], 0.0)
        Y = np.where(valid, Y, 0.0)
        W = np.asarray(ind @ w)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = np.asarray(ind @ (w * Y)) / W
        return _Rows(rows, dom, D, ind, w, valid, Y, mean, W)

    def totals(self, g: Grouping) -> tuple[FloatArray, FloatArray]:
        r = self._rows(g)
        return r.mean, r.W

    def sums(self, g: Grouping) -> Sums:
        r = self._rows(g)
        with np.errstate(invalid="ignore"):
            dev2 = np.where(r.valid, r.w * (r.Y - r.mean[r.dom]) ** 2, 0.0)
        return Sums(n=np.asarray(r.ind @ r.valid.astype(np.float64)),
                    sw2=np.asarray(r.ind @ (r.w * r.w)),
                    nobs=np.asarray(r.ind @ ((r.w != 0) & r.valid).astype(np.float64)),
                    ss=np.asarray(r.ind @ dev2))


class PatternTotals(_RowTotals):
    """:class:`DomainTotals` from score patterns
    (:class:`~tryg.stats.score_patterns.PatternEngine`: all variables of a grouping in one
    evaluation), for designs the block engine supports."""

    def _engine(self, r: _Rows) -> Any:
        return engine_for(self.design, ScorePattern(r.rows, r.dom, r.count))

    def centred_variance(self, g: Grouping) -> FloatArray:
        r = self._rows(g)
        engine = self._engine(r)
        V = len(self._names)
        out = np.zeros((r.count, V))
        dev = r.dev()
        for lo in range(0, V, GROUP):  # a few variables at a time: small work arrays
            at = slice(lo, min(V, lo + GROUP))
            out[:, at] = engine.variance(np.ascontiguousarray(dev[:, at]))
        return out

    def pair(self, g: Grouping) -> tuple[FloatArray, FloatArray, FloatArray]:
        r = self._rows(g)
        engine = self._engine(r)
        dev = r.dev()
        parts = [engine.variance(np.column_stack([dev[:, v], r.w[:, v], dev[:, v] + r.w[:, v]]))
                 for v in range(len(self._names))]
        vdd, vww, vsum = (np.column_stack([p[:, i] for p in parts]) if parts
                          else np.zeros((r.count, 0)) for i in range(3))
        return vdd, (vsum - vdd - vww) / 2, vww

    def nested(self, area: Grouping, parent: Grouping, up: IntArray
               ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        a, p = self._rows(area), self._rows(parent)
        ea, ep = self._engine(a), self._engine(p)
        da, dp = a.dev(), p.dev()
        out = [ea.covariance(np.column_stack([da[:, v], da[:, v], a.w[:, v], a.w[:, v]]), ep,
                             np.column_stack([dp[:, v], p.w[:, v], dp[:, v], p.w[:, v]]),
                             np.asarray(up, dtype=np.int64))
               for v in range(len(self._names))]
        x = [np.column_stack([o[:, i] for o in out]) if out else np.zeros((a.count, 0))
             for i in range(4)]
        return x[0], x[1], x[2], x[3]

    def combination_variance(self, g: Grouping, k: FloatArray) -> FloatArray:
        r = self._rows(g)
        score = (np.nan_to_num(np.asarray(k, dtype=np.float64))[r.dom] * r.dev()).sum(axis=1)
        out: FloatArray = self._engine(r).variance(score[:, None])[:, 0]
        return out

    def degrees_of_freedom(self, g: Grouping) -> FloatArray:
        r = self._rows(g)
        return np.asarray(self._engine(r).degrees_of_freedom(r.valid), dtype=np.float64)


class SparseTotals(_RowTotals):
    """:class:`DomainTotals` by sparse linearisation (:mod:`tryg.stats.variance`): any
    linearised design."""

    def _scores(self, r: _Rows, x: FloatArray) -> Sparse:
        """Columns ``domain + v · D`` holding ``x[:, v]`` on the base's entries."""
        parts = []
        for v in range(x.shape[1]):
            ok = r.valid[:, v]
            parts.append(sp.csc_matrix((x[ok, v], (r.rows[ok], r.dom[ok])),
                                       shape=(self.design.n, r.count)))
        return sp.hstack(parts).tocsc() if parts else sp.csc_matrix((self.design.n, 0))

    def _variance(self, r: _Rows, x: FloatArray) -> FloatArray:
        V = x.shape[1]
        return linearized_variance(self.design, self._scores(r, x)).reshape(V, r.count).T

    def centred_variance(self, g: Grouping) -> FloatArray:
        r = self._rows(g)
        return self._variance(r, r.dev())

    def pair(self, g: Grouping) -> tuple[FloatArray, FloatArray, FloatArray]:
        r = self._rows(g)
        dev = r.dev()
        vdd, vww, vsum = (self._variance(r, x) for x in (dev, r.w, dev + r.w))
        return vdd, (vsum - vdd - vww) / 2, vww

    def nested(self, area: Grouping, parent: Grouping, up: IntArray
               ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        a, p = self._rows(area), self._rows(parent)
        V = len(self._names)
        up = np.asarray(up, dtype=np.int64)
        pairs = np.concatenate([up + v * p.count for v in range(V)]) if V else up[:0]
        eye = sp.identity(p.count * V, format="csr")

        def cov(x: FloatArray, z: FloatArray) -> FloatArray:
            out = covariance_with_aggregate(self.design, self._scores(a, x),
                                            self._scores(p, z), eye, pairs)
            return np.asarray(out, dtype=np.float64).reshape(V, a.count).T

        da, dp = a.dev(), p.dev()
        return cov(da, dp), cov(da, p.w), cov(a.w, dp), cov(a.w, p.w)

    def combination_variance(self, g: Grouping, k: FloatArray) -> FloatArray:
        r = self._rows(g)
        score = (np.nan_to_num(np.asarray(k, dtype=np.float64))[r.dom] * r.dev()).sum(axis=1)
        m = sp.csc_matrix((score, (r.rows, r.dom)), shape=(self.design.n, r.count))
        return linearized_variance(self.design, m)

    def degrees_of_freedom(self, g: Grouping) -> FloatArray:
        r = self._rows(g)
        cols = []
        for v in range(len(self._names)):
            ok = r.valid[:, v]
            cols.append(np.asarray(self.design.domain_degrees_of_freedom(
                r.rows[ok], r.dom[ok], r.count), dtype=np.float64))
        return np.column_stack(cols) if cols else np.zeros((r.count, 0))
