"""Words, numbers and charts of the strategy pages (status labels, the trend chart, the
evaluation box), kept out of the views."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tryg.charts.labels import format_number
from tryg.public import charts
from tryg.strategy.models import Indicator, Initiative
from tryg.strategy.overview import FocusAreaView, IndicatorView
from tryg.strategy.sources import SeriesContext

STATUS_LABELS = {
    "on_track": gettext_lazy("On track"),
    "uncertain": gettext_lazy("Too uncertain to tell"),
    "off_track": gettext_lazy("Off track"),
    "not_assessable": gettext_lazy("Not assessable"),
}
REASON_LABELS = {
    "no_data": gettext_lazy("no measurement yet"),
    "stale": gettext_lazy("the latest measurement is too old"),
    "no_interval": gettext_lazy("an estimate without a standard error or interval"),
    "inside_interval": gettext_lazy("the target path lies inside the 95 % interval"),
    "ahead": gettext_lazy("on the good side of the target path"),
    "behind": gettext_lazy("on the wrong side of the target path"),
    "no_target": gettext_lazy("no target set"),
}


def overview_rows(focus: FocusAreaView, language: str) -> SafeString:
    """The rows of a focus area's table on the overview page (initiative × indicator with
    status), written here rather than by the template engine: a strategy of 2,000 indicators
    renders in milliseconds instead of seconds (bench/strategy_overview.py)."""
    initiative_url = reverse("strategy:initiative", args=[0]).replace("/0/", "/{}/")
    not_published = escape(_("not published"))
    no_indicators = escape(_("No indicators yet."))
    labels = {k: escape(str(v)) for k, v in STATUS_LABELS.items()}
    out: list[str] = []
    for iv in focus.initiatives:
        i = iv.initiative
        url = initiative_url.format(i.pk)
        head = f'<a href="{url}">{escape(i.name)}</a>'
        if not i.published:
            head += f' <span class="unpublished">({not_published})</span>'
        if not iv.indicators:
            out.append(f'<tr><th scope="row">{head}</th><td colspan="4">{no_indicators}'
                       "</td></tr>")
            continue
        for k, v in enumerate(iv.indicators):
            a = v.assessment
            cells = [] if k else [f'<th scope="rowgroup" rowspan="{len(iv.indicators)}">'
                                  f"{head}</th>"]
            cells.append(f'<td><a href="{url}#indicator-{v.indicator.pk}">'
                         f"{escape(v.indicator.name)}</a> "
                         f'<span class="unit">({escape(v.indicator.unit)})</span></td>')
            latest = number(a.latest.value, language) if a.latest else ""
            expected = number(a.expected, language) if a.expected is not None else ""
            cells.append(f'<td class="num">{latest}</td><td class="num">{expected}</td>')
            cells.append(f'<td><span class="status status-{v.status}">'
                         f"{labels.get(v.status, v.status)}</span></td>")
            out.append("<tr>" + "".join(cells) + "</tr>")
    return mark_safe("\n".join(out))  # every text above is escaped


def number(value: float | None, language: str) -> str:
    return "–" if value is None else format_number(value, language)


def p_text(p: float, language: str) -> str:
    """A p-value for "p …": "= 0,123", or "< 0,001" below (decimal comma in Danish)."""
    text = "< 0.001" if p < 0.001 else f"= {p:.3f}"
    return text.replace(".", ",") if language == "da" else text


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def indicator_rows(view: IndicatorView, language: str) -> list[dict[str, Any]]:
    """The table beside the chart: one row per point of the series."""
    rows = []
    for p in view.points:
        interval = ""
        if p.low is not None and p.high is not None:
            interval = f"{number(p.low, language)}–{number(p.high, language)}"
        elif p.se is not None:
            interval = (f"{number(p.value - 1.96 * p.se, language)}–"
                        f"{number(p.value + 1.96 * p.se, language)}")
        rows.append({"when": p.when, "value": number(p.value, language), "interval": interval,
                     "n": "" if p.n is None else str(p.n)})
    return rows


def trend_chart(view: IndicatorView, language: str) -> SafeString | None:
    """The measurements and the target path as a trend chart (SVG, as on the area pages)."""
    measured = _("Measured")
    rows: list[dict[str, Any]] = []
    for p in view.points:
        low, high = p.low, p.high
        if low is None and p.se is not None:
            low, high = p.value - 1.96 * p.se, p.value + 1.96 * p.se
        rows.append({"wave": p.when.isoformat(), "estimate": p.value, "ci_low": low,
                     "ci_high": high, "n": p.n, "method": "direct", "sig_prev": False,
                     "series": measured})
    targets = [(t.when, t.value) for t in view.targets]
    if view.baseline is not None and targets:
        for when, value in [(view.baseline.when, view.baseline.value), *targets]:
            rows.append({"wave": when.isoformat(), "estimate": value, "ci_low": None,
                         "ci_high": None, "n": None, "method": "direct", "sig_prev": False,
                         "series": _("Target path")})
    if not rows:
        return None
    return charts.trend(rows, title=view.indicator.name, language=language)


def status_context(view: IndicatorView, language: str) -> dict[str, Any]:
    a = view.assessment
    change = None
    if a.change is not None:
        change = {"value": number(a.change, language),
                  "low": number(a.change_low, language), "high": number(a.change_high, language),
                  "p": None if a.change_p is None else p_text(a.change_p, language),
                  "significant": a.significant}
    return {"status": view.status, "label": status_label(view.status),
            "reason": str(REASON_LABELS.get(a.reason, a.reason)),
            "expected": number(a.expected, language) if a.expected is not None else None,
            "latest": number(a.latest.value, language) if a.latest else None,
            "change": change}


#: Why an evaluation cannot be made, by the code of
#: :class:`~tryg.strategy.evaluation_service.EvaluationUnavailableError` (``%(name)s`` from
#: its parameters).
UNAVAILABLE = {
    "no_run": gettext_lazy("no index run is published"),
    "unknown_areas": gettext_lazy("the index does not know the areas %(codes)s"),
    "mixed_levels": gettext_lazy("the initiative's areas and the comparison areas are of "
                                 "different levels (%(levels)s)"),
    "composite_measure": gettext_lazy(
        "%(measure)s is a composite of survey answers and register figures, and only a survey "
        "measure or a register measure can be compared before and after; compare one of its "
        "parts instead"),
    "no_survey": gettext_lazy("no survey answers are stored"),
    "input_problems": gettext_lazy("the stored data have problems: %(problems)s"),
    "no_register_counts": gettext_lazy("there are no register counts for the area %(area)s in "
                                       "%(wave)s"),
    "not_register_measure": gettext_lazy("%(measure)s is not a register measure"),
    "waves_needed": gettext_lazy("it needs survey waves both before and after the start of "
                                 "the initiative"),
    "no_register": gettext_lazy("no register counts are stored"),
    "no_register_waves": gettext_lazy("no register counts cover the waves %(waves)s"),
    "no_estimates": gettext_lazy("the published index has no figures of %(measure)s"),
    "treated_levels": gettext_lazy("the initiative's areas have figures at different levels"),
    "treated_without_estimates": gettext_lazy("the areas %(codes)s have no figures in every "
                                              "wave before the start"),
    "no_comparison_areas": gettext_lazy(
        "there are no comparison areas, as no other area of the same level has figures in "
        "every wave before the start"),
    "whole_level": gettext_lazy(
        "the initiative covers the whole municipality, so there is no area in it to compare "
        "with; an initiative placed in some districts can be compared with the others"),
    "no_treated_areas": gettext_lazy("the initiative has no areas"),
    "estimation": gettext_lazy("the data do not allow the estimate (%(detail)s)"),
}


def unavailable_text(code: str, params: dict[str, str]) -> str:
    """Why an evaluation cannot be made, in the page's language."""
    text = UNAVAILABLE.get(code)
    if text is None:
        return _("the comparison cannot be made")
    try:
        return str(text) % params
    except (KeyError, ValueError, TypeError):
        return str(text)


