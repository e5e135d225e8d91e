"""Design-based (Taylor-linearised) variance for many estimates at once.

An estimator hands over a sparse matrix of *scores* (influence values times weights): one row
per respondent, one column per estimate (e.g. per area × wave). The variance of each column's
total is computed as R `survey`'s ``svyrecvar`` does, stage by stage, but for all columns in one
pass of sparse algebra instead of one domain at a time.

Calibration (post-stratification, raking, GREG) replaces the scores by their residuals from a
projection on the calibration variables. Written out, the residual unit totals are
``Z - U @ B`` (``U``: unit totals of the weighted calibration variables, ``B``: one coefficient
vector per column). Their variance is expanded as ``V(Z) - 2 cross(Z, U B) + B' G B`` with a
small ``G = U' C U`` shared by all columns, so a national calibration does not make the
residual matrix dense. This is why a hand-written engine exists at all: no maintained Python
library computes calibrated domain variances this way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from tryg.stats.design import CalibrationStep, Design, FloatArray, VarianceComponent
from tryg.stats.numbering import membership

Sparse = Any  # scipy.sparse matrices are not generic types


def linearized_variance(design: Design, scores: Sparse) -> FloatArray:
    """Variance of the total of every column of ``scores`` (n × K, weighted scores)."""
    scores = sp.csc_matrix(scores)
    if scores.shape[0] != design.n:
        raise ValueError("scores must have one row per design row")
    cache = _calibration_cache(design)
    B = _coefficients(cache, scores) if cache is not None else None
    total = np.zeros(scores.shape[1])
    for i, comp in enumerate(design.components):
        v = _component_variance(comp, scores, B, cache, i)
        if comp.average_lonely is not None:
            v *= _average_factor(comp, scores, calibrated=cache is not None)
        total += v
    return np.maximum(total, 0.0)


def _average_factor(comp: VarianceComponent, scores: Sparse, calibrated: bool) -> FloatArray:
    """lonely_psu="average": scale by strata / strata-with-a-variance, per estimate.

    R subsets an uncalibrated design to the domain's rows before it averages, so only strata
    with respondents in the domain count; a calibrated design keeps every row (and stratum).
    The stored entries of a score column are its rows, including scores that happen to be 0.
    """
    lonely = comp.average_lonely
    assert lonely is not None
    if calibrated:
        present = np.full((1, scores.shape[1]), float(comp.n_groups))
        ok = np.full((1, scores.shape[1]), float((~lonely).sum()))
    else:
        pattern = scores.copy()
        pattern.data = np.ones_like(pattern.data)
        row_group = membership(comp.group[comp.unit], comp.n_groups).T.tocsr()
        touched = (row_group @ pattern) > 0  # G × K
        present = np.asarray(touched.sum(axis=0), dtype=np.float64)
        ok = np.asarray(touched[np.flatnonzero(~lonely)].sum(axis=0), dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        # nothing to average over: no variance can be given (R gives NA as well)
        return np.where(ok > 0, present / ok, np.nan).ravel()


def _component_variance(
    comp: VarianceComponent, scores: Sparse, B: Sparse | None, cache: dict[str, Any] | None,
    i: int,
) -> FloatArray:
    unit_to_row = membership(comp.unit, comp.n_units).T.tocsr()
    group_of_unit = membership(comp.group, comp.n_groups).T.tocsr()  # G × J
    unit_scale = comp.scale[comp.group]
    cent_scale = comp.scale * comp.centre
    Z = (unit_to_row @ scores).tocsc()  # J × K
    S = (group_of_unit @ Z).tocsc()  # G × K
    v = np.asarray(Z.multiply(Z).T @ unit_scale).ravel()
    v -= np.asarray(S.multiply(S).T @ cent_scale).ravel()
    if B is None or cache is None:
        return v
    U, ug, G = cache["units"][i]
    cross = Z.T @ sp.diags(unit_scale) @ U - S.T @ sp.diags(cent_scale) @ ug  # K × P
    v -= 2.0 * np.asarray(sp.csr_matrix(cross).multiply(B.T).sum(axis=1)).ravel()
    v += np.asarray(B.multiply(G @ B).sum(axis=0)).ravel()
    return v


def _calibration_cache(design: Design) -> dict[str, Any] | None:
    """Everything about the calibration that does not depend on the scores (computed once)."""
    if not design.calibration:
        return None
    cached = design.cache.calibration
    if cached is not None:
        return cached
    steps = design.calibration
    Xs = [sp.csr_matrix(step.X) for step in steps]
    minv = [_block_pinv(X, step.lam) for X, step in zip(Xs, steps, strict=True)]
    cross = {
        (k, m): (_scale_rows(Xs[k], steps[k].lam * steps[m].psw / steps[k].psw).T @ Xs[m])
        .tocsr()
        for k in range(len(steps))
        for m in range(k)
    }
    W_all = sp.hstack([_scale_rows(X, s.psw) for s, X in zip(steps, Xs, strict=True)]).tocsr()
    units = []
    for comp in design.components:
        if comp.n_units == design.n and np.array_equal(comp.unit, np.arange(design.n)):
            U = W_all  # every row its own unit, in row order: the unit totals are the rows
        else:
            unit_to_row = membership(comp.unit, comp.n_units).T.tocsr()
            U = (unit_to_row @ W_all).tocsr()
        group_of_unit = membership(comp.group, comp.n_groups).T.tocsr()
        ug = (group_of_unit @ U).tocsr()
        unit_scale = comp.scale[comp.group]
        cent_scale = comp.scale * comp.centre
        G = (_scale_rows(U, unit_scale).T @ U - _scale_rows(ug, cent_scale).T @ ug).tocsr()
        units.append((U, ug, G))
    cache = {"steps": steps, "X": Xs, "minv": minv, "cross": cross, "units": units}
    design.cache.calibration = cache
    return cache


def _scale_rows(X: Sparse, d: FloatArray) -> Sparse:
    """``diag(d) @ X`` (CSR) by scaling each stored entry by its row's factor: the same
    numbers as the product (one term per entry), without a sparse product over every row.
    ``_scale_rows(X, d).T @ Y`` is ``X.T @ diag(d) @ Y`` term by term (``(x d) y``)."""
    X = sp.csr_matrix(X, copy=True)
    X.data *= np.repeat(np.asarray(d, dtype=np.float64), np.diff(X.indptr))
    return X


def _coefficients(cache: dict[str, Any], scores: Sparse) -> Sparse:
    """Stacked projection coefficients of every calibration step, for every score column."""
    steps: tuple[CalibrationStep, ...] = cache["steps"]
    betas: list[Sparse] = []
    for k, step in enumerate(steps):
        rhs = cache["X"][k].T @ (sp.diags(step.lam / step.psw) @ scores)
        for m in range(k):
            rhs = rhs - cache["cross"][(k, m)] @ betas[m]
        betas.append(sp.csr_matrix(cache["minv"][k] @ rhs))
    return sp.vstack(betas).tocsr()


def _block_pinv(X: Sparse, lam: FloatArray) -> Sparse:
    """Pseudo-inverse of ``X' diag(lam) X``, block by block.

    Calibration columns that never share a row (e.g. margins of different strata) form
    independent blocks; inverting them separately keeps this cheap for thousands of columns.
    Each block is scaled to unit diagonal first so that the rank cut-off means the same for a
    count of people and for an income. Raking margins are rank deficient by construction (every
    margin sums to the same total): the pseudo-inverse gives the projection R's iteration
    converges to.
    """
    M = (_scale_rows(X, lam).T @ X).tocoo()
    p = M.shape[0]
    n_blocks, label = connected_components(M != 0, directed=False)
    if p == 0:
        return sp.csr_matrix((p, p))
    sizes = np.bincount(label, minlength=n_blocks)
    order = np.argsort(label, kind="stable")
    pos = np.empty(p, dtype=np.int64)  # position of each column inside its block
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    pos[order] = np.arange(p) - starts[label[order]]
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    # Blocks of equal size are inverted together: one stacked pinv per size instead of one
    # call (and one sparse slice) per block.
    for size in np.unique(sizes):
        blocks = np.flatnonzero(sizes == size)
        slot = np.full(n_blocks, -1)
        slot[blocks] = np.arange(len(blocks))
        stack = np.zeros((len(blocks), size, size))
        e = slot[label[M.row]] >= 0
        np.add.at(stack, (slot[label[M.row[e]]], pos[M.row[e]], pos[M.col[e]]), M.data[e])
        d = np.sqrt(np.abs(np.diagonal(stack, axis1=1, axis2=2)))
        d = np.where(d == 0, 1.0, d)
        outer = d[:, :, None] * d[:, None, :]
        inv = np.linalg.pinv(stack / outer, rcond=1e-10, hermitian=True) / outer
        members = np.zeros((len(blocks), size), dtype=np.int64)
        mine = order[slot[label[order]] >= 0]
        members[slot[label[mine]], pos[mine]] = mine
        rows.append(np.repeat(members, size, axis=1).ravel())
        cols.append(np.tile(members, (1, size)).ravel())
        vals.append(inv.ravel())
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(p, p)
    )


def covariance_with_aggregate(
    design: Design, U: Sparse, V: Sparse, M: Sparse, pairs: np.ndarray
) -> FloatArray:
    """``Cov(U[:, k], (V @ M)[:, pairs[k]])`` for every column k of ``U``.

    ``V @ M`` aggregates columns of ``V`` (e.g. areas into their parent area: ``M`` is the
    area → parent indicator); ``pairs[k]`` names the aggregate paired with column k. The
    aggregated columns are never expanded per pair: products are formed at the K × K and
    K × (calibration columns) level, so an area-against-its-parent covariance for thousands
    of areas costs about as much as their variances. Lonely-PSU "average" is not supported.
    """
    U = sp.csc_matrix(U)
    V = sp.csc_matrix(V)
    M = sp.csr_matrix(M)
    pairs = np.asarray(pairs, dtype=np.int64)
    K = U.shape[1]
    if any(c.average_lonely is not None for c in design.components):
        raise ValueError("covariance_with_aggregate does not support lonely_psu='average'")
    cache = _calibration_cache(design)
    B_U = _coefficients(cache, U) if cache is not None else None
    B_W = (_coefficients(cache, V) @ M).tocsc() if cache is not None else None
    rows = np.arange(K)
    total = np.zeros(K)
    for i, comp in enumerate(design.components):
        unit_to_row = membership(comp.unit, comp.n_units).T.tocsr()
        group_of_unit = membership(comp.group, comp.n_groups).T.tocsr()
        c_unit = sp.diags(comp.scale[comp.group])
        c_cent = sp.diags(comp.scale * comp.centre)
        Z_U = (unit_to_row @ U).tocsc()
        Z_V = (unit_to_row @ V).tocsc()
        S_U = (group_of_unit @ Z_U).tocsc()
        S_V = (group_of_unit @ Z_V).tocsc()
        T = ((Z_U.T @ c_unit @ Z_V - S_U.T @ c_cent @ S_V) @ M).tocsr()
        total += np.asarray(T[rows, pairs]).ravel()
        if cache is None or B_U is None or B_W is None:
            continue
        Ucal, ug, G = cache["units"][i]
        Z_W = (Z_V @ M).tocsc()
        S_W = (S_V @ M).tocsc()
        X1 = sp.csr_matrix(Z_U.T @ c_unit @ Ucal - S_U.T @ c_cent @ ug)  # K × P
        total -= np.asarray(X1.multiply(B_W[:, pairs].T).sum(axis=1)).ravel()
        X2 = sp.csc_matrix(Ucal.T @ c_unit @ Z_W - ug.T @ c_cent @ S_W)  # P × Kp
        total -= np.asarray(B_U.multiply(X2[:, pairs]).sum(axis=0)).ravel()
        total += np.asarray(B_U.multiply((G @ B_W)[:, pairs]).sum(axis=0)).ravel()
    return total
