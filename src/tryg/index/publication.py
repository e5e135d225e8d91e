"""The publication rules of an index run, in one place.

What may be shown of a figure is decided here: survey estimates from fewer than ``min_n``
answers are suppressed and those from fewer than ``uncertain_n`` flagged as uncertain;
register counts of at most ``small_count`` are shown as "< small_count + 1" (and what would
give them back is blanked); a model-based small-area estimate shows its number of answers as
"< min_n"; changes across a method break are flagged; values fall in the spec's bands. The
computation (:mod:`tryg.index.compute`) writes the flags with these rules, disclosure control
(:mod:`tryg.index.disclosure`) starts from them, :func:`public_view` applies them to a table
and :mod:`tryg.index.explain` states them in words.

Pure: arrays and pandas in, arrays and pandas out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tryg.index.spec import Publication, Spec

#: Values of ``method`` for rows computed from the police register (their ``n`` is a count).
REGISTER_METHODS: tuple[str, ...] = ("register", "register_eb")
#: Values of ``method`` for rows estimated directly from the survey (their ``n`` is answers).
SURVEY_METHODS: tuple[str, ...] = ("direct", "composite")
#: Values of ``method`` whose rows are flagged in a wave with a method break.
BREAK_METHODS: tuple[str, ...] = ("direct", "composite", "model")

#: Flags that :mod:`tryg.index.disclosure` writes. The whole row is withheld to protect
#: another figure (its own numbers are not small):
SECONDARY = "secondary"
#: Only the row's sample size is withheld (it would give a hidden sample size back):
N_WITHHELD = "n_withheld"
#: Comparisons withheld because one of their sides is hidden:
PREV_WITHHELD = "prev_withheld"
POOLED_WITHHELD = "pooled_withheld"
REST_WITHHELD = "rest_withheld"
DISCLOSURE_FLAGS = (SECONDARY, N_WITHHELD, PREV_WITHHELD, POOLED_WITHHELD, REST_WITHHELD)

#: The columns a withheld comparison blanks (flags from :mod:`tryg.index.disclosure`).
WITHHELD_COMPARISONS: dict[str, tuple[str, ...]] = {
    PREV_WITHHELD: ("change_prev", "p_prev", "sig_prev"),
    POOLED_WITHHELD: ("change_pooled", "sig_pooled"),
    REST_WITHHELD: ("diff_parent_rest", "sig_parent_rest"),
}



def count_shown_below(pub: Publication) -> int:
    """A small register count is shown as "< this" (``small_count + 1``)."""
    return pub.small_count + 1


def survey_rules(
    pub: Publication, survey_like: np.ndarray, register_like: np.ndarray, n: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The primary rules by ``n``: survey rows suppressed (fewer than ``min_n`` answers) and
    uncertain (fewer than ``uncertain_n``), register rows with a small count."""
    with np.errstate(invalid="ignore"):
        suppressed = survey_like & (n < pub.min_n)
        uncertain = survey_like & (n >= pub.min_n) & (n < pub.uncertain_n)
        small = small_count(pub, register_like, n)
    return suppressed, uncertain, small


