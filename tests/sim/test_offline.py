"""Offline simulation: energy balance, policy ordering, metrics and the CLI.

The invariants on every shipped site are in ``test_invariants.py``; the bound in
``tests/control/test_bound.py``.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import HOTEL_SITE, POOL_SITE
from thermalctl.cli import main
from thermalctl.config.loader import load_site
from thermalctl.config.site import SiteProfile
from thermalctl.sim.offline import simulate

#: A short winter scenario (2 days from 2026-01-05, simulated time in Unix seconds).
START_S = 1_767_571_200.0
DAYS = 2.0
REQUIRED = {
    "it_energy_kwh", "facility_energy_kwh", "reused_heat_kwh", "dumped_heat_kwh",
    "backup_heat_kwh", "energy_balance_residual_kwh", "pue", "erf", "ere",
    "comfort_violation_kh", "deferred_work_late_kwh", "rack_limit_violations",
    "solve_ms_median", "wall_s",
    # issue 9: the run is echoed, money and CO2 and per-sink figures are reported
    "start", "days", "weather", "policy", "electricity_cost_eur", "fuel_cost_eur",
    "total_cost_eur", "co2_kg", "heat_pump_electricity_kwh", "deferred_shifted_kwh", "sinks",
}
SINK_KEYS = {"heat_kwh", "backup_heat_kwh", "overheating_kwh", "comfort_violation_kh"}


@pytest.fixture(scope="module")
def pool_runs() -> dict[str, dict[str, object]]:
    profile = load_site(POOL_SITE).profile
    return {
        name: simulate(profile, name, DAYS, start_s=START_S).metrics
        for name in ("thermostat", "rules", "mpc", "mpc_perfect")
    }


@pytest.fixture(scope="module")
def hotel() -> SiteProfile:
    return load_site(HOTEL_SITE).profile


def test_metrics_have_every_required_key(pool_runs: dict[str, dict[str, object]]) -> None:
    for metrics in pool_runs.values():
        assert set(metrics) >= REQUIRED
        assert set(metrics["sinks"]["pool"]) >= SINK_KEYS  # type: ignore[index]
        assert metrics["days"] == DAYS
        assert metrics["start"] == "2026-01-05T00:00:00+00:00"  # Europe/London in winter


def test_costs_add_up(pool_runs: dict[str, dict[str, object]]) -> None:
    profile_pool = load_site(POOL_SITE).profile
    for m in pool_runs.values():
        total = m["electricity_cost_eur"] + m["fuel_cost_eur"] + m["backlog_cost_eur"]  # type: ignore[operator]
        assert m["total_cost_eur"] == pytest.approx(total)
        # The profile's gas price over its boiler's efficiency, per kWh of backup heat.
        backup = profile_pool.sinks[0].backup
        per_kwh = profile_pool.prices.gas_eur_per_kwh / backup.efficiency
        assert m["fuel_cost_eur"] == pytest.approx(m["backup_heat_kwh"] * per_kwh, rel=1e-9)  # type: ignore[operator]
        heat = sum(s["heat_kwh"] for s in m["sinks"].values())  # type: ignore[attr-defined]
        assert heat == pytest.approx(m["reused_heat_kwh"])


def test_aliases_say_what_they_mean() -> None:
    profile = load_site(POOL_SITE).profile
    m = simulate(profile, "baseline", 0.25, start_s=START_S).metrics
    assert m["policy"] == "thermostat" and m["policy_alias"] == "baseline"
    m = simulate(profile, "oracle", 0.25, start_s=START_S).metrics
    assert m["policy"] == "mpc_perfect" and m["policy_alias"] == "oracle"


def test_thermostat_keeps_the_dry_cooler_off_while_the_pool_calls(
    pool_runs: dict[str, dict[str, object]],
) -> None:
    # In January the pool wants more heat than the pod gives: a thermostat as a competent
    # site runs it dumps (almost) nothing while the pool's boiler fires.
    m = pool_runs["thermostat"]
    assert m["dumped_heat_kwh"] <= 0.02 * m["it_energy_kwh"]  # type: ignore[operator]


@pytest.mark.parametrize("policy", ["thermostat", "rules", "mpc", "mpc_perfect"])
def test_energy_balance_closes_on_the_pool(
    pool_runs: dict[str, dict[str, object]], policy: str
) -> None:
    m = pool_runs[policy]
    assert abs(m["energy_balance_residual_kwh"]) <= 0.005 * m["it_energy_kwh"]


@pytest.mark.parametrize("policy", ["thermostat", "rules", "mpc"])
def test_energy_balance_closes_on_the_hotel(hotel: SiteProfile, policy: str) -> None:
    m = simulate(hotel, policy, 1.0, start_s=START_S).metrics
    assert abs(m["energy_balance_residual_kwh"]) <= 0.005 * m["it_energy_kwh"]
    assert m["rack_limit_violations"] == 0
    # Deadlines: tests/sim/test_invariants.py checks them for every site and policy.


def test_mpc_burns_less_backup_than_the_thermostat(
    pool_runs: dict[str, dict[str, object]],
) -> None:
    assert pool_runs["mpc"]["backup_heat_kwh"] < pool_runs["thermostat"]["backup_heat_kwh"]  # type: ignore[operator]


def test_planning_policies_keep_limits_and_deadlines(
    pool_runs: dict[str, dict[str, object]],
) -> None:
    for name in ("mpc", "mpc_perfect"):
        m = pool_runs[name]
        assert m["rack_limit_violations"] == 0
        assert m["deferred_work_late_kwh"] == pytest.approx(0.0, abs=1e-6)
        assert m["plan_failures"] == 0
        assert m["plans"] == DAYS * 96
        assert m["solve_ms_median"] is not None


def test_same_it_energy_for_every_policy(pool_runs: dict[str, dict[str, object]]) -> None:
    # All arrived work is done within the run: policies choose when, not whether.
    it = [m["it_energy_kwh"] for m in pool_runs.values()]
    assert max(it) - min(it) <= 0.02 * max(it)


def test_simulate_cli_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["simulate", "--site", str(POOL_SITE), "--days", "0.25", "--policy",
                 "thermostat", "--json"])
    assert code == 0
    metrics = json.loads(capsys.readouterr().out)
    assert set(metrics) >= REQUIRED
    assert metrics["policy"] == "thermostat"
    assert metrics["weather"].startswith("synthetic")


def test_simulate_cli_rejects_bad_days(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--site", str(POOL_SITE), "--days", "0"]) != 0


def test_mpc_keeps_the_hotel_hot_water_tank_in_band_in_winter(hotel: SiteProfile) -> None:
    # Regression: mpc planned the stratified tank as one node at its measured top
    # (49.8 degC while the tank's mean was 24-45 degC after the morning draws) and let
    # the DHW "backup" heat the tank in the LP, so it left the tank unheated for hours
    # and its top fell below 42 degC (10.8 K h on the first day; baseline 0). Bound:
    # within 1 K h of the baseline thermostat over the first two winter days.
    runs = {
        name: simulate(hotel, name, DAYS, start_s=START_S).metrics
        for name in ("thermostat", "mpc")
    }
    dhw = {name: m["sink_comfort_violation_kh"]["dhw"] for name, m in runs.items()}
    assert dhw["mpc"] <= dhw["thermostat"] + 1.0
    # ... and the sums still add up. (Who burns less backup is the benchmark's question:
    # docs/contest.md; the thermostat as a competent site runs it is hard to beat here.)
    for m in runs.values():
        assert sum(m["sink_comfort_violation_kh"].values()) == pytest.approx(
            m["comfort_violation_kh"], rel=1e-9, abs=1e-12
        )
