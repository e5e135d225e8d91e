"""Points to areas with one STRtree query."""

from __future__ import annotations

import numpy as np
import shapely

from tryg import geo


def grid() -> geo.AreaGeometry:
    """Four unit boxes: A (0,0), B (1,0), C (0,1), D (1,1)."""
    boxes = [shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1),
             shapely.box(0, 1, 1, 2), shapely.box(1, 1, 2, 2)]
    return geo.AreaGeometry(("A", "B", "C", "D"), np.array(boxes, dtype=object))


def test_points_get_their_area_code() -> None:
    codes = geo.assign_points(grid(), [0.5, 1.5, 0.5, 1.5], [0.5, 0.5, 1.5, 1.5])
    assert list(codes) == ["A", "B", "C", "D"]


def test_outside_and_missing_points_are_none() -> None:
    codes = geo.assign_points(grid(), [5.0, np.nan, 0.5], [5.0, 0.5, np.nan])
    assert list(codes) == [None, None, None]
    index = geo.area_index(grid(), [5.0, 0.5], [5.0, 0.5])
    assert list(index) == [-1, 0]


def test_a_boundary_point_is_counted_once_in_the_first_area() -> None:
    # (1, 1) touches all four boxes; (1, 0.5) touches A and B.
    codes = geo.assign_points(grid(), [1.0, 1.0], [1.0, 0.5])
    assert list(codes) == ["A", "A"]


def test_result_does_not_depend_on_point_order() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.uniform(-0.5, 2.5, 500), rng.uniform(-0.5, 2.5, 500)
    order = rng.permutation(500)
    forward = geo.assign_points(grid(), x, y)
    shuffled = geo.assign_points(grid(), x[order], y[order])
    assert list(forward[order]) == list(shuffled)
    expected = np.where((x >= 0) & (x <= 2) & (y >= 0) & (y <= 2), 1, 0)
    assert sum(code is not None for code in forward) == int(expected.sum())
