"""The planning LP on cases a person can check by hand, and both solver back ends."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tests.conftest import HOTEL_SITE, POOL_SITE
from thermalctl.config.loader import load_site
from thermalctl.config.site import SiteProfile
from thermalctl.control import planner
from thermalctl.control.forecast import sink_loss_lines, time_of_use_price
from thermalctl.control.planner import Row
from thermalctl.control.settings import OperatorSettings
from thermalctl.models.sinks import model_for, models_for

N = 8  # two hours of 15-min steps: small enough to reason about
STEP_H = 0.25


@pytest.fixture(scope="module")
def pool_profile() -> SiteProfile:
    return load_site(POOL_SITE).profile


def _inputs(
    profile: SiteProfile,
    *,
    temp_c: float,
    queue_kwh: float,
    loss_w: np.ndarray | float,
    ambient_c: float = 5.0,
    due_kwh: np.ndarray | None = None,
    n: int = N,
) -> planner.PlanInputs:
    g = profile.rack_groups[0]
    s = profile.sinks[0]
    loss = np.broadcast_to(np.asarray(loss_w, dtype=float), (n,)).copy()
    return planner.PlanInputs(
        start_s=0.0,
        sink_temp_c={s.id: temp_c},
        queue_kwh={g.id: queue_kwh},
        queue_due_kwh={g.id: np.zeros(n) if due_kwh is None else due_kwh},
        must_run_w={g.id: np.full(n, g.idle_power_w)},
        arrivals_kwh={g.id: np.zeros(n)},
        ambient_c=np.full(n, ambient_c),
        sink_loss_w={s.id: (loss, np.zeros(n))},  # loss independent of temperature
        draw_w_per_k={},
        price_eur_per_kwh=np.full(n, 0.28),
    )


def _solve(profile: SiteProfile, inputs: planner.PlanInputs, backend: str = "auto",
           n: int = N) -> planner.Plan:
    model = planner.build(profile, planner.PlannerSettings(horizon_steps=n))
    result = planner.make_solver(model, backend).solve(planner.update(model, inputs))
    assert result.ok, result.status
    return planner.extract(model, inputs, result)


def test_cold_sink_and_queued_work_runs_now(pool_profile: SiteProfile) -> None:
    # Pool at 29.0 degC (below its backup point 29.7) losing 60 kW, 20 kWh waiting:
    # every kWh of rack heat now saves backup gas, so the work runs at once, at the
    # rack limit (40 kW - 4 kW idle = 36 kW -> 9 kWh per step) until the queue is empty.
    plan = _solve(pool_profile, _inputs(pool_profile, temp_c=29.0, queue_kwh=20.0,
                                        loss_w=60e3))
    p = plan.deferrable_w["pod"]
    assert p[0] == pytest.approx(36e3, rel=1e-6)
    assert p[1] == pytest.approx(36e3, rel=1e-6)
    assert p[2] == pytest.approx((20.0 - 18.0) / STEP_H * 1e3, rel=1e-6)
    assert plan.backlog_kwh["pod"][-1] == pytest.approx(0.0, abs=1e-6)
    assert plan.dump_w.max() == pytest.approx(0.0, abs=1e-6)  # all heat into the pool
    assert plan.backup_w["pool"][0] > 0.0  # the pod alone cannot cover 60 kW


def test_saturated_sink_and_small_dump_makes_work_wait(pool_profile: SiteProfile) -> None:
    # Pool at the top of its band (31 degC) and losing nothing for the first hour, then
    # 40 kW (cover off); the dump at 33 degC ambient takes only the idle heat.
    # Running now would overheat the pool or strand heat: the work waits for the loss.
    loss = np.where(np.arange(N) < 4, 0.0, 40e3)
    plan = _solve(pool_profile, _inputs(pool_profile, temp_c=31.0, queue_kwh=10.0,
                                        loss_w=loss, ambient_c=33.0))
    p = plan.deferrable_w["pod"]
    assert np.all(p[:4] < 1.0)
    assert p[4:].sum() * STEP_H / 1e3 == pytest.approx(10.0, rel=1e-6)
    assert np.all(plan.unplaced_w < 1.0)
    assert plan.sink_temp_c["pool"].max() <= 31.0 + 1e-6


def test_deadline_beats_heat_value(pool_profile: SiteProfile) -> None:
    # Same saturated pool, but the 10 kWh are due by the end of step 1: they run now
    # even though the heat has nowhere good to go.
    loss = np.where(np.arange(N) < 4, 0.0, 40e3)
    due = np.where(np.arange(N) >= 1, 10.0, 0.0)
    plan = _solve(pool_profile, _inputs(pool_profile, temp_c=31.0, queue_kwh=10.0,
                                        loss_w=loss, ambient_c=33.0, due_kwh=due))
    assert plan.deferrable_w["pod"][:2].sum() * STEP_H / 1e3 == pytest.approx(10.0, rel=1e-6)
    assert plan.backlog_kwh["pod"][1] == pytest.approx(0.0, abs=1e-6)
    assert plan.late_kwh["pod"].sum() == pytest.approx(0.0, abs=1e-6)


def test_unreachable_deadline_is_priced_not_infeasible(pool_profile: SiteProfile) -> None:
    # 30 kWh due by the end of step 0, but only 9 kWh fit in one step: the solve still
    # succeeds and books the rest as late.
    plan = _solve(pool_profile, _inputs(pool_profile, temp_c=30.0, queue_kwh=30.0,
                                        loss_w=30e3, due_kwh=np.full(N, 30.0)))
    assert plan.late_kwh["pod"][0] == pytest.approx(21.0, rel=1e-6)


def test_work_is_never_saved_by_not_running_it(pool_profile: SiteProfile) -> None:
    # No deadline inside the horizon, warm pool: the work still finishes in the horizon.
    plan = _solve(pool_profile, _inputs(pool_profile, temp_c=30.5, queue_kwh=15.0,
                                        loss_w=30e3))
    assert plan.backlog_kwh["pod"][-1] == pytest.approx(0.0, abs=1e-6)


def test_ramp_limit_holds(pool_profile: SiteProfile) -> None:
    group = pool_profile.rack_groups[0].model_copy(update={"ramp_w_per_s": 5.0})
    slow = pool_profile.model_copy(update={"rack_groups": (group,)})
    plan = _solve(slow, _inputs(slow, temp_c=29.0, queue_kwh=30.0, loss_w=60e3))
    steps = np.diff(np.concatenate([[0.0], plan.deferrable_w["pod"]]))[1:]
    assert np.all(np.abs(steps) <= 5.0 * 900.0 + 1e-3)


def test_backends_agree_on_a_full_day(pool_profile: SiteProfile) -> None:
    n = 96
    times = np.arange(n) * 900.0 + 450.0
    sink = pool_profile.sinks[0]
    loss = model_for(sink, pool_profile).loss_line_w(times, np.full(n, 8.0), None, 30.0)
    base = _inputs(pool_profile, temp_c=29.8, queue_kwh=40.0, loss_w=0.0, n=n)
    inputs = dataclasses.replace(
        base,
        sink_loss_w={sink.id: loss},
        arrivals_kwh={"pod": np.full(n, 3.0)},
        price_eur_per_kwh=time_of_use_price(
            pool_profile.prices, times, pool_profile.site.timezone
        ),
    )
    model = planner.build(pool_profile)
    data = planner.update(model, inputs)
    fast = planner.HighsSolver(model).solve(data)
    slow = planner.ScipySolver(model).solve(data)
    assert fast.ok and slow.ok
    assert fast.objective == pytest.approx(slow.objective, rel=1e-6, abs=1e-6)


def test_hot_start_gives_the_same_answer_as_a_cold_solve(pool_profile: SiteProfile) -> None:
    model = planner.build(pool_profile, planner.PlannerSettings(horizon_steps=N))
    warm = planner.HighsSolver(model)
    first = _inputs(pool_profile, temp_c=29.0, queue_kwh=20.0, loss_w=60e3)
    second = _inputs(pool_profile, temp_c=31.0, queue_kwh=10.0, loss_w=5e3, ambient_c=20.0)
    assert warm.solve(planner.update(model, first)).ok
    hot = warm.solve(planner.update(model, second))
    cold = planner.HighsSolver(model).solve(planner.update(model, second))
    assert hot.objective == pytest.approx(cold.objective, rel=1e-9, abs=1e-9)


def test_time_limit_applies_per_solve_not_per_instance(pool_profile: SiteProfile) -> None:
    # HiGHS counts its time limit over the instance's life; the solver must re-arm it,
    # or a long simulation starts failing once the solves add up to the limit.
    model = planner.build(pool_profile, planner.PlannerSettings(horizon_steps=N))
    solver = planner.HighsSolver(model, time_limit_s=0.02)
    data = planner.update(model, _inputs(pool_profile, temp_c=29.5, queue_kwh=5.0,
                                         loss_w=40e3))
    runs = 0
    while solver.highs.getRunTime() < 0.1:
        assert solver.solve(data).ok
        runs += 1
    assert runs > 1


@pytest.fixture(scope="module")
def hotel_profile() -> SiteProfile:
    return load_site(HOTEL_SITE).profile


def _hotel_inputs(
    profile: SiteProfile, *, tank_c: float, top_above_mean_k: dict[str, float] | None
) -> planner.PlanInputs:
    n = N
    mids = STEP_H * 3600.0 * (np.arange(n) + 0.5)
    ambient = np.full(n, -5.0)
    draw = {s.id: np.full(n, 0.2 / 3600.0) for s in profile.sinks if s.kind == "dhw"}
    losses = sink_loss_lines(models_for(profile), OperatorSettings(), mids, ambient, draw)
    temps = {s.id: (tank_c if s.kind == "dhw" else s.setpoint_c) for s in profile.sinks}
    return planner.PlanInputs(
        start_s=0.0,
        sink_temp_c=temps,
        queue_kwh={g.id: 0.0 for g in profile.rack_groups},
        queue_due_kwh={g.id: np.zeros(n) for g in profile.rack_groups},
        must_run_w={g.id: np.full(n, g.idle_power_w) for g in profile.rack_groups},
        arrivals_kwh={g.id: np.zeros(n) for g in profile.rack_groups},
        ambient_c=ambient,
        sink_loss_w=losses,
        draw_w_per_k={k: v * 4.18e6 for k, v in draw.items()},
        price_eur_per_kwh=time_of_use_price(profile.prices, mids, profile.site.timezone),
        tank_top_above_mean_k=top_above_mean_k or {},
    )


def test_hot_water_backup_does_not_heat_the_tank(hotel_profile: SiteProfile) -> None:
    # Tank mean at 35 degC, well below its band (42 + 1 K margin), no deferred work: only
    # the idle racks' captured heat (9 kW) can warm it; the boiler downstream of the
    # preheat tank only tops up draws. So the planned tank temperature rises by no more
    # than the rack heat allows (4 m3: 4.6 kWh/K -> at most 9 kW * 2 h / 4.6 = 3.9 K).
    inputs = _hotel_inputs(hotel_profile, tank_c=35.0, top_above_mean_k={"dhw": 10.0})
    plan = _solve(hotel_profile, inputs)
    cap_kwh_per_k = 4.0 * 4.18e6 / 3.6e6  # 4 m3 of water [kWh/K], within 1 %
    rack_kwh = sum(g.idle_power_w * g.capture_fraction for g in hotel_profile.rack_groups)
    rack_kwh *= N * STEP_H / 1e3
    assert plan.sink_temp_c["dhw"][-1] <= 35.0 + rack_kwh / cap_kwh_per_k * 1.01
    assert plan.sink_temp_c["dhw"][-1] < 42.0  # it could not be "bought" back with gas
    # The heat the tank can take goes to the tank, ahead of the building (which has a
    # backup of its own).
    assert plan.sink_heat_w["dhw"].sum() > plan.sink_heat_w["heating"].sum()


def test_top_above_mean_raises_the_planned_draw_loss(hotel_profile: SiteProfile) -> None:
    # A tank planned on its mean with the top 10 K above it: draws leave at the top, so
    # each step's tank balance loses dt * w * 10 K more than for a well-mixed tank, and
    # the boiler's draw top-up is owed only below 45 - 10 degC of mean.
    model = planner.build(hotel_profile, planner.PlannerSettings(horizon_steps=N))
    mixed = planner.update(model, _hotel_inputs(hotel_profile, tank_c=46.0,
                                                top_above_mean_k={"dhw": 0.0}))
    layered = planner.update(model, _hotel_inputs(hotel_profile, tank_c=46.0,
                                                  top_above_mean_k={"dhw": 10.0}))
    w_kw_per_k = 0.2 / 3600.0 * 4.18e6 / 1e3
    sink = model.row(Row.SINK_DYNAMICS, "dhw")
    draw = model.row(Row.DRAW_TOP_UP, "dhw")
    np.testing.assert_allclose(mixed.row_lower[sink] - layered.row_lower[sink],
                               STEP_H * w_kw_per_k * 10.0, rtol=1e-9)
    np.testing.assert_allclose(mixed.row_lower[draw] - layered.row_lower[draw],
                               w_kw_per_k * 10.0, rtol=1e-9)


def test_operator_setpoint_moves_the_planned_low_point(pool_profile: SiteProfile) -> None:
    # The pool's backup starts 0.3 K below the set point in force: 29.7 degC on the
    # profile's 30 degC, 30.7 degC once an operator asks for 31 degC.
    model = planner.build(pool_profile, planner.PlannerSettings(horizon_steps=N))
    base = _inputs(pool_profile, temp_c=30.0, queue_kwh=0.0, loss_w=30e3)
    raised = dataclasses.replace(base, setpoint_c={"pool": 31.0})
    low = model.row(Row.COMFORT_LOW, "pool")
    np.testing.assert_allclose(planner.update(model, base).row_lower[low], 29.7)
    # From 30.0 degC the boiler alone (150 kW less the 30 kW loss) climbs to 30.7 degC
    # at (150 - 30) kW x 0.25 h / C per step: until then the low point is that climb.
    cap = model.sink_models["pool"].capacity_kwh_per_k
    climb = 30.0 + (150.0 - 30.0) * STEP_H / cap * np.arange(1, N + 1)
    np.testing.assert_allclose(planner.update(model, raised).row_lower[low],
                               np.minimum(30.7, climb))


def test_a_deficit_the_boiler_cannot_undo_is_not_the_plans(pool_profile: SiteProfile) -> None:
    """A pool a few hundredths below its backup point while its evaporation (here 190 kW)
    exceeds its boiler's 150 kW: the boiler alone loses 40 kW x 0.25 h / C per step.
    The low point follows that fall (the plan is not forced to run deferrable work at
    once, at any price), but never below the comfort band's 29.0 degC."""
    model = planner.build(pool_profile, planner.PlannerSettings(horizon_steps=N))
    data = planner.update(model, _inputs(pool_profile, temp_c=29.66, queue_kwh=0.0,
                                         loss_w=190e3))
    cap = model.sink_models["pool"].capacity_kwh_per_k
    fall = 29.66 - (190.0 - 150.0) * STEP_H / cap * np.arange(1, N + 1)
    np.testing.assert_allclose(data.row_lower[model.row(Row.COMFORT_LOW, "pool")],
                               np.maximum(29.0, fall))
    deep = planner.update(model, _inputs(pool_profile, temp_c=29.05, queue_kwh=0.0,
                                         loss_w=400e3))
    assert np.min(deep.row_lower[model.row(Row.COMFORT_LOW, "pool")]) == pytest.approx(29.0)


