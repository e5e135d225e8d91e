"""Measurements from CSV and XLSX: all or nothing, every problem named by file, row, column."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from django.test import override_settings

from strategy.strategy_helpers import indicator, initiative, people
from tryg.index.inputs import InputError
from tryg.strategy.measurement_import import import_measurements
from tryg.strategy.models import ChangeRecord, Measurement


@pytest.mark.django_db
def test_a_good_csv_is_imported_with_history(tmp_path: Path) -> None:
    who = people()
    ind = indicator(initiative([who.housing]))
    path = tmp_path / "målinger.csv"
    path.write_text("indicator;value;date;wave;n;se;low;high;exact;method;published\n"
                    f"{ind.pk};71,5;2024-12-31;;400;2,2;;;0;survey;1\n"
                    f"{ind.pk};74;;2025;;;70,1;77,9;nej;;ja\n", encoding="utf-8")
    report = import_measurements(path, user=who.partner)
    assert (report.stored, report.indicators) == (2, 1)
    rows = list(Measurement.objects.order_by("when").values_list(
        "value", "se", "low", "high", "n", "published", "entered_by"))
    assert rows == [(71.5, 2.2, None, None, 400, True, who.partner.pk),
                    (74.0, None, 70.1, 77.9, None, True, who.partner.pk)]
    assert ChangeRecord.objects.filter(model="measurement").count() == 2


@pytest.mark.django_db
def test_every_problem_is_named_and_nothing_is_stored(tmp_path: Path) -> None:
    who = people()
    own = indicator(initiative([who.housing]))
    foreign = indicator(initiative([who.police], name="Natteliv"))
    path = tmp_path / "m.csv"
    path.write_text("indicator,value,date,se,low,high\n"
                    f"{own.pk},70,2024-12-31,1,,\n"            # row 2: fine
                    f"{own.pk},abc,2024-12-31,,,\n"            # row 3: value
                    f"{own.pk},70,2024-13-45,,,\n"             # row 4: date
                    f"{own.pk},70,2024-12-31,-1,,\n"           # row 5: se
                    f"{own.pk},70,2024-12-31,,80,\n"           # row 6: interval half
                    f"{foreign.pk},70,2024-12-31,,,\n"         # row 7: not the partner's
                    "999999,70,2024-12-31,,,\n", encoding="utf-8")  # row 8: no indicator
    with pytest.raises(InputError) as caught:
        import_measurements(path, user=who.partner)
    found = {(p.row, p.column) for p in caught.value.problems}
    assert found == {(3, "value"), (4, "date"), (5, "se"), (6, "high"), (7, "indicator"),
                     (8, "indicator")}
    assert all(p.source == str(path) for p in caught.value.problems)
    assert Measurement.objects.count() == 0


@pytest.mark.django_db
def test_an_xlsx_file_names_its_sheet_rows(tmp_path: Path) -> None:
    who = people()
    ind = indicator(initiative([who.housing]))
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["indicator", "value", "wave", "colour"])
    sheet.append([ind.pk, 70.5, 2024, "red"])
    path = tmp_path / "m.xlsx"
    book.save(path)
    with pytest.raises(InputError) as caught:
        import_measurements(path)
    assert [(p.row, p.column) for p in caught.value.problems] == [(1, "colour")]
    sheet.delete_cols(4)
    sheet.append([ind.pk, 72, 2025])
    book.save(path)
    assert import_measurements(path).stored == 2


@pytest.mark.django_db
def test_columns_named_alike_and_an_n_too_large_are_errors(tmp_path: Path) -> None:
    """Names are read without case and spaces, so "Value" and "value " are one column twice
    (not the first silently used); an n past the 32-bit column is an error at its cell, not
    a database error when the rows are written (PostgreSQL)."""
    who = people()
    ind = indicator(initiative([who.housing]))
    path = tmp_path / "m.csv"
    path.write_text(f"indicator,Value,wave,value \n{ind.pk},70,2024,80\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        import_measurements(path)
    (problem,) = caught.value.problems
    assert (problem.row, problem.column) == (1, "value")
    assert "'Value', 'value'" in problem.message
    path.write_text(f"indicator,value,wave,n\n{ind.pk},70,2024,400\n"
                    f"{ind.pk},71,2025,3000000000\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        import_measurements(path)
    assert [(p.row, p.column) for p in caught.value.problems] == [(3, "n")]
    assert "too large" in str(caught.value)
    assert Measurement.objects.count() == 0


@pytest.mark.django_db
def test_the_sites_row_limit_holds_for_measurement_files(tmp_path: Path) -> None:
    """The site's TRYG_MAX_ROWS (not the readers' built-in 20 million) bounds the file, as for
    every other import."""
    ind = indicator(initiative([people().housing]))
    path = tmp_path / "m.csv"
    path.write_text("indicator,value,wave\n" + "".join(
        f"{ind.pk},{70 + k},{2020 + k}\n" for k in range(3)), encoding="utf-8")
    with override_settings(TRYG_MAX_ROWS=2), pytest.raises(InputError) as caught:
        import_measurements(path)
    assert "more than the limit of 2 (TRYG_MAX_ROWS)" in str(caught.value)
    assert Measurement.objects.count() == 0
    with override_settings(TRYG_MAX_ROWS=3):
        assert import_measurements(path).stored == 3


@pytest.mark.django_db
def test_implausible_values_and_dates_are_errors_at_their_cells(tmp_path: Path) -> None:
    """The bounds of the form and the API: finite numbers smaller than 10^12 in size, dates
    in the years 1900 to 2200 (the readers alone take 1800 to 2200)."""
    ind = indicator(initiative([people().housing]))
    path = tmp_path / "m.csv"
    path.write_text("indicator,value,date,se,low,high\n"
                    f"{ind.pk},1e308,2024-12-31,,,\n"            # row 2: value
                    f"{ind.pk},70,1850-01-01,,,\n"               # row 3: date
                    f"{ind.pk},70,2024-12-31,1e12,,\n"           # row 4: se
                    f"{ind.pk},70,2024-12-31,,-1e13,80\n"        # row 5: low
                    f"{ind.pk},-999999999999,1900-01-01,,,\n",   # row 6: fine
                    encoding="utf-8")
    with pytest.raises(InputError) as caught:
        import_measurements(path)
    assert [(p.row, p.column) for p in caught.value.problems] == [
        (2, "value"), (3, "date"), (4, "se"), (5, "low")]
    assert "'1e308' is not a plausible value" in str(caught.value)
    assert "'1850-01-01' is not a plausible date (years 1900 to 2200)" in str(caught.value)
    assert Measurement.objects.count() == 0