def collapsed(evaluations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One line instead of several when every indicator's comparison fails for one reason
    (an initiative for the whole municipality: not one box per indicator saying so)."""
    if (len(evaluations) > 1 and all("error" in e for e in evaluations)
            and len({e["error"] for e in evaluations}) == 1):
        return [{**evaluations[0], "indicator": None}]
    return evaluations


def evaluation(initiative: Initiative, indicator: Indicator, context: SeriesContext,
               language: str) -> dict[str, Any] | None:
    """The before/after comparison of an index or register indicator of an initiative with
    areas and a start date (from the cache: :mod:`tryg.strategy.evaluation_cache`): None when
    it does not apply; ``{"error": ...}`` (in the page's language) when it cannot be made."""
    from tryg.strategy import evaluation_cache

    data = context.published
    request = evaluation_cache.request_for(initiative, indicator, data)
    if request is None:
        return None
    found = evaluation_cache.outcome(request, data.run)
    if found.result is None:
        return {"indicator": indicator, "code": found.code,
                "error": unavailable_text(found.code, dict(found.params))}
    result = found.result
    names = data.areas

    def named(codes: tuple[str, ...]) -> str:
        return ", ".join(names[c][0] if c in names else c for c in codes)

    return {"indicator": indicator, "result": result, "proposed": found.proposed,
            "p": p_text(result.p_value, language).removeprefix("= "),
            "pre_trend_p": (None if result.pre_trend_p is None
                            else p_text(result.pre_trend_p, language)),
            "treated": named(result.treated), "comparison": named(result.comparison),
            "pre": ", ".join(str(w) for w in result.pre_waves),
            "post": ", ".join(str(w) for w in result.post_waves)}
