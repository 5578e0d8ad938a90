"""Where mpc's gap goes: the planner with one forecast made perfect at a time.

    python tools/forecast_ladder.py --sites site_profiles/frankfurt_office_rdhx.yaml \\
        site_profiles/harbour_hotel_dhw.yaml --start 2026-01-05 --days 14

Each line is one run of the planner on the simulated plant, the site's own weather
(tools/bench_policies.py: SITE_WEATHER), through the one control core:

* ``mpc``: forecasts from the past only (the shipped ``mpc``);
* ``perfect <part>``: ``mpc`` with that part of its forecast replaced by the simulator's
  true future (:class:`thermalctl.control.forecast.OracleForecaster`): ``weather``,
  ``draws`` (hot water), ``must_run``, ``arrivals`` (deferrable work), ``queue`` (the
  queued work's ages and amount), ``workload`` (the last three);
* ``mpc_perfect``: every forecast perfect (the shipped ``mpc_perfect``);
* the same two with the horizons of ``--horizons`` beyond 24 h.

A measurement, not a controller: the mixed forecaster lives here, not in thermalctl.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_policies import site_weather

from thermalctl.config.loader import load_site
from thermalctl.config.site import SiteProfile
from thermalctl.control import planner
from thermalctl.control.forecast import (
    Forecast,
    HistoryForecaster,
    OracleForecaster,
    sink_loss_lines,
)
from thermalctl.control.policies import PlanningPolicy
from thermalctl.control.settings import OperatorSettings
from thermalctl.control.state import SiteState
from thermalctl.models.localtime import zone
from thermalctl.sim.offline import PlantFuture, simulate

#: Forecast fields each part replaces.
PARTS: dict[str, tuple[str, ...]] = {
    "weather": ("ambient_c",),
    "draws": ("draw_m3_per_s",),
    "must_run": ("must_run_w",),
    "arrivals": ("arrivals_kwh",),
    "queue": ("queue_due_kwh", "queue_kwh"),
    "workload": ("must_run_w", "arrivals_kwh", "queue_due_kwh", "queue_kwh"),
}
FIGURES = ("backup_heat_kwh", "dumped_heat_kwh", "total_cost_eur", "plan_failures")


class MixedForecaster(HistoryForecaster):
    """The history forecaster with some fields taken from the true future."""

    def __init__(self, profile: SiteProfile, oracle: OracleForecaster,
                 fields: tuple[str, ...]) -> None:
        super().__init__(profile)
        self.oracle = oracle
        self.fields = fields

    def forecast(self, state: SiteState, settings: OperatorSettings, start_s: float,
                 step_s: float, n: int) -> Forecast:
        own = super().forecast(state, settings, start_s, step_s, n)
        true = self.oracle.forecast(state, settings, start_s, step_s, n)
        mixed = dataclasses.replace(own, **{f: getattr(true, f) for f in self.fields})
        mids = (start_s + step_s * (np.arange(n) + 0.5)).astype(np.float64)
        losses = sink_loss_lines(self.sink_models, settings, mids, mixed.ambient_c,
                                 mixed.draw_m3_per_s)
        return dataclasses.replace(mixed, sink_loss_w=losses)


def _factory(fields: tuple[str, ...] | None, steps: int
             ) -> Callable[[SiteProfile, PlantFuture], PlanningPolicy]:
    """A planner of ``steps`` steps with those forecast fields perfect (None: all)."""
    def build(profile: SiteProfile, future: PlantFuture) -> PlanningPolicy:
        s = planner.PlannerSettings(horizon_steps=steps)
        oracle = OracleForecaster(profile, future, s.deadline_margin_h)
        forecaster = (oracle if fields is None
                      else MixedForecaster(profile, oracle, fields))
        return PlanningPolicy("mpc", profile, forecaster, s)
    return build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", nargs="+", required=True)
    parser.add_argument("--start", default="2026-01-05", help="ISO date, site local time")
    parser.add_argument("--days", type=float, default=14.0)
    parser.add_argument("--parts", nargs="*", default=list(PARTS), choices=list(PARTS))
    parser.add_argument("--horizons", nargs="*", type=float, default=[48.0],
                        help="further horizons [h] for mpc and mpc_perfect")
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    for site_path in args.sites:
        profile = load_site(site_path).profile
        weather, source = site_weather(profile)
        start = dt.datetime.fromisoformat(args.start).replace(
            tzinfo=zone(profile.site.timezone)).timestamp()
        runs: list[tuple[str, tuple[str, ...] | None, int]] = [("mpc", (), 96)]
        runs += [(f"perfect {part}", PARTS[part], 96) for part in args.parts]
        runs += [("mpc_perfect", None, 96)]
        for hours in args.horizons:
            steps = round(hours * 4)
            runs += [(f"mpc, {hours:g} h", (), steps), (f"mpc_perfect, {hours:g} h", None, steps)]
        for label, fields, steps in runs:
            wall = time.perf_counter()
            m = simulate(profile, "mpc", args.days, start_s=start, weather=weather,
                         weather_source=source, policy_factory=_factory(fields, steps)).metrics
            row = {"site": profile.site.id, "run": label,
                   **{k: m.get(k) for k in FIGURES},
                   "wall_s": round(time.perf_counter() - wall, 1)}
            rows.append(row)
            print(f"{row['site']:<22} {label:<24} backup {m['backup_heat_kwh'] / 1e3:7.2f} MWh"
                  f"  dumped {m['dumped_heat_kwh'] / 1e3:6.2f} MWh"
                  f"  total {m['total_cost_eur'] / 1e3:6.2f} kEUR"
                  f"  failed plans {m['plan_failures']}  {row['wall_s']:.0f} s", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
