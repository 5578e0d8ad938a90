"""Exceptions of :mod:`thermalctl.kpi`.

The tree::

    ValueError
     └── KpiInputError        the counters or their index cannot be used (names row / column)
          └── CsvInputError   a BMS export file is malformed (names file, line and column)
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["CsvInputError", "KpiInputError"]


class KpiInputError(ValueError):
    """The input frame cannot be turned into KPIs; the message names the row and column."""


class CsvInputError(KpiInputError):
    """A line of a counters CSV file is malformed.

    Parameters
    ----------
    path : the file.
    line : 1-based line number in the file (the header is line 1), or None for the file.
    column : the column at fault, or None when the whole line is.
    reason : what is wrong.
    """

    def __init__(self, path: Path | str, line: int | None, column: str | None, reason: str) -> None:
        self.path = Path(path)
        self.line = line
        self.column = column
        self.reason = reason
        where = str(self.path)
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {reason}")
