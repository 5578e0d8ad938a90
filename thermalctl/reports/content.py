"""Text the PDF and the HTML share: site facts, summary, notes, chart targets."""

from __future__ import annotations

import pandas as pd

from thermalctl.reports.info import ReportInfo
from thermalctl.reports.tables import ReportTables, format_value

__all__ = [
    "MONTHLY_ENERGY_COLUMNS",
    "MONTHLY_HEAT_COLUMNS",
    "SUMMARY_COLUMNS",
    "enefg_targets",
    "notes",
    "site_facts",
    "summary_rows",
    "title",
]

MONTHLY_ENERGY_COLUMNS = [
    "period", "facility_energy_kwh", "it_energy_kwh", "reused_energy_kwh", "pue", "erf", "ere",
    "completeness_pct", "estimated",
]  # fmt: skip
MONTHLY_HEAT_COLUMNS = [
    "period", "dumped_energy_kwh", "backup_energy_kwh", "heat_demand_kwh", "lost_heat_kwh",
    "avoided_backup_energy_kwh", "avoided_cost_eur", "avoided_co2_kg", "wue_l_per_kwh", "ref",
]  # fmt: skip
SUMMARY_COLUMNS = [
    ("facility_energy_kwh", "Total facility energy E_DC", "kWh"),
    ("it_energy_kwh", "IT energy E_IT", "kWh"),
    ("reused_energy_kwh", "Reused heat E_REUSE", "kWh"),
    ("pue", "PUE = E_DC / E_IT (ISO/IEC 30134-2)", "-"),
    ("erf", "ERF = E_REUSE / E_DC (ISO/IEC 30134-6)", "-"),
    ("ere", "ERE = (E_DC - E_REUSE) / E_IT (The Green Grid)", "-"),
    ("wue_l_per_kwh", "WUE = water input / E_IT", "L/kWh"),
    ("ref", "REF = renewable energy / E_DC", "-"),
    ("avoided_backup_energy_kwh", "Backup fuel avoided", "kWh"),
    ("avoided_cost_eur", "Backup fuel cost avoided", "EUR"),
    ("avoided_co2_kg", "CO2 avoided", "kg"),
    ("completeness_pct", "Data completeness (period covered by samples)", "%"),
]


def title(info: ReportInfo) -> str:
    return f"Energy and heat-reuse report: {info.site_name}"


def short_title(info: ReportInfo) -> str:
    return f"Energy and heat-reuse report: {info.site_id}"


def period_text(start: pd.Timestamp, end: pd.Timestamp, tz: str) -> str:
    return (
        f"{start.tz_convert(tz):%Y-%m-%d %H:%M} to {end.tz_convert(tz):%Y-%m-%d %H:%M} "
        f"({tz}), end exclusive"
    )


def site_facts(info: ReportInfo, start: pd.Timestamp, end: pd.Timestamp) -> list[tuple[str, str]]:
    """(label, value) rows describing the site and the measurement boundary."""
    rows = [
        ("Site", f"{info.site_name} ({info.site_id})"),
        ("Operator", info.operator or "–"),
        ("Address", info.address or "–"),
        ("Commissioned", info.commissioned.isoformat()),
        ("Reporting period", period_text(start, end, info.timezone)),
        ("Installed IT power", f"{info.installed_it_power_kw:g} kW"),
        ("Floor area", "–" if info.floor_area_m2 is None else f"{info.floor_area_m2:g} m²"),
        ("PUE measurement category", f"{info.category_text} (ISO/IEC 30134-2)"),
        ("Measurement boundary", info.boundary or "–"),
        ("Backup heater (avoided energy)", info.backup_description or "–"),
    ]
    if info.renewable_fraction is not None:
        rows.append(("Contracted renewable share", f"{info.renewable_fraction:.0%}"))
    if info.waste_heat_temp_c is not None:
        rows.append(("Average waste-heat temperature", f"{info.waste_heat_temp_c:g} °C"))
    return rows


def summary_rows(tables: ReportTables) -> pd.DataFrame:
    """Key figures of the whole period, formatted from the ``total`` row of the monthly table."""
    total = tables.monthly[tables.monthly["period"] == "total"].iloc[0]
    rows = [
        (label, format_value(column, total[column]), unit)
        for column, label, unit in SUMMARY_COLUMNS
    ]
    return pd.DataFrame(rows, columns=["Indicator", "Value", "Unit"])


def notes(tables: ReportTables) -> list[str]:
    """Data-quality notes: gaps, counter wraps and resets, estimated figures."""
    result = tables.result
    out = [
        "Energies are differences of the meters' cumulative registers; every ratio is the "
        "ratio of the period's sums, not a mean of shorter-period ratios.",
        f"A gap is an interval between samples longer than {result.max_gap_s / 60:g} min; "
        "counters carry the energy across a gap, but its split between periods is interpolated.",
    ]
    gaps = result.total.gaps
    if gaps:
        hours = sum(g.duration_s for g in gaps) / 3600
        longest = max(gaps, key=lambda g: g.duration_s)
        out.append(f"{len(gaps)} data gap(s), {hours:.1f} h in total; the longest from "
                   f"{longest.start:%Y-%m-%d %H:%M} UTC.")  # fmt: skip
    for event in result.events:
        reset = "meter reset (counted from zero; energy before the reset is a lower bound)"
        text = {
            "wrap": f"register wrap at {event.rollover:g}",
            "glitch": f"one implausible low reading ({event.value:g}) replaced by interpolation",
        }.get(event.kind, reset)
        out.append(f"{event.column}: {text} at {event.timestamp:%Y-%m-%d %H:%M} UTC.")  # fmt: skip
    reasons = sorted({r for p in (*result.periods, result.total) for r in p.estimated_reasons})
    out.extend(f"Estimated: {r}." for r in reasons)
    return out


def enefg_targets(tables: ReportTables) -> tuple[list[tuple[float, str]], list[tuple[float, str]]]:
    """PUE and ERF target lines for the trend chart, from the EnEfG table."""
    pue: list[tuple[float, str]] = []
    erf: list[tuple[float, str]] = []
    for row in tables.enefg.itertuples():
        threshold = str(row.threshold)
        value = float(threshold.split()[-1])
        label = f"EnEfG {threshold} from {row.applies_from}"
        if row.requirement.startswith("PUE"):
            pue.append((value, label))
        elif row.requirement.startswith("ERF"):
            erf.append((value, label))
    return pue, erf
