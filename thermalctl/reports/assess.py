"""The feasibility study of a candidate site: a projection, never a measurement.

``thermalctl assess`` (:mod:`thermalctl.runtime.assess_cli`) simulates the planned site
with the ``thermostat`` (today's practice, for reference), ``rules`` and ``mpc``
policies and hands each run to this module as a :class:`PolicyProjection`: the
simulator's figures and an hourly trace of cumulative counters (the columns
:func:`thermalctl.kpi.engine.compute_kpis` reads). From them :func:`build_assessment`
writes a PDF, an HTML page and CSV files, every page and table marked as
``projected`` (:mod:`thermalctl.reports.origin`).

What is avoided is counted against a reference in which **the site's backup heaters
supply all the heat** the sinks took in that run: per sink, the reused heat over that
heater's efficiency (or COP) is fuel not burnt, at that fuel's price and emission
factor (gas, or grid electricity at the time-of-use price of the hour). Electricity a
heat pump on the loop uses to lift the heat is counted against the saving, since the
reference would not use it. The EnEfG / EED outlook reuses the applicability and
target checks of the energy report (:mod:`thermalctl.reports.scope`,
:mod:`thermalctl.reports.regulatory`) on the projected totals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from thermalctl.reports.i18n import Catalogue
from thermalctl.reports.info import ReportInfo
from thermalctl.reports.naming import edition_suffix, report_stem
from thermalctl.reports.origin import PROJECTED
from thermalctl.reports.tables import ReportTables, build_tables

__all__ = [
    "COMPARISON_ROWS",
    "AssessFiles",
    "Assessment",
    "PolicyProjection",
    "SinkProjection",
    "assessment_folder",
    "build_assessment",
    "comparison_table",
    "summary",
]

#: The policies of a study, in the order they are printed: today's practice first.
POLICY_ORDER = ("thermostat", "rules", "mpc")
#: The policy whose run the charts, the monthly table and the headline figures show.
EXPECTED_POLICY = "mpc"


@dataclass(frozen=True)
class SinkProjection:
    """One sink over the projected period [kWh], with what its backup heater avoided."""

    sink_id: str
    name: str
    kind: str
    demand_kwh: float  # useful heat from the loop + backup heat
    reused_kwh: float
    backup_kwh: float
    overheating_kwh: float
    avoided_fuel_kwh: float
    avoided_fuel_eur: float
    avoided_co2_kg: float

    @property
    def coverage(self) -> float | None:
        return self.reused_kwh / self.demand_kwh if self.demand_kwh > 0 else None


@dataclass(frozen=True)
class PolicyProjection:
    """One simulated run of the candidate site under one policy.

    ``metrics``: the figures of :func:`thermalctl.sim.offline.simulate`; ``counters``:
    cumulative counters [kWh] on an hourly UTC index (``facility_kwh``, ``it_kwh``,
    ``reused_heat_kwh``, ``dumped_heat_kwh``, ``backup_heat_kwh``); the reference
    (backup heaters supplying all the heat), the fuel the backups still burn and the
    heat pumps' electricity, each in [kWh], [EUR] and [kg CO2].
    """

    policy: str
    metrics: Mapping[str, Any]
    counters: pd.DataFrame
    sinks: tuple[SinkProjection, ...]
    reference_fuel_kwh: float
    reference_fuel_eur: float
    reference_co2_kg: float
    fuel_kwh: float
    fuel_eur: float
    fuel_co2_kg: float
    heat_pump_electricity_kwh: float
    heat_pump_eur: float
    heat_pump_co2_kg: float

    @property
    def demand_kwh(self) -> float:
        return sum(s.demand_kwh for s in self.sinks)

    @property
    def reused_kwh(self) -> float:
        return sum(s.reused_kwh for s in self.sinks)

    def figures(self) -> dict[str, float | None]:
        """The comparison figures of this run (keys of :data:`COMPARISON_ROWS`)."""
        m = self.metrics
        demand = self.demand_kwh
        return {
            "heat_demand_kwh": demand,
            "reused_heat_kwh": self.reused_kwh,
            "coverage_fraction": self.reused_kwh / demand if demand > 0 else None,
            "backup_heat_kwh": float(m["backup_heat_kwh"]),
            "dumped_heat_kwh": float(m["dumped_heat_kwh"]),
            "overheating_kwh": _float(m.get("overheating_kwh")),
            "it_energy_kwh": float(m["it_energy_kwh"]),
            "facility_energy_kwh": float(m["facility_energy_kwh"]),
            "pue": _float(m.get("pue")),
            "erf": _float(m.get("erf")),
            "reference_fuel_kwh": self.reference_fuel_kwh,
            "reference_fuel_eur": self.reference_fuel_eur,
            "reference_co2_kg": self.reference_co2_kg,
            "avoided_fuel_kwh": self.reference_fuel_kwh - self.fuel_kwh,
            "heat_pump_electricity_kwh": self.heat_pump_electricity_kwh,
            "avoided_cost_eur": self.reference_fuel_eur - self.fuel_eur - self.heat_pump_eur,
            "avoided_co2_kg": self.reference_co2_kg - self.fuel_co2_kg - self.heat_pump_co2_kg,
            "electricity_cost_eur": float(m["electricity_cost_eur"]),
            "fuel_cost_eur": float(m["fuel_cost_eur"]),
            "total_cost_eur": float(m["total_cost_eur"]),
            "co2_kg": float(m["co2_kg"]),
            "comfort_violation_kh": float(m["comfort_violation_kh"]),
            "deferred_work_late_kwh": float(m["deferred_work_late_kwh"]),
        }


def _float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


#: (key, message key, unit, decimals) of the policy comparison, in print order.
COMPARISON_ROWS: tuple[tuple[str, str, str, int], ...] = (
    ("heat_demand_kwh", "assess.row.demand", "kWh", 0),
    ("reused_heat_kwh", "assess.row.reused", "kWh", 0),
    ("coverage_fraction", "assess.row.coverage", "%", 1),
    ("backup_heat_kwh", "assess.row.backup", "kWh", 0),
    ("dumped_heat_kwh", "assess.row.dumped", "kWh", 0),
    ("overheating_kwh", "assess.row.overheating", "kWh", 0),
    ("it_energy_kwh", "assess.row.it", "kWh", 0),
    ("facility_energy_kwh", "assess.row.facility", "kWh", 0),
    ("pue", "assess.row.pue", "-", 3),
    ("erf", "assess.row.erf", "-", 3),
    ("reference_fuel_kwh", "assess.row.reference_fuel", "kWh", 0),
    ("reference_fuel_eur", "assess.row.reference_eur", "EUR", 0),
    ("reference_co2_kg", "assess.row.reference_co2", "kg", 0),
    ("avoided_fuel_kwh", "assess.row.avoided_fuel", "kWh", 0),
    ("heat_pump_electricity_kwh", "assess.row.heat_pump", "kWh", 0),
    ("avoided_cost_eur", "assess.row.avoided_cost", "EUR", 0),
    ("avoided_co2_kg", "assess.row.avoided_co2", "kg", 0),
    ("electricity_cost_eur", "assess.row.electricity_cost", "EUR", 0),
    ("fuel_cost_eur", "assess.row.fuel_cost", "EUR", 0),
    ("total_cost_eur", "assess.row.total_cost", "EUR", 0),
    ("co2_kg", "assess.row.co2", "kg", 0),
    ("comfort_violation_kh", "assess.row.comfort", "K h", 1),
    ("deferred_work_late_kwh", "assess.row.late", "kWh", 1),
)
#: The rows of the cover's key figures.
KEY_ROWS = ("reused_heat_kwh", "coverage_fraction", "erf", "pue", "avoided_fuel_kwh",
            "avoided_cost_eur", "avoided_co2_kg", "total_cost_eur")  # fmt: skip


@dataclass(frozen=True)
class Assessment:
    """A study ready to print: the runs, their report tables and the study's facts."""

    info: ReportInfo
    runs: tuple[PolicyProjection, ...]
    tables: Mapping[str, ReportTables]  # per policy, origin "projected"
    start: pd.Timestamp
    end: pd.Timestamp
    weather: str  # where the weather comes from, as the user should read it
    lang: str = "en"
    assumptions: tuple[str, ...] = field(default=())

    @property
    def policies(self) -> tuple[str, ...]:
        return tuple(r.policy for r in self.runs)

    @property
    def expected(self) -> PolicyProjection:
        """The run the charts and headline figures show (``mpc`` when it was run)."""
        by_name = {r.policy: r for r in self.runs}
        return by_name.get(EXPECTED_POLICY, self.runs[-1])

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86_400.0


