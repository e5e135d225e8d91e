"""The national size: counts and memory, generated in memory (files are tested on small)."""

from __future__ import annotations

import tracemalloc

import pytest

from tryg.demo.model import generate


@pytest.mark.slow
def test_national_size_is_big_and_lean() -> None:
    # (its speed is measured where speed belongs: bench/index_national.py reports generation)
    tracemalloc.start()
    demo = generate(1, "national")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 4 * 2**30
    areas = demo.areas.areas["level"].value_counts()
    assert areas["nabolag"] == 2_200 and areas["bydel"] == 98 and areas["kommune"] == 1
    assert demo.waves == tuple(range(2014, 2024))
    per_wave = demo.survey.responses.groupby("wave").size()
    assert per_wave.between(27_000, 33_000).all()
    assert 3_000_000 < len(demo.records) < 5_000_000
    assert len(demo.register.counts) == 2_200 * 41 * 3
    trygge = demo.truth.table.query("measure == 'tryghed_trygge'")
    assert trygge.query("level == 'kommune'")["value"].between(0.86, 0.92).all()
    assert trygge.query("level == 'boligomraade'")["value"].mean() == pytest.approx(0.72, abs=0.05)
