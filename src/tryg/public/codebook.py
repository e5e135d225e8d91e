"""The codebook of the public results, and the licence and source of the published figures.

Generated, not written per file: the columns come from
:data:`tryg.index.results.PUBLIC_COLUMNS` (each needs one entry in :data:`COLUMNS`, Danish and
English; a column without one is an error, so a new column cannot be published undocumented),
the measures, their labels and units from the run's own specification (through
:func:`tryg.public.measures.catalogue`), the flag words from :mod:`tryg.index.disclosure` and
:data:`FLAGS`. The same entries make the HTML page (``/downloads/codebook/``), the CSV file
and the XLSX's codebook sheet.

Units. The plain CSV and the JSON hold the machine values: a share is a proportion 0–1, its
changes and differences are differences of proportions. The Danish-Excel CSV and the XLSX show
shares as the pages do, as percentages: the Excel CSV multiplies a share's ``estimate``,
``se``, ``ci_low``, ``ci_high``, ``change_prev``, ``change_pooled`` and ``diff_parent_rest``
by 100 and names the unit in its extra column ``unit`` (:data:`UNITS`); the XLSX keeps the
proportion in the cell and gives it a percentage number format, so Excel shows "12,3 %" and
a formula still computes with 0.123.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from tryg.index.results import DISCLOSURE_FLAGS, PUBLIC_COLUMNS
from tryg.index.spec import Spec
from tryg.public.measures import MeasureInfo, catalogue

#: The columns the Danish-Excel CSV multiplies by 100 on rows whose unit is a percentage.
PERCENT_COLUMNS: tuple[str, ...] = ("estimate", "se", "ci_low", "ci_high", "change_prev",
                                    "change_pooled", "diff_parent_rest")

#: The extra column of the Danish-Excel CSV, after ``measure``.
UNIT_COLUMN = "unit"

#: The licences whose short names get a link.
LICENCE_URLS: dict[str, str] = {
    "CC BY 4.0": "https://creativecommons.org/licenses/by/4.0/",
    "CC BY-SA 4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "CC0 1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
}


@dataclass(frozen=True)
class Entry:
    """One line of the codebook."""

    section: str  # "column", "unit", "flag", "method", "measure"
    name: str
    label_da: str
    label_en: str
    unit_da: str = ""
    unit_en: str = ""
    description_da: str = ""
    description_en: str = ""

    def label(self, language: str) -> str:
        return self.label_en if language == "en" else self.label_da

    def unit(self, language: str) -> str:
        return self.unit_en if language == "en" else self.unit_da

    def description(self, language: str) -> str:
        return self.description_en if language == "en" else self.description_da


#: The measure's own unit (see the section "unit"), in Danish and English.
_OWN = ("målets enhed (se enheder og mål)", "the measure's unit (see units and measures)")
_TEXT = ("tekst", "text")
_BOOL = ("True/False (tom: ingen test)", "True/False (empty: no test)")
_MACHINE = ("I den almindelige CSV og i JSON: andele som brøk 0–1. I CSV til Excel (dansk): "
            "andele i procent (kolonnen unit). I XLSX: brøken, vist i procent.",
            "In the plain CSV and the JSON: shares as proportions 0–1. In the Danish-Excel "
            "CSV: shares in per cent (column unit). In the XLSX: the proportion, shown as a "
            "percentage.")

#: Every column of the public results: (label da, label en, unit da, unit en, text da, en).
COLUMNS: dict[str, tuple[str, str, str, str, str, str]] = {
    "area_code": ("Områdekode", "Area code", *_TEXT,
                  "Områdets kode (fx kommune-, distrikts- eller nabolagskode).",
                  "The area's code (e.g. municipality, district or neighbourhood code)."),
    "area_name": ("Områdenavn", "Area name", *_TEXT, "Områdets navn.", "The area's name."),
    "level": ("Niveau", "Level", *_TEXT,
              "Områdets niveau i hierarkiet (fx kommune, distrikt, nabolag).",
              "The area's level in the hierarchy (e.g. municipality, district, "
              "neighbourhood)."),
    "wave": ("Måling", "Wave", "årstal", "year",
             "Målingens år (for registermål: året perioden slutter i).",
             "The survey year (for register measures: the year the period ends in)."),
    "measure": ("Mål", "Measure", *_TEXT, "Målets id; se afsnittet om mål.",
                "The measure's id; see the section on measures."),
    UNIT_COLUMN: ("Enhed", "Unit", *_TEXT,
                  "Kun i CSV til Excel (dansk): enheden af estimate, se, ci_low, ci_high og "
                  "ændringerne på rækken; se afsnittet om enheder.",
                  "Only in the Danish-Excel CSV: the unit of estimate, se, ci_low, ci_high "
                  "and the changes on the row; see the section on units."),
    "estimate": ("Estimat", "Estimate", *_OWN,
                 "Målets værdi i området og målingen. " + _MACHINE[0],
                 "The measure's value in the area and wave. " + _MACHINE[1]),
    "se": ("Standardfejl", "Standard error", *_OWN,
           "Estimatets standardfejl (usikkerhed). " + _MACHINE[0],
           "The estimate's standard error (uncertainty). " + _MACHINE[1]),
    "ci_low": ("Konfidensinterval, nedre", "Confidence interval, lower", *_OWN,
               "Nedre grænse for konfidensintervallet. " + _MACHINE[0],
               "Lower bound of the confidence interval. " + _MACHINE[1]),
    "ci_high": ("Konfidensinterval, øvre", "Confidence interval, upper", *_OWN,
                "Øvre grænse for konfidensintervallet. " + _MACHINE[0],
                "Upper bound of the confidence interval. " + _MACHINE[1]),
    "n_display": ("Antal (vist)", "Count (shown)", "svar eller anmeldelser", "answers or reports",
                  "Antal svar (spørgeskemamål) eller anmeldte forbrydelser (registermål), som "
                  "tekst: små antal vises som \"< grænse\", tom hvor antallet er tilbageholdt.",
                  "Number of answers (survey measures) or reported offences (register "
                  "measures), as text: small counts read \"< limit\", empty where withheld."),
    "n_eff": ("Effektivt antal", "Effective sample size", "svar", "answers",
              "Det effektive antal svar efter vægtning (designeffekt).",
              "The effective number of answers after weighting (design effect)."),
    "method": ("Metode", "Method", *_TEXT, "Hvordan estimatet er beregnet; se metoder.",
               "How the estimate was made; see methods."),
    "change_prev": ("Ændring siden forrige måling", "Change since the previous wave", *_OWN,
                    "Estimat minus forrige målings estimat (for andele: procentpoint i Excel-"
                    "CSV og XLSX, brøk i CSV og JSON).",
                    "Estimate minus the previous wave's (for shares: percentage points in the "
                    "Excel CSV and XLSX, proportions in CSV and JSON)."),
    "p_prev": ("p-værdi, ændring", "p-value, change", "sandsynlighed 0–1", "probability 0–1",
               "p-værdien for testen af ændringen siden forrige måling.",
               "The p-value of the test of the change since the previous wave."),
    "sig_prev": ("Signifikant ændring", "Significant change", *_BOOL,
                 "Om ændringen siden forrige måling er statistisk signifikant.",
                 "Whether the change since the previous wave is statistically significant."),
    "change_pooled": ("Ændring mod tidligere målinger samlet",
                      "Change against the earlier waves pooled", *_OWN,
                      "Estimat minus de tidligere målingers samlede estimat.",
                      "Estimate minus the pooled estimate of the earlier waves."),
    "sig_pooled": ("Signifikant (samlet)", "Significant (pooled)", *_BOOL,
                   "Om ændringen mod de samlede målinger er statistisk signifikant.",
                   "Whether the change against the pooled waves is statistically "
                   "significant."),
    "diff_parent_rest": ("Forskel fra resten af det overordnede område",
                         "Difference from the rest of the parent area", *_OWN,
                         "Estimat minus estimatet for resten af det overordnede område.",
                         "Estimate minus the estimate of the rest of the parent area."),
    "sig_parent_rest": ("Signifikant forskel (resten)", "Significant difference (rest)",
                        *_BOOL, "Om forskellen fra resten er statistisk signifikant.",
                        "Whether the difference from the rest is statistically significant."),
    "band": ("Inddeling", "Band", *_TEXT, "Det interval (bånd) estimatet ligger i.",
             "The band the estimate falls in."),
    "suppressed": ("Undertrykt", "Suppressed", "True/False", "True/False",
                   "True: rækkens tal offentliggøres ikke (se flags); kun nøglerne står.",
                   "True: the row's figures are not published (see flags); only the keys "
                   "remain."),
    "flags": ("Markeringer", "Flags", "ord adskilt af ;", "words separated by ;",
              "Markeringer af rækken, adskilt af semikolon; se afsnittet om markeringer.",
              "The row's flags, separated by semicolons; see the section on flags."),
    "spec_id": ("Specifikation", "Specification", *_TEXT,
                "Id for indeksspecifikationen (formlen).",
                "Id of the index specification (the formula)."),
    "spec_hash": ("Specifikationens hash", "Specification hash", "SHA-256", "SHA-256",
                  "Hash af specifikationens tekst: samme hash, samme formel.",
                  "Hash of the specification's text: same hash, same formula."),
}

#: The methods a row can have (column ``method``).
METHODS: dict[str, tuple[str, str]] = {
    "direct": ("Direkte vægtet estimat fra spørgeskemaet.",
               "Direct weighted estimate from the survey."),
    "composite": ("Samlet indeks af flere mål.", "Composite index of several measures."),
    "model": ("Modelbaseret estimat (småområdemodel eller kløftmodel).",
              "Model-based estimate (small-area model or gap model)."),
    "synthetic": ("Syntetisk modelestimat for et område uden svar.",
                  "Synthetic model estimate for an area without answers."),
    "register": ("Anmeldte forbrydelser fra politiets register.",
                 "Reported offences from the police register."),
    "register_eb": ("Registertal udglattet (empirisk Bayes).",
                    "Register figure smoothed (empirical Bayes)."),
}


#: How each file holds the figures of a unit (column ``unit`` of the Danish-Excel CSV).
UNIT_NOTES: dict[str, tuple[str, str]] = {
    "pct": ("Andele. CSV til Excel (dansk): procent 0–100, ændringer og forskelle i "
            "procentpoint. XLSX: brøken 0–1, vist i procent. CSV og JSON: brøken 0–1 (og "
            "ændringer som forskelle af brøker).",
            "Shares. Danish-Excel CSV: per cent 0–100, changes and differences in percentage "
            "points. XLSX: the proportion 0–1, shown in per cent. CSV and JSON: the proportion "
            "0–1 (and changes as differences of proportions)."),
    "pp": ("Forskel mellem andele. CSV til Excel (dansk): procentpoint. XLSX: brøken, vist i "
           "procent. CSV og JSON: forskellen af brøker.",
           "A difference of shares. Danish-Excel CSV: percentage points. XLSX: the proportion, "
           "shown in per cent. CSV and JSON: the difference of proportions."),
}
_SAME = ("Samme tal i alle filer.", "The same figures in every file.")


def _flag_texts(spec: Spec) -> dict[str, tuple[str, str]]:
    pub = spec.publication
    return {
        "secondary": ("Rækken er tilbageholdt for at beskytte et andet, skjult tal.",
                      "The row is withheld to protect another, hidden figure."),
        "n_withheld": ("Kun antallet er tilbageholdt (det ville afsløre et skjult antal).",
                       "Only the count is withheld (it would give a hidden count away)."),
        "prev_withheld": ("Ændringen siden forrige måling er tilbageholdt (den anden side er "
                          "skjult).",
                          "The change since the previous wave is withheld (its other side is "
                          "hidden)."),
        "pooled_withheld": ("Ændringen mod de samlede målinger er tilbageholdt.",
                            "The change against the pooled waves is withheld."),
        "rest_withheld": ("Forskellen fra resten af det overordnede område er tilbageholdt.",
                          "The difference from the rest of the parent area is withheld."),
        "model_based": ("Estimatet er modelbaseret (for få svar til et direkte estimat; under "
                        f"{pub.min_n} svar vises antallet som \"< {pub.min_n}\").",
                        "The estimate is model-based (too few answers for a direct estimate; "
                        f"below {pub.min_n} answers the count reads \"< {pub.min_n}\")."),
        "small_count": (f"Højst {pub.small_count} anmeldelser: antallet vises som "
                        f"\"< {pub.small_count + 1}\", og raten og dens sammenligninger er "
                        "tomme.",
                        f"At most {pub.small_count} reports: the count reads "
                        f"\"< {pub.small_count + 1}\", and the rate and its comparisons are "
                        "empty."),
        "uncertain": (f"Usikkert: færre end {pub.uncertain_n} svar.",
                      f"Uncertain: fewer than {pub.uncertain_n} answers."),
        "method_break": ("Metodeskift i målingen (fx nyt spørgeskema): sammenlign varsomt med "
                         "tidligere målinger.",
                         "Method break in the wave (e.g. a new questionnaire): compare with "
                         "earlier waves with care."),
        "fear_ahead_of_crime": ("Utrygheden er større, end den anmeldte kriminalitet lader "
                                "forvente (kløftmålet).",
                                "Unsafety is higher than reported crime would lead one to "
                                "expect (the gap measure)."),
        "fear_behind_crime": ("Utrygheden er mindre, end den anmeldte kriminalitet lader "
                              "forvente (kløftmålet).",
                              "Unsafety is lower than reported crime would lead one to expect "
                              "(the gap measure)."),
    }


#: Every flag word a results row can carry: the disclosure flags and the run's own.
FLAGS: tuple[str, ...] = (*DISCLOSURE_FLAGS, "model_based", "small_count", "uncertain",
                          "method_break", "fear_ahead_of_crime", "fear_behind_crime")


def unit_of(info: MeasureInfo, spec: Spec) -> tuple[str, str, str]:
    """(code, Danish, English) of a measure's unit as the pages and the Excel files show it."""
    if info.kind == "share":
        return ("pct", "procent (ændringer i procentpoint)",
                "per cent (changes in percentage points)")
    if info.kind == "gap":
        return "pp", "procentpoint", "percentage points"
    if info.kind == "mean":
        measure = next((m for m in spec.measures if m.id == info.id), None)
        item = next((i for i in spec.items if measure and i.id == measure.item), None)
        scale = f" {item.scale[0]}–{item.scale[1]}" if item else ""
        return "mean", f"gennemsnit på svarskalaen{scale}", f"mean on the answer scale{scale}"
    if info.kind == "rate":
        base = info.id.removesuffix("_eb")
        register = next((r for r in spec.register if r.id == base), None)
        per = int(register.per) if register else 1000
        return (f"per_{per}", f"anmeldelser pr. {per:,} indbyggere".replace(",", "."),
                f"reports per {per:,} inhabitants")
    return "score", "point på indeksets skala (0–100)", "points on the index scale (0–100)"


