"""Variances and covariances of domain totals from per-cell moments: one pass per variable.

When every row is its own unit (no clusters: one variance component whose units are the rows)
and the estimates' domains are unions of *cells* (rows of one stratum with the same domain at
every level asked for), the linearised variance of a domain total needs the rows only through
a few sums per cell. For a score ``z = f · w (y − c)`` that is constant in ``f`` and ``c`` on
each cell ``g``, write ``e = y − ȳ_g`` (the cell's own mean) and ``δ_g = ȳ_g − c``; then

* ``Σ_g a_h Σ_i z_i²`` needs ``Σ w²e², Σ w²e, Σ w²`` per cell (``a_h``: the stratum's scale),
* the stratum totals ``S_h = Σ_{g ⊂ h} (Σ w e + δ_g Σ w)`` need ``Σ w e, Σ w`` per cell,
* the calibration coefficients ``B`` and the cross moments ``Q`` need ``Σ x λ/psw · w e`` and
  ``Σ psw x · w e`` (and the same with ``w``) per cell, as short vectors in the superblock
  layout of :mod:`tryg.stats.calibration_blocks`;

and the variance ``Σ a z² − Σ_h c_h S_h² + B'GB − 2 B'Q`` (the formula of
:mod:`tryg.stats.variance` and :mod:`tryg.stats.score_patterns`) is assembled from those cell
sums for any number of domains, pooled windows or contrasts, without another pass over the
rows. Every quantity is kept centred on the cell's mean, so a domain whose answers are all
equal gets a variance of (numerically) zero as on the row-wise path.

:class:`CellEngine` gives, per domain, the 2 × 2 covariance of ``D = Σ w (y − ȳ_d)`` and
``W = Σ w`` (:meth:`CellEngine.pair`), and the 2 × 2 cross covariances of an area's ``(D, W)``
with those of the domain it is nested in (:meth:`CellEngine.nested`). A domain mean
``ȳ_d = Y/W`` has the linearised variance ``Var(D)/W²``; a pooled mean, or the difference of an
area and the rest of its parent, is a linear combination of such pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from tryg.stats import calibration_blocks as cb
from tryg.stats.design import Design, FloatArray, IntArray
from tryg.stats.numbering import factor, lookup, summing

Sparse = Any  # scipy.sparse matrices are not generic types


def applies(design: object) -> bool:
    """Whether :class:`CellEngine` handles ``design``: a linearised design the block engine
    supports, with one variance component whose units are the rows (no clusters)."""
    if not cb.supported(design):
        return False
    assert isinstance(design, Design)
    comps = design.components
    return len(comps) == 1 and comps[0].n_units == design.n


#: A zero offset of every cell from its domain's mean (see ``CellEngine._linear``).
_ZERO = np.zeros((1, 1))


def _blockmul(stack: FloatArray, sb: IntArray, X: FloatArray) -> FloatArray:
    """``stack[sb[e]] @ X[e, v, :]`` for every e and v. One batched product of small
    matrices (numpy's own loop: a BLAS call per superblock costs more in thread start-up
    than in arithmetic at these sizes)."""
    if len(sb) == 0:
        return np.zeros((0, X.shape[1], stack.shape[1]))
    out: FloatArray = np.matmul(X, stack.take(sb, axis=0).transpose(0, 2, 1))
    return out


def pooled_means(
    means: FloatArray, weights: FloatArray, owner: IntArray, n_owner: int
) -> tuple[FloatArray, FloatArray]:
    """Weighted means of the rows of ``means`` (K × V, weights K × V) pooled into their
    ``owner`` (-1: none), and the pooled weights: one member's mean plus the weighted mean
    offset from it, so that members with equal means give exactly that mean (and a
    difference of such means is exactly 0). NaN where a group has no weight."""
    owner = np.asarray(owner, dtype=np.int64)
    ind = summing(owner, n_owner)
    W = np.asarray(ind @ weights)
    # the members that count: in a group, with weight (the rows are not taken apart into
    # the members first: that copies every column, and usually every row is a member)
    has = weights != 0
    outside = owner < 0
    if outside.any():
        has[outside] = False
    # each group's reference: its last member's mean, per variable; a last row of zeros
    # for the rows in no group (owner -1 picks it)
    ref = np.zeros((n_owner + 1, means.shape[1]))
    for v in range(means.shape[1]):
        at = np.flatnonzero(has[:, v])
        ref[owner[at], v] = means[at, v]
    off = weights * (means - ref[owner])
    off[~has] = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = ref[:n_owner] + np.asarray(ind @ off) / W
    return np.where(W != 0, mean, np.nan), W


@dataclass(frozen=True)
class CellMoments:
    """Sums over the valid rows of every cell, for V variables (see the module docstring)."""

    W: FloatArray  # G × V: Σ w
    ybar: FloatArray  # G × V: the cell's mean (0 where it has no weight; exact if y is constant)
    n: FloatArray  # G × V: valid rows
    S1: FloatArray  # G × V: Σ w e (0 up to rounding)
    Q2: FloatArray  # G × V: Σ w² e²
    Q1: FloatArray  # G × V: Σ w² e
    Q0: FloatArray  # G × V: Σ w²
    T2: FloatArray  # G × V: Σ w e²
    nz: FloatArray  # G × V: valid rows with a weight other than 0
    R1: tuple[FloatArray, ...]  # per step, G × V × size_k: Σ x λ/psw · w e
    R0: tuple[FloatArray, ...]  # per step: Σ x λ/psw · w
    P1: FloatArray | None  # G × V × size: a · Σ psw x · w e  (− c ug · S1, which is 0)
    P0: FloatArray | None  # G × V × size: a · Σ psw x · w − c ug · W  (c ug: the cell's stratum's)


@dataclass(frozen=True)
class _Linear:
    """The linear parts of one score per domain: stratum totals and calibration vectors."""

    S: FloatArray  # H × V: total per (stratum, domain) pair
    B: FloatArray | None  # E × V × size: calibration coefficients per (domain, superblock)
    Q: FloatArray | None  # E × V × size: cross moments per (domain, superblock)
    GB: FloatArray | None  # E × V × size: G @ B
    #: E × V × size: GB − Q, all that :meth:`CellEngine._bilinear` needs of them; kept
    #: instead of both for parts aligned on another family's pairs (one copy, not two)
    GBQ: FloatArray | None = None


@dataclass(frozen=True)
class Family:
    """Domains that are unions of cells: pairs of domain × stratum and domain × superblock."""

    dom: IntArray  # domain of every cell (-1: none)
    n_dom: int
    h_id: IntArray  # (stratum, domain) pair of every cell (-1: none)
    h_key: IntArray  # sorted keys stratum * n_dom + domain of the pairs
    h_ind: Sparse  # pairs × cells
    e_id: IntArray  # (domain, superblock) pair of every cell (-1: none or no superblock)
    e_key: IntArray  # sorted keys domain * n_sb + superblock
    e_ind: Sparse  # E pairs × cells
    he: IntArray  # the (domain, superblock) pair of every (stratum, domain) pair (-1: none)
    dom_ind: Sparse  # domains × cells
    h_dom: IntArray  # domain of every (stratum, domain) pair
    h_c: FloatArray  # c_h of every (stratum, domain) pair
    hd_ind: Sparse  # domains × (stratum, domain) pairs
    e_dom: IntArray  # domain of every (domain, superblock) pair
    e_sb: IntArray  # superblock of every (domain, superblock) pair
    ed_ind: Sparse  # domains × (domain, superblock) pairs


@dataclass(frozen=True)
class DomainParts:
    """Per domain of a family (D × V): the mean and ``Σ w``; per cell the offset of its mean
    from its domain's; the linear parts of ``D`` and ``W``."""

    mean: FloatArray
    W: FloatArray
    delta: FloatArray
    lin_d: _Linear
    lin_w: _Linear
    done: dict[str, FloatArray] = field(default_factory=dict)  # variances computed so far


