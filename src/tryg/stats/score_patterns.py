"""Variances of many estimates that share one pattern of scores: the fast engine.

Most estimates of a national run have scores of the same shape: *which* row feeds *which*
estimate is the same for every variable (a respondent counts for its area × wave), only the
values differ. A :class:`ScorePattern` names that shape once (entries ``rows[e] → cols[e]``,
at most one entry per row and column); :class:`PatternEngine` prepares, once per design and
pattern, every index the linearised variance needs (unit and stratum totals per column, the
calibration superblocks each column touches, see :mod:`tryg.stats.calibration_blocks`), and
then evaluates any number of value columns with products of fixed sparse operators and small
dense blocks. The numbers are those of :func:`tryg.stats.variance.linearized_variance` on the
equivalent sparse score matrix (same formula: ``V(Z) − 2 cross(Z, U B) + B' G B`` per variance
component), up to rounding; the cost no longer grows with the number of estimates times the
number of calibration columns.

:meth:`PatternEngine.covariance` gives ``Cov(column c of one pattern, column pairs[c] of
another)``, e.g. an area against its parent area, without expanding the parent's rows per
area.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from tryg.stats import calibration_blocks as cb
from tryg.stats.design import Design, FloatArray, IntArray
from tryg.stats.numbering import factor, lookup, summing

Sparse = Any  # scipy.sparse matrices are not generic types
Values = FloatArray  # entries × value columns


@dataclass(frozen=True)
class ScorePattern:
    """Entries of a score matrix: entry ``e`` puts a value in row ``rows[e]``, column
    ``cols[e]``. Each (row, column) appears at most once."""

    rows: IntArray
    cols: IntArray
    n_cols: int

    @classmethod
    def of_domains(cls, codes: IntArray, n_domains: int) -> ScorePattern:
        """Every row in the column of its domain (code -1: in none)."""
        rows = np.flatnonzero(codes >= 0)
        return cls(rows, np.asarray(codes[rows], dtype=np.int64), int(n_domains))

    @property
    def size(self) -> int:
        return len(self.rows)


def _expand(M: Sparse, at: IntArray) -> tuple[IntArray, IntArray, FloatArray]:
    """The nonzeros of rows ``at`` of csr ``M``: (position in ``at``, column, value)."""
    counts = np.diff(M.indptr)[at]
    owner = np.repeat(np.arange(len(at)), counts)
    starts = np.repeat(M.indptr[at], counts)
    within = np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)
    idx = starts + within
    return owner, M.indices[idx].astype(np.int64), M.data[idx]


def _paired(
    keys: IntArray, sorter: IntArray | None, first: IntArray, K1: int, K2: int, pairs: IntArray
) -> IntArray:
    """For keys ``x * K1 + c`` of one pattern, the index of ``x * K2 + pairs[c]`` among the
    other pattern's ``keys`` (-1: absent, or ``pairs[c]`` is -1)."""
    c = pairs[first % K1]
    idx = lookup(keys, (first // K1) * K2 + c, sorter)
    idx[c < 0] = -1
    return idx


def _take(values: FloatArray, idx: IntArray) -> FloatArray:
    """Rows ``idx`` of ``values`` (first axis), zero where ``idx`` is -1."""
    out = values[np.maximum(idx, 0)]
    out[idx < 0] = 0.0
    return out


#: Entries × value columns handled at once (see ``PatternEngine._chunks``).
CHUNK_ELEMENTS = 1_500_000


@dataclass(frozen=True)
class _Part:
    """One variance component, prepared for a pattern."""

    Zop: Sparse | None  # unit pairs × entries (None: every unit is one row)
    zkey: IntArray  # unit * K + column of every unit pair
    sorted_keys: bool  # zkey is sorted (else it is sorted through argsort when looked up)
    a: FloatArray  # scale of every unit pair
    col_q: Sparse  # K × unit pairs
    Sop: Sparse  # group pairs × unit pairs
    skey: IntArray  # group * K + column (sorted)
    c: FloatArray  # scale × centre of every group pair
    col_r: Sparse  # K × group pairs
    QZ: Sparse | None  # (E · size) × unit pairs: U'·A in block layout
    QS: Sparse | None  # (E · size) × group pairs: −ug'·C in block layout


class PatternEngine:
    """Linearised variances (and covariances) of value columns on one score pattern."""

    def __init__(self, design: Design, pattern: ScorePattern) -> None:
        if not cb.supported(design):
            raise ValueError("the fast variance engine does not support this design")
        self.design = design
        self.pattern = pattern
        K = pattern.n_cols
        rows, cols = pattern.rows, pattern.cols
        blk = cb.blocks(design) if design.calibration else None
        self.blocks = blk
        self.rhs: list[Sparse] = []
        if blk is not None:
            sb = blk.sb_row[rows]
            inside = sb >= 0
            ekey_all = np.where(inside, sb * K + cols, -1)
            inv, self.ekey = factor(ekey_all[inside])
            eidx = np.full(len(rows), -1, dtype=np.int64)
            eidx[inside] = inv
            self.sbE = self.ekey // K
            self.col_e = summing(self.ekey % K, K, "csc")
            self.eidx = eidx
            self.bounds = np.searchsorted(self.sbE, np.arange(blk.n_sb + 1))
            at = np.flatnonzero(inside)
            for step in blk.steps:
                owner, col, val = _expand(step.Xw, rows[at])
                e = at[owner]
                self.rhs.append(sp.csc_matrix(
                    (val, (eidx[e] * step.size + step.local[col], e)),
                    shape=(len(self.ekey) * step.size, len(rows)),
                ))
        self.parts = [self._part(i, K) for i in range(len(design.components))]
        self._pairings: dict[tuple[int, bytes], Any] = {}

    def _part(self, i: int, K: int) -> _Part:
        comp = self.design.components[i]
        rows, cols = self.pattern.rows, self.pattern.cols
        unit = comp.unit[rows]
        if comp.n_units == self.design.n:  # every unit is one row: unit pairs are the entries
            Zop, zkey, sorted_keys = None, unit * K + cols, False
            zu, zc = unit, cols
        else:
            inv, zkey = factor(unit * K + cols)
            Zop = sp.csc_matrix((np.ones(len(rows)), (inv, np.arange(len(rows)))),
                                shape=(len(zkey), len(rows)))
            sorted_keys, zu, zc = True, zkey // K, zkey % K
        zg = comp.group[zu]
        sinv, skey = factor(zg * K + zc)
        Q, R = len(zkey), len(skey)
        Sop = sp.csc_matrix((np.ones(Q), (sinv, np.arange(Q))), shape=(R, Q))
        a = comp.scale[zg]
        sg, sc = skey // K, skey % K
        c = comp.scale[sg] * comp.centre[sg]
        QZ = QS = None
        blk = self.blocks
        if blk is not None:
            cc = blk.components[i]
            size = blk.size
            E = len(self.ekey)
            if Zop is None:  # unit pairs are the entries
                qe = self.eidx
            else:
                qe = lookup(self.ekey, cc.sb_unit[zu] * K + zc)
                qe[cc.sb_unit[zu] < 0] = -1
            at = np.flatnonzero(qe >= 0)
            owner, col, val = _expand(cc.U, zu[at])
            q = at[owner]
            QZ = sp.csc_matrix((a[q] * val, (qe[q] * size + blk.local[col], q)),
                               shape=(E * size, Q))
            re = lookup(self.ekey, cc.sb_group[sg] * K + sc)
            re[cc.sb_group[sg] < 0] = -1
            at = np.flatnonzero(re >= 0)
            owner, col, val = _expand(cc.ug, sg[at])
            r = at[owner]
            QS = sp.csc_matrix((-c[r] * val, (re[r] * size + blk.local[col], r)),
                               shape=(E * size, R))
        return _Part(Zop=Zop, zkey=zkey, sorted_keys=sorted_keys, a=a, col_q=summing(zc, K, "csc"),
                     Sop=Sop, skey=skey, c=c, col_r=summing(sc, K, "csc"), QZ=QZ, QS=QS)

    # -- dense block products -----------------------------------------------------------
    def _blocks_of(self, flat: FloatArray, size: int, V: int) -> FloatArray:
        """(E · size) × V (operator output) → E × V × size."""
        return np.ascontiguousarray(flat.reshape(len(self.ekey), size, V).transpose(0, 2, 1))

    def _mul(self, stack: FloatArray, X: FloatArray) -> FloatArray:
        """``stack[sb(e)] @ X[e, v, :]`` for every pair e and value column v."""
        E, V, b = X.shape
        a = stack.shape[1]
        out = np.zeros((E, V, a))
        if E == 0:
            return out
        n_sb = stack.shape[0]
        if n_sb <= 512:
            for s in range(n_sb):
                lo, hi = self.bounds[s], self.bounds[s + 1]
                if hi > lo:
                    out[lo:hi] = (X[lo:hi].reshape(-1, b) @ stack[s].T).reshape(hi - lo, V, a)
            return out
        chunk = max(1, 4_000_000 // max(a * b, 1))
        for lo in range(0, E, chunk):
            hi = min(E, lo + chunk)
            out[lo:hi] = np.matmul(X[lo:hi], stack[self.sbE[lo:hi]].transpose(0, 2, 1))
        return out

    def coefficients(self, values: Values) -> FloatArray | None:
        """The calibration coefficients B of every pair and value column (E × V × size)."""
        blk = self.blocks
        if blk is None:
            return None
        V = values.shape[1]
        parts: list[FloatArray] = []
        for k, step in enumerate(blk.steps):
            rhs = self._blocks_of(np.asarray(self.rhs[k] @ values), step.size, V)
            for m in range(k):
                rhs -= self._mul(step.cross[m], parts[m])
            parts.append(self._mul(step.minv, rhs))
        return np.concatenate(parts, axis=2) if len(parts) > 1 else parts[0]

    def _totals(self, part: _Part, values: Values) -> tuple[FloatArray, FloatArray]:
        Z = values if part.Zop is None else np.asarray(part.Zop @ values)
        return Z, np.asarray(part.Sop @ Z)

    def _cross(self, part: _Part, Z: FloatArray, S: FloatArray) -> FloatArray:
        assert part.QZ is not None and part.QS is not None and self.blocks is not None
        flat = np.asarray(part.QZ @ Z) + np.asarray(part.QS @ S)
        return self._blocks_of(flat, self.blocks.size, Z.shape[1])

    # -- results -------------------------------------------------------------------------
    def _chunks(self, V: int) -> list[slice]:
        """Value columns in groups small enough that the work arrays stay in memory that is
        already mapped (large temporaries cost more in page faults than in arithmetic)."""
        step = max(1, CHUNK_ELEMENTS // max(self.pattern.size, 1))
        return [slice(lo, min(V, lo + step)) for lo in range(0, V, step)]

    def variance(self, values: Values) -> FloatArray:
        """Variance of the total of every column × value column: ``n_cols × V``."""
        values = np.asarray(values, dtype=np.float64).reshape(self.pattern.size, -1)
        V = values.shape[1]
        if self._chunks(V)[0].stop >= V:
            return self._variance(values)
        return np.hstack([self._variance(np.ascontiguousarray(values[:, part]))
                          for part in self._chunks(V)])

    def _variance(self, values: Values) -> FloatArray:
        B = self.coefficients(values)
        total = np.zeros((self.pattern.n_cols, values.shape[1]))
        for i, part in enumerate(self.parts):
            Z, S = self._totals(part, values)
            total += part.col_q @ (part.a[:, None] * Z * Z)
            total -= part.col_r @ (part.c[:, None] * S * S)
            if B is not None:
                assert self.blocks is not None
                Qm = self._cross(part, Z, S)
                GB = self._mul(self.blocks.components[i].G, B)
                total += self.col_e @ np.einsum("evs,evs->ev", B, GB - 2.0 * Qm)
        return np.maximum(total, 0.0)

    def covariance(
        self, values: Values, other: PatternEngine, other_values: Values, pairs: IntArray
    ) -> FloatArray:
        """``Cov(column c of this pattern, column pairs[c] of other's)`` for every column c
        and value column (both value arrays have the same number of value columns)."""
        if other.design is not self.design:
            raise ValueError("both patterns must belong to the same design")
        V = np.asarray(values).reshape(self.pattern.size, -1).shape[1]
        values = np.asarray(values, dtype=np.float64).reshape(self.pattern.size, V)
        other_values = np.asarray(other_values, dtype=np.float64).reshape(other.pattern.size, V)
        where, ei = self._pairing(other, np.asarray(pairs, dtype=np.int64))
        return np.hstack([
            self._covariance(np.ascontiguousarray(values[:, part]), other,
                             np.ascontiguousarray(other_values[:, part]), where, ei)
            for part in self._chunks(V)
        ])

    def _pairing(
        self, other: PatternEngine, pairs: IntArray
    ) -> tuple[list[tuple[IntArray, IntArray]], IntArray | None]:
        """Where each unit, group and superblock pair of this pattern sits in ``other``'s
        (kept for the last few pairings asked for: they do not depend on the values)."""
        key = (id(other), hashlib.blake2b(pairs.tobytes()).digest())
        cached = self._pairings.get(key)
        if cached is not None and cached[0] is other:
            return cached[1], cached[2]
        K1, K2 = self.pattern.n_cols, other.pattern.n_cols
        where = []
        for p1, p2 in zip(self.parts, other.parts, strict=True):
            zsort = None if p2.sorted_keys else np.argsort(p2.zkey, kind="stable")
            where.append((_paired(p2.zkey, zsort, p1.zkey, K1, K2, pairs),
                          _paired(p2.skey, None, p1.skey, K1, K2, pairs)))
        ei = (_paired(other.ekey, None, self.ekey, K1, K2, pairs)
              if self.blocks is not None else None)
        while len(self._pairings) >= 4:
            del self._pairings[next(iter(self._pairings))]
        self._pairings[key] = (other, where, ei)
        return where, ei

    def _covariance(
        self, values: Values, other: PatternEngine, other_values: Values,
        where: list[tuple[IntArray, IntArray]], ei: IntArray | None,
    ) -> FloatArray:
        V = values.shape[1]
        B1, B2 = self.coefficients(values), other.coefficients(other_values)
        total = np.zeros((self.pattern.n_cols, V))
        for i, (p1, p2) in enumerate(zip(self.parts, other.parts, strict=True)):
            Z1, S1 = self._totals(p1, values)
            Z2, S2 = other._totals(p2, other_values)
            zi, si = where[i]
            total += p1.col_q @ (p1.a[:, None] * Z1 * _take(Z2, zi))
            total -= p1.col_r @ (p1.c[:, None] * S1 * _take(S2, si))
            if B1 is not None and B2 is not None and ei is not None:
                assert self.blocks is not None
                Q1, Q2 = self._cross(p1, Z1, S1), other._cross(p2, Z2, S2)
                GB2 = other._mul(self.blocks.components[i].G, B2)
                inner = B1 * (_take(GB2, ei) - _take(Q2, ei)) - Q1 * _take(B2, ei)
                total += self.col_e @ inner.sum(axis=2)
        return total

    def degrees_of_freedom(self, valid: np.ndarray) -> FloatArray:
        """PSUs minus strata with a valid entry, per column × value column (R's ``degf`` of
        each domain's subset)."""
        valid = np.asarray(valid, dtype=np.float64).reshape(self.pattern.size, -1)
        part = self.parts[0]
        units = (valid if part.Zop is None else np.asarray(part.Zop @ valid)) > 0
        strata = np.asarray(part.Sop @ units.astype(np.float64)) > 0
        return np.asarray(part.col_q @ units - part.col_r @ strata, dtype=np.float64)


class SharedEngine:
    """A :class:`PatternEngine` shared by every pattern with the same entries and the same
    grouping of entries into columns, whatever the columns' numbers (e.g. the domains
    "area × wave" numbered by area first or by wave first). Answers in the caller's
    numbering. Built through :func:`engine_for`."""

    def __init__(self, engine: PatternEngine, labels: IntArray, n_cols: int) -> None:
        self.engine = engine
        self.labels = labels  # caller's column of every column of the engine
        self.n_cols = n_cols
        self.pattern = engine.pattern
        self.position = np.full(n_cols, -1, dtype=np.int64)  # caller's column -> engine's
        self.position[labels] = np.arange(len(labels))

    def _out(self, inner: FloatArray) -> FloatArray:
        out = np.zeros((self.n_cols, inner.shape[1]))
        out[self.labels] = inner
        return out

    def variance(self, values: Values) -> FloatArray:
        return self._out(self.engine.variance(values))

    def degrees_of_freedom(self, valid: np.ndarray) -> FloatArray:
        return self._out(self.engine.degrees_of_freedom(valid))

    def covariance(
        self, values: Values, other: SharedEngine, other_values: Values, pairs: IntArray
    ) -> FloatArray:
        """As :meth:`PatternEngine.covariance`, ``pairs`` in the callers' numbering."""
        inner_pairs = other.position[np.asarray(pairs, dtype=np.int64)[self.labels]]
        return self._out(
            self.engine.covariance(values, other.engine, other_values, inner_pairs)
        )


#: How many engines a design keeps (each holds a few arrays of the size of its pattern).
CACHE_SIZE = 8


def engine_for(design: Design, pattern: ScorePattern) -> SharedEngine:
    """The engine for ``pattern`` on ``design``: built once per design and grouping (cached
    on the design), so that estimates, contrasts and comparisons over the same domains share
    the preparation."""
    canon, labels = pd.factorize(pattern.cols)
    canon = np.asarray(canon, dtype=np.int64)
    key = (
        len(pattern.rows),
        hashlib.blake2b(np.ascontiguousarray(pattern.rows, dtype=np.int64).tobytes()).digest(),
        hashlib.blake2b(canon.tobytes()).digest(),
    )
    cache = design.cache.pattern_engines
    engine = cache.get(key)
    if engine is None:
        engine = PatternEngine(design, ScorePattern(pattern.rows, canon, len(labels)))
        while len(cache) >= CACHE_SIZE:
            del cache[next(iter(cache))]
        cache[key] = engine
    return SharedEngine(engine, np.asarray(labels, dtype=np.int64), pattern.n_cols)


def separates(design: Design, labels: np.ndarray) -> bool:
    """Whether rows with different ``labels`` (e.g. survey waves) are independent samples in
    ``design``: no first-stage stratum and no calibration superblock holds rows of two
    labels. Totals over rows of different labels then have covariance exactly 0, and a
    variance over several labels is the sum of its parts."""
    labels = np.asarray(labels)

    def one_label_each(groups: IntArray, rows: np.ndarray) -> bool:
        if not rows.any():
            return True
        first = np.zeros(int(groups[rows].max()) + 1, dtype=labels.dtype)
        first[groups[rows]] = labels[rows]
        return bool((first[groups[rows]] == labels[rows]).all())

    everyone = np.ones(design.n, dtype=bool)
    if not one_label_each(design.stages[0].stratum, everyone):
        return False
    if not design.calibration:
        return True
    blk = cb.blocks(design)
    return blk is not None and one_label_each(blk.sb_row, blk.sb_row >= 0)