@dataclass(frozen=True)
class AssessFiles:
    """The files of one study."""

    pdf: Path
    html: Path
    policies_csv: Path
    monthly_csv: Path
    sinks_csv: Path
    enefg_csv: Path
    assessment: Assessment

    @property
    def paths(self) -> tuple[Path, ...]:
        return (self.pdf, self.html, self.policies_csv, self.monthly_csv, self.sinks_csv,
                self.enefg_csv)  # fmt: skip


def comparison_table(assessment: Assessment) -> pd.DataFrame:
    """Machine-readable comparison: one row per figure, one column per policy."""
    figures = {r.policy: r.figures() for r in assessment.runs}
    rows = []
    for key, _label, unit, _digits in COMPARISON_ROWS:
        shown = "fraction" if key.endswith("_fraction") else unit
        rows.append({"figure": key, "unit": shown,
                     **{p: figures[p][key] for p in assessment.policies}})  # fmt: skip
    return pd.DataFrame(rows)


def comparison_text(assessment: Assessment, t: Catalogue,
                    keys: Sequence[str] | None = None) -> pd.DataFrame:  # fmt: skip
    """The comparison as printed: label, unit, one formatted column per policy."""
    figures = {r.policy: r.figures() for r in assessment.runs}
    wanted = set(keys) if keys is not None else None
    rows = []
    for key, label, unit, digits in COMPARISON_ROWS:
        if wanted is not None and key not in wanted:
            continue
        cells = []
        for policy in assessment.policies:
            value = figures[policy][key]
            if value is None:
                cells.append("–")
            elif unit == "%":
                cells.append(t.number(100.0 * value, digits))
            else:
                cells.append(t.number(value, digits))
        rows.append([t(label), unit, *cells])
    columns = [t("col.indicator"), t("col.unit"),
               *(t(f"assess.policy.{p}") for p in assessment.policies)]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def sinks_table(run: PolicyProjection) -> pd.DataFrame:
    """Per sink of one run [kWh, EUR, kg] (machine-readable)."""
    return pd.DataFrame([
        {"policy": run.policy, "sink": s.sink_id, "kind": s.kind, "demand_kwh": s.demand_kwh,
         "reused_kwh": s.reused_kwh, "backup_kwh": s.backup_kwh,
         "overheating_kwh": s.overheating_kwh, "coverage_fraction": s.coverage,
         "avoided_fuel_kwh": s.avoided_fuel_kwh, "avoided_fuel_eur": s.avoided_fuel_eur,
         "avoided_co2_kg": s.avoided_co2_kg}
        for s in run.sinks
    ])  # fmt: skip


