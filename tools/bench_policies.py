"""Benchmark the policies on the shipped sites: one table, one row per site and policy.

    python tools/bench_policies.py                 # both sites, a full year, every policy
    python tools/bench_policies.py --days 14 --sites site_profiles/exmouth_pool.yaml

Real inputs can be given as for ``thermalctl simulate`` (--weather, --workload, --dhw).
Runs one simulation at a time so that wall times are comparable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from thermalctl.config.loader import load_site
from thermalctl.sim.offline import simulate
from thermalctl.sim.offline_cli import DEFAULT_START, _workload
from thermalctl.sim.readers import read_dhw_profile, read_epw

ROOT = Path(__file__).resolve().parents[1]
SITES = (ROOT / "site_profiles/exmouth_pool.yaml", ROOT / "site_profiles/harbour_hotel_dhw.yaml")
COLUMNS = (
    ("site", "site", "{}"),
    ("policy", "policy", "{}"),
    ("it MWh", "it_energy_kwh", "{:.1f}"),
    ("reused MWh", "reused_heat_kwh", "{:.1f}"),
    ("dumped MWh", "dumped_heat_kwh", "{:.1f}"),
    ("backup MWh", "backup_heat_kwh", "{:.1f}"),
    ("PUE", "pue", "{:.3f}"),
    ("ERF", "erf", "{:.3f}"),
    ("comfort Kh", "comfort_violation_kh", "{:.1f}"),
    ("late kWh", "deferred_work_late_kwh", "{:.1f}"),
    ("rack viol", "rack_limit_violations", "{}"),
    ("solve ms med", "solve_ms_median", "{:.2f}"),
    ("wall s", "wall_s", "{:.1f}"),
)
MWH = {"it_energy_kwh", "reused_heat_kwh", "dumped_heat_kwh", "backup_heat_kwh"}


def _cell(metrics: dict[str, object], key: str, fmt: str) -> str:
    value = metrics.get(key)
    if value is None:
        return "-"
    if key in MWH and isinstance(value, float):
        value = value / 1000.0
    return fmt.format(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--sites", nargs="*", default=[str(s) for s in SITES])
    parser.add_argument("--policies", nargs="*", default=["baseline", "mpc", "oracle"])
    parser.add_argument("--start", default=DEFAULT_START)
    parser.add_argument("--weather")
    parser.add_argument("--workload")
    parser.add_argument("--dhw")
    parser.add_argument("--json", help="also write all metrics to this JSON file")
    args = parser.parse_args(argv)
    start = dt.datetime.fromisoformat(args.start).replace(tzinfo=dt.UTC).timestamp()
    rows: list[dict[str, object]] = []
    for site_path in args.sites:
        profile = load_site(site_path).profile
        for policy in args.policies:
            result = simulate(
                profile,
                policy,
                args.days,
                start_s=start,
                weather=read_epw(args.weather) if args.weather else None,
                workloads=_workload(args.workload, profile.rack_groups) if args.workload
                else None,
                draw_shape=(
                    read_dhw_profile(args.dhw, tz=profile.site.timezone) if args.dhw else None
                ),
            )
            rows.append(result.metrics)
            print(f"done {profile.site.id} {policy} in {result.metrics['wall_s']:.1f} s",
                  file=sys.stderr, flush=True)
    header = [c[0] for c in COLUMNS]
    cells = [[_cell(m, key, fmt) for _, key, fmt in COLUMNS] for m in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    print(f"{args.days:g} days from {args.start}")
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for r in cells:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
