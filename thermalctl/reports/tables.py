"""The report's numbers: one set of rounded tables that the CSV, PDF and HTML all print.

Every figure is rounded once here (``DECIMALS``); the CSV files hold these
values and :func:`format_value` prints them with the same number of decimals (in the
report's language: decimal comma in German), so the PDF, the HTML and the CSV cannot
disagree. Every table carries the data's origin (``origin`` column of the KPI tables).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from thermalctl.kpi.counters import interval_energies
from thermalctl.kpi.engine import KpiResult, PeriodKpis, compute_kpis
from thermalctl.reports.i18n import Catalogue
from thermalctl.reports.info import ReportInfo
from thermalctl.reports.origin import MEASURED, check_origin
from thermalctl.reports.regulatory import enefg_check, eu_fields, scope_table

__all__ = [
    "DECIMALS",
    "GAP_COLUMNS",
    "ReportTables",
    "build_tables",
    "format_frame",
    "format_value",
    "load_profile",
]

#: Decimals of every numeric column of the KPI tables.
DECIMALS: dict[str, int] = {
    "facility_energy_kwh": 1, "it_energy_kwh": 1, "reused_energy_kwh": 1,
    "dumped_energy_kwh": 1, "backup_energy_kwh": 1, "heat_demand_kwh": 1,
    "heat_supply_kwh": 1, "lost_heat_kwh": 1, "pue": 3, "erf": 3, "ere": 3,
    "wue_l_per_kwh": 3, "ref": 3, "avoided_backup_energy_kwh": 1, "avoided_cost_eur": 2,
    "avoided_co2_kg": 1, "completeness_pct": 1,
}  # fmt: skip

#: Columns holding mixed quantities: printed with the decimals they were rounded to.
MIXED_COLUMNS = frozenset({"value", "site_value"})

#: Columns whose cells are codes, printed through the catalogue (``code.<value>``).
CODE_COLUMNS = frozenset({"estimated", "applicable", "period"})

GAP_COLUMNS = ("start", "end", "duration_s")
#: The data-quality page lists this many gaps, the longest first.
LISTED_GAPS = 10

KPI_COLUMNS: tuple[str, ...] = (
    "period", "facility_energy_kwh", "it_energy_kwh", "reused_energy_kwh", "dumped_energy_kwh",
    "backup_energy_kwh", "heat_demand_kwh", "heat_supply_kwh", "lost_heat_kwh", "pue", "erf",
    "ere", "wue_l_per_kwh", "ref", "avoided_backup_energy_kwh", "avoided_cost_eur",
    "avoided_co2_kg", "completeness_pct", "estimated", "origin",
)  # fmt: skip

#: Spans up to this many days get an hourly load diagram, longer ones a daily one.
HOURLY_LOAD_MAX_DAYS = 62


@dataclass(frozen=True)
class ReportTables:
    """Everything the report prints, computed once."""

    monthly: pd.DataFrame  # one row per month, then "total"
    daily: pd.DataFrame  # one row per day, then "total"
    eu_fields: pd.DataFrame
    enefg: pd.DataFrame
    scope: pd.DataFrame  # which rules apply, and why
    gaps: pd.DataFrame  # the longest gaps: start, end (site local time), duration_s
    load: pd.DataFrame  # mean power [kW] per hour or day: it_kw, reused_kw, dumped_kw
    result: KpiResult  # the monthly KPI result (gaps, counter events, reasons)
    origin: str = MEASURED  # measured / simulated / projected / mixed
    lang: str = "en"


def _sum(*values: float | None) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def _row(period: PeriodKpis, origin: str) -> dict[str, object]:
    dumped = period.dumped_energy_kwh
    lost = None
    if dumped is not None:
        lost = max(0.0, period.it_energy_kwh - period.reused_energy_kwh - dumped)
    return {
        "period": period.label,
        "facility_energy_kwh": period.facility_energy_kwh,
        "it_energy_kwh": period.it_energy_kwh,
        "reused_energy_kwh": period.reused_energy_kwh,
        "dumped_energy_kwh": dumped,
        "backup_energy_kwh": period.backup_energy_kwh,
        "heat_demand_kwh": _sum(period.reused_energy_kwh, period.backup_energy_kwh),
        "heat_supply_kwh": _sum(period.reused_energy_kwh, dumped),
        "lost_heat_kwh": lost,
        "pue": period.pue,
        "erf": period.erf,
        "ere": period.ere,
        "wue_l_per_kwh": period.wue_l_per_kwh,
        "ref": period.ref,
        "avoided_backup_energy_kwh": period.avoided_backup_energy_kwh,
        "avoided_cost_eur": period.avoided_cost_eur,
        "avoided_co2_kg": period.avoided_co2_kg,
        "completeness_pct": 100.0 * period.completeness,
        "estimated": "yes" if period.estimated else "no",
        "origin": origin,
    }


def kpi_table(result: KpiResult, origin: str = MEASURED) -> pd.DataFrame:
    """Rounded KPI table: the periods, then the whole window as ``total``."""
    rows = [_row(p, origin) for p in (*result.periods, result.total)]
    frame = pd.DataFrame(rows, columns=KPI_COLUMNS)
    for column, digits in DECIMALS.items():
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").round(digits)
    return frame


def load_profile(frame: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Mean power [kW] per hour (spans up to 62 days) or per day from the counters."""
    step = "1h" if end - start <= pd.Timedelta(days=HOURLY_LOAD_MAX_DAYS) else "1D"
    grid = pd.date_range(start, end, freq=step)
    hours = pd.Timedelta(step).total_seconds() / 3600.0
    epoch = pd.Timestamp(0, tz="UTC")
    grid_s = (grid - epoch).total_seconds().to_numpy(dtype=float)
    out = {}
    for column, name in (("it_kwh", "it_kw"), ("reused_heat_kwh", "reused_kw"),
                         ("dumped_heat_kwh", "dumped_kw")):  # fmt: skip
        if column not in frame:
            continue
        series = frame[column].dropna()
        if len(series) < 2:
            continue
        steps = interval_energies(series).increments.to_numpy()
        cumulative = np.concatenate([[0.0], np.cumsum(steps)])
        sample_s = (series.index - epoch).total_seconds().to_numpy(dtype=float)
        at_grid = np.interp(grid_s, sample_s, cumulative, left=np.nan, right=np.nan)
        out[name] = np.diff(at_grid) / hours
    return pd.DataFrame(out, index=grid[:-1])