def small_count(pub: Publication, register_like: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Register rows whose count is at most ``small_count`` (shown as "< small_count + 1")."""
    with np.errstate(invalid="ignore"):
        out: np.ndarray = register_like & (n <= pub.small_count)
    return out


def model_n_hidden(pub: Publication, model_based: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Model-based small-area rows from fewer than ``min_n`` answers: their ``n`` is shown as
    "< min_n" (it would give the hidden direct estimate's sample size)."""
    with np.errstate(invalid="ignore"):
        out: np.ndarray = model_based & (n < pub.min_n)
    return out


def register_measure_ids(spec: Spec) -> set[str]:
    """Measures whose ``n`` is a count of reported offences (subject to ``small_count``).

    Register measures, their smoothed ``<id>_eb`` companions and sub-indices built from them:
    their ``n`` is the offence count, which must not be published when small. (Rows whose
    ``method`` is one of ``REGISTER_METHODS`` count as register rows too, whatever their id.)
    """
    ids = {m.id for m in spec.register} | {f"{m.id}_eb" for m in spec.register}
    return ids | {s.id for s in spec.subindices if s.source == "register"}


#: Blanked on rows whose register count is shown as "< small_count + 1".
SMALL_COUNT_HIDDEN = ("estimate", "se", "ci_low", "ci_high", "change_prev", "p_prev", "sig_prev",
                      "change_pooled", "sig_pooled", "diff_parent_rest", "sig_parent_rest",
                      "band")


def row_flags(
    base: tuple[np.ndarray, np.ndarray], uncertain: np.ndarray, small: np.ndarray,
    broken: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The ";"-joined, sorted flags of every row: its own flag (``base``: codes and distinct
    values, -1: none) plus the publication flags, as codes and distinct texts (the row's text
    is ``texts[codes]``). Computed once per distinct combination (a few), not per row."""
    raw, found = base  # missing: -1, read as no flag
    distinct = np.array([*(str(v) for v in found), ""], dtype=object)
    codes = np.where(raw >= 0, raw, len(distinct) - 1)
    combo = codes * 8 + uncertain * 4 + small * 2 + broken
    # the distinct combinations in order and each row's among them (np.unique without a sort)
    present = np.bincount(combo, minlength=len(distinct) * 8) > 0
    keys = np.flatnonzero(present)
    inverse = (np.cumsum(present) - 1)[np.asarray(combo, dtype=np.int64)]
    joined = []
    for key in keys.tolist():
        f = str(distinct[key // 8])
        words = ([f] if f else []) + [
            w for bit, w in ((4, "uncertain"), (2, "small_count"), (1, "method_break"))
            if key & bit
        ]
        joined.append(";".join(sorted(set(words))))
    return np.asarray(inverse, dtype=np.int64), np.asarray(joined, dtype=object)


def bands(spec: Spec, measures: tuple[np.ndarray, np.ndarray], values: np.ndarray
          ) -> np.ndarray:
    """The band label of every row's value under its measure's cut points ("" where the
    measure has none or the value is missing). ``measures``: the rows' measures as codes
    (-1: missing) and distinct ids (``pd.factorize``)."""
    cuts: dict[str, tuple[float, ...]] = {m.id: m.bands for m in spec.measures}
    cuts |= {s.id: s.bands for s in spec.subindices}
    if spec.composite is not None:
        cuts[spec.composite.id] = spec.composite.bands
    codes, ids = measures
    out = np.empty(len(codes), dtype=object)
    out[:] = ""
    known = np.isfinite(values)
    for code, measure in enumerate(ids.tolist()):
        b = cuts.get(measure)
        if not b:
            continue
        rows = np.flatnonzero((codes == code) & known)
        labels = np.array(
            [f"<{b[0]:g}"] + [f"{b[i - 1]:g}-{b[i]:g}" for i in range(1, len(b))]
            + [f">={b[-1]:g}"], dtype=object,
        )
        out[rows] = labels[np.searchsorted(b, values[rows], side="right")]
    return out


def public_view(table: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """What may be published of ``table`` under ``spec``'s publication rules.

    The rules are decided when the run is computed (:mod:`tryg.index.disclosure` writes them
    into ``suppressed`` and ``flags``); here they are applied:

    * A suppressed row keeps its keys (area, level, wave, measure), ``suppressed``, ``flags``
      and the spec's id and hash; everything else (estimate, se, interval, n, n_eff, changes,
      differences, tests, band, method) is blanked. A survey row withheld only to protect
      another figure (flag ``secondary``) keeps its ``n``, which protects nothing.
    * ``n`` is replaced by the text ``n_display``: for register counts of at most
      ``publication.small_count`` it reads ``"< small_count + 1"`` (e.g. ``"< 5"``), so a
      count of 1-4 offences in a small area cannot be read off the file; for a model-based
      small-area estimate from fewer than ``min_n`` answers ``"< min_n"``; blank where the
      flag ``n_withheld`` says so. The rate, its interval, its comparisons and its band are
      blanked on small-count rows too, because with the population (and the other published
      figures) they would give the count back.
    * A comparison whose other side is hidden (flags ``prev_withheld``, ``pooled_withheld``,
      ``rest_withheld``) is blanked with its test.

    Extra columns of ``table`` are not carried over: the public file holds only the documented
    columns, so nothing internal can leak by being added upstream.
    """
    # the table's schema (results imports the rules from here)
    from tryg.index.results import KEY_COLUMNS, PUBLIC_COLUMNS, SPEC_COLUMNS, conform

    t = conform(table)
    pub = spec.publication
    register = (
        t["measure"].isin(register_measure_ids(spec))
        | t["method"].isin(REGISTER_METHODS)
    ).to_numpy()
    words = t["flags"].astype(str).str.split(";")
    has = {f: words.map(lambda w, f=f: f in w).to_numpy(dtype=bool)
           for f in ("model_based", SECONDARY, N_WITHHELD, PREV_WITHHELD, POOLED_WITHHELD,
                     REST_WITHHELD)}
    n = t["n"]
    n_known = n.notna().to_numpy()
    n_values = n.fillna(0).to_numpy(dtype=np.int64)
    small_counts = small_count(pub, register & n_known, n_values)
    model_small = model_n_hidden(pub, has["model_based"] & n_known, n_values)
    display = n_values.astype(str).astype(object)
    display[small_counts] = f"< {count_shown_below(pub)}"
    display[model_small] = f"< {pub.min_n}"
    display[~n_known | has[N_WITHHELD]] = None
    # dtype=object explicitly: pandas 3 would otherwise infer its own string dtype.
    position = list(t.columns).index("n")
    t.insert(position, "n_display", pd.Series(display, index=t.index, dtype=object))
    t = t.drop(columns="n")
    hidden = t["suppressed"].to_numpy(dtype=bool)
    # A rate and its interval give a small count back (rate × population / 1,000): for a
    # count shown as "< 5" the numbers that would reveal it are blanked as well, and so is
    # every comparison, since each is the rate minus a published figure (the earlier waves,
    # the rest of the parent area) and would give the rate back too.
    if small_counts.any():
        for c in SMALL_COUNT_HIDDEN:
            t[c] = t[c].mask(small_counts)
    for flag, columns in WITHHELD_COMPARISONS.items():
        if has[flag].any():
            for c in columns:
                t[c] = t[c].mask(has[flag])
    if hidden.any():
        keep = {*KEY_COLUMNS, *SPEC_COLUMNS, "suppressed", "flags"}
        keeps_n = hidden & has[SECONDARY] & ~register
        for c in t.columns:
            if c in keep:
                continue
            mask = hidden & ~keeps_n if c == "n_display" else hidden
            masked = t[c].mask(mask)
            t[c] = masked.where(masked.notna(), None) if masked.dtype == object else masked
    return t.reset_index(drop=True)[list(PUBLIC_COLUMNS)]