def sinks_text(run: PolicyProjection, t: Catalogue) -> pd.DataFrame:
    rows = []
    for s in run.sinks:
        coverage = "–" if s.coverage is None else t.number(100.0 * s.coverage, 1)
        rows.append([f"{s.name} ({t('sink.' + s.kind)})", t.number(s.demand_kwh, 0),
                     t.number(s.reused_kwh, 0), coverage, t.number(s.backup_kwh, 0),
                     t.number(s.overheating_kwh, 0), t.number(s.avoided_fuel_kwh, 0),
                     t.number(s.avoided_fuel_eur, 0), t.number(s.avoided_co2_kg, 0)])  # fmt: skip
    columns = [t("assess.col.sink"), t("assess.col.demand"), t("assess.col.reused"),
               t("assess.col.coverage"), t("assess.col.backup"), t("assess.col.overheating"),
               t("assess.col.avoided_fuel"), t("assess.col.avoided_eur"),
               t("assess.col.avoided_co2")]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def summary(assessment: Assessment) -> dict[str, Any]:
    """The study as one JSON-able object (``thermalctl assess --json``)."""
    info = assessment.info
    return {
        "site": info.site_id,
        "origin": PROJECTED,
        "start": assessment.start.tz_convert(info.timezone).isoformat(),
        "end": assessment.end.tz_convert(info.timezone).isoformat(),
        "days": assessment.days,
        "weather": assessment.weather,
        "expected_policy": assessment.expected.policy,
        "reference": "the site's backup heaters supply all the heat the sinks take",
        "policies": {r.policy: r.figures() for r in assessment.runs},
        "sinks": {r.policy: sinks_table(r).drop(columns="policy").to_dict(orient="records")
                  for r in assessment.runs},
        "enefg": {p: t.enefg[["requirement", "applies_from", "value", "applicable"]]
                  .to_dict(orient="records") for p, t in assessment.tables.items()},
        "scope": assessment.tables[assessment.expected.policy].scope[
            ["rule", "applicable"]].to_dict(orient="records"),
    }