#: Rows that :meth:`CellEngine.moments` works through at a time (whole cells): its work
#: arrays (rows × variables) then stay in the processor's cache instead of streaming
#: through memory once per operation.
STRETCH_ROWS = 1 << 13


@dataclass(frozen=True)
class _Stretch:
    """Cells ``lo..hi`` and their rows (``rows``, grouped by cell), with the sums of
    :class:`CellEngine` restricted to them."""

    lo: int
    hi: int
    rows: IntArray  # the design's rows, grouped by cell
    weights: FloatArray  # their weights
    count: IntArray  # rows per cell
    total: Sparse  # cells × rows: a cell's sum
    rsum: tuple[Sparse, ...]  # per step, (cell × size_k) × rows
    psum: Sparse | None  # (cell × size) × rows


def _row_range(matrix: Sparse, lo: int, hi: int, r0: int, r1: int) -> Sparse:
    """Rows ``lo..hi`` of the CSR ``matrix`` whose entries lie in columns ``r0..r1``, as a
    (hi − lo) × (r1 − r0) matrix (the same entries, in the same order)."""
    p0, p1 = int(matrix.indptr[lo]), int(matrix.indptr[hi])
    return sp.csr_matrix((matrix.data[p0:p1], matrix.indices[p0:p1] - r0,
                          matrix.indptr[lo:hi + 1] - p0), shape=(hi - lo, r1 - r0))


