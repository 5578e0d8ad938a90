"""Which rules apply to the site at all, decided before any target is checked.

Sources
-------
- EnEfG (Energieeffizienzgesetz of 13 November 2023) § 3 Nr. 24: a data centre in the
  sense of the act has a non-redundant electrical nominal connected load
  ("nicht redundante elektrische Nennanschlussleistung") of at least 300 kW; the
  duties of § 11 (PUE, ERF, renewable electricity) are duties of such data centres.
  The connected load counts the IT and every building service the data centre needs
  (BAFA FAQ on the EnEfG data-centre duties, June 2024), so it is at least the installed
  IT power.
- Directive (EU) 2023/1791 (EED) Art. 12 (1) and Annex VII; Commission Delegated
  Regulation (EU) 2024/1364: reporting to the European database for data centres with an
  installed IT power demand of at least 500 kW.
- EnEfG § 11 (1) and (2) set targets by the date the data centre started operating; a
  report period before that date is not operation of the data centre.

A site below 300 kW of installed IT power can still reach 300 kW of connected load
through its cooling and building services. When even :data:`CONNECTED_LOAD_FACTOR` times
the IT power stays below 300 kW the act does not apply; between the two the operator has
to check the connected load (the grid connection contract's ordered capacity, per the
BAFA FAQ).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from thermalctl.reports.info import ReportInfo

__all__ = [
    "APPLIES",
    "CHECK",
    "CONNECTED_LOAD_FACTOR",
    "DOES_NOT_APPLY",
    "EED_SCOPE_IT_POWER_KW",
    "ENEFG_SCOPE_CONNECTED_LOAD_KW",
    "Scope",
    "eed_scope",
    "enefg_scope",
    "operation_scope",
]

ENEFG_SCOPE_CONNECTED_LOAD_KW = 300.0
EED_SCOPE_IT_POWER_KW = 500.0
#: Connected load over installed IT power that no site thermalctl serves exceeds: 2.0 is
#: a design PUE of 2, above the 1.5 the EnEfG allows existing data centres from 2027.
CONNECTED_LOAD_FACTOR = 2.0

APPLIES = "yes"
DOES_NOT_APPLY = "no"
CHECK = "check"


@dataclass(frozen=True)
class Scope:
    """Whether a rule applies: ``code`` (``yes``/``no``/``check``) and the reason as a
    message key of :mod:`thermalctl.reports.messages` with its parameters."""

    code: str
    reason: str
    params: Mapping[str, object] = field(default_factory=dict)

    @property
    def applies(self) -> bool:
        return self.code == APPLIES

    @property
    def short(self) -> str:
        """The key of the reason's short form (a table cell)."""
        return f"{self.reason}.short"


def enefg_scope(info: ReportInfo) -> Scope:
    """EnEfG § 11 duties: from 300 kW non-redundant connected load (§ 3 Nr. 24)."""
    power = info.installed_it_power_kw
    params: dict[str, object] = {"power_kw": power, "threshold_kw": ENEFG_SCOPE_CONNECTED_LOAD_KW}
    if power >= ENEFG_SCOPE_CONNECTED_LOAD_KW:
        return Scope(APPLIES, "scope.enefg.yes", params)
    bound = power * CONNECTED_LOAD_FACTOR
    if bound < ENEFG_SCOPE_CONNECTED_LOAD_KW:
        return Scope(DOES_NOT_APPLY, "scope.enefg.no", {**params, "bound_kw": bound})
    return Scope(CHECK, "scope.enefg.check", params)


def eed_scope(info: ReportInfo) -> Scope:
    """EED Art. 12 reporting: from 500 kW installed IT power."""
    power = info.installed_it_power_kw
    params: dict[str, object] = {"power_kw": power, "threshold_kw": EED_SCOPE_IT_POWER_KW}
    if power >= EED_SCOPE_IT_POWER_KW:
        return Scope(APPLIES, "scope.eed.yes", params)
    return Scope(DOES_NOT_APPLY, "scope.eed.no", params)


def operation_scope(info: ReportInfo, first_day: dt.date, last_day: dt.date) -> Scope:
    """Was the data centre operating in the period ``first_day`` .. ``last_day`` (inclusive)?

    ``no`` when the whole period lies before commissioning, ``check`` when it starts
    before it (the days before are not operation of the data centre), else ``yes``.
    """
    params: dict[str, object] = {"commissioned": info.commissioned.isoformat(),
                                 "first": first_day.isoformat()}
    if last_day < info.commissioned:
        return Scope(DOES_NOT_APPLY, "scope.operation.before", params)
    if first_day < info.commissioned:
        return Scope(CHECK, "scope.operation.partly", params)
    return Scope(APPLIES, "scope.operation.yes", params)
