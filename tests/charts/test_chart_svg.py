"""tryg.charts.svg: the post-processing that makes Vega's SVG inline-safe and accessible."""

from __future__ import annotations

import pytest
from chart_helpers import assert_accessible, parse

from tryg.charts.labels import format_number, normalise_language
from tryg.charts.palette import viridis
from tryg.charts.svg import ExternalReferenceError, check_no_external_references, finish

RAW = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
       'role="graphics-document" width="10" height="10"><defs><linearGradient id="gradient_0"/>'
       '</defs><rect fill="url(#gradient_0)"/>'
       '<a xlink:href="https://vega.github.io/vega-datasets//areas/1/"><path d="M0,0"/></a></svg>')


def test_finish_adds_title_role_and_label_and_restores_relative_links() -> None:
    svg = finish(RAW, title="Kort & mere", summary="Et <kort>.", links=["/areas/1/"])
    root = assert_accessible(svg, "Kort & mere")
    assert root.get("aria-label") == "Kort & mere. Et <kort>."
    assert 'xlink:href="/areas/1/"' in svg
    assert "vega.github.io" not in svg


def test_ids_are_prefixed_with_their_references() -> None:
    svg = finish(RAW, title="a", summary="b", hatch=True)
    root = parse(svg)
    ids = [e.get("id") or "" for e in root.iter() if e.get("id")]
    assert len(ids) == 2
    assert all(i.startswith("c") and "-" in i for i in ids)
    gradient = next(i for i in ids if i.endswith("gradient_0"))
    assert f'fill="url(#{gradient})"' in svg
    other = finish(RAW.replace("width", "data-x"), title="a", summary="b", hatch=True)
    assert not set(ids) & {e.get("id") for e in parse(other).iter() if e.get("id")}


@pytest.mark.parametrize("bad", [
    '<image xlink:href="https://example.org/x.png"/>',
    '<style>@font-face{src:url(http://fonts.example/f.woff)}</style>',
    '<a xlink:href="https://elsewhere.example/"/>',
])
def test_external_resources_are_refused(bad: str) -> None:
    svg = RAW.replace("</svg>", bad + "</svg>")
    with pytest.raises(ExternalReferenceError):
        check_no_external_references(svg, links=["https://kommune.example/"])


def test_languages_and_numbers() -> None:
    assert normalise_language("en-gb") == "en"
    assert normalise_language("da_DK") == "da"
    assert format_number(1234.5, "da") == "1.234"
    assert format_number(0.8912, "da") == "0,891"
    assert format_number(89.12, "en") == "89.1"
    assert format_number(0.0, "da") == "0"  # not "0,000": zero has no digits to show
    assert viridis(2) == ["#440154", "#fde725"]
    assert len(set(viridis(7))) == 7
