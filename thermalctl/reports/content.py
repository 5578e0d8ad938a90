"""Text the PDF and the HTML share: site facts, origin, scope, summary, meters, notes.

Every function takes the report's :class:`~thermalctl.reports.i18n.Catalogue` and
returns text in its language; times are in the site's local time zone.
"""

from __future__ import annotations

import re

import pandas as pd

from thermalctl.reports.i18n import Catalogue
from thermalctl.reports.info import ReportInfo
from thermalctl.reports.origin import MEASURED
from thermalctl.reports.scope import APPLIES, DOES_NOT_APPLY
from thermalctl.reports.tables import ReportTables, format_frame, format_value

__all__ = [
    "MONTHLY_ENERGY_COLUMNS",
    "MONTHLY_HEAT_COLUMNS",
    "SUMMARY_COLUMNS",
    "enefg_targets",
    "meter_table",
    "notes",
    "origin_banner",
    "origin_line",
    "period_text",
    "scope_flags",
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
#: (column, label key, unit) of the key figures.
SUMMARY_COLUMNS = [
    ("facility_energy_kwh", "sum.edc", "kWh"),
    ("it_energy_kwh", "sum.eit", "kWh"),
    ("reused_energy_kwh", "sum.ereuse", "kWh"),
    ("pue", "sum.pue", "-"),
    ("erf", "sum.erf", "-"),
    ("ere", "sum.ere", "-"),
    ("wue_l_per_kwh", "sum.wue", "L/kWh"),
    ("ref", "sum.ref", "-"),
    ("avoided_backup_energy_kwh", "sum.avoided_fuel", "kWh"),
    ("avoided_cost_eur", "sum.avoided_cost", "EUR"),
    ("avoided_co2_kg", "sum.avoided_co2", "kg"),
    ("completeness_pct", "sum.completeness", "%"),
]


def title(info: ReportInfo, t: Catalogue) -> str:
    return t("title", site=info.site_name)


def _local(stamp: pd.Timestamp, tz: str) -> str:
    return f"{stamp.tz_convert(tz):%Y-%m-%d %H:%M}"


def period_text(start: pd.Timestamp, end: pd.Timestamp, tz: str, t: Catalogue) -> str:
    return t("period", start=_local(start, tz), end=_local(end, tz), tz=tz)


def origin_line(tables: ReportTables, t: Catalogue) -> str:
    """The line above every table: where its data comes from."""
    return t("origin.line", origin=t(f"origin.{tables.origin}"))


def origin_banner(tables: ReportTables, t: Catalogue) -> str:
    """The cover's statement of the data's origin (a warning unless measured)."""
    return t(f"banner.{tables.origin}")


def _boundary(info: ReportInfo, t: Catalogue) -> str:
    if info.boundary:
        return info.boundary
    if not info.rack_groups:
        return "–"
    sinks = ", ".join(f"{t('sink.' + kind)} '{name}'" for kind, name in info.sinks) or "–"
    return t("boundary", groups=", ".join(info.rack_groups), sinks=sinks)


def _backup(info: ReportInfo, t: Catalogue) -> str:
    if not info.backup_kind:
        return "–"
    efficiency = "–" if info.backup_efficiency is None else t.plain(info.backup_efficiency)
    return t("backup", kind=t("backup." + info.backup_kind), fuel=t("fuel." + info.backup_fuel),
             efficiency=efficiency)  # fmt: skip


def _set_points(info: ReportInfo, t: Catalogue) -> str:
    parts = []
    for s in info.set_points:
        cooling = t("cooling." + s.cooling)
        if s.setpoint_c is not None:
            parts.append(t("setpoint.liquid", group=s.group_id, cooling=cooling,
                           temp=t.plain(s.setpoint_c)))  # fmt: skip
        else:
            parts.append(t("setpoint.air", group=s.group_id, cooling=cooling))
    return "; ".join(parts) or "–"


def scope_flags(tables: ReportTables, t: Catalogue) -> list[str]:
    """One line per rule from the scope table: applies, does not (because ...), check."""
    out = []
    for row in tables.scope.itertuples():
        code = format_value("applicable", row.applicable, t)
        out.append(f"{row.rule}: {code}. {row.reason}")
    return out


def site_facts(info: ReportInfo, tables: ReportTables, start: pd.Timestamp,
               end: pd.Timestamp, t: Catalogue) -> list[tuple[str, str]]:  # fmt: skip
    """(label, value) rows describing the site, the data and the measurement boundary."""
    commissioned = info.commissioned.isoformat()
    operation = tables.scope.iloc[0]
    if operation["applicable"] != APPLIES:
        commissioned = f"{commissioned}: {operation['reason']}"
    area = "–" if info.floor_area_m2 is None else f"{t.plain(info.floor_area_m2)} m²"
    rows = [
        (t("fact.site"), f"{info.site_name} ({info.site_id})"),
        (t("fact.origin"), t(f"origin.{tables.origin}")),
        (t("fact.operator"), info.operator or "–"),
        (t("fact.address"), info.address or "–"),
        (t("fact.commissioned"), commissioned),
        (t("fact.period"), period_text(start, end, info.timezone, t)),
        (t("fact.it_power"), f"{t.plain(info.installed_it_power_kw)} kW"),
        (t("fact.area"), area),
        (t("fact.category"), f"{t(f'category.{info.measurement_category}')} (ISO/IEC 30134-2)"),
        (t("fact.boundary"), _boundary(info, t)),
        (t("fact.setpoints"), _set_points(info, t)),
        (t("fact.backup"), _backup(info, t)),
    ]
    if info.renewable_fraction is not None:
        rows.append((t("fact.renewable"), t.percent(info.renewable_fraction)))
    if info.waste_heat_temp_c is not None:
        rows.append((t("fact.waste_heat"), f"{t.plain(info.waste_heat_temp_c)} °C"))
    return rows


def summary_rows(tables: ReportTables, t: Catalogue) -> pd.DataFrame:
    """Key figures of the whole period, formatted from the ``total`` row of the monthly table."""
    total = tables.monthly[tables.monthly["period"] == "total"].iloc[0]
    rows = [
        (t(label), format_value(column, total[column], t), unit)
        for column, label, unit in SUMMARY_COLUMNS
    ]
    return pd.DataFrame(rows, columns=[t("col.indicator"), t("col.value"), t("col.unit")])


def meter_table(info: ReportInfo, t: Catalogue) -> pd.DataFrame:
    """The meters and sensors: id, model, connection, signals, serial, calibration date."""
    missing = t("meter.not_in_profile")
    rows = [
        (m.device_id, t("meter.mqtt") if m.model == "mqtt" else m.model, m.connection,
         ", ".join(m.signals) or t("meter.no_signals"), m.serial or missing,
         m.calibrated.isoformat() if m.calibrated else missing)
        for m in info.meters
    ]  # fmt: skip
    columns = [t("col.meter"), t("col.model"), t("col.connection"), t("col.signals"),
               t("col.serial"), t("col.calibrated")]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def meters_untraceable(info: ReportInfo) -> bool:
    """True when a meter lacks its serial number or calibration date."""
    return any(m.serial is None or m.calibrated is None for m in info.meters if m.model != "mqtt")


def gap_frame(tables: ReportTables, t: Catalogue) -> pd.DataFrame:
    return format_frame(tables.gaps, t=t)


_RESET = re.compile(r"(meter reset|interpolated glitch) of (\S+) at (\S+)$")
_INTEGRATED = re.compile(r"(\S+) integrated from power$")


def _reason(reason: str, tz: str, t: Catalogue) -> str:
    """An estimate's reason from the KPI engine, in the catalogue's language."""
    if reason.startswith("a gap spans the period edge"):
        return t("reason.edge_gap")
    if match := _RESET.match(reason):
        kind = "reason.reset" if match[1] == "meter reset" else "reason.glitch"
        return t(kind, column=match[2], time=_local(pd.Timestamp(match[3]), tz))
    if match := _INTEGRATED.match(reason):
        return t("reason.integrated", column=match[1])
    return reason


def notes(tables: ReportTables, tz: str, t: Catalogue) -> list[str]:
    """Data-quality notes: gaps (local time), counter wraps and resets, estimated figures."""
    result = tables.result
    out = [t("note.counters"), t("note.gap_rule", threshold=t.duration(result.max_gap_s))]
    if tables.origin != MEASURED:
        out.insert(0, t(f"banner.{tables.origin}"))
    gaps = result.total.gaps
    if gaps:
        longest = max(gaps, key=lambda g: g.duration_s)
        out.append(t("note.gaps", count=len(gaps),
                     total=t.duration(sum(g.duration_s for g in gaps)),
                     start=_local(longest.start, tz), end=_local(longest.end, tz),
                     duration=t.duration(longest.duration_s), tz=tz))  # fmt: skip
    else:
        out.append(t("note.no_gaps"))
    for event in result.events:
        when = _local(event.timestamp, tz)
        if event.kind == "wrap":
            text = t("event.wrap", rollover=t.plain(float(event.rollover or 0.0)))
        elif event.kind == "glitch":
            text = t("event.glitch", value=t.plain(event.value))
        else:
            text = t("event.reset")
        out.append(t("event", column=event.column, text=text, time=when, tz=tz))
    reasons = sorted({r for p in (*result.periods, result.total) for r in p.estimated_reasons})
    out.extend(t("note.estimated", reason=_reason(r, tz, t)) for r in reasons)
    return out


def enefg_targets(tables: ReportTables, t: Catalogue) -> tuple[list[tuple[float, str]],
                                                                list[tuple[float, str]]]:
    """PUE and ERF target lines for the trend chart, from the EnEfG table: only targets
    that apply (or will) to the site; none for a site outside the act."""  # fmt: skip
    pue: list[tuple[float, str]] = []
    erf: list[tuple[float, str]] = []
    for row in tables.enefg.itertuples():
        if row.applicable == DOES_NOT_APPLY:
            continue
        threshold = str(row.threshold)
        value = float(threshold.split()[-1])
        label = t("chart.target", threshold=threshold.split()[0] + " " + t.plain(value),
                  date=row.applies_from)  # fmt: skip
        if row.citation.startswith("EnEfG § 11 (5)"):
            continue
        if "ERF" in row.requirement or ">=" in threshold:
            erf.append((value, label))
        else:
            pue.append((value, label))
    return pue, erf
