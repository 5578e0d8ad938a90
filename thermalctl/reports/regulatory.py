"""Regulatory tables: EU data-centre reporting fields and the German EnEfG § 11 check.

Sources
-------
- Commission Delegated Regulation (EU) 2024/1364 of 14 March 2024 on the first
  phase of the establishment of a common Union rating scheme for data centres
  (OJ L, 17.5.2024), Annex I (information and key performance indicators) and
  Annex III (data centre sustainability indicators); it applies to data centres
  with an installed IT power demand of at least 500 kW (Art. 1; Directive (EU)
  2023/1791 Art. 12).
- Energieeffizienzgesetz (EnEfG) of 13 November 2023, § 11 "Klimaneutrale
  Rechenzentren": (1) commissioned before 1 July 2026: PUE <= 1.5 from 1 July
  2027 and <= 1.3 from 1 July 2030, as annual average; (2) commissioned from
  1 July 2026: PUE <= 1.2 and ERF (DIN EN 50600-4-6) >= 10 %, >= 15 % if
  commissioned from 1 July 2027, >= 20 % from 1 July 2028, reached at the latest
  two years after commissioning as annual average; electricity used only to
  upgrade waste heat is left out of the PUE; (3) exemptions from the ERF duty.
  Renewable electricity: 50 % from 1 January 2024, 100 % from 1 January 2027.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from thermalctl.kpi.engine import PeriodKpis
from thermalctl.reports.info import ReportInfo

__all__ = [
    "ENEFG_COLUMNS",
    "EU_COLUMNS",
    "EU_SCOPE_IT_POWER_KW",
    "enefg_check",
    "eu_fields",
]

EU_SCOPE_IT_POWER_KW = 500.0
ENEFG_SCOPE_POWER_KW = 300.0
ENEFG_CUTOFF = dt.date(2026, 7, 1)
EU_REF = "Del. Reg. (EU) 2024/1364"
EU_COLUMNS = ("field", "symbol", "unit", "value", "source", "reference")
ENEFG_COLUMNS = (
    "requirement", "citation", "threshold", "applies_from", "value", "applicable", "status",
)  # fmt: skip
NOT_AVAILABLE = "not available"


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def eu_fields(total: PeriodKpis, info: ReportInfo) -> pd.DataFrame:
    """The Annex I / Annex III fields, with the value where the data can fill it.

    ``source`` says where a value comes from, or why it is not available.
    """
    measured = "measured (meter counters)"
    rows: list[tuple[str, str, str, float | None, str, str]] = [
        ("Installed information technology power demand", "P_DIT", "kW",
         info.installed_it_power_kw, "site profile", "Annex I"),
        ("Total data centre floor area", "", "m²", info.floor_area_m2,
         "site profile" if info.floor_area_m2 else f"{NOT_AVAILABLE}: not in the site profile",
         "Annex I"),
        ("Total energy consumption", "E_DC", "kWh", _rounded(total.facility_energy_kwh, 1),
         measured, "Annex I"),
        ("Total energy consumption of the IT equipment", "E_IT", "kWh",
         _rounded(total.it_energy_kwh, 1), f"{measured}; {info.category_text}", "Annex I"),
        ("Waste heat reused", "E_REUSE", "kWh", _rounded(total.reused_energy_kwh, 1),
         "measured (heat meters at the boundary)", "Annex I"),
        ("Average waste heat temperature", "", "°C", info.waste_heat_temp_c,
         "site data" if info.waste_heat_temp_c is not None
         else f"{NOT_AVAILABLE}: not measured by thermalctl", "Annex I"),
        ("Temperature set points of the computer room", "", "°C", None,
         f"{NOT_AVAILABLE}: liquid-cooled racks; no air inlet set point metered", "Annex I"),
        ("Total water input", "W_IN", "m³", _rounded(total.water_m3, 3),
         measured if total.water_m3 is not None else f"{NOT_AVAILABLE}: no water meter",
         "Annex I"),
        ("Total potable water input", "W_IN-POT", "m³", None,
         f"{NOT_AVAILABLE}: potable share not metered separately", "Annex I"),
        ("Total renewable energy consumption", "E_RES-TOT", "kWh",
         _rounded(total.renewable_energy_kwh, 1) if total.renewable_energy_kwh is not None
         else _rounded(None if info.renewable_fraction is None
                       else info.renewable_fraction * total.facility_energy_kwh, 1),
         measured if total.renewable_energy_kwh is not None
         else ("estimated: contracted renewable share x E_DC" if info.renewable_fraction
               is not None else f"{NOT_AVAILABLE}: no renewable meter or contract share"),
         "Annex I"),
        ("Renewable energy from guarantees of origin / PPAs / on-site", "", "kWh", None,
         f"{NOT_AVAILABLE}: split not recorded", "Annex I"),
        ("Incoming and outgoing data traffic; data stored", "", "", None,
         f"{NOT_AVAILABLE}: not an energy meter quantity", "Annex I"),
        ("Power usage effectiveness", "PUE", "-", _rounded(total.pue, 3),
         f"E_DC / E_IT (ISO/IEC 30134-2, category {info.measurement_category})", "Annex III"),
        ("Water usage effectiveness", "WUE", "L/kWh", _rounded(total.wue_l_per_kwh, 3),
         "W_IN / E_IT" if total.wue_l_per_kwh is not None else f"{NOT_AVAILABLE}: no water meter",
         "Annex III"),
        ("Energy reuse factor", "ERF", "-", _rounded(total.erf, 3),
         "E_REUSE / E_DC (ISO/IEC 30134-6)", "Annex III"),
        ("Renewable energy factor", "REF", "-", _rounded(total.ref, 3),
         "E_RES-TOT / E_DC" if total.ref is not None else f"{NOT_AVAILABLE}: see E_RES-TOT",
         "Annex III"),
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=list(EU_COLUMNS))
    frame["reference"] = EU_REF + " " + frame["reference"]
    return frame


def _tier_erf(commissioned: dt.date) -> tuple[float, dt.date]:
    if commissioned >= dt.date(2028, 7, 1):
        return 0.20, dt.date(2028, 7, 1)
    if commissioned >= dt.date(2027, 7, 1):
        return 0.15, dt.date(2027, 7, 1)
    return 0.10, dt.date(2026, 7, 1)


def _two_years_after(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 2)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 2, day=28)


def enefg_check(total: PeriodKpis, info: ReportInfo, period_end: dt.date) -> pd.DataFrame:
    """EnEfG § 11 targets for this site and whether the period's values meet them.

    A target is ``applicable`` when the period ends on or after the date it
    applies from; the status is then ``met`` or ``not met``, else ``not yet
    applicable``; ``not assessable`` when the value is missing. The law asks
    for annual averages: on a shorter period the result is indicative only.
    """
    rows: list[tuple[str, str, str, dt.date, float | None, bool, str]] = []
    pue = _rounded(total.pue, 3)
    erf = _rounded(total.erf, 3)
    if info.commissioned < ENEFG_CUTOFF:
        rows.append(
            (
                "PUE <= 1.5, annual average (commissioned before 1 July 2026)",
                "EnEfG § 11 (1) Nr. 1",
                "<= 1.5",
                dt.date(2027, 7, 1),
                pue,
                False,
                "1.5",
            )
        )
        rows.append(
            (
                "PUE <= 1.3, annual average (commissioned before 1 July 2026)",
                "EnEfG § 11 (1) Nr. 2",
                "<= 1.3",
                dt.date(2030, 7, 1),
                pue,
                False,
                "1.3",
            )
        )
    else:
        due = _two_years_after(info.commissioned)
        share, tier = _tier_erf(info.commissioned)
        rows.append(
            (
                "PUE <= 1.2, annual average, within two years of commissioning",
                "EnEfG § 11 (2) Satz 1 Nr. 1, Satz 2",
                "<= 1.2",
                due,
                pue,
                False,
                "1.2",
            )
        )
        rows.append(
            (
                f"ERF >= {share:.0%} (DIN EN 50600-4-6), commissioned from "
                f"{tier:%d %B %Y}, within two years",
                "EnEfG § 11 (2) Satz 1 Nr. 2, Satz 2; exemptions § 11 (3)",
                f">= {share:.2f}",
                due,
                erf,
                True,
                f"{share}",
            )
        )
    renewable = _rounded(total.ref, 3)
    rows.append(
        (
            "Renewable electricity >= 50 % of consumption (balance)",
            "EnEfG § 11",
            ">= 0.50",
            dt.date(2024, 1, 1),
            renewable,
            True,
            "0.5",
        )
    )
    rows.append(("Renewable electricity 100 % of consumption (balance)", "EnEfG § 11",
                 ">= 1.00", dt.date(2027, 1, 1), renewable, True, "1.0"))  # fmt: skip
    records = []
    for requirement, citation, threshold, applies_from, value, at_least, limit in rows:
        applicable = period_end >= applies_from
        if value is None:
            status = "not assessable"
        else:
            ok = value >= float(limit) if at_least else value <= float(limit)
            status = (
                ("met" if ok else "not met")
                if applicable
                else (
                    "not yet applicable (would be met)"
                    if ok
                    else "not yet applicable (would not be met)"
                )
            )
        records.append(
            (requirement, citation, threshold, applies_from.isoformat(), value, applicable, status)
        )
    return pd.DataFrame(records, columns=list(ENEFG_COLUMNS))
