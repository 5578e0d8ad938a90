"""The planning programme: a linear programme over a 24 h horizon at 15 min steps.

Decisions per step (power over the step): deferrable power per rack group, heat to
each sink, dump, backup heat per sink. States at the end of each step: sink
temperature, deferred-work backlog. Slacks (all priced): comfort below/above band,
late work, heat that fits nowhere. The coefficients come from the site models
(:mod:`thermalctl.models.sinks`, :mod:`thermalctl.models.loop`), the same the plant
steps with.

The package, in the order a reader needs it:

* :mod:`~thermalctl.control.planner.layout` - variable and row names (words, with their
  LP units) and the sparse-matrix builder;
* :mod:`~thermalctl.control.planner.families` - one class per constraint family, each
  with its ``build_rows`` and its ``update``, and the prices of the objective;
* :mod:`~thermalctl.control.planner.programme` - :func:`build` (once per site),
  :func:`update` (costs, bounds, right-hand sides and tagged coefficients per re-plan)
  and :func:`extract` (solution -> :class:`Plan` in W);
* :mod:`~thermalctl.control.planner.solvers` - HiGHS with hot start, or scipy's linprog.

Units inside the LP are kW, kWh, degC and hours, so coefficients are O(1..1000).
Objective: electricity for deferrable work at the time-of-use price, backup fuel, fan
energy of the dump, penalties; backlog left at the horizon's end is priced above the
dearest electricity so work is never "saved" by not running it; the heat stored in a
sink at the end is worth slightly less than the backup heat it replaces.
"""

from __future__ import annotations

from thermalctl.control.planner.layout import Row, Var
from thermalctl.control.planner.programme import (
    LpData,
    Plan,
    PlanInputs,
    PlannerModel,
    PlannerSettings,
    PlannerSite,
    SolveResult,
    backup_price_eur_per_kwh,
    build,
    extract,
    update,
)
from thermalctl.control.planner.solvers import HighsSolver, ScipySolver, Solver, make_solver

__all__ = [
    "HighsSolver",
    "LpData",
    "Plan",
    "PlanInputs",
    "PlannerModel",
    "PlannerSettings",
    "PlannerSite",
    "Row",
    "ScipySolver",
    "SolveResult",
    "Solver",
    "Var",
    "backup_price_eur_per_kwh",
    "build",
    "extract",
    "make_solver",
    "update",
]
