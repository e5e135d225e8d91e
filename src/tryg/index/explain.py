"""The whole formula of an index specification, in words (Danish or English).

A published safety index is only as trustworthy as the reader's chance to check how it was
made. :func:`explain` turns a :class:`~tryg.index.spec.Spec` into a plain-text (Markdown)
account of every step, generated from the spec itself, so the words cannot drift from the
formula: change a weight or an anchor in the TOML and the explanation changes with it (and so
does the hash printed at the top). Every id and every number of the spec appears in the text.

Pure: no I/O; the CLI prints the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from tryg.index import publication
from tryg.index.spec import Item, Measure, RegisterMeasure, Spec, Subindex

Language = str  # "da" or "en"


@dataclass(frozen=True)
class _Lang:
    """Picks the Danish or English wording and formats numbers the way that language does."""

    code: Language

    def __call__(self, da: str, en: str) -> str:
        return en if self.code == "en" else da

    def num(self, x: float) -> str:
        """1000 → "1.000" (da) / "1,000" (en); 0.5 → "0,5" / "0.5"."""
        text = f"{int(x):,}" if float(x).is_integer() else f"{x:,.10g}"
        return text.translate(str.maketrans(",.", ".,")) if self.code == "da" else text

    def pct(self, share: float) -> str:
        value = round(100.0 * share, 1)
        return f"{self.num(int(value) if value.is_integer() else value)} %"

    def span(self, lo: float, hi: float) -> str:
        return self.num(lo) if lo == hi else f"{self.num(lo)}–{self.num(hi)}"

    def codes(self, codes: tuple[int, ...]) -> str:
        return ", ".join(self.num(c) for c in codes)

    def bands(self, bands: tuple[float, ...]) -> str:
        if not bands:
            return ""
        parts = [self("under ", "below ") + self.num(bands[0])]
        parts += [self.span(a, b) for a, b in pairwise(bands)]
        parts.append(self.num(bands[-1]) + self(" og derover", " and above"))
        return self("Inddeling: ", "Bands: ") + ", ".join(parts) + "."


def explain(spec: Spec, language: Language = "da") -> str:
    """The formula of ``spec`` in words, as Markdown text in Danish (``"da"``) or English."""
    if language not in ("da", "en"):
        raise ValueError(f"language must be 'da' or 'en', not {language!r}")
    t = _Lang(language)
    out = [f"# {spec.title.get(language)}", "", spec.description.get(language), ""]
    if spec.notes.get(language):
        out += [t("Bemærk: ", "Note: ") + spec.notes.get(language), ""]
    out += [
        t("Specifikation", "Specification")
        + f": `{spec.id}`, version {spec.version}, hash `{spec.hash}`.",
        "",
    ]
    out += _items(spec, t) + _measures(spec, t) + _register(spec, t) + _subindices(spec, t)
    out += _composite(spec, t) + _comparisons(spec, t) + _publication(spec, t)
    out += _small_area(spec, t) + _gap(spec, t) + _calibration(spec, t)
    return "\n".join(out).rstrip() + "\n"


def _section(title: str) -> list[str]:
    return [f"## {title}", ""]


def _items(spec: Spec, t: _Lang) -> list[str]:
    if not spec.items:
        return []
    out = _section(t("Spørgsmål", "Questions"))
    for it in spec.items:
        lo, hi = it.scale
        safe = lo if it.safe_end == "low" else hi
        out.append(f"- `{it.id}`: “{it.text.get(t.code)}”")
        out.append(
            "  "
            + t(f"Skala {t.span(lo, hi)}; den trygge ende er {t.num(safe)}.",
                f"Scale {t.span(lo, hi)}; the safe end is {t.num(safe)}.")
        )
        if it.dont_know:
            out.append("  " + t(f"Ved ikke: {t.codes(it.dont_know)} (tæller ikke med).",
                                f"Don't know: {t.codes(it.dont_know)} (left out)."))
        else:
            out.append("  " + t("Ingen ved ikke-koder.", "No don't-know codes."))
        if it.categories:
            cats = ", ".join(f"{name} = {t.span(a, b)}" for name, (a, b) in it.categories)
            out.append("  " + t("Kategorier: ", "Categories: ") + cats + ".")
        if it.column != it.id:
            out.append("  " + t("Kolonne i data: ", "Column in the data: ") + f"`{it.column}`.")
    return [*out, ""]


def _dont_know(it: Item, t: _Lang) -> str:
    if it.dont_know:
        return t(f"ved ikke ({t.codes(it.dont_know)}) og manglende svar er udeladt",
                 f"don't know ({t.codes(it.dont_know)}) and missing answers are left out")
    return t("manglende svar er udeladt", "missing answers are left out")


def _measure(m: Measure, spec: Spec, t: _Lang) -> list[str]:
    it = spec.item(m.item)
    base = t("Grundlaget er alle gyldige svar: ", "The base is all valid answers: ")
    if m.kind == "share":
        codes = it.codes(m.category)
        word = (t("kode", "code") if len(codes) == 1 else t("koder", "codes"))
        what = t(
            f"andelen af svarene på `{it.id}` i kategorien {m.category} "
            f"({word} {t.span(codes[0], codes[-1])}).",
            f"the share of the answers to `{it.id}` in the category {m.category} "
            f"({word} {t.span(codes[0], codes[-1])}).",
        )
    else:
        what = t(f"gennemsnittet af svarene på `{it.id}` (skala {t.span(*it.scale)}).",
                 f"the mean of the answers to `{it.id}` (scale {t.span(*it.scale)}).")
    out = [f"- `{m.id}` – {m.label.get(t.code)}: {what}", f"  {base}{_dont_know(it, t)}."]
    extra = [t("Højere er tryggere.", "Higher is safer.") if m.higher_is_safer
             else t("Lavere er tryggere.", "Lower is safer.")]
    if m.headline:
        extra.append(t("Hovedtal.", "Headline measure."))
    if m.bands:
        extra.append(t.bands(m.bands))
    return [*out, "  " + " ".join(extra)]


def _measures(spec: Spec, t: _Lang) -> list[str]:
    if not spec.measures:
        return []
    out = _section(t("Målinger fra spørgeskemaet", "Survey measures"))
    out += [t("Alle andele og gennemsnit er vægtede skøn pr. område og bølge.",
              "All shares and means are weighted estimates per area and wave."), ""]
    for m in spec.measures:
        out += _measure(m, spec, t)
    return [*out, ""]


def window_text(m: RegisterMeasure, t: _Lang) -> str:
    """"Q4 of the year before to Q3 of the wave year", derived from the window settings."""
    end = m.window_end - 1  # quarters counted from Q1 of the wave year = 0
    start = end - (m.window_quarters - 1)
    years_back, start_q = -(start // 4), start % 4 + 1
    if years_back == 0:
        return t(f"fra {start_q}. til {m.window_end}. kvartal i bølgeåret",
                 f"from Q{start_q} to Q{m.window_end} of the wave year")
    before = (t("året før", "of the year before") if years_back == 1
              else t(f"{years_back} år før", f"{years_back} years before"))
    return t(f"fra {start_q}. kvartal {before} til {m.window_end}. kvartal i bølgeåret",
             f"from Q{start_q} {before} to Q{m.window_end} of the wave year")


def _register(spec: Spec, t: _Lang) -> list[str]:
    if not spec.register:
        return []
    out = _section(t("Registermålinger", "Register measures"))
    for m in spec.register:
        offences = "; ".join(m.offences)
        out.append(f"- `{m.id}` – {m.label.get(t.code)}: " + t(
            f"antal anmeldelser ({offences}) pr. {t.num(m.per)} indbyggere i det pågældende år, "
            f"over et vindue på {m.window_quarters} kvartaler, der slutter i "
            f"{m.window_end}. kvartal: {window_text(m, t)}.",
            f"the number of reported offences ({offences}) per {t.num(m.per)} residents of that "
            f"year, over a window of {m.window_quarters} quarters ending in Q{m.window_end}: "
            f"{window_text(m, t)}.",
        ))
        out.append("  " + t(
            "Konfidensintervallerne for raterne er eksakte Poisson-intervaller (Garwood).",
            "The confidence intervals of the rates are exact Poisson (Garwood) intervals.",
        ))
        if m.smoothing == "eb_global":
            out.append("  " + t(
                f"Desuden gives en udglattet rate, `{m.id}_eb`: empirisk Bayes (Marshalls "
                "globale) mod den samlede rate pr. niveau og bølge (eb_global), så små områder "
                "ikke svinger tilfældigt.",
                f"A smoothed rate is given as well, `{m.id}_eb`: empirical Bayes (Marshall's "
                "global) towards the overall rate per level and wave (eb_global), so that small "
                "areas do not swing by chance.",
            ))
        else:
            out.append("  " + t("Raterne udglattes ikke.", "The rates are not smoothed."))
    return [*out, ""]


def _item_score(it: Item, t: _Lang) -> str:
    lo, hi = (t.num(v) for v in it.scale)
    answer = t("svar", "answer")
    formula = (f"100 × ({hi} − {answer})/({hi} − {lo})" if it.safe_end == "low"
               else f"100 × ({answer} − {lo})/({hi} − {lo})")
    return f"`{it.id}`: {formula}"


def _base_year(s: Subindex, value: str, t: _Lang) -> str:
    # The raw value of items points the safe way (safe end = 100), a rate the other way;
    # higher_is_better describes the index, so the formula inverts when the two disagree.
    inverted = (s.source == "items") != s.higher_is_better
    base = t(f"basis er værdien for det øverste område i basisåret {s.base_wave}",
             f"base is the top area's value in the base year {s.base_wave}")
    formula = f"100 × (2 − {value}/{t('basis', 'base')})" if inverted else (
        f"100 × {value}/{t('basis', 'base')}")
    direction = (t("et højere indeks er tryggere", "a higher index is safer") if s.higher_is_better
                 else t("et lavere indeks er tryggere", "a lower index is safer"))
    return t(f"indeks = {formula}, hvor {base}; {direction}.",
             f"index = {formula}, where {base}; {direction}.")


def _subindex(s: Subindex, spec: Spec, t: _Lang) -> list[str]:
    out = [f"- `{s.id}` – {s.label.get(t.code)}:"]
    if s.source == "items":
        items = [spec.item(i) for i in s.items]
        out.append("  " + t(
            "hvert spørgsmål omregnes til 0–100 med den trygge ende = 100 "
            "(ved ikke og manglende svar tæller ikke):",
            "each item is rescaled to 0–100 with the safe end = 100 "
            "(don't know and missing answers do not count):",
        ))
        out += [f"  - {_item_score(it, t)}" for it in items]
        if len(items) > 1:
            out.append("  " + t(
                f"For hver borger, der har besvaret mindst {s.min_items} af de {len(items)} "
                "spørgsmål, tages gennemsnittet af pointene.",
                f"The scores are averaged per respondent who answered at least {s.min_items} of "
                f"the {len(items)} items.",
            ))
        out.append("  " + t("Områdets værdi er det vægtede gennemsnit af borgernes point.",
                            "The area's value is the weighted mean of the respondents' scores."))
        if s.transform == "base_year":
            out.append("  " + _base_year(s, t("værdi", "value"), t))
    else:
        reg = f"`{s.register}`"
        if s.transform == "anchored":
            lo, hi = (t.num(a) for a in s.anchors)
            out.append("  " + t(
                f"fra raten af {reg}: point = 100 × ({hi} − rate)/({hi} − {lo}), begrænset til "
                f"0–100, så en rate på {lo} giver 100 og en rate på {hi} giver 0.",
                f"from the rate of {reg}: score = 100 × ({hi} − rate)/({hi} − {lo}), clipped to "
                f"0–100, so that a rate of {lo} scores 100 and a rate of {hi} scores 0.",
            ))
        elif s.transform == "base_year":
            out.append("  " + t(f"fra raten af {reg}: ", f"from the rate of {reg}: ")
                       + _base_year(s, "rate", t))
        else:
            out.append("  " + t(f"raten af {reg} bruges, som den er.",
                                f"the rate of {reg} is used as it is."))
    if s.bands:
        out.append("  " + t.bands(s.bands))
    return out


def _subindices(spec: Spec, t: _Lang) -> list[str]:
    if not spec.subindices:
        return []
    out = _section(t("Delindeks", "Sub-indices"))
    for s in spec.subindices:
        out += _subindex(s, spec, t)
    return [*out, ""]


def _composite(spec: Spec, t: _Lang) -> list[str]:
    out = _section(t("Samlet indeks", "Composite index"))
    c = spec.composite
    if c is None or c.transform == "none":
        named = f" (`{c.id}`, {c.label.get(t.code)})" if c is not None else ""
        out.append(t(f"Intet samlet indeks{named}: delindeksene vises hver for sig.",
                     f"No composite{named}: the sub-indices are shown side by side."))
        return [*out, ""]
    total = sum(w for _, w in c.weights)
    out.append(f"`{c.id}` – {c.label.get(t.code)}: " + t(
        "det vægtede gennemsnit af delindeksene; vægtene normaliseres, så de summer til 100 %:",
        "the weighted mean of the sub-indices; the weights are normalised to sum to 100 %:",
    ))
    out += [f"- `{sid}`: {t('vægt', 'weight')} {t.num(w)} = {t.pct(w / total)}"
            for sid, w in c.weights]
    left_out = [s.id for s in spec.subindices if s.id not in dict(c.weights)]
    if left_out:
        out.append(t("Uden for det samlede indeks: ", "Not in the composite: ")
                   + ", ".join(f"`{s}`" for s in left_out) + ".")
    if c.bands:
        out.append(t.bands(c.bands))
    return [*out, ""]


def _comparisons(spec: Spec, t: _Lang) -> list[str]:
    c = spec.comparisons
    out = _section(t("Sammenligninger", "Comparisons"))
    out.append(t(
        f"Alle test er tosidede på signifikansniveau α = {t.pct(c.alpha)}; "
        f"konfidensintervallerne er {t.pct(1 - c.alpha)}.",
        f"All tests are two-sided at significance level α = {t.pct(c.alpha)}; "
        f"the confidence intervals are {t.pct(1 - c.alpha)}.",
    ))
    yes_no = [
        (c.previous_wave,
         t("Ændring fra forrige bølge (change_prev, p_prev, sig_prev).",
           "Change from the previous wave (change_prev, p_prev, sig_prev)."),
         t("Ingen sammenligning med forrige bølge.", "No comparison with the previous wave.")),
        (c.pooled_waves > 0,
         t(f"Ændring fra de {c.pooled_waves} foregående bølger lagt sammen "
           "(change_pooled, sig_pooled).",
           f"Change from the {c.pooled_waves} earlier waves pooled (change_pooled, sig_pooled)."),
         t(f"Ingen sammenligning med samlede tidligere bølger (pooled_waves = {c.pooled_waves}).",
           f"No comparison with pooled earlier waves (pooled_waves = {c.pooled_waves}).")),
        (c.parent_rest,
         t("Forskel mellem området og resten af det overordnede område, dvs. det overordnede "
           "område uden området selv (diff_parent_rest, sig_parent_rest).",
           "Difference between the area and the rest of its parent area, i.e. the parent "
           "without the area itself (diff_parent_rest, sig_parent_rest)."),
         t("Ingen sammenligning med resten af det overordnede område.",
           "No comparison with the rest of the parent area.")),
    ]
    out += [f"- {yes if on else no}" for on, yes, no in yes_no]
    return [*out, ""]


def _publication(spec: Spec, t: _Lang) -> list[str]:
    p = spec.publication
    shown = f"“< {t.num(publication.count_shown_below(p))}”"
    return [*_section(t("Offentliggørelse", "Publication")), t(
        f"Skøn fra spørgeskemaet med færre end {t.num(p.min_n)} svar (n < {t.num(p.min_n)}) "
        f"undertrykkes. Skøn med færre end {t.num(p.uncertain_n)} svar "
        f"(n < {t.num(p.uncertain_n)}) markeres som usikre. Antal anmeldelser på "
        f"{t.num(p.small_count)} eller derunder vises som {shown}, og områdets rate, "
        "interval og sammenligninger vises da heller ikke (de ville give antallet tilbage). "
        "Så intet skjult tal kan regnes tilbage fra de offentliggjorte, skjules desuden: "
        "antal og stikprøvestørrelser, der sammen med et overordnet områdes tal ville give et "
        "skjult tal tilbage (sekundær undertrykkelse, valgt så der skjules mindst muligt), et "
        "sammensat indeks hvis netop én af dets dele er skjult, og enhver sammenligning, hvis "
        "den ene side er skjult (forrige runde, tidligere runder samlet, resten af det "
        "overordnede område). Et modelbaseret skøn for et lille område viser antal svar som "
        f"“< {t.num(p.min_n)}”.",
        f"Survey estimates with fewer than {t.num(p.min_n)} answers (n < {t.num(p.min_n)}) "
        f"are suppressed. Estimates with fewer than {t.num(p.uncertain_n)} answers "
        f"(n < {t.num(p.uncertain_n)}) are flagged as uncertain. Counts of reported offences "
        f"of {t.num(p.small_count)} or less are shown as {shown}, and the area's rate, "
        "interval and comparisons are then not shown either (they would give the count back). "
        "So that no hidden figure can be worked out from the published ones, these are hidden "
        "as well: counts and sample sizes that, with a parent area's figure, would give a "
        "hidden one back (secondary suppression, chosen to hide as little as possible), a "
        "composite index when exactly one of its parts is hidden, and every comparison one of "
        "whose sides is hidden (previous wave, earlier waves pooled, rest of the parent area). "
        f"A model-based small-area estimate shows its number of answers as “< {t.num(p.min_n)}”.",
    ), ""]


def _small_area(spec: Spec, t: _Lang) -> list[str]:
    sa = spec.small_area
    out = _section(t("Små områder", "Small areas"))
    if not sa.enabled:
        out.append(t("Ingen småområdemodel: alle skøn er direkte skøn.",
                     "No small-area model: all estimates are direct estimates."))
        return [*out, ""]
    measures = ", ".join(f"`{m}`" for m in sa.measures) or t("ingen målinger", "no measures")
    covariates = (", ".join(f"`{c}`" for c in sa.covariates) if sa.covariates
                  else t("ingen (kun et fælles niveau)", "none (a common level only)"))
    out.append(t(
        f"For områder med færre end {t.num(sa.below_n)} svar (n < {t.num(sa.below_n)}) skønnes "
        f"{measures} med en Fay–Herriot-model, estimeret med {sa.method}, der låner styrke fra "
        f"de andre områder. Forklarende variable: {covariates}. Disse skøn markeres som "
        "modelbaserede (kolonnen method).",
        f"For areas with fewer than {t.num(sa.below_n)} answers (n < {t.num(sa.below_n)}), "
        f"{measures} are estimated with a Fay–Herriot model, fitted by {sa.method}, which "
        f"borrows strength from the other areas. Covariates: {covariates}. These estimates are "
        "flagged as model-based (the method column).",
    ))
    out.append(t(
        "De modelbaserede skøn i et område afstemmes (benchmarking), så det "
        "befolkningsvægtede gennemsnit af alle underområdernes offentliggjorte skøn – de "
        "direkte uændrede, de modelbaserede afstemte – er lig med det overordnede områdes "
        "direkte skøn. Forskellen fordeles i forhold til hvert skøns usikkerhed (MSE), inden "
        "for 0–100 %, og usikkerheden øges med kvadratet af flytningen (Wang, Fuller & Qu "
        "2008; Datta, Ghosh, Steorts & Maples 2011). Et modelbaseret skøn sammenlignes kun i "
        "offentliggjorte tal: med forrige rundes offentliggjorte skøn, med gennemsnittet af "
        "de tidligere runders og med resten af det overordnede område ud fra de afstemte "
        "skøn; aldrig ud fra de få svar i området alene.",
        "The model-based estimates within an area are benchmarked, so that the "
        "population-weighted mean of all its sub-areas' published estimates (the direct ones "
        "unchanged, the model-based ones benchmarked) equals the parent area's direct "
        "estimate. The difference is shared out in proportion to each estimate's uncertainty "
        "(MSE), within 0–100 %, and the uncertainty grows by the square of the move (Wang, "
        "Fuller & Qu 2008; Datta, Ghosh, Steorts & Maples 2011). A model-based estimate is "
        "compared in published figures only: with the previous wave's published estimate, "
        "with the mean of the earlier waves' and with the rest of the parent area from the "
        "benchmarked estimates; never from the area's few answers alone.",
    ))
    return [*out, ""]


def _gap(spec: Spec, t: _Lang) -> list[str]:
    g = spec.gap
    out = _section(t("Kløft mellem oplevet og anmeldt", "Gap between perceived and reported"))
    if not g.enabled:
        return [*out, t("Intet kløftmål.", "No gap measure."), ""]
    level = t(f" på niveauet {g.level}", f" at the level {g.level}") if g.level else ""
    out.append(t(
        f"Kløftmålet stiller `{g.survey_measure}` over for `{g.register_measure}` pr. "
        f"område{level}, for at vise hvor oplevet utryghed og anmeldt kriminalitet går hver "
        "sin vej.",
        f"The gap measure sets `{g.survey_measure}` against `{g.register_measure}` per "
        f"area{level}, to show where perceived unsafety and reported crime part ways.",
    ))
    return [*out, ""]


def _calibration(spec: Spec, t: _Lang) -> list[str]:
    c = spec.calibration
    out = _section(t("Kalibrering", "Calibration"))
    level = t(f" på niveauet {c.level}", f" at the level {c.level}") if c.level else ""
    if c.variables:
        variables = ", ".join(f"`{v}`" for v in c.variables)
        out.append(t(
            f"Vægtene i hver bølge rakes til befolkningens fordeling{level} efter {variables}.",
            f"The weights of each wave are raked to the population margins{level} by "
            f"{variables}.",
        ))
    else:
        out.append(t(
            f"Vægtene i hver bølge kalibreres til befolkningstallet i områderne{level}.",
            f"The weights of each wave are calibrated to the population totals of the "
            f"areas{level}.",
        ))
    return [*out, ""]