def assessment_folder(report_dir: str | Path, info: ReportInfo, start: pd.Timestamp,
                      end: pd.Timestamp) -> Path:  # fmt: skip
    """``<report_dir>/<site>_<start>_<end>_assess``: beside, never inside, the folder a
    measured report of the same period uses (:mod:`thermalctl.reports.naming`)."""
    return Path(report_dir) / f"{report_stem(info.site_id, start, end, info.timezone)}_assess"


def build_assessment(
    runs: Sequence[PolicyProjection],
    info: ReportInfo,
    out_dir: Path,
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    weather: str,
    assumptions: Sequence[str] = (),
    lang: str = "en",
) -> AssessFiles:
    """Write the study of ``runs`` over ``[start, end)`` (UTC) into ``out_dir``.

    ``weather`` and ``assumptions`` are printed on the cover as given (the caller says
    what the projection rests on). Raises
    :class:`~thermalctl.reports.i18n.UnknownLanguage` for a language the report does
    not know, :class:`ValueError` when ``runs`` is empty.
    """
    from thermalctl.reports.assess_render import write_assessment_html, write_assessment_pdf

    Catalogue(lang)
    if not runs:
        raise ValueError("a feasibility study needs at least one simulated policy")
    order = {p: i for i, p in enumerate(POLICY_ORDER)}
    ordered = tuple(sorted(runs, key=lambda r: order.get(r.policy, len(order))))
    tables = {r.policy: build_tables(r.counters, info, start, end, origin=PROJECTED, lang=lang)
              for r in ordered}  # fmt: skip
    assessment = Assessment(info, ordered, tables, start, end, weather, lang, tuple(assumptions))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{report_stem(info.site_id, start, end, info.timezone)}_assess"
    ext = edition_suffix(lang)
    files = AssessFiles(
        pdf=out_dir / f"{stem}{ext}.pdf",
        html=out_dir / f"{stem}{ext}.html",
        policies_csv=out_dir / f"{stem}_policies{ext}.csv",
        monthly_csv=out_dir / f"{stem}_monthly{ext}.csv",
        sinks_csv=out_dir / f"{stem}_sinks{ext}.csv",
        enefg_csv=out_dir / f"{stem}_enefg{ext}.csv",
        assessment=assessment,
    )
    comparison_table(assessment).to_csv(files.policies_csv, index=False)
    monthly = [tables[p].monthly.assign(policy=p) for p in assessment.policies]
    pd.concat(monthly, ignore_index=True).to_csv(files.monthly_csv, index=False)
    pd.concat([sinks_table(r) for r in ordered], ignore_index=True).to_csv(
        files.sinks_csv, index=False)
    enefg = [tables[p].enefg.assign(policy=p) for p in assessment.policies]
    pd.concat(enefg, ignore_index=True).to_csv(files.enefg_csv, index=False)
    write_assessment_pdf(files.pdf, assessment)
    write_assessment_html(files.html, assessment)
    return files


def period_label(assessment: Assessment, t: Catalogue) -> str:
    """``2027-01-01 to 2028-01-01 (Europe/Berlin), end exclusive; 365 days``."""
    tz = assessment.info.timezone
    first = f"{assessment.start.tz_convert(tz):%Y-%m-%d %H:%M}"
    last = f"{assessment.end.tz_convert(tz):%Y-%m-%d %H:%M}"
    return t("assess.period", start=first, end=last, tz=tz,
             days=t.trimmed(assessment.days, 2))  # fmt: skip


def whole_years(assessment: Assessment) -> bool:
    """True when the period is about a whole number of years (annual figures)."""
    years = assessment.days / 365.0
    return years >= 1.0 and abs(years - round(years)) * 365.0 <= 1.5

