"""Wall time of a simulated year per shipped site and policy (``thermalctl simulate``'s engine).

    python tools/bench_year.py                       # every site, thermostat and mpc, 365 days
    python tools/bench_year.py --days 14 --policies thermostat rules mpc
    python tools/bench_year.py --sites site_profiles/harbour_hotel_dhw.yaml --json out.json

Each run is :func:`thermalctl.sim.offline.simulate` from ``--start`` (default a Monday in
January, the CLI's default) with the site's own weather (the same choice as
``tools/bench_policies.py``: the real EPW where one fits, else the profile's synthetic
weather), one run at a time so the wall times compare. Printed per row: wall and CPU time
[s], simulated days per wall second, the number of plans and their median and p95
solve time [ms], and the part of the wall time spent in the solver (plans x mean solve
time is not kept, so ``solver s`` is median x plans, an estimate). Target: a year in
60 s or less per site (issue 11). Nothing is asserted: this prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from bench_policies import _start_s, render, site_weather  # noqa: E402

from thermalctl.config.loader import load_site  # noqa: E402
from thermalctl.sim.offline import simulate  # noqa: E402

#: The year target per site and policy [s] (issue 11, item 6).
TARGET_S = 60.0
COLUMNS = ("site", "policy", "days", "wall s", "cpu s", "days/s", "plans",
           "solve ms median", "solve ms p95", "solver s (est.)")


def run_one(site_path: str, policy: str, days: float, start: str) -> dict[str, Any]:
    """One simulated run; its timing figures (and the metrics' energy figures)."""
    profile = load_site(site_path).profile
    weather, source = site_weather(profile)
    cpu = time.process_time()
    wall = time.perf_counter()
    m = simulate(profile, policy, days, start_s=_start_s(profile, start), weather=weather,
                 weather_source=source).metrics
    wall_s = time.perf_counter() - wall
    median = m.get("solve_ms_median")
    return {
        "site": m["site"], "policy": m["policy"], "days": days, "weather": source,
        "wall_s": wall_s, "cpu_s": time.process_time() - cpu,
        "days_per_s": days / wall_s if wall_s > 0 else None,
        "plans": m.get("plans", 0),
        "solve_ms_median": median, "solve_ms_p95": m.get("solve_ms_p95"),
        "solver_s_estimate": (median * m.get("plans", 0) / 1e3) if median else None,
        "reused_heat_kwh": m.get("reused_heat_kwh"),
        "backup_heat_kwh": m.get("backup_heat_kwh"),
    }


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def table(rows: list[dict[str, Any]]) -> str:
    cells = [[r["site"], r["policy"], _fmt(r["days"], 0), _fmt(r["wall_s"]), _fmt(r["cpu_s"]),
              _fmt(r["days_per_s"]), str(r["plans"]), _fmt(r["solve_ms_median"], 2),
              _fmt(r["solve_ms_p95"], 2), _fmt(r["solver_s_estimate"])] for r in rows]
    return render(COLUMNS, cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--start", default="2026-01-05",
                        help="start, ISO date; without an offset in each site's local time")
    parser.add_argument("--sites", nargs="*",
                        default=[str(p) for p in sorted((ROOT / "site_profiles").glob("*.yaml"))])
    parser.add_argument("--policies", nargs="*", default=["thermostat", "mpc"])
    parser.add_argument("--json", help="also write the rows to this JSON file")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    print(f"{args.days:g} days from {args.start}; {os.cpu_count()} cores; load average at "
          f"start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", flush=True)
    rows: list[dict[str, Any]] = []
    for site_path in args.sites:
        for policy in args.policies:
            row = run_one(site_path, policy, args.days, args.start)
            rows.append(row)
            verdict = "within" if row["wall_s"] <= TARGET_S * args.days / 365.0 else "above"
            print(f"{row['site']} {policy}: {row['wall_s']:.1f} s wall, {row['cpu_s']:.1f} s "
                  f"CPU ({verdict} the {TARGET_S:g} s/year target)", file=sys.stderr, flush=True)
            if args.json:
                Path(args.json).write_text(json.dumps(rows, indent=2))
    load = os.getloadavg()
    print(table(rows))
    print(f"load average at end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
