"""Read a BMS export of cumulative meter counters (CSV) into the frame the KPI engine takes.

This is the file side of :mod:`thermalctl.kpi` (which stays pure: pandas maths only);
the frame it returns is what :func:`thermalctl.kpi.compute_kpis` takes.

Format: a header line, then one row per reading::

    timestamp,facility_kwh,it_kwh,reused_heat_kwh[,water_m3][,renewable_kwh]...
    2024-01-01T00:00:00Z,120345.2,98012.7,40233.0

- ``timestamp``: ISO 8601 (``2024-01-01T00:00``, ``2024-01-01 00:00:00+01:00``,
  ``...Z``); a timestamp without offset is UTC. Rows must be strictly increasing.
- counters: non-negative numbers; optional columns may be left empty (missing
  reading). Other columns are ignored. A file whose header uses ``;`` as the
  separator (common in European exports) may use a decimal comma.

Every problem raises :class:`~thermalctl.kpi.errors.CsvInputError` naming the
file, the 1-based line number in the file and the column.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
from pathlib import Path

import pandas as pd

from thermalctl.kpi.engine import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from thermalctl.kpi.errors import CsvInputError

__all__ = ["CSV_COLUMNS", "TIMESTAMP_COLUMN", "read_counters_csv"]

TIMESTAMP_COLUMN = "timestamp"
CSV_COLUMNS: tuple[str, ...] = (TIMESTAMP_COLUMN, *REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)


def _parse_timestamp(text: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def _parse_number(text: str, decimal_comma: bool) -> float:
    cleaned = text.strip()
    if decimal_comma:
        cleaned = cleaned.replace(",", ".")
    return float(cleaned)


def read_counters_csv(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a counters CSV file.

    Parameters
    ----------
    path : the file (UTF-8, with or without byte-order mark).

    Returns
    -------
    pandas.DataFrame
        Index ``timestamp`` (UTC), float columns for each known counter present
        [kWh; ``water_m3`` in m³]; NaN where an optional cell is empty.

    Raises
    ------
    CsvInputError
        Missing file or column, unparseable timestamp, non-numeric, non-finite
        or negative value, empty required value, timestamp not after the previous row.
    """
    file = Path(path)
    try:
        handle = file.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise CsvInputError(file, None, None, f"cannot open: {exc.strerror}") from exc
    with handle:
        first = handle.readline()
        delimiter = ";" if first.count(";") > first.count(",") else ","
        handle.seek(0)
        reader = csv.reader(handle, delimiter=delimiter)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise CsvInputError(file, None, None, "the file is empty") from None
        missing = [c for c in (TIMESTAMP_COLUMN, *REQUIRED_COLUMNS) if c not in header]
        if missing:
            raise CsvInputError(file, 1, missing[0], f"missing column(s): {', '.join(missing)}")
        duplicated = sorted({h for h in header if h in CSV_COLUMNS and header.count(h) > 1})
        if duplicated:
            raise CsvInputError(file, 1, duplicated[0], "column appears twice")
        positions = {c: header.index(c) for c in CSV_COLUMNS if c in header}
        stamps: list[dt.datetime] = []
        columns: dict[str, list[float]] = {c: [] for c in positions if c != TIMESTAMP_COLUMN}
        previous_line = 0
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) < len(header):
                raise CsvInputError(
                    file, line, None, f"{len(row)} fields where the header has {len(header)}"
                )
            raw_stamp = row[positions[TIMESTAMP_COLUMN]]
            try:
                stamp = _parse_timestamp(raw_stamp)
            except ValueError:
                raise CsvInputError(
                    file, line, TIMESTAMP_COLUMN, f"{raw_stamp!r} is not an ISO 8601 timestamp"
                ) from None
            if stamps and stamp <= stamps[-1]:
                what = "repeats" if stamp == stamps[-1] else "is before"
                raise CsvInputError(
                    file, line, TIMESTAMP_COLUMN,
                    f"{stamp.isoformat()} {what} the previous row's timestamp "
                    f"(line {previous_line}); rows must be in strictly increasing time order",
                )  # fmt: skip
            stamps.append(stamp)
            previous_line = line
            for column, values in columns.items():
                values.append(_cell(file, line, column, row[positions[column]], delimiter == ";"))
    if len(stamps) == 0:
        raise CsvInputError(file, None, None, "no data rows")
    index = pd.DatetimeIndex(stamps, name=TIMESTAMP_COLUMN).tz_convert("UTC")
    return pd.DataFrame(columns, index=index, dtype=float)


def _cell(file: Path, line: int, column: str, text: str, decimal_comma: bool) -> float:
    if not text.strip():
        if column in REQUIRED_COLUMNS:
            raise CsvInputError(file, line, column, "empty value")
        return math.nan
    try:
        value = _parse_number(text, decimal_comma)
    except ValueError:
        raise CsvInputError(file, line, column, f"{text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise CsvInputError(file, line, column, f"{text.strip()!r} is not a finite number")
    if value < 0:
        raise CsvInputError(file, line, column, f"negative counter value {value}")
    return value
