"""``build_report``: compute the tables once, write CSV, PDF and HTML from them.

File names come from :mod:`thermalctl.reports.naming` (``<site>_<start>_<end>``, with
``.de`` before the extension for the German edition).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from thermalctl.reports.html import write_html
from thermalctl.reports.i18n import Catalogue
from thermalctl.reports.info import ReportInfo
from thermalctl.reports.naming import edition_suffix, report_stem
from thermalctl.reports.origin import MEASURED
from thermalctl.reports.pdf import write_pdf
from thermalctl.reports.tables import ReportTables, build_tables

__all__ = ["ReportFiles", "build_report", "to_utc"]


@dataclass(frozen=True)
class ReportFiles:
    """The files one report consists of."""

    html: Path
    pdf: Path
    monthly_csv: Path
    daily_csv: Path
    eu_fields_csv: Path
    enefg_csv: Path
    scope_csv: Path
    tables: ReportTables

    @property
    def paths(self) -> tuple[Path, ...]:
        return (self.html, self.pdf, self.monthly_csv, self.daily_csv, self.eu_fields_csv,
                self.enefg_csv, self.scope_csv)  # fmt: skip


def to_utc(when: dt.date | dt.datetime | pd.Timestamp | str, tz: str) -> pd.Timestamp:
    """A date (midnight in ``tz``), naive datetime (in ``tz``) or aware time, as UTC."""
    stamp = pd.Timestamp(when)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(tz)
    return stamp.tz_convert("UTC")


def build_report(
    frame: pd.DataFrame,
    info: ReportInfo,
    out_dir: Path,
    start: dt.date | dt.datetime | pd.Timestamp | str,
    end: dt.date | dt.datetime | pd.Timestamp | str,
    *,
    origin: str = MEASURED,
    lang: str = "en",
) -> ReportFiles:
    """Write the report for ``[start, end)`` into ``out_dir``.

    Parameters
    ----------
    frame : cumulative counters (see :func:`thermalctl.kpi.engine.compute_kpis`);
        include samples a little outside the window so its edges are interpolated.
    info : the site facts.
    out_dir : created if missing; files are named ``<site>_<start>_<end>.*``
        (:func:`thermalctl.reports.naming.report_stem`).
    start, end : the window; dates and naive times are in the site's time zone.
    origin : where the counters come from: ``measured``, ``simulated``, ``projected``
        or ``mixed`` (:mod:`thermalctl.reports.origin`); printed on the cover and above
        every table.
    lang : ``en`` or ``de``: the language of the PDF, the HTML and the CSVs' text
        columns; the CSVs' numbers, codes and column names are the same in both.

    Raises
    ------
    thermalctl.kpi.errors.KpiInputError
        The counters cannot be used.
    thermalctl.reports.i18n.UnknownLanguage, ValueError
        ``lang`` or ``origin`` is not one the report knows.
    """
    Catalogue(lang)  # refuse an unknown language before any work
    start_utc, end_utc = to_utc(start, info.timezone), to_utc(end, info.timezone)
    tables = build_tables(frame, info, start_utc, end_utc, origin=origin, lang=lang)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = report_stem(info.site_id, start_utc, end_utc, info.timezone)
    ext = edition_suffix(lang)
    files = ReportFiles(
        html=out_dir / f"{stem}{ext}.html",
        pdf=out_dir / f"{stem}{ext}.pdf",
        monthly_csv=out_dir / f"{stem}_monthly_kpis{ext}.csv",
        daily_csv=out_dir / f"{stem}_daily_kpis{ext}.csv",
        eu_fields_csv=out_dir / f"{stem}_eu_fields{ext}.csv",
        enefg_csv=out_dir / f"{stem}_enefg_check{ext}.csv",
        scope_csv=out_dir / f"{stem}_scope{ext}.csv",
        tables=tables,
    )
    tables.monthly.to_csv(files.monthly_csv, index=False)
    tables.daily.to_csv(files.daily_csv, index=False)
    tables.eu_fields.to_csv(files.eu_fields_csv, index=False)
    tables.enefg.to_csv(files.enefg_csv, index=False)
    tables.scope.to_csv(files.scope_csv, index=False)
    write_pdf(files.pdf, tables, info, start_utc, end_utc)
    write_html(files.html, tables, info, start_utc, end_utc)
    return files
