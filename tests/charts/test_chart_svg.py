"""tryg.charts.svg: the post-processing that makes Vega's SVG inline-safe and accessible;
tryg.charts.draw: the scales, numbers and text measures of the directly written charts."""

from __future__ import annotations

import pytest
from chart_helpers import assert_accessible, assert_styled_by_classes, parse

from tryg.charts.draw import fit, nice_domain, text_width, tick_label
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
    assert_styled_by_classes(finish(RAW.replace("<svg ", '<svg style="x:y" class="marks" '),
                                    title="a", summary="b"))


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


def test_the_same_drawing_gets_the_same_ids_whatever_vegas_counter() -> None:
    """Vega numbers gradients per process (gradient_0, then gradient_1 for the next map): the
    finished SVG is the same either way (the council's report is the same file each time)."""
    first = finish(RAW, title="a", summary="b")
    later = finish(RAW.replace("gradient_0", "gradient_7"), title="a", summary="b")
    assert later == first


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


def test_scales_are_round_and_not_from_zero() -> None:
    assert nice_domain([68.0, 82.0]) == (68.0, 82.0, [68.0, 70.0, 72.0, 74.0, 76.0, 78.0,
                                                      80.0, 82.0])
    low, high, ticks = nice_domain([0.413, 0.457])
    assert low <= 0.413 and high >= 0.457 and ticks[0] == low and ticks[-1] == high
    assert nice_domain([5.0, 5.0])[:2] == (4.4, 5.6)  # one value: a little room either side
    assert nice_domain([])[:2] == (0.0, 1.0)


def test_tick_numbers_in_danish_and_english() -> None:
    assert tick_label(0.42, 0.01, "da") == "0,42"
    assert tick_label(0.42, 0.01, "en") == "0.42"
    assert tick_label(1500.0, 500.0, "da") == "1.500"
    assert tick_label(1500.0, 500.0, "en") == "1,500"
    assert tick_label(-0.0, 0.5, "en") == "0.0"
    assert tick_label(-2.0, 1.0, "da") == "−2"


def test_labels_are_shortened_to_their_room() -> None:
    assert fit("Kort", 11, 100) == "Kort"
    short = fit("Et meget langt navn på et mål " * 3, 11, 120)
    assert short.endswith("…") and text_width(short, 11) <= 120
