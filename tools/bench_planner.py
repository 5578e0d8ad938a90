"""Planner solve time against the horizon length and the number of rack groups.

    python tools/bench_planner.py                                  # 24/48/96/192 x 1/4/16/48
    python tools/bench_planner.py --horizons 96 --groups 1 48 --plans 60
    python tools/bench_planner.py --site site_profiles/harbour_hotel_dhw.yaml --backend scipy

For each rack-group count the site is generated from the profile the way
``tools/bench_tick.py --racks N`` does it (N copies of its first rack group, the loop and
dry cooler scaled with them); for each horizon the ``mpc`` policy is built with that many
15-min steps and run closed-loop on the simulated plant (the plant stepped 15 min between
plans, so every re-plan hot-starts from a moved state, as in ``thermalctl simulate``).
The first solve passes the model to HiGHS (cold); the median and p95 are over the hot
re-plans after it. ``update ms`` is the planner's own work per re-plan (forecast, costs,
bounds and coefficients: :func:`thermalctl.control.planner.update` and the policy's
inputs), outside the solver. Nothing is asserted: this prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from bench_policies import render  # noqa: E402
from bench_tick import with_racks  # noqa: E402

from thermalctl.config import load_site  # noqa: E402
from thermalctl.control import planner  # noqa: E402
from thermalctl.control.core import ControlCore, CoreMemory  # noqa: E402
from thermalctl.control.policies import PlanningPolicy  # noqa: E402
from thermalctl.control.registry import build_policy  # noqa: E402
from thermalctl.control.settings import OperatorSettings  # noqa: E402
from thermalctl.points import Mode  # noqa: E402
from thermalctl.runtime.app import percentile  # noqa: E402
from thermalctl.sim.inputs import SyntheticWeather  # noqa: E402
from thermalctl.sim.offline import measured_signals, plant_state  # noqa: E402
from thermalctl.sim.plant import Plant  # noqa: E402

#: A Monday in January, 00:00 UTC (winter: the sinks want heat).
START_S = 1_767_571_200.0


def run(site_path: Path, groups: int, horizon: int, plans: int, backend: str) -> dict[str, Any]:
    site = load_site(site_path)
    if groups != len(site.profile.rack_groups) or groups > 1:
        site = with_racks(site, groups)
    profile = site.profile
    settings = planner.PlannerSettings(horizon_steps=horizon)
    policy = build_policy("mpc", profile, settings=settings, backend=backend)
    assert isinstance(policy, PlanningPolicy)
    plant = Plant(profile, START_S)
    weather = SyntheticWeather.for_site(profile)
    plant.ambient = weather(START_S)
    signals = measured_signals(profile)
    core = ControlCore(profile, policy, signals)
    memory = CoreMemory()
    operator = OperatorSettings()
    state = plant_state(plant, signals=signals)
    plan_ms: list[float] = []
    for _ in range(plans):
        state = plant_state(plant, state, signals)
        start = time.perf_counter()
        core.plan(state, operator)
        plan_ms.append((time.perf_counter() - start) * 1e3)
        step = core.step(state, operator, memory)
        memory = step.memory
        if step.decision.mode is not Mode.MANUAL:
            cmd = plant.commands
            cmd.gpu_power_cap_w.update(step.decision.gpu_power_cap_w)
            cmd.sink_heat_request_w.update(step.decision.sink_heat_request_w)
            cmd.dump_on = step.decision.dump_on
            cmd.dump_heat_request_w = step.decision.dump_heat_request_w
        plant.step(settings.step_s, weather(plant.time_s))
    solve = policy.stats.solve_ms
    hot = solve[1:] or solve
    update = [p - s for p, s in zip(plan_ms, solve, strict=False)][1:]
    return {
        "site": profile.site.id, "groups": len(profile.rack_groups), "horizon_steps": horizon,
        "cols": policy.model.n_cols, "rows": policy.model.n_rows,
        "nonzeros": int(policy.model.matrix.nnz), "solver": policy.solver.name,
        "plans": len(solve), "failures": policy.stats.failures,
        "cold_ms": solve[0] if solve else None,
        "solve_ms_median": statistics.median(hot) if hot else None,
        "solve_ms_p95": percentile(hot, 95) if hot else None,
        "update_ms_median": statistics.median(update) if update else None,
    }


COLUMNS = (("groups", "groups", "{}"), ("horizon", "horizon_steps", "{}"),
           ("cols", "cols", "{}"), ("rows", "rows", "{}"), ("nnz", "nonzeros", "{}"),
           ("plans", "plans", "{}"), ("fail", "failures", "{}"),
           ("cold ms", "cold_ms", "{:.1f}"), ("solve ms median", "solve_ms_median", "{:.2f}"),
           ("solve ms p95", "solve_ms_p95", "{:.2f}"), ("update ms median", "update_ms_median",
                                                         "{:.2f}"))


def table(rows: list[dict[str, Any]]) -> str:
    cells = [["-" if r[k] is None else f.format(r[k]) for _, k, f in COLUMNS] for r in rows]
    return render([c[0] for c in COLUMNS], cells, right=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=ROOT / "site_profiles" / "exmouth_pool.yaml")
    parser.add_argument("--horizons", type=int, nargs="*", default=[24, 48, 96, 192])
    parser.add_argument("--groups", type=int, nargs="*", default=[1, 4, 16, 48])
    parser.add_argument("--plans", type=int, default=40,
                        help="re-plans per combination (the first one cold)")
    parser.add_argument("--backend", default="auto", choices=["auto", "highspy", "scipy"])
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    print(f"site {args.site.name}; {args.plans} plans per row; {os.cpu_count()} cores; load "
          f"average at start {load[0]:.2f}", flush=True)
    rows: list[dict[str, Any]] = []
    for groups in args.groups:
        for horizon in args.horizons:
            rows.append(run(args.site, groups, horizon, args.plans, args.backend))
            r = rows[-1]
            print(f"{groups} groups x {horizon} steps: median {r['solve_ms_median']:.2f} ms",
                  file=sys.stderr, flush=True)
            if args.json:
                Path(args.json).write_text(json.dumps(rows, indent=2))
    print(table(rows))
    print(f"load average at end {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
