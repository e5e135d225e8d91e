"""The variance engine's building blocks."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from tryg.stats.variance import _block_pinv


def test_block_pseudo_inverse_gives_the_dense_projection() -> None:
    """Blocks of mixed sizes, shuffled columns, one rank-deficient block (as raking margins
    are): the block-wise generalised inverse gives the same projection as a dense pinv."""
    rng = np.random.default_rng(3)
    blocks = [1, 2, 3, 3, 5, 5]
    p = sum(blocks)
    perm = rng.permutation(p)
    X = np.zeros((72, p))
    r = c = 0
    for b in blocks:
        cols = perm[c:c + b]
        X[r:r + 12, cols] = rng.normal(size=(12, b))
        if b == 3:
            X[r:r + 12, cols[2]] = X[r:r + 12, cols[0]] + X[r:r + 12, cols[1]]
        r += 12
        c += b
    lam = rng.uniform(1, 2, len(X))
    got = _block_pinv(sp.csr_matrix(X), lam).toarray()
    ref = np.linalg.pinv(X.T @ np.diag(lam) @ X, rcond=1e-10, hermitian=True)
    proj_got = X @ got @ X.T @ np.diag(lam)
    proj_ref = X @ ref @ X.T @ np.diag(lam)
    np.testing.assert_allclose(proj_got, proj_ref, atol=1e-12)
    # columns of different blocks never mix
    label = np.repeat(np.arange(len(blocks)), blocks)[np.argsort(perm)]
    assert np.all(got[label[:, None] != label[None, :]] == 0)
