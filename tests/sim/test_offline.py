"""Offline simulation: energy balance, policy ordering, metrics and the CLI."""

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
}


@pytest.fixture(scope="module")
def pool_runs() -> dict[str, dict[str, object]]:
    profile = load_site(POOL_SITE).profile
    return {
        name: simulate(profile, name, DAYS, start_s=START_S).metrics
        for name in ("baseline", "mpc", "oracle")
    }


@pytest.fixture(scope="module")
def hotel() -> SiteProfile:
    return load_site(HOTEL_SITE).profile


def test_metrics_have_every_required_key(pool_runs: dict[str, dict[str, object]]) -> None:
    for metrics in pool_runs.values():
        assert set(metrics) >= REQUIRED


@pytest.mark.parametrize("policy", ["baseline", "mpc", "oracle"])
def test_energy_balance_closes_on_the_pool(
    pool_runs: dict[str, dict[str, object]], policy: str
) -> None:
    m = pool_runs[policy]
    assert abs(m["energy_balance_residual_kwh"]) <= 0.005 * m["it_energy_kwh"]


@pytest.mark.parametrize("policy", ["baseline", "mpc"])
def test_energy_balance_closes_on_the_hotel(hotel: SiteProfile, policy: str) -> None:
    m = simulate(hotel, policy, 1.0, start_s=START_S).metrics
    assert abs(m["energy_balance_residual_kwh"]) <= 0.005 * m["it_energy_kwh"]
    assert m["rack_limit_violations"] == 0
    assert m["deferred_work_late_kwh"] == pytest.approx(0.0, abs=1e-6)


def test_oracle_ge_mpc_ge_baseline_in_reused_heat(
    pool_runs: dict[str, dict[str, object]],
) -> None:
    reused = {k: m["reused_heat_kwh"] for k, m in pool_runs.items()}
    # The oracle's plan is optimal for the planner's model, not for the plant: allow it
    # to trail the MPC by model error (0.1 %); the MPC must beat the baseline outright.
    assert reused["oracle"] >= reused["mpc"] * (1 - 1e-3)
    assert reused["mpc"] > reused["baseline"]
    assert pool_runs["mpc"]["backup_heat_kwh"] < pool_runs["baseline"]["backup_heat_kwh"]


def test_planning_policies_keep_limits_and_deadlines(
    pool_runs: dict[str, dict[str, object]],
) -> None:
    for name in ("mpc", "oracle"):
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
                 "baseline", "--json"])
    assert code == 0
    metrics = json.loads(capsys.readouterr().out)
    assert set(metrics) >= REQUIRED
    assert metrics["policy"] == "baseline"


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
        for name in ("baseline", "mpc")
    }
    dhw = {name: m["sink_comfort_violation_kh"]["dhw"] for name, m in runs.items()}
    assert dhw["mpc"] <= dhw["baseline"] + 1.0
    # ... and the sums still add up, with mpc burning less backup than the thermostat.
    for m in runs.values():
        assert sum(m["sink_comfort_violation_kh"].values()) == pytest.approx(
            m["comfort_violation_kh"], rel=1e-9, abs=1e-12
        )
    assert runs["mpc"]["backup_heat_kwh"] < runs["baseline"]["backup_heat_kwh"]
