"""The downloadable files of the latest published run: CSV, XLSX, JSON and GeoJSON.

CSV, XLSX and JSON are the public view itself (every area, wave and measure; the columns of
:data:`tryg.index.results.PUBLIC_COLUMNS`), written by :mod:`tryg.exports`.

GeoJSON is for maps (QGIS, web maps), so it is one Feature per area and wave, not per row:
``results.geojson?wave=YYYY`` (default: the latest wave) holds every area of the results with
its stored boundary (``null`` when none is stored), and as properties ``code``, ``name``,
``level``, ``wave``, then per measure ``<measure>`` (estimate), ``<measure>_ci_low``,
``<measure>_ci_high``, ``<measure>_n`` (the public ``n_display`` text) and
``<measure>_suppressed``. Flat properties, because GIS tools do not read nested ones; the
values are the public view's (suppressed values are null).

``results-excel.csv`` ("CSV til Excel (dansk)") is the same table for a spreadsheet in a
Danish locale: ";" between fields, decimal comma, UTF-8 with a byte-order mark, shares in per
cent with an extra column ``unit`` after ``measure`` (see :mod:`tryg.public.codebook`). The
plain CSV stays the machine file: the values as computed, byte-identical on re-runs.

The XLSX's first sheet is the results (programs read the first sheet), with number formats
that show shares as percentages; then the sheets "Om data (About)", which Excel opens on (the
licence and the source), and "Kodebog (Codebook)". The JSON stays a plain array of records
(readers expect one); its licence and source are in the codebook and on the downloads page.

The licence is the setting ``TRYG_DATA_LICENCE``; the source is the run itself (number,
specification id, version and hash, publication date, the fingerprints of its inputs), and
a survey wave marked synthetic is said to be so.

Files are kept in Django's cache per publication, format, wave and licence.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.cache import cache
from django.http import Http404

from tryg.exports import csv_bytes, fits_excel, results_bytes
from tryg.exports.formats import Sheet, workbook_bytes
from tryg.public import codebook
from tryg.public.data import Published, geometries, published, run_key
from tryg.runs.models import IndexRun
from tryg.surveys.models import Wave

FORMATS: tuple[str, ...] = ("csv", "xlsx", "json", "geojson")
#: The Danish-Excel CSV (``results-excel.csv``) and the codebook as CSV (``codebook.csv``).
EXCEL_CSV = "excel-csv"
CODEBOOK_CSV = "codebook-csv"
FILE_NAMES: dict[str, str] = {EXCEL_CSV: "excel.csv", CODEBOOK_CSV: "codebook.csv"}
CONTENT_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    EXCEL_CSV: "text/csv; charset=utf-8",
    CODEBOOK_CSV: "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "geojson": "application/geo+json",
}
#: The per-measure properties of a GeoJSON feature: suffix → public column.
GEOJSON_FIELDS: dict[str, str] = {"": "estimate", "_ci_low": "ci_low", "_ci_high": "ci_high",
                                  "_n": "n_display", "_suppressed": "suppressed"}
TIMEOUT = 24 * 3600


def file_name(data: Published, fmt: str, wave: int | None = None) -> str:
    suffix = f"-{wave}" if wave is not None else ""
    return f"{data.spec.id}-run{data.run.pk}{suffix}.{FILE_NAMES.get(fmt, fmt)}"


def licence() -> str:
    """The licence of the published figures (setting ``TRYG_DATA_LICENCE``)."""
    return str(getattr(settings, "TRYG_DATA_LICENCE", "") or "CC BY 4.0")


def download(run: IndexRun, fmt: str, wave: int | None = None) -> tuple[bytes, str, str]:
    """(bytes, content type, file name) of a public file; Http404 for an unknown wave."""
    if fmt not in CONTENT_TYPES:
        raise Http404("unknown format")
    data = published(run)
    if fmt == "xlsx" and not offers_xlsx(data):
        raise Http404("the table has more rows than one Excel sheet holds")
    year: int | None = None
    if fmt == "geojson":
        year = _wave(data, wave)
    terms = hashlib.sha256(licence().encode("utf-8")).hexdigest()[:16]
    key = f"tryg-public-file:{run_key(run)}:{fmt}:{year}:{terms}"
    body = cache.get(key)
    if not isinstance(body, bytes):
        body = _build(data, fmt, year)
        cache.set(key, body, TIMEOUT)
    return body, CONTENT_TYPES[fmt], file_name(data, fmt, year)


def offers_xlsx(data: Published) -> bool:
    """Whether the public table fits one Excel sheet (the downloads page then offers XLSX;
    a larger table is offered as CSV, JSON and GeoJSON only)."""
    return fits_excel(*data.table.shape)


def _build(data: Published, fmt: str, year: int | None) -> bytes:
    if fmt == "geojson":
        return geojson_bytes(data, year)
    if fmt == EXCEL_CSV:
        return csv_bytes(excel_table(data), sep=";", decimal=",", bom=True)
    if fmt == CODEBOOK_CSV:
        return csv_bytes(codebook.table(data.spec))
    if fmt == "xlsx":
        return xlsx_bytes(data)
    return results_bytes(data.table, fmt)


def excel_table(data: Published) -> pd.DataFrame:
    """The public table as the Danish-Excel CSV holds it: a column ``unit`` after ``measure``
    and shares (and a share's changes and differences) in per cent, × 100."""
    units = codebook.units(data.spec)
    table = data.table.copy()
    code = table["measure"].map(lambda m: units[m][0] if m in units else "").astype(object)
    percent = code.isin(["pct", "pp"]).to_numpy()
    for column in codebook.PERCENT_COLUMNS:
        values = table[column].astype("float64").to_numpy(copy=True)
        values[percent] = 100.0 * values[percent]
        table[column] = values
    table.insert(list(table.columns).index("measure") + 1, codebook.UNIT_COLUMN, code)
    return table


#: Number formats of the XLSX: a share's figures as percentages, other figures by kind.
_PERCENT_FORMAT = "0.0%"
_KIND_FORMATS = {"mean": "0.00", "rate": "0.0", "score": "0.0", "composite": "0.0"}
_COLUMN_FORMATS = {"p_prev": "0.000", "n_eff": "0.0"}


def _formats(data: Published) -> list[list[str | None]]:
    columns = list(data.table.columns)
    by_kind: dict[str, list[str | None]] = {}
    out = []
    for measure in data.table["measure"].tolist():
        kind = data.info(str(measure)).kind
        if kind not in by_kind:
            figure = _PERCENT_FORMAT if kind in ("share", "gap") else _KIND_FORMATS.get(kind)
            by_kind[kind] = [figure if c in codebook.PERCENT_COLUMNS
                             else _COLUMN_FORMATS.get(c) for c in columns]
        out.append(by_kind[kind])
    return out


@dataclass(frozen=True)
class SourceLine:
    """One line of the licence and source of a publication, in Danish and English."""

    key: str
    label_da: str
    label_en: str
    value_da: str
    value_en: str
    url: str = ""

    def label(self, language: str) -> str:
        return self.label_en if language == "en" else self.label_da

    def value(self, language: str) -> str:
        return self.value_en if language == "en" else self.value_da


def synthetic_waves(run: IndexRun) -> list[int]:
    """The survey waves among the run's inputs whose answers are marked synthetic."""
    survey = run.inputs.get("survey") if isinstance(run.inputs, dict) else None
    batches = survey.get("batches", []) if isinstance(survey, dict) else []
    return sorted(Wave.objects.filter(import_batch_id__in=batches, synthetic=True)
                  .values_list("year", flat=True))


def source_lines(data: Published) -> list[SourceLine]:
    """The licence and the source of the published figures."""
    run, spec = data.run, data.spec
    terms = licence()
    published_on = run.published_at.date().isoformat() if run.published_at else ""
    lines = [
        SourceLine("licence", "Licens", "Licence", terms, terms,
                   codebook.LICENCE_URLS.get(terms, "")),
        SourceLine("source", "Kilde", "Source",
                   f"Offentliggjort indekskørsel #{run.pk} i tryg",
                   f"Published index run #{run.pk} in tryg"),
        SourceLine("spec", "Specifikation", "Specification",
                   f"{spec.id} version {spec.version}, hash {spec.hash}",
                   f"{spec.id} version {spec.version}, hash {spec.hash}"),
        SourceLine("published", "Offentliggjort", "Published", published_on, published_on),
        SourceLine("fingerprint", "Resultaternes SHA-256", "Results' SHA-256",
                   run.fingerprint, run.fingerprint),
    ]
    inputs = run.inputs if isinstance(run.inputs, dict) else {}
    for name, fp in sorted(inputs.items()):
        if not isinstance(fp, dict):
            continue
        files = ", ".join(str(f) for f in fp.get("files", []))
        head = f"SHA-256 {fp.get('sha256', '')}, {fp.get('rows', '')}"
        lines.append(SourceLine(
            f"input:{name}", f"Input: {name}", f"Input: {name}",
            f"{head} rækker" + (f", filer: {files}" if files else ""),
            f"{head} rows" + (f", files: {files}" if files else "")))
    synthetic = synthetic_waves(run)
    if synthetic:
        years = ", ".join(str(y) for y in synthetic)
        lines.append(SourceLine(
            "synthetic", "Syntetiske data", "Synthetic data",
            f"Spørgeskemasvarene i måling {years} er syntetiske (fiktive, lavet af en generator), "
            "ikke svar fra rigtige personer. Tallene beskriver ingen virkelige borgere.",
            f"The survey answers of wave {years} are synthetic (fictional, made by a "
            "generator), not answers of real persons. The figures describe no real residents."))
    return lines


def _about(data: Published) -> pd.DataFrame:
    rows = [(line.label_da, line.value_da, line.label_en, line.value_en, line.url)
            for line in source_lines(data)]
    rows.append(("Tal", "Arket \"results\": én række pr. område, måling og mål. Andele vises i "
                 "procent (cellen holder brøken 0–1). Se arket \"Kodebog (Codebook)\".",
                 "Figures", "Sheet \"results\": one row per area, wave and measure. Shares are "
                 "shown in per cent (the cell holds the proportion 0–1). See the sheet "
                 "\"Kodebog (Codebook)\".", ""))
    return pd.DataFrame(rows, columns=["felt", "værdi", "field", "value", "url"], dtype=object)


ABOUT_SHEET = "Om data (About)"
CODEBOOK_SHEET = "Kodebog (Codebook)"


def xlsx_bytes(data: Published) -> bytes:
    """The public XLSX: the results (number formats by unit), the licence and source (the
    sheet Excel opens on) and the codebook."""
    results = Sheet("results", data.table, _formats(data))
    about = Sheet(ABOUT_SHEET, _about(data), widths=(24, 70, 24, 70, 40))
    book = Sheet(CODEBOOK_SHEET, codebook.table(data.spec),
                 widths=(10, 22, 30, 30, 24, 24, 70, 70))
    return workbook_bytes([results, about, book], active=1)


def _wave(data: Published, wave: int | None) -> int | None:
    if not data.waves:
        return None
    if wave is None:
        return data.waves[-1]
    if wave not in data.waves:
        raise Http404("no published results for that wave")
    return wave


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return value


def geojson_features(data: Published, wave: int | None) -> list[dict[str, Any]]:
    """One Feature per area of the results in ``wave``, with flat properties per measure."""
    t = data.table if wave is None else data.table[data.table["wave"] == wave]
    shapes = geometries()
    features: list[dict[str, Any]] = []
    for (code, name, level), part in t.groupby(["area_code", "area_name", "level"], sort=False):
        properties: dict[str, Any] = {"code": code, "name": name, "level": level,
                                      "wave": wave}
        for row in part.itertuples(index=False):
            for suffix, column in GEOJSON_FIELDS.items():
                properties[f"{row.measure}{suffix}"] = _plain(getattr(row, column))
        shape = shapes.get(str(code))
        features.append({"type": "Feature", "id": code, "properties": properties,
                         "geometry": shape[1] if shape else None})
    return features


def geojson_bytes(data: Published, wave: int | None) -> bytes:
    collection = {"type": "FeatureCollection",
                  "spec_id": data.spec.id, "spec_hash": data.spec.hash, "run": data.run.pk,
                  "features": geojson_features(data, wave)}
    return json.dumps(collection, ensure_ascii=False, allow_nan=False).encode("utf-8")
