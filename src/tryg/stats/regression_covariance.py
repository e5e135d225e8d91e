"""Design covariances of many problems' scores (a regression's coefficients and effects).

A problem is a domain's set of scores (k columns, e.g. a fit's influence values) that are zero
outside the domain's rows. Its k x k design covariance is that of
:func:`tryg.stats.variance.linearized_variance` in covariance form, computed on the problem's
rows only, for all problems at once.

The rows may come *merged*: in a model of categories many rows of a domain have the same
covariates and response, and then the same scores up to their weight. :class:`ScoreRows`
records each row's merged row and weight; a row's scores are its weight times its merged row's
scores (``S_i = w_i H_p(i)``). Everything in the variance is linear in the scores, so the
sums over rows that do not depend on the scores (each merged row's sums over its rows of the
weight and the design's calibration columns) are taken once (:func:`prepare`), and the
covariances of any scores on the merged rows cost products over merged rows, not rows
(:func:`covariances`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from tryg.stats.design import Design, FloatArray, IntArray, VarianceComponent
from tryg.stats.variance import _calibration_cache

Sparse = Any  # scipy.sparse matrices are not generic types

#: Rows per matrix product in the per-domain loops: a threaded BLAS runs a longer product of a
#: few columns on several threads, whose waiting then costs more CPU than the product itself.
_PIECE = 1024
#: Problems whose calibration products (problems x calibration columns x scores) pass this
#: many numbers are done in parts, to bound the memory.
_CALIBRATION_BLOCK = 4_000_000


def bounds_of(counts: IntArray) -> IntArray:
    """Where each domain's rows start (and the last one ends) in rows sorted by domain."""
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def _pieces(bounds: IntArray) -> list[tuple[int, int, int]]:
    """(start, end, domain) of the domains' rows, in pieces of at most ``_PIECE`` rows (none
    for a domain without rows)."""
    starts, ends = bounds[:-1], bounds[1:]
    count = -(-(ends - starts) // _PIECE)  # each domain's pieces
    domain = np.repeat(np.arange(len(count)), count)
    first = np.cumsum(count) - count  # each domain's first piece
    start = starts[domain] + (np.arange(len(domain)) - first[domain]) * _PIECE
    end = np.minimum(start + _PIECE, ends[domain])
    return list(zip(start.tolist(), end.tolist(), domain.tolist(), strict=True))


def cross_products(A: FloatArray, B: FloatArray, bounds: IntArray) -> FloatArray:
    """``A_d' B_d`` over the rows of each domain d (domains x a x b).

    Small matrix products over the domains' sorted rows: cheaper than any formulation without
    a loop (those need every row's a x b outer product).
    """
    out = np.zeros((len(bounds) - 1, A.shape[1], B.shape[1]))
    for s, e, d in _pieces(bounds):
        out[d] += A[s:e].T @ B[s:e]
    return out


def times(A: FloatArray, M: FloatArray, bounds: IntArray) -> FloatArray:
    """Each row of ``A`` times its domain's matrix ``M_d`` (rows x b)."""
    out = np.empty((A.shape[0], M.shape[2]))
    for s, e, d in _pieces(bounds):
        out[s:e] = A[s:e] @ M[d]
    return out


@dataclass(frozen=True)
class ScoreRows:
    """The rows of n problems: each row's design row, problem (sorted), merged row and
    weight. Merged rows are numbered 0..m-1 sorted by problem; ``merged_bounds`` marks each
    problem's merged rows. A row's scores are its weight times its merged row's scores."""

    rows: IntArray
    code: IntArray
    merged: IntArray
    weight: FloatArray
    merged_bounds: IntArray

    @property
    def n(self) -> int:
        return len(self.merged_bounds) - 1

    @classmethod
    def unmerged(cls, rows: IntArray, code: IntArray, n: int) -> ScoreRows:
        """Every row its own merged row, of weight 1 (``code`` sorted)."""
        return cls(rows, code, np.arange(len(rows)), np.ones(len(rows)),
                   bounds_of(np.bincount(code, minlength=n)))


@dataclass(frozen=True)
class _Component:
    """One variance component's sums over the rows that the scores do not change.

    Unit totals: with every row its own unit, the unit cross-products are a weighted sum over
    merged rows (``own_units``: each merged row's sum of ``scale * w**2``); otherwise the
    (problem, unit) pairs' totals are ``unit_sums @ H``. The (problem, stratum) pairs' totals
    are ``group_sums @ H``; ``calibration`` holds each merged row's sum of ``scale * w`` times
    its rows' units' calibration totals.
    """

    comp: VarianceComponent
    own_units: FloatArray | None
    unit_sums: Sparse
    unit_scale: FloatArray
    unit_bounds: IntArray
    group_sums: Sparse
    groups: IntArray
    group_code: IntArray
    group_bounds: IntArray
    calibration: Sparse


@dataclass(frozen=True)
class Prepared:
    """What :func:`covariances` needs of a design and a :class:`ScoreRows`, taken once."""

    rows: ScoreRows
    merged_code: IntArray
    components: tuple[_Component, ...]
    cache: dict[str, Any] | None
    #: per calibration step: each merged row's sum of ``w * lam / psw`` times its rows' X
    projection: tuple[Sparse, ...]


def prepare(design: Design, rows: ScoreRows) -> Prepared:
    """The sums over rows that :func:`covariances` needs for any scores on these rows."""
    m = int(rows.merged_bounds[-1])
    merged_code = np.repeat(np.arange(rows.n), np.diff(rows.merged_bounds))
    cache = _calibration_cache(design)
    parts = []
    for i, comp in enumerate(design.components):
        scale = comp.scale[comp.group[comp.unit[rows.rows]]]
        if comp.n_units == design.n:  # every row its own unit
            units, unit_code, pair = comp.unit[rows.rows], rows.code, None
            own_units: FloatArray | None = np.bincount(
                rows.merged, weights=scale * rows.weight**2, minlength=m).astype(np.float64)
            unit_sums = None
        else:
            units, unit_code, pair = number_pairs(rows.code, comp.unit[rows.rows], comp.n_units)
            own_units = None
            unit_sums = _sums(pair, len(units), rows.merged, m, rows.weight)
        groups, group_code, gpair = number_pairs(unit_code, comp.group[units], comp.n_groups)
        group_sums = _sums(gpair if pair is None else gpair[pair], len(groups), rows.merged, m,
                           rows.weight)
        calibration = None
        if cache is not None:
            U = cache["units"][i][0]
            calibration = _sums(rows.merged, m, comp.unit[rows.rows], comp.n_units,
                                scale * rows.weight) @ U
        parts.append(_Component(
            comp, own_units, unit_sums, comp.scale[comp.group[units]],
            bounds_of(np.bincount(unit_code, minlength=rows.n)), group_sums, groups,
            group_code, bounds_of(np.bincount(group_code, minlength=rows.n)), calibration))
    projection: tuple[Sparse, ...] = ()
    if cache is not None:
        projection = tuple(
            _sums(rows.merged, m, rows.rows, design.n,
                  rows.weight * step.lam[rows.rows] / step.psw[rows.rows]) @ X
            for step, X in zip(cache["steps"], cache["X"], strict=True))
    return Prepared(rows, merged_code, tuple(parts), cache, projection)


def _sums(at: IntArray, n_at: int, of: IntArray, n_of: int, values: FloatArray) -> Sparse:
    """The n_at x n_of sparse matrix of ``values`` summed by (``at``, ``of``)."""
    return sp.csr_matrix((values, (at, of)), shape=(n_at, n_of))


def covariances(prepared: Prepared, H: FloatArray) -> FloatArray:
    """The n x k x k design covariances of the problems' column totals, row i's scores being
    ``weight_i * H[merged_i]`` (``H``: merged rows x k).

    The terms are those of :func:`tryg.stats.variance.linearized_variance` in covariance form.
    Per variance component, with ``Z_du`` the problem's total in unit u, ``S_dg`` its total in
    group g, ``a_u`` the unit's scale and ``b_g`` the group's scale times centre::

        C_d = sum_u a_u Z_du Z_du' - sum_g b_g S_dg S_dg'
              - X_d B_d - B_d' X_d' + B_d' G B_d          (calibrated designs)

    where ``B_d`` are the calibration projection coefficients of the problem's scores
    (:func:`_projection`), ``X_d = sum_u a_u Z_du U_u' - sum_g b_g S_dg Ug_g'`` the
    cross-products with the units' (``U``) and groups' (``Ug``) calibration totals, and
    ``G = U' C U`` from the calibration cache. Each is a product of ``H`` with the prepared
    sums: ``Z = unit_sums @ H`` (with every row its own unit,
    ``sum_u a_u Z_du Z_du' = sum_p c_p H_p H_p'``), ``S = group_sums @ H`` and
    ``sum_u a_u U_u' Z_du = sum_p calibration_p' H_p``.
    """
    P = prepared.rows
    n, k = P.n, H.shape[1]
    if k == 0 or n == 0:
        return np.zeros((n, k, k))
    per_component = []
    weighted_groups = []
    for part in prepared.components:
        comp = part.comp
        if part.own_units is not None:
            C = cross_products(H, H * part.own_units[:, None], P.merged_bounds)
        else:
            Z = np.asarray(part.unit_sums @ H)
            C = cross_products(Z, Z * part.unit_scale[:, None], part.unit_bounds)
        Sg = np.asarray(part.group_sums @ H)
        bS = Sg * (comp.scale * comp.centre)[part.groups][:, None]
        C -= cross_products(Sg, bS, part.group_bounds)
        per_component.append(C)
        weighted_groups.append(bS)
    if prepared.cache is not None:
        _calibration_terms(prepared, H, weighted_groups, per_component)
    total = np.zeros((n, k, k))
    for part, C in zip(prepared.components, per_component, strict=True):
        if part.comp.average_lonely is not None:
            C *= _average_factors(part.comp, part.groups, part.group_code, n,
                                  prepared.cache is not None)[:, None, None]
        total += C
    total = (total + total.transpose(0, 2, 1)) / 2.0
    on_diagonal = np.arange(k)
    total[:, on_diagonal, on_diagonal] = np.maximum(total[:, on_diagonal, on_diagonal], 0.0)
    return total


def _calibration_terms(prepared: Prepared, H: FloatArray, weighted_groups: list[FloatArray],
                       per_component: list[FloatArray]) -> None:
    """Add the calibration terms to each component's covariances, in parts of problems that
    bound the memory of the n x P x k products."""
    cache = prepared.cache
    assert cache is not None
    P, k = prepared.rows, H.shape[1]
    n_cal = cache["units"][0][2].shape[0]
    per = max(1, _CALIBRATION_BLOCK // max(1, n_cal * k))
    for first in range(0, P.n, per):
        last = min(first + per, P.n)
        s, e = P.merged_bounds[first], P.merged_bounds[last]
        code = prepared.merged_code[s:e] - first
        B = _projection(cache, [X[s:e] for X in prepared.projection], code, H[s:e],
                        last - first)
        for i, (part, bS, C) in enumerate(
                zip(prepared.components, weighted_groups, per_component, strict=True)):
            _, ug, G = cache["units"][i]
            gs, ge = part.group_bounds[first], part.group_bounds[last]
            cross = (_block_products(part.calibration[s:e], code, H[s:e], last - first)
                     - _block_products(ug[part.groups[gs:ge]], part.group_code[gs:ge] - first,
                                       bS[gs:ge], last - first))  # problems x P x k
            # stacked matrix products (numpy's einsum of these is some 20 times slower)
            XB = cross.transpose(0, 2, 1) @ B
            C[first:last] -= XB + XB.transpose(0, 2, 1)
            C[first:last] += B.transpose(0, 2, 1) @ _apply(G, B)


def covariances_of_totals(
    design: Design, problems: Sequence[tuple[IntArray, FloatArray]]
) -> list[FloatArray]:
    """For each (rows, scores) pair: the k x k design covariance of the column totals.

    The scores are zero outside ``rows`` (a domain's influence values; the rows of a pair are
    distinct), so everything is computed on those rows, for all pairs at once
    (:func:`covariances`). The cost is O(rows x k^2) plus the calibration's small P x k
    products, whatever the size of the design.
    """
    if not problems:
        return []
    k = max(S.shape[1] for _, S in problems)
    rows = np.concatenate([np.asarray(r, np.int64) for r, _ in problems])
    code = np.repeat(np.arange(len(problems)), [len(r) for r, _ in problems])
    S = np.zeros((len(rows), k))
    at = 0
    for r, scores in problems:
        S[at:at + len(r), :scores.shape[1]] = scores
        at += len(r)
    V = covariances(prepare(design, ScoreRows.unmerged(rows, code, len(problems))), S)
    return [V[i, :s.shape[1], :s.shape[1]] for i, (_, s) in enumerate(problems)]


def number_pairs(
    code: IntArray, member: IntArray, size: int
) -> tuple[IntArray, IntArray, IntArray]:
    """Number the distinct (code, member) pairs in order of first appearance (so, for sorted
    codes, sorted by code): each pair's member and code, and each row's pair."""
    pair, distinct = pd.factorize(code * size + member)
    distinct = np.asarray(distinct, np.int64)
    return distinct % size, distinct // size, np.asarray(pair, np.int64)


def _block_products(M: Any, code: IntArray, V: FloatArray, n: int) -> FloatArray:
    """``sum_r M_r' V_r`` over each problem's rows r (``code``): n x P x k.

    ``M`` (rows x P, sparse) and ``V`` (rows x k) have a row per row of the problems. One
    sparse product does all problems: each row's entries of ``M`` move to the columns of its
    problem's block (``code * P + column``).
    """
    M = sp.csr_matrix(M)
    P = M.shape[1]
    shifted = M.indices.astype(np.int64) + np.repeat(code * P, np.diff(M.indptr))
    blocks = sp.csr_matrix((M.data, shifted, M.indptr), shape=(M.shape[0], n * P))
    return np.asarray(blocks.T @ V).reshape(n, P, V.shape[1])


def _apply(M: Any, B: FloatArray) -> FloatArray:
    """``M @ B_d`` for every problem's block ``B_d`` (B: n x P x k, M: Q x P, maybe sparse)."""
    n, P, k = B.shape
    out = np.asarray(M @ B.transpose(1, 0, 2).reshape(P, n * k))
    return np.ascontiguousarray(out.reshape(-1, n, k).transpose(1, 0, 2))


def _projection(
    cache: dict[str, Any], sums: list[Sparse], code: IntArray, H: FloatArray, n: int
) -> FloatArray:
    """The calibration steps' projection coefficients of each problem's scores (n x P x k,
    the steps stacked): :func:`tryg.stats.variance._coefficients` for scores that are zero
    outside the problem's rows (``sums``: per step, the merged rows' sums of
    ``w * lam / psw`` times the step's X)."""
    betas: list[FloatArray] = []
    for k, M in enumerate(sums):
        rhs = _block_products(M, code, H, n)
        for m in range(k):
            rhs = rhs - _apply(cache["cross"][(k, m)], betas[m])
        betas.append(_apply(cache["minv"][k], rhs))
    return np.concatenate(betas, axis=1)


def _average_factors(
    comp: VarianceComponent, groups: IntArray, group_code: IntArray, n: int, calibrated: bool
) -> FloatArray:
    """lonely_psu="average": strata / strata with a variance, per problem (see
    variance._average_factor). A calibrated design keeps every stratum; otherwise only the
    strata a problem's rows touch count (``groups``: the (problem, stratum) pairs)."""
    lonely = comp.average_lonely
    assert lonely is not None
    if calibrated:
        present = np.full(n, float(comp.n_groups))
        ok = np.full(n, float((~lonely).sum()))
    else:
        present = np.bincount(group_code, minlength=n).astype(np.float64)
        ok = np.bincount(group_code, weights=(~lonely[groups]).astype(np.float64), minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ok > 0, present / ok, np.nan)