def test_dump_row_is_the_loop_model_capacity_with_its_air_side(
    pool_profile: SiteProfile,
) -> None:
    # The dry cooler's air warms across the coil (C_air = 8 m3/s x 1207 J/(m3 K)), so it
    # rejects less than a coil in unlimited air. The row bounds the dump by the loop
    # model's capacity for the water reaching it: rack outlet less what the pool took.
    from thermalctl.models.loop import HeatLoopModel
    from thermalctl.physics import drycooler

    # The pool at the top of its band wants no heat; lots of work waits: the plan dumps.
    inputs = _inputs(pool_profile, temp_c=31.0, queue_kwh=200.0, loss_w=0.0, ambient_c=5.0)
    plan = _solve(pool_profile, inputs)
    loop = HeatLoopModel.from_profile(pool_profile)
    c = loop.capacity_rate_w_per_k
    g = pool_profile.rack_groups[0]
    for k in range(N):
        captured = g.capture_fraction * (g.idle_power_w + plan.deferrable_w[g.id][k])
        water = plan.loop_supply_c[k] + (captured - plan.sink_heat_w["pool"][k]) / c
        assert plan.dump_w[k] <= loop.dump_capacity_w(water, 5.0) * (1 + 1e-6) + 1e-3
    assert plan.dump_w.max() > 10e3
    cooler = pool_profile.heat_loop.dry_cooler
    no_air_side_w = float(drycooler.rejection_capacity_w(cooler.ua_w_per_k, 40.0, 5.0, c))
    assert loop.dump_capacity_w(40.0, 5.0) < 0.95 * no_air_side_w


def test_plan_never_takes_the_loop_past_the_racks_coolant_limits(
    pool_profile: SiteProfile,
) -> None:
    inputs = _inputs(pool_profile, temp_c=29.5, queue_kwh=300.0, loss_w=20e3, ambient_c=5.0)
    plan = _solve(pool_profile, inputs)
    g = pool_profile.rack_groups[0]
    from thermalctl.models.loop import HeatLoopModel

    loop = HeatLoopModel.from_profile(pool_profile)
    margin = planner.PlannerSettings().loop_margin_k
    assert plan.loop_supply_c.max() <= g.coolant_inlet_limit_c - margin + 1e-6
    for k in range(N):
        outlet = loop.group_outlet_temp_c(g, float(plan.loop_supply_c[k]),
                                          g.idle_power_w + float(plan.deferrable_w[g.id][k]))
        assert outlet <= g.coolant_outlet_limit_c - margin + 1e-6