def units(spec: Spec) -> dict[str, tuple[str, str, str]]:
    """The unit of every measure of ``spec`` (id → code, Danish, English)."""
    return {m: unit_of(info, spec) for m, info in catalogue(spec).items()}


def entries(spec: Spec) -> list[Entry]:
    """The codebook of a run of ``spec``: columns, units, flags, methods, measures."""
    out = [Entry("column", c, *COLUMNS[c]) for c in PUBLIC_COLUMNS]
    out.append(Entry("column", UNIT_COLUMN, *COLUMNS[UNIT_COLUMN]))
    seen: dict[str, tuple[str, str]] = {}
    for code, da, en in units(spec).values():
        seen.setdefault(code, (da, en))
    out += [Entry("unit", code, da, en, "", "", *UNIT_NOTES.get(code, _SAME))
            for code, (da, en) in seen.items()]
    texts = _flag_texts(spec)
    out += [Entry("flag", f, f, f, "", "", *texts[f]) for f in FLAGS]
    out += [Entry("method", m, m, m, "", "", *text) for m, text in METHODS.items()]
    for m, info in catalogue(spec).items():
        code, da, en = unit_of(info, spec)
        out.append(Entry("measure", m, info.label_da, info.label_en, da, en,
                         f"Enhed i CSV til Excel (dansk): {code}.",
                         f"Unit in the Danish-Excel CSV: {code}."))
    return out


def table(spec: Spec) -> pd.DataFrame:
    """The codebook as a table, Danish and English side by side (CSV and XLSX)."""
    rows = [(e.section, e.name, e.label_da, e.label_en, e.unit_da, e.unit_en,
             e.description_da, e.description_en) for e in entries(spec)]
    return pd.DataFrame(rows, columns=["section", "name", "label_da", "label_en", "unit_da",
                                       "unit_en", "description_da", "description_en"],
                        dtype=object)
