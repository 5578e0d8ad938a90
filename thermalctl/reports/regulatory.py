"""Regulatory tables: which rules apply, the EU data-centre reporting fields, the EnEfG § 11 check.

Sources
-------
- Directive (EU) 2023/1791 (EED) Art. 12 (1) and Annex VII; Commission Delegated
  Regulation (EU) 2024/1364 of 14 March 2024 on the first phase of the establishment of
  a common Union rating scheme for data centres (OJ L, 17.5.2024), Annex I (information
  and key performance indicators) and Annex III (data centre sustainability
  indicators); reporting applies to data centres with an installed IT power demand of
  at least 500 kW.
- Energieeffizienzgesetz (EnEfG) of 13 November 2023, § 3 Nr. 24 (a data centre has a
  non-redundant connected load of at least 300 kW) and § 11 "Klimaneutrale
  Rechenzentren": (1) commissioned before 1 July 2026: PUE <= 1.5 from 1 July 2027 and
  <= 1.3 from 1 July 2030, as annual average; (2) commissioned from 1 July 2026: PUE <=
  1.2 and ERF (DIN EN 50600-4-6) >= 10 %, >= 15 % if commissioned from 1 July 2027, >=
  20 % from 1 July 2028, reached at the latest two years after commissioning as annual
  average; electricity used only to upgrade waste heat is left out of the PUE; (3)
  exemptions from the ERF duty; (5) renewable electricity (balance): 50 % from 1 January
  2024, 100 % from 1 January 2027.

Applicability (:mod:`thermalctl.reports.scope`) is decided first: a rule that does not
apply to the site says "not applicable because ..." and only then what the value would
give. Text columns are in the report's language; ``applicable`` holds codes (``yes``,
``no``, ``not yet``, ``check``) and numbers stay numbers, so the CSV reads the same in
every language.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from thermalctl.kpi.engine import PeriodKpis
from thermalctl.reports.i18n import Catalogue
from thermalctl.reports.info import ReportInfo
from thermalctl.reports.scope import (
    APPLIES,
    CHECK,
    DOES_NOT_APPLY,
    Scope,
    eed_scope,
    enefg_scope,
    operation_scope,
)

__all__ = [
    "ENEFG_COLUMNS",
    "EU_COLUMNS",
    "EU_REF",
    "SCOPE_COLUMNS",
    "enefg_check",
    "eu_fields",
    "scope_table",
    "scope_text",
]

ENEFG_CUTOFF = dt.date(2026, 7, 1)
EU_REF = "Del. Reg. (EU) 2024/1364"
EU_COLUMNS = ("field", "symbol", "unit", "value", "source", "reference")
ENEFG_COLUMNS = (
    "requirement", "citation", "threshold", "applies_from", "value", "applicable", "status",
)  # fmt: skip
SCOPE_COLUMNS = ("rule", "citation", "criterion", "site_value", "unit", "applicable", "reason")
NOT_YET = "not yet"


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def scope_text(t: Catalogue, scope: Scope, *, short: bool = False) -> str:
    """The reason of a scope decision in the catalogue's language (``short``: the form
    for a table cell, where there is one)."""
    key = scope.short if short and t.has(scope.short) else scope.reason
    return t(key, **scope.params)


def scope_table(info: ReportInfo, first_day: dt.date, last_day: dt.date,
                t: Catalogue) -> pd.DataFrame:  # fmt: skip
    """Does each rule apply to this site in this period, and why (or why not)."""
    operation = operation_scope(info, first_day, last_day)
    enefg, eed = enefg_scope(info), eed_scope(info)
    rows = [
        (t("scope.rule.operation"), "EnEfG § 11 (1), (2)",
         t("scope.criterion.operation", commissioned=info.commissioned.isoformat()), None, "",
         operation.code, scope_text(t, operation)),
        (t("scope.rule.enefg"), "EnEfG § 3 Nr. 24, § 11", t("scope.criterion.enefg"),
         info.installed_it_power_kw, "kW", enefg.code, scope_text(t, enefg)),
        (t("scope.rule.eed"), "Directive (EU) 2023/1791 Art. 12 (1), Annex VII; " + EU_REF,
         t("scope.criterion.eed"), info.installed_it_power_kw, "kW", eed.code,
         scope_text(t, eed)),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=list(SCOPE_COLUMNS))


def _set_point_rows(info: ReportInfo, t: Catalogue) -> list[tuple[str, str, str, float | None,
                                                                    str, str]]:  # fmt: skip
    field = t("eu.setpoints")
    liquid = [s for s in info.set_points if s.liquid]
    air = [s for s in info.set_points if not s.liquid]
    rows: list[tuple[str, str, str, float | None, str, str]] = []
    if liquid:
        groups = ", ".join(f"{s.group_id} ({t('cooling.' + s.cooling)})" for s in liquid)
        values = sorted({s.setpoint_c for s in liquid if s.setpoint_c is not None})
        rows.append((f"{field}: {t('eu.setpoints.liquid')}", "", "°C",
                     values[0] if len(values) == 1 else None,
                     t("source.setpoint.liquid", groups=groups), "Annex I"))  # fmt: skip
    if air:
        groups = ", ".join(s.group_id for s in air)
        rows.append((f"{field}: {t('eu.setpoints.air')}", "", "°C", None,
                     t("source.setpoint.air", groups=groups), "Annex I"))  # fmt: skip
    if not rows:
        rows.append((field, "", "°C", None, t("source.setpoint.none"), "Annex I"))
    return rows


def eu_fields(total: PeriodKpis, info: ReportInfo, origin: str, t: Catalogue) -> pd.DataFrame:
    """The Annex I / Annex III fields, with the value where the data can fill it.

    ``source`` says where a value comes from (the data's ``origin``: measured,
    simulated, projected or mixed), or why it is not available.
    """
    na = t("na")
    data = t(f"source.{origin}")
    category = t(f"category.{info.measurement_category}")
    renewable_estimate = (
        None if info.renewable_fraction is None
        else info.renewable_fraction * total.facility_energy_kwh
    )  # fmt: skip
    rows: list[tuple[str, str, str, float | None, str, str]] = [
        (t("eu.pdit"), "P_DIT", "kW", info.installed_it_power_kw, t("source.profile"), "Annex I"),
        (t("eu.area"), "", "m²", info.floor_area_m2,
         t("source.profile") if info.floor_area_m2 else f"{na}: {t('source.not_in_profile')}",
         "Annex I"),
        (t("eu.edc"), "E_DC", "kWh", _rounded(total.facility_energy_kwh, 1), data, "Annex I"),
        (t("eu.eit"), "E_IT", "kWh", _rounded(total.it_energy_kwh, 1), f"{data}; {category}",
         "Annex I"),
        (t("eu.ereuse"), "E_REUSE", "kWh", _rounded(total.reused_energy_kwh, 1),
         t("source.heat_meters", data=data), "Annex I"),
        (t("eu.waste_heat_temp"), "", "°C", info.waste_heat_temp_c,
         t("source.site_data") if info.waste_heat_temp_c is not None
         else f"{na}: {t('source.not_measured')}", "Annex I"),
        *_set_point_rows(info, t),
        (t("eu.water"), "W_IN", "m³", _rounded(total.water_m3, 3),
         data if total.water_m3 is not None else f"{na}: {t('source.no_water_meter')}",
         "Annex I"),
        (t("eu.potable"), "W_IN-POT", "m³", None, f"{na}: {t('source.no_potable')}", "Annex I"),
        (t("eu.renewable"), "E_RES-TOT", "kWh",
         _rounded(total.renewable_energy_kwh, 1) if total.renewable_energy_kwh is not None
         else _rounded(renewable_estimate, 1),
         data if total.renewable_energy_kwh is not None
         else (t("source.renewable_estimate") if info.renewable_fraction is not None
               else f"{na}: {t('source.no_renewable')}"),
         "Annex I"),
        (t("eu.renewable_split"), "", "kWh", None, f"{na}: {t('source.split')}", "Annex I"),
        (t("eu.traffic"), "", "", None, f"{na}: {t('source.traffic')}", "Annex I"),
        (t("eu.pue"), "PUE", "-", _rounded(total.pue, 3),
         t("source.pue", category=info.measurement_category), "Annex III"),
        (t("eu.wue"), "WUE", "L/kWh", _rounded(total.wue_l_per_kwh, 3),
         "W_IN / E_IT" if total.wue_l_per_kwh is not None
         else f"{na}: {t('source.no_water_meter')}", "Annex III"),
        (t("eu.erf"), "ERF", "-", _rounded(total.erf, 3), "E_REUSE / E_DC (ISO/IEC 30134-6)",
         "Annex III"),
        (t("eu.ref"), "REF", "-", _rounded(total.ref, 3),
         "E_RES-TOT / E_DC" if total.ref is not None else f"{na}: {t('source.see_eres')}",
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


def _targets(info: ReportInfo, pue: float | None, erf: float | None, renewable: float | None,
             t: Catalogue) -> list[tuple[str, str, str, dt.date, float | None, bool, float]]:
    """(requirement, citation, threshold, applies from, value, at least?, limit)."""  # fmt: skip
    rows: list[tuple[str, str, str, dt.date, float | None, bool, float]] = []
    if info.commissioned < ENEFG_CUTOFF:
        rows.append((t("enefg.pue15"), "EnEfG § 11 (1) Nr. 1", "<= 1.5", dt.date(2027, 7, 1),
                     pue, False, 1.5))  # fmt: skip
        rows.append((t("enefg.pue13"), "EnEfG § 11 (1) Nr. 2", "<= 1.3", dt.date(2030, 7, 1),
                     pue, False, 1.3))  # fmt: skip
    else:
        due = _two_years_after(info.commissioned)
        share, tier = _tier_erf(info.commissioned)
        rows.append((t("enefg.pue12"), "EnEfG § 11 (2) Satz 1 Nr. 1, Satz 2", "<= 1.2", due,
                     pue, False, 1.2))  # fmt: skip
        rows.append((t("enefg.erf", share=t.percent(share), tier=tier.isoformat()),
                     "EnEfG § 11 (2) Satz 1 Nr. 2, Satz 2; " + t("enefg.exemptions"),
                     f">= {share:.2f}", due, erf, True, share))  # fmt: skip
    rows.append((t("enefg.res50"), "EnEfG § 11 (5)", ">= 0.50", dt.date(2024, 1, 1),
                 renewable, True, 0.5))  # fmt: skip
    rows.append((t("enefg.res100"), "EnEfG § 11 (5)", ">= 1.00", dt.date(2027, 1, 1),
                 renewable, True, 1.0))  # fmt: skip
    return rows


def enefg_check(
    total: PeriodKpis,
    info: ReportInfo,
    period_end: dt.date,
    t: Catalogue | None = None,
    period_start: dt.date | None = None,
) -> pd.DataFrame:
    """EnEfG § 11 targets for this site and what the period's values give.

    Applicability first: a site below the act's scope (:func:`scope.enefg_scope`), or a
    period that ends before commissioning, is ``applicable = no`` and its status says
    "not applicable because ..."; a site whose scope the operator has to check is
    ``check``. Within scope a target applies when the period ends on or after the date
    it applies from (``yes``; status ``met`` / ``not met``), else ``not yet``. Where a
    value exists the status adds whether it would meet the target; ``not assessable``
    when it is missing. The law asks for annual averages: on a shorter period the result
    is indicative only.
    """
    t = t or Catalogue("en")
    period_start = period_start or period_end
    site = enefg_scope(info)
    operation = operation_scope(info, period_start, period_end)
    rows = _targets(info, _rounded(total.pue, 3), _rounded(total.erf, 3),
                    _rounded(total.ref, 3), t)  # fmt: skip
    records = []
    for requirement, citation, threshold, applies_from, value, at_least, limit in rows:
        ok = None if value is None else (value >= limit if at_least else value <= limit)
        would = "" if ok is None else t("status.would_be_met" if ok else "status.would_not")
        if site.code == DOES_NOT_APPLY:
            code = DOES_NOT_APPLY
            status = t("status.not_applicable", reason=scope_text(t, site, short=True)) + would
        elif operation.code == DOES_NOT_APPLY:
            code = DOES_NOT_APPLY
            status = (t("status.not_applicable", reason=scope_text(t, operation, short=True))
                      + would)  # fmt: skip
        elif period_end < applies_from:
            code = NOT_YET
            status = t("status.not_yet") + would
        elif site.code == CHECK:
            code = CHECK
            status = t("status.check") + would
        else:
            code = APPLIES
            status = (t("status.not_assessable") if ok is None
                      else t("status.met" if ok else "status.not_met"))  # fmt: skip
        records.append(
            (requirement, citation, threshold, applies_from.isoformat(), value, code, status)
        )
    return pd.DataFrame(records, columns=list(ENEFG_COLUMNS))