def gap_table(result: KpiResult, tz: str) -> pd.DataFrame:
    """The longest gaps of the window (at most :data:`LISTED_GAPS`), in local time."""
    gaps = sorted(result.total.gaps, key=lambda g: g.duration_s, reverse=True)[:LISTED_GAPS]
    rows = [(g.start.tz_convert(tz), g.end.tz_convert(tz), g.duration_s) for g in gaps]
    return pd.DataFrame(rows, columns=list(GAP_COLUMNS))


def build_tables(
    frame: pd.DataFrame,
    info: ReportInfo,
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    origin: str = MEASURED,
    lang: str = "en",
) -> ReportTables:
    """Compute every table of the report for the window ``[start, end)``.

    ``origin``: where the counters come from (:mod:`thermalctl.reports.origin`);
    ``lang``: the language of the text columns (numbers are the same in every language).
    """
    check_origin(origin)
    t = Catalogue(lang)
    options = {
        "start": start,
        "end": end,
        "tz": info.timezone,
        "measurement_category": info.measurement_category,
        "renewable_fraction": info.renewable_fraction,
        "backup_efficiency": info.backup_efficiency,
        "fuel_price_eur_per_kwh": info.fuel_price_eur_per_kwh,
        "fuel_co2_kg_per_kwh": info.fuel_co2_kg_per_kwh,
    }
    monthly = compute_kpis(frame, "MS", **options)
    daily = compute_kpis(frame, "D", max_gap_s=monthly.max_gap_s, **options)
    period_start = start.tz_convert(info.timezone).date()
    period_end = (end - pd.Timedelta(microseconds=1)).tz_convert(info.timezone).date()
    return ReportTables(
        monthly=kpi_table(monthly, origin),
        daily=kpi_table(daily, origin),
        eu_fields=eu_fields(monthly.total, info, origin, t),
        enefg=enefg_check(monthly.total, info, period_end, t, period_start),
        scope=scope_table(info, period_start, period_end, t),
        gaps=gap_table(monthly, info.timezone),
        load=load_profile(frame, start, end),
        result=monthly,
        origin=origin,
        lang=lang,
    )


def format_value(column: str, value: object, t: Catalogue | None = None) -> str:
    """A table cell as printed in the PDF and HTML (same decimals as the CSV), in the
    catalogue's language (English by default)."""
    t = t or Catalogue("en")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool | np.bool_):
        return t("code.yes" if value else "code.no")
    if isinstance(value, int | float | np.integer | np.floating):
        if column in MIXED_COLUMNS:
            return t.trimmed(float(value), 3)
        if column == "duration_s":
            return t.duration(float(value))
        return t.number(float(value), DECIMALS.get(column, 3))
    if isinstance(value, pd.Timestamp):
        return f"{value:%Y-%m-%d %H:%M}"
    if column == "threshold":
        return t.localise(str(value))
    if column in CODE_COLUMNS and t.has(f"code.{value}"):
        return t(f"code.{value}")
    if column == "origin" and t.has(f"origin.{value}"):
        return t(f"origin.{value}")
    return str(value)


def format_frame(
    frame: pd.DataFrame, columns: list[str] | None = None, t: Catalogue | None = None
) -> pd.DataFrame:
    """Strings of ``frame`` for print, with translated headers (``col.<name>``)."""
    t = t or Catalogue("en")
    columns = list(frame.columns) if columns is None else columns
    text = pd.DataFrame(
        {c: [format_value(c, v, t) for v in frame[c].tolist()] for c in columns}, dtype=object
    )
    return text.rename(
        columns=lambda c: t(f"col.{c}") if t.has(f"col.{c}") else c.replace("_", " ")
    )
