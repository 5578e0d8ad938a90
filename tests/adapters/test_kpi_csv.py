"""The BMS export reader: good files parse, bad rows are named by line and column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from thermalctl.adapters.kpi_csv import read_counters_csv
from thermalctl.kpi import CsvInputError

DATA = Path(__file__).parents[1] / "kpi" / "data"  # the KPI reference files
HEADER = "timestamp,facility_kwh,it_kwh,reused_heat_kwh"


def _write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "export.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_reads_reference_file() -> None:
    frame = read_counters_csv(DATA / "bms_export_wrap.csv")
    assert list(frame.columns) == ["facility_kwh", "it_kwh", "reused_heat_kwh", "water_m3"]
    assert str(frame.index.tz) == "UTC"
    assert frame.index[0] == pd.Timestamp("2024-01-30", tz="UTC")
    assert frame["facility_kwh"].tolist() == [999700, 999820, 999940, 60, 180]


def test_naive_timestamps_are_utc_and_offsets_are_converted(tmp_path: Path) -> None:
    path = _write(tmp_path, HEADER, "2024-01-01 00:00,0,0,0", "2024-01-01T02:00:00+01:00,1,1,1")
    frame = read_counters_csv(path)
    assert list(frame.index) == [
        pd.Timestamp("2024-01-01T00:00", tz="UTC"),
        pd.Timestamp("2024-01-01T01:00", tz="UTC"),
    ]


def test_semicolon_export_with_decimal_comma_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    text = "timestamp;facility_kwh;it_kwh;reused_heat_kwh;water_m3\n"
    text += "2024-01-01T00:00;10,5;8,25;1;\n2024-01-01T01:00;11,5;9,0;2;3,5\n"
    path.write_text(text, encoding="utf-8-sig")
    frame = read_counters_csv(path)
    assert frame["facility_kwh"].tolist() == [10.5, 11.5]
    assert frame["it_kwh"].tolist() == [8.25, 9.0]
    assert pd.isna(frame["water_m3"].iloc[0])  # an empty optional cell is a missing reading
    assert frame["water_m3"].iloc[1] == 3.5


@pytest.mark.parametrize(
    ("bad_line", "column", "reason"),
    [
        ("01/02/2024 00:00,2,2,2", "timestamp", "is not an ISO 8601 timestamp"),
        ("2024-01-01T02:00,two,2,2", "facility_kwh", "'two' is not a number"),
        ("2024-01-01T02:00,2,-1,2", "it_kwh", "negative counter value -1.0"),
        ("2024-01-01T02:00,2,2,", "reused_heat_kwh", "empty value"),
        ("2024-01-01T02:00,2,2,inf", "reused_heat_kwh", "not a finite number"),
        ("2024-01-01T01:00,2,2,2", "timestamp", "repeats the previous row's timestamp (line 3)"),
        ("2024-01-01T00:30,2,2,2", "timestamp", "is before the previous row's timestamp"),
    ],
)
def test_bad_row_error_names_file_line_and_column(
    tmp_path: Path, bad_line: str, column: str, reason: str
) -> None:
    path = _write(
        tmp_path, HEADER, "2024-01-01T00:00,0,0,0", "2024-01-01T01:00,1,1,1", "", bad_line
    )
    with pytest.raises(CsvInputError) as info:
        read_counters_csv(path)
    error = info.value
    assert (error.line, error.column) == (5, column)  # line 4 is blank, line 5 the bad row
    assert str(error).startswith(f"{path}, line 5, column {column!r}: ")
    assert reason in str(error)


def test_missing_column_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "timestamp,facility_kwh,reused_heat_kwh", "2024-01-01,1,1")
    with pytest.raises(CsvInputError, match=r"line 1, column 'it_kwh': missing column"):
        read_counters_csv(path)


def test_short_row_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(CsvInputError, match=r"line 2: 3 fields where the header has 4"):
        read_counters_csv(_write(tmp_path, HEADER, "2024-01-01,1,1"))
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(CsvInputError, match="the file is empty"):
        read_counters_csv(empty)
    with pytest.raises(CsvInputError, match="cannot open"):
        read_counters_csv(tmp_path / "absent.csv")
