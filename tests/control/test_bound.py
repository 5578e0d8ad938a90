"""The bound: a lower bound on every policy's cost and backup heat (see
:mod:`thermalctl.control.bound` for the argument).

The argument is checked where it can fail: on every shipped site the bound's total cost
and backup heat are at most those of every policy that ran on the same plant with the
same inputs, in winter and in summer; its figures are reported as a bound's.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pytest

from tests.conftest import POOL_SITE, SITE_PROFILES
from thermalctl.config.loader import load_site
from thermalctl.models.localtime import zone
from thermalctl.sim.offline import simulate

#: One day per case: the invariants test already runs every policy for two.
DAYS = 1.0
SEASONS = {"winter": "2026-01-05", "summer": "2026-07-06"}
#: The bound is solved by HiGHS to its default tolerances (1e-7 relative): allow that.
SOLVER_TOLERANCE = 1e-6


def _runs(site: str, season: str, policies: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    profile = load_site(site).profile
    start = dt.datetime.fromisoformat(SEASONS[season]).replace(
        tzinfo=zone(profile.site.timezone)).timestamp()
    return {p: simulate(profile, p, DAYS, start_s=start).metrics for p in policies}


@pytest.mark.slow
@pytest.mark.parametrize("season", list(SEASONS))
@pytest.mark.parametrize(
    "site", [str(s) for s in SITE_PROFILES], ids=[s.stem for s in SITE_PROFILES]
)
def test_bound_is_below_every_policy(site: str, season: str) -> None:
    runs = _runs(site, season, ("bound", "thermostat", "rules", "mpc"))
    low = runs.pop("bound")
    for name, m in runs.items():
        assert low["total_cost_eur"] <= m["total_cost_eur"] * (1 + SOLVER_TOLERANCE), name
        assert low["backup_heat_kwh"] <= m["backup_heat_kwh"] * (1 + SOLVER_TOLERANCE) + 1e-6, name


def test_bound_reports_itself_as_a_bound() -> None:
    m = _runs(str(POOL_SITE), "winter", ("bound",))["bound"]
    assert m["kind"] == "bound" and m["policy"] == "bound"
    assert m["solver"] == "scipy-highs"
    # Least-cost and least-backup solutions of one LP: the least backup is no larger.
    assert m["backup_heat_kwh"] <= m["backup_heat_kwh_at_least_cost"] + 1e-6
    assert m["total_cost_eur"] == pytest.approx(
        m["electricity_cost_eur"] + m["fuel_cost_eur"] + m["backlog_cost_eur"])
    assert set(m["sinks"]) == {"pool"}


def test_bound_runs_every_arrived_work_it_must() -> None:
    # All work arrived more than a deadline before the end is done: the bound's IT energy
    # is at least the must-run energy plus that work (it cannot save electricity by
    # dropping work a policy must run).
    profile = load_site(POOL_SITE).profile
    start = dt.datetime(2026, 1, 5, tzinfo=zone(profile.site.timezone)).timestamp()
    thermostat = simulate(profile, "thermostat", DAYS, start_s=start).metrics
    low = simulate(profile, "bound", DAYS, start_s=start).metrics
    assert low["it_energy_kwh"] >= 0.95 * thermostat["it_energy_kwh"]
    assert low["deferred_work_queued_kwh"] >= 0.0


def test_bound_takes_the_plants_tolerances() -> None:
    # The pure control package cannot import the simulator: the one fact is held equal.
    from thermalctl.control import bound
    from thermalctl.sim import accounting, plant

    assert bound.COOLANT_TOLERANCE_K == plant.COOLANT_LIMIT_TOLERANCE_K
    assert accounting.TOLERANCES["comfort_kh_per_sink_day"] == bound.COMFORT_KH_PER_DAY


def test_a_solve_error_is_retried_with_the_next_method(monkeypatch: pytest.MonkeyPatch) -> None:
    """HiGHS's default path ended "Solve error" once on a year of the office: the LP is
    solved again with the interior-point method (crossover to a basic optimum), and the
    answer says which method gave it."""
    from scipy.optimize import linprog as real_linprog

    from thermalctl.control import bound_sinks

    calls: list[str] = []

    def flaky(*args: object, method: str, **kwargs: object) -> object:
        calls.append(method)
        res = real_linprog(*args, method=method, **kwargs)
        if method == "highs":
            res.status, res.message = 4, "(HiGHS Status 4: Solve error)"
        return res

    monkeypatch.setattr(bound_sinks, "linprog", flaky)
    lp = bound_sinks.Lp()
    x = lp.block(2, cost=np.array([1.0, 2.0]))
    lp.row([(int(x[0]), 1.0), (int(x[1]), 1.0)], 3.0, math.inf)  # x0 + x1 >= 3
    lp.row([(int(x[0]), 1.0)], -math.inf, 1.0)  # x0 <= 1
    res = lp.solve()
    assert calls == ["highs", "highs-ipm"]
    assert res.status == 0 and res.method == "highs-ipm"
    assert res.fun == pytest.approx(1.0 + 2.0 * 2.0)