class CellEngine:
    """Per-cell moments of a design whose units are its rows (see :func:`applies`).

    ``keys`` are row-aligned domain codes (-1: in none); cells are the rows with the same
    stratum and the same code in every key, so each key's domains are unions of cells.
    """

    def __init__(self, design: Design, keys: Sequence[IntArray]) -> None:
        if not applies(design):
            raise ValueError("the cell engine does not support this design")
        self.design = design
        self._parts: dict[tuple[int, int], tuple[CellMoments, Family, DomainParts]] = {}
        self._cross: dict[tuple[int, tuple[tuple[int, int], ...]],
                          tuple[CellMoments, dict[tuple[int, int], tuple[FloatArray, ...]]]] = {}
        comp = design.components[0]
        group_row = comp.group[comp.unit]
        code = np.asarray(group_row, dtype=np.int64)
        bound = int(code.max(initial=0)) + 1  # codes lie in [0, bound)
        for key in keys:
            k = np.asarray(key, dtype=np.int64)
            base = int(k.max(initial=0)) + 2
            if bound * base >= 2**62:  # renumber first, so that the combined code fits
                code, _ = factor(code)
                bound = int(code.max(initial=0)) + 1
            code, bound = code * base + k + 1, bound * base
        # numbered once, in the order of (group, key 1, key 2, ...): as renumbering after
        # every key (an order-keeping step) would give
        cell, _ = factor(code)
        self.cell = cell
        self.n_cells = G = int(cell.max(initial=-1)) + 1
        first = np.zeros(G, dtype=np.int64)
        first[cell[::-1]] = np.arange(design.n)[::-1]
        self.first = first
        self.keys = [np.asarray(k, dtype=np.int64)[first] for k in keys]
        self.group = group_row[first]
        self.n_groups = comp.n_groups
        self.a = comp.scale[self.group]
        self.c = comp.scale * comp.centre  # per stratum
        self.weights = np.asarray(design.weights, dtype=np.float64)
        # the rows grouped by cell (in row order inside each cell): a cell's sums then read
        # one stretch of rows, and a product with ``_cell_sum`` adds them in row order, as a
        # bincount does, for every variable at once
        by_cell = summing(cell, G)  # its column indices: the rows, counting-sorted by cell
        self._order = np.asarray(by_cell.indices, dtype=np.int64)
        self._count = np.diff(by_cell.indptr)
        self._position = np.full(design.n, -1, dtype=np.int64)  # row -> place in _order
        self._position[self._order] = np.arange(len(self._order))
        self._cell_sum = sp.csr_matrix(
            (np.ones(len(self._order)), np.arange(len(self._order)), by_cell.indptr),
            shape=(G, len(self._order)))
        self._grouped_weights = self.weights[self._order]
        blk = cb.blocks(design) if design.calibration else None
        self.blocks = blk
        # calibration sums: per step and for U, a (cell × layout position) × rows matrix, so
        # that one sparse product sums every variable (one pass over the rows, not one per
        # variable)
        self.rsum: list[Sparse] = []
        self.sizes: list[int] = []
        self.psum: Sparse | None = None
        self.ug: FloatArray | None = None
        if blk is None:
            self.sb = np.full(G, -1, dtype=np.int64)
            self._stretches = self._split()
            return
        self.sb = blk.sb_row[first]
        inside = (blk.sb_row >= 0) & (cell >= 0)
        for step in blk.steps:
            X = sp.coo_matrix(step.Xw)
            ok = inside[X.row]
            r, c, v = X.row[ok], X.col[ok], X.data[ok]
            self.rsum.append(self._summing(r, cell[r] * step.size + step.local[c], v, step.size))
            self.sizes.append(step.size)
        cc = blk.components[0]
        row_of_unit = np.empty(comp.n_units, dtype=np.int64)
        row_of_unit[comp.unit] = np.arange(design.n)
        U = sp.coo_matrix(cc.U)
        r = row_of_unit[U.row]
        ok = inside[r]
        r, col, val = r[ok], U.col[ok], U.data[ok]
        self.psum = self._summing(r, cell[r] * blk.size + blk.local[col],
                                  val * self.a[cell[r]], blk.size)
        ug = sp.coo_matrix(cc.ug)
        dense = np.zeros((comp.n_groups, blk.size))
        np.add.at(dense, (ug.row, blk.local[ug.col]), ug.data)
        self.ug = dense
        self._stretches = self._split()

    def _split(self) -> list[_Stretch]:
        """The cells in stretches of about :data:`STRETCH_ROWS` rows (see :meth:`moments`)."""
        starts = self._cell_sum.indptr
        G, n_in = self.n_cells, len(self._order)
        cuts = np.unique(np.concatenate(
            [[0], np.searchsorted(starts, np.arange(STRETCH_ROWS, n_in, STRETCH_ROWS)), [G]]))
        out = []
        for lo, hi in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
            r0, r1 = int(starts[lo]), int(starts[hi])
            out.append(_Stretch(
                lo=lo, hi=hi, rows=self._order[r0:r1], weights=self._grouped_weights[r0:r1],
                count=self._count[lo:hi], total=_row_range(self._cell_sum, lo, hi, r0, r1),
                rsum=tuple(_row_range(m, lo * k, hi * k, r0, r1)
                           for m, k in zip(self.rsum, self.sizes, strict=True)),
                psum=None if self.psum is None or self.blocks is None
                else _row_range(self.psum, lo * self.blocks.size, hi * self.blocks.size, r0, r1)))
        return out

    # -- moments ---------------------------------------------------------------------------
    def _summing(self, rows: IntArray, bins: IntArray, x: FloatArray, size: int) -> Sparse:
        """The matrix that sums ``x · values[rows]`` into ``bins`` (cell × ``size``), for
        values whose rows are grouped by cell (``_order``). Each bin's entries are added in
        row order, as a bincount over the rows does: the same sums, read from one stretch
        of rows per cell."""
        shape = (self.n_cells * size, len(self._order))
        out = sp.csr_matrix((x, (bins, self._position[rows])), shape=shape)
        out.sort_indices()
        return out

    def moments(self, values: FloatArray) -> CellMoments:
        """Cell sums of every column of ``values`` (n × V; NaN: outside the base).

        The rows are read in cell order, a stretch of whole cells at a time (see
        :data:`STRETCH_ROWS`): every sum is then one sparse product over all V columns, adding
        each cell's rows in row order (the sums a bincount per column gives), and a cell's
        value goes back to its rows by ``np.repeat``. Rows outside a column's base get the
        weight 0 and the value 0, so that every product with the weight leaves them out
        without a mask."""
        Y = np.asarray(values, dtype=np.float64).reshape(self.design.n, -1)
        G, V = self.n_cells, Y.shape[1]
        blk = self.blocks
        size = blk.size if blk is not None else 0
        names = ("W", "ybar", "n", "Q2", "Q1", "Q0", "T2", "nz")
        out = {name: np.zeros((G, V)) for name in names}
        # calibration sums as (cell × layout position) × V, put into G × V × size at the end
        r1 = [np.zeros((G * k, V)) for k in self.sizes]
        r0 = [np.zeros((G * k, V)) for k in self.sizes]
        p1, p0 = np.zeros((G * size, V)), np.zeros((G * size, V))
        for st in self._stretches:
            lo, hi = st.lo, st.hi
            total = st.total
            Yc = Y.take(st.rows, axis=0)
            missing = np.isnan(Yc)
            w = np.where(missing, 0.0, st.weights[:, None])
            y = np.where(missing, 0.0, Yc)
            W = out["W"][lo:hi] = total @ w
            out["n"][lo:hi] = total @ (~missing).astype(np.float64)
            out["Q0"][lo:hi] = total @ (w * w)
            out["nz"][lo:hi] = total @ (w != 0).astype(np.float64)
            # the mean as one of the cell's answers (its last, in row order) plus the
            # weighted mean offset from it: exactly that answer when all answers of the cell
            # are equal
            at = np.where(missing, -1, np.arange(len(Yc))[:, None])
            last = np.maximum.reduceat(at, total.indptr[:-1], axis=0)
            ref = np.where(last >= 0, np.take_along_axis(Yc, np.maximum(last, 0), axis=0), 0.0)
            shift = total @ (w * (y - np.repeat(ref, st.count, axis=0)))
            with np.errstate(divide="ignore", invalid="ignore"):
                ybar = out["ybar"][lo:hi] = np.where(W != 0, ref + shift / W, 0.0)
            e = y - np.repeat(ybar, st.count, axis=0)  # y − ȳ_g (times w: 0 outside the base)
            we = w * e
            out["Q1"][lo:hi] = total @ (w * we)
            out["Q2"][lo:hi] = total @ (we * we)
            out["T2"][lo:hi] = total @ (we * e)
            for k, k_size in enumerate(self.sizes):
                r1[k][lo * k_size:hi * k_size] = st.rsum[k] @ we
                r0[k][lo * k_size:hi * k_size] = st.rsum[k] @ w
            if st.psum is not None:
                p1[lo * size:hi * size] = st.psum @ we
                p0[lo * size:hi * size] = st.psum @ w

        def layout(x: FloatArray, k_size: int) -> FloatArray:
            """(cell × position) × V as G × V × size."""
            return np.ascontiguousarray(x.reshape(G, k_size, V).transpose(0, 2, 1))

        R1 = tuple(layout(x, k) for x, k in zip(r1, self.sizes, strict=True))
        R0 = tuple(layout(x, k) for x, k in zip(r0, self.sizes, strict=True))
        P1 = P0 = None
        if blk is not None:
            assert self.ug is not None
            P1, P0 = layout(p1, size), layout(p0, size)
            # the cross moments' strata part, − c_h ug_h S_h per (stratum, domain) pair,
            # summed cell by cell instead: S_h sums the cells' Σ w (y − c), whose
            # Σ w e part is 0 (S1), so only W enters, here, once for every domain
            cug = self.c[self.group][:, None] * self.ug[self.group]  # G × size
            P0 -= out["W"][:, :, None] * cug[:, None, :]
        return CellMoments(W=out["W"], ybar=out["ybar"], n=out["n"], S1=np.zeros((G, V)),
                           Q2=out["Q2"], Q1=out["Q1"], Q0=out["Q0"], T2=out["T2"],
                           nz=out["nz"], R1=R1, R0=R0, P1=P1, P0=P0)

    # -- domains ---------------------------------------------------------------------------
    def family(self, dom: IntArray, n_dom: int) -> Family:
        """Domains given per cell (``dom``, -1: none), e.g. ``self.keys[i]`` or a function
        of it."""
        dom = np.asarray(dom, dtype=np.int64)
        inside = dom >= 0
        hk = np.where(inside, self.group * n_dom + dom, -1)
        h_id = np.full(len(dom), -1, dtype=np.int64)
        h_id[inside], h_key = factor(hk[inside])
        n_sb = self.blocks.n_sb if self.blocks is not None else 0
        ok = inside & (self.sb >= 0)
        e_id = np.full(len(dom), -1, dtype=np.int64)
        e_key = np.zeros(0, dtype=np.int64)
        if ok.any():
            e_id[ok], e_key = factor(dom[ok] * n_sb + self.sb[ok])
        he = np.full(len(h_key), -1, dtype=np.int64)
        he[h_id[inside]] = e_id[inside]
        h_group, h_dom = h_key // n_dom, h_key % n_dom
        e_dom = e_key // n_sb if n_sb else e_key
        e_sb = e_key % n_sb if n_sb else e_key
        return Family(dom=dom, n_dom=n_dom, h_id=h_id, h_key=h_key,
                      h_ind=summing(h_id, len(h_key)), e_id=e_id, e_key=e_key,
                      e_ind=summing(e_id, len(e_key)), he=he,
                      dom_ind=summing(dom, n_dom), h_dom=h_dom, h_c=self.c[h_group],
                      hd_ind=summing(h_dom, n_dom), e_dom=e_dom, e_sb=e_sb,
                      ed_ind=summing(e_dom, n_dom))

    def means(self, mom: CellMoments, fam: Family) -> tuple[FloatArray, FloatArray]:
        """Each domain's mean and weight total (D × V; the mean is NaN without weight). The
        mean is taken as offsets from one of its cells' means, so that it is exactly the
        common value when all of the domain's answers are equal."""
        return pooled_means(mom.ybar, mom.W, fam.dom, fam.n_dom)

    def _delta(self, mom: CellMoments, fam: Family, centre: FloatArray) -> FloatArray:
        """``ȳ_g − c_d`` of every cell (0 outside the family or where either is missing)."""
        d = mom.ybar - centre[np.maximum(fam.dom, 0)]
        d[fam.dom < 0] = 0.0
        return np.where(np.isfinite(d), d, 0.0)

    def _linear(self, mom: CellMoments, fam: Family, delta: FloatArray | None) -> _Linear:
        """Linear parts of ``D`` (``delta`` given: centred on the domain) or of ``W``."""
        if delta is not None and not delta.any():
            delta = _ZERO  # every cell is centred on its domain's mean already (one cell each)
        Sg = mom.W if delta is None else mom.S1 + delta * mom.W
        S = np.asarray(fam.h_ind @ Sg)
        blk = self.blocks
        if blk is None:
            return _Linear(S=S, B=None, Q=None, GB=None)
        assert mom.P1 is not None and mom.P0 is not None and self.ug is not None
        G, V = Sg.shape
        E = len(fam.e_key)
        sb = fam.e_sb
        parts: list[FloatArray] = []
        for k, step in enumerate(blk.steps):
            R = (mom.R0[k] if delta is None else mom.R1[k] if delta is _ZERO
                 else mom.R1[k] + delta[:, :, None] * mom.R0[k])
            rhs = np.asarray(fam.e_ind @ R.reshape(G, -1)).reshape(E, V, step.size)
            for m in range(k):
                rhs -= _blockmul(step.cross[m], sb, parts[m])
            parts.append(_blockmul(step.minv, sb, rhs))
        B = np.concatenate(parts, axis=2) if len(parts) > 1 else parts[0]
        P = (mom.P0 if delta is None else mom.P1 if delta is _ZERO
             else mom.P1 + delta[:, :, None] * mom.P0)
        # the strata's part − Σ_h c_h S_h ug_h is in P already, cell by cell (see moments)
        Q = np.asarray(fam.e_ind @ P.reshape(G, -1)).reshape(E, V, blk.size)
        return _Linear(S=S, B=B, Q=Q, GB=_blockmul(blk.components[0].G, sb, B))

    def _align(self, fa: Family, fp: Family, lp: _Linear, parent: IntArray) -> _Linear:
        """``fp``'s linear parts on ``fa``'s pairs: row i holds the parts of the pair of
        ``parent[domain]`` in the same stratum (superblock) as ``fa``'s pair i (0: none)."""
        h_match = lookup(fp.h_key, (fa.h_key // fa.n_dom) * fp.n_dom + parent[fa.h_dom])

        def take(x: FloatArray, idx: IntArray) -> FloatArray:
            # ndarray.take along the first axis: a row gather, several times faster than
            # fancy indexing of a three-dimensional array
            out = x.take(np.maximum(idx, 0), axis=0)
            missing = idx < 0
            if missing.any():
                out[missing] = 0.0
            return out

        S = take(lp.S, h_match)
        if lp.B is None or self.blocks is None:
            return _Linear(S=S, B=None, Q=None, GB=None)
        assert lp.Q is not None and lp.GB is not None
        e_match = lookup(fp.e_key, parent[fa.e_dom] * self.blocks.n_sb + fa.e_sb)
        # the difference on the parent's (fewer) pairs, then taken once
        return _Linear(S=S, B=take(lp.B, e_match), Q=None, GB=None,
                       GBQ=take(lp.GB - lp.Q, e_match))

    def _bilinear(
        self, mom: CellMoments, fa: Family, la: _Linear, da: FloatArray | None,
        lp: _Linear, dp: FloatArray | None,
    ) -> FloatArray:
        """``Cov(X_a, X'_p(a))`` for every domain a of ``fa`` (D_a × V), where ``p(a)`` holds
        all of a's cells and ``lp`` holds its linear parts on ``fa``'s pairs (see
        :meth:`_align`; ``la`` itself when ``p(a) = a``); X is D (delta given) or W."""
        # rows of a: Σ a_h w² (y − c_a)(y − c_p) over a's cells
        if da is None and dp is None:
            cellwise = mom.Q0
        elif da is None:
            assert dp is not None
            cellwise = mom.Q1 + dp * mom.Q0
        elif dp is None:
            cellwise = mom.Q1 + da * mom.Q0
        else:
            cellwise = mom.Q2 + (da + dp) * mom.Q1 + da * dp * mom.Q0
        total = np.asarray(fa.dom_ind @ (self.a[:, None] * cellwise))
        # strata: Σ_h c_h S_{h,a} S_{h,p(a)}
        total -= np.asarray(fa.hd_ind @ (fa.h_c[:, None] * la.S * lp.S))
        if la.B is None or lp.B is None:
            return total
        assert la.Q is not None
        if lp.GBQ is not None:
            gbq = lp.GBQ
        else:
            assert lp.Q is not None and lp.GB is not None
            gbq = lp.GB - lp.Q
        # Σ_s B_a (GB_p − Q_p) − Q_a B_p over the layout: einsum sums without the three
        # E × V × size temporaries of the elementwise form
        inner = (np.einsum("evs,evs->ev", la.B, gbq)
                 - np.einsum("evs,evs->ev", la.Q, lp.B))
        total += np.asarray(fa.ed_ind @ inner)
        return total

    def centred_variance(self, mom: CellMoments, fam: Family) -> FloatArray:
        """Var(D) per domain (D × V), ``D = Σ w (y − ȳ_d)``: ``Var(ȳ_d) = Var(D) / W²``."""
        st = self.domain_parts(mom, fam)
        if "dd" not in st.done:
            st.done["dd"] = self._bilinear(mom, fam, st.lin_d, st.delta, st.lin_d, st.delta)
        return st.done["dd"]

    def pair(self, mom: CellMoments, fam: Family) -> tuple[FloatArray, ...]:
        """Per domain (D × V): mean, W, and Var(D), Cov(D, W), Var(W) with
        ``D = Σ w (y − ȳ_d)``."""
        st = self.domain_parts(mom, fam)
        vdd = self.centred_variance(mom, fam)
        if "dw" not in st.done:
            st.done["dw"] = self._bilinear(mom, fam, st.lin_d, st.delta, st.lin_w, None)
            st.done["ww"] = self._bilinear(mom, fam, st.lin_w, None, st.lin_w, None)
        vdw, vww = st.done["dw"], st.done["ww"]
        return st.mean, st.W, vdd, vdw, vww

    def domain_parts(self, mom: CellMoments, fam: Family) -> DomainParts:
        """Means, totals and the linear parts of ``D`` and ``W`` of every domain of ``fam``
        (computed once per moments and family)."""
        key = (id(mom), id(fam))
        cached = self._parts.get(key)
        if cached is not None and cached[0] is mom and cached[1] is fam:
            return cached[2]
        mean, W = self.means(mom, fam)
        delta = self._delta(mom, fam, mean)
        parts = DomainParts(mean=mean, W=W, delta=delta,
                            lin_d=self._linear(mom, fam, delta), lin_w=self._linear(mom, fam, None))
        while len(self._parts) >= 16:
            del self._parts[next(iter(self._parts))]
        self._parts[key] = (mom, fam, parts)
        return parts

    def cross_moments(
        self, mom: CellMoments, values: FloatArray, pairs: Sequence[tuple[int, int]]
    ) -> dict[tuple[int, int], tuple[FloatArray, ...]]:
        """For columns i, j of ``values`` (the columns ``mom`` was built from): the cell sums
        ``Σ w² e_i e_j, Σ w² e_i [j valid], Σ w² e_j [i valid], Σ w² [both valid]``."""
        key = (id(mom), tuple(pairs))
        cached = self._cross.get(key)
        if cached is not None and cached[0] is mom:
            return cached[1]
        Y = np.asarray(values, dtype=np.float64).reshape(self.design.n, -1)
        G = self.n_cells
        cell = np.where(self.cell >= 0, self.cell, G)
        out: dict[tuple[int, int], tuple[FloatArray, ...]] = {}
        for i, j in pairs:
            vi, vj = ~np.isnan(Y[:, i]), ~np.isnan(Y[:, j])
            w2 = np.where(vi & vj, self.weights**2, 0.0)
            ei = np.where(vi, Y[:, i] - np.append(mom.ybar[:, i], 0.0)[cell], 0.0)
            ej = np.where(vj, Y[:, j] - np.append(mom.ybar[:, j], 0.0)[cell], 0.0)
            out[(i, j)] = tuple(np.bincount(cell, weights=x, minlength=G + 1)[:G]
                                .astype(np.float64) for x in (w2 * ei * ej, w2 * ei, w2 * ej, w2))
        self._cross.clear()  # one set kept: the moments of one run
        self._cross[key] = (mom, out)
        return out

    def sum_variance(
        self, mom: CellMoments, fam: Family, k: FloatArray,
        cross: dict[tuple[int, int], tuple[FloatArray, ...]],
    ) -> FloatArray:
        """``Var(Σ_v k[d, v] D_v)`` of every domain d (D_v: the centred total of column v;
        ``cross`` from :meth:`cross_moments` for every pair i < j with nonzero ``k``)."""
        st = self.domain_parts(mom, fam)
        used = [v for v in range(k.shape[1]) if np.any(k[:, v] != 0)]
        kc = np.nan_to_num(k[np.maximum(fam.dom, 0)], nan=0.0)
        kc[fam.dom < 0] = 0.0
        d = st.delta
        cellwise = np.zeros(self.n_cells)
        for i in used:
            own = mom.Q2[:, i] + 2 * d[:, i] * mom.Q1[:, i] + d[:, i] ** 2 * mom.Q0[:, i]
            cellwise += kc[:, i] ** 2 * own
            for j in used:
                if j <= i:
                    continue
                x, x_i, x_j, x0 = cross[(i, j)]
                both = x + d[:, j] * x_i + d[:, i] * x_j + d[:, i] * d[:, j] * x0
                cellwise += 2 * kc[:, i] * kc[:, j] * both
        total = np.asarray(summing(fam.dom, fam.n_dom) @ (self.a * cellwise))
        h_group, h_dom = fam.h_key // fam.n_dom, fam.h_key % fam.n_dom
        S = (np.nan_to_num(k[h_dom], nan=0.0) * st.lin_d.S).sum(axis=1)
        total -= np.bincount(h_dom, weights=self.c[h_group] * S * S, minlength=fam.n_dom)
        blk = self.blocks
        if blk is None or st.lin_d.B is None:
            return total
        assert st.lin_d.Q is not None and st.lin_d.GB is not None
        e_dom = fam.e_key // blk.n_sb
        ke = np.nan_to_num(k[e_dom], nan=0.0)
        B, Q, GB = (np.einsum("ev,evs->es", ke, x) for x in (st.lin_d.B, st.lin_d.Q, st.lin_d.GB))
        inner = np.einsum("es,es->e", B, GB - 2.0 * Q)
        out: FloatArray = total + np.bincount(e_dom, weights=inner, minlength=fam.n_dom)
        return out

    def nested(
        self, mom: CellMoments, fa: Family, fp: Family, parent: IntArray
    ) -> tuple[FloatArray, ...]:
        """For every domain a of ``fa`` and its parent ``p = parent[a]`` of ``fp`` (all of a's
        cells in p): the 2 × 2 of each, ``(mean_a, W_a, Var D_a, Cov(D_a, W_a), Var W_a)``,
        ``(mean_p, W_p, Var D_p, Cov(D_p, W_p), Var W_p)`` (per parent), and the cross
        covariances ``Cov(D_a, D_p), Cov(D_a, W_p), Cov(W_a, D_p), Cov(W_a, W_p)`` (per a)."""
        parent = np.asarray(parent, dtype=np.int64)
        own = self.pair(mom, fa)
        par = self.pair(mom, fp)
        a, p = self.domain_parts(mom, fa), self.domain_parts(mom, fp)
        dp = p.delta  # p's centre on every cell (a's cells among them), as domain_parts has it
        pD, pW = self._align(fa, fp, p.lin_d, parent), self._align(fa, fp, p.lin_w, parent)
        cross = (self._bilinear(mom, fa, a.lin_d, a.delta, pD, dp),
                 self._bilinear(mom, fa, a.lin_d, a.delta, pW, None),
                 self._bilinear(mom, fa, a.lin_w, None, pD, dp),
                 self._bilinear(mom, fa, a.lin_w, None, pW, None))
        return (*own, *par, *cross)

    def degrees_of_freedom(self, mom: CellMoments, fam: Family) -> FloatArray:
        """Rows with a valid answer minus strata with one, per domain (D × V): R's ``degf``
        of each domain's subset when every row is a unit."""
        n = np.asarray(summing(fam.dom, fam.n_dom) @ mom.n)
        strata = (np.asarray(fam.h_ind @ mom.n) > 0).astype(np.float64)
        h_dom = fam.h_key % fam.n_dom
        out: FloatArray = n - np.asarray(summing(h_dom, fam.n_dom) @ strata)
        return out
