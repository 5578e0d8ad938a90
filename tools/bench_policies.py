"""The contest: every shipped site x {thermostat, rules, mpc, bound}, one table.

    python tools/bench_policies.py                        # a simulated year per site
    python tools/bench_policies.py --fortnights           # 14 winter + 14 summer days
    python tools/bench_policies.py --days 28 --sites site_profiles/exmouth_pool.yaml

Each site runs with its own weather: the real EPW named in :data:`SITE_WEATHER` where
one fits the site (read from ``../shared/data``; synthetic with a note when absent),
else the profile's synthetic weather. Runs go one at a time, so wall times compare.

Columns: backup heat, dumped heat, overheating [MWh]; electricity, fuel and total cost
[kEUR] (total includes work left queued at the end, priced alike for all); CO2 [t];
time below and above the sinks' comfort bands [K h] (above: summer gains in buildings
without cooling, which no heating policy changes); late work [kWh]; invariant
violations (tests/sim/test_invariants.py's checks,
:func:`thermalctl.sim.accounting.invariant_violations`); the share of the
thermostat -> bound gap each policy closes, in backup heat and in total cost; wall time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from thermalctl.config.loader import load_site
from thermalctl.config.site import SiteProfile
from thermalctl.models.localtime import zone
from thermalctl.sim.accounting import invariant_violations
from thermalctl.sim.inputs import Weather
from thermalctl.sim.offline import simulate
from thermalctl.sim.readers import read_epw

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
POLICIES = ("thermostat", "rules", "mpc", "bound")
#: Real weather per site id: (file in ../shared/data, UTC offset override [h]). PVGIS
#: writes its rows in UTC whatever the header says (thermalctl.sim.readers.read_epw).
SITE_WEATHER: dict[str, tuple[str, float | None]] = {
    "piedmont_residential": ("pvgis_tmy_45.000_8.000_2005_2023.epw", 0.0),
}
#: The two fortnights of ``--fortnights``: a January and a July start (local time).
FORTNIGHTS = ("2026-01-05", "2026-07-06")
#: Additive figures, summed over the fortnights.
ADDITIVE = (
    "it_energy_kwh", "reused_heat_kwh", "dumped_heat_kwh", "backup_heat_kwh",
    "overheating_kwh", "heat_pump_electricity_kwh", "electricity_cost_eur", "fuel_cost_eur",
    "backlog_cost_eur", "total_cost_eur", "co2_kg", "below_band_kh", "above_band_kh",
    "deferred_work_late_kwh", "wall_s", "days",
    # The bound's backup in its least-cost solution (its backup column is the least
    # backup of a second solve): where the two differ, no policy reaches both.
    "backup_heat_kwh_at_least_cost",
)
COLUMNS = (
    ("site", "site", "{}"),
    ("policy", "policy", "{}"),
    ("backup MWh", "backup_heat_kwh", "{:.2f}"),
    ("dumped MWh", "dumped_heat_kwh", "{:.2f}"),
    ("overheat MWh", "overheating_kwh", "{:.2f}"),
    ("elec kEUR", "electricity_cost_eur", "{:.2f}"),
    ("fuel kEUR", "fuel_cost_eur", "{:.2f}"),
    ("total kEUR", "total_cost_eur", "{:.2f}"),
    ("CO2 t", "co2_kg", "{:.1f}"),
    ("below band Kh", "below_band_kh", "{:.2f}"),
    ("above band Kh", "above_band_kh", "{:.0f}"),
    ("late kWh", "deferred_work_late_kwh", "{:.1f}"),
    ("violations", "violations", "{}"),
    ("gap backup", "gap_backup", "{:.0%}"),
    ("gap cost", "gap_cost", "{:.0%}"),
    ("wall s", "wall_s", "{:.0f}"),
)
SCALE = {
    "backup_heat_kwh": 1e-3, "dumped_heat_kwh": 1e-3, "overheating_kwh": 1e-3,
    "electricity_cost_eur": 1e-3, "fuel_cost_eur": 1e-3, "total_cost_eur": 1e-3,
    "co2_kg": 1e-3,
}


def site_weather(profile: SiteProfile) -> tuple[Callable[[float], Weather] | None, str]:
    """The site's real weather if :data:`SITE_WEATHER` names a file that is present."""
    entry = SITE_WEATHER.get(profile.site.id)
    if entry is None:
        return None, "synthetic (profile simulation settings)"
    name, offset = entry
    path = SHARED_DATA / name
    if not path.is_file():
        return None, f"synthetic ({name} not found in {SHARED_DATA})"
    return read_epw(path, utc_offset_h=offset), f"epw:{name}"


def _start_s(profile: SiteProfile, start: str) -> float:
    when = dt.datetime.fromisoformat(start)
    if when.tzinfo is None:
        when = when.replace(tzinfo=zone(profile.site.timezone))
    return when.timestamp()


def run_site(
    profile: SiteProfile,
    policies: Sequence[str],
    windows: Sequence[tuple[str, float]],
    log: Callable[[str], None],
) -> list[dict[str, Any]]:
    """Every policy on one site over the windows (start, days); figures summed."""
    weather, source = site_weather(profile)
    rows: list[dict[str, Any]] = []
    for policy in policies:
        total: dict[str, Any] = {}
        violations: dict[str, str] = {}
        for start, days in windows:
            wall = time.perf_counter()
            m = simulate(profile, policy, days, start_s=_start_s(profile, start),
                         weather=weather, weather_source=source).metrics
            log(f"{profile.site.id} {policy} {start} +{days:g} d: "
                f"{time.perf_counter() - wall:.0f} s"
                + (f"; plan failures {m['plan_failures']}, retries {m['plan_retries']}"
                   if "plan_retries" in m else ""))
            for key in ("plan_failures", "fallback_decisions"):
                total[key] = total.get(key, 0) + int(m.get(key) or 0)
            for retry, count in (m.get("plan_retries") or {}).items():
                total.setdefault("plan_retries", {})
                total["plan_retries"][retry] = total["plan_retries"].get(retry, 0) + count
            if m.get("kind") != "bound":
                violations.update(invariant_violations(m))
                m["below_band_kh"] = sum(m["sink_below_band_kh"].values())
                m["above_band_kh"] = sum(m["sink_above_band_kh"].values())
            for key in ADDITIVE:
                value = m.get(key)
                if isinstance(value, (int, float)):
                    total[key] = total.get(key, 0.0) + float(value)
            total.setdefault("site", m["site"])
            total.setdefault("policy", m["policy"])
            total["weather"] = source
        total["violations"] = (
            "n/a" if policy == "bound" else (len(violations) and ", ".join(sorted(violations)))
            or 0
        )
        total["violation_reasons"] = violations
        rows.append(total)
    _gaps(rows)
    return rows


def _gaps(rows: list[dict[str, Any]]) -> None:
    """Share of the thermostat -> bound gap each row closes, in backup and in cost."""
    by = {r["policy"]: r for r in rows}
    base, bound = by.get("thermostat"), by.get("bound")
    for r in rows:
        for key, col in (("backup_heat_kwh", "gap_backup"), ("total_cost_eur", "gap_cost")):
            if base is None or bound is None or key not in r:
                continue
            gap = base[key] - bound[key]
            r[col] = (base[key] - r[key]) / gap if abs(gap) > 1e-9 else None


def merge(parts: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Rows of several runs in one list, by site then policy (:data:`POLICIES` order),
    a later file's row replacing an earlier one's; the gaps computed anew per site."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for part in parts:
        for row in part:
            rows[(row["site"], row["policy"])] = dict(row)
    order = {name: i for i, name in enumerate(POLICIES)}
    ordered = sorted(rows.values(), key=lambda r: (r["site"], order.get(r["policy"], 99)))
    out: list[dict[str, Any]] = []
    for site in dict.fromkeys(r["site"] for r in ordered):
        group = [r for r in ordered if r["site"] == site]
        _gaps(group)
        out += group
    return out


def footer(rows: Sequence[dict[str, Any]]) -> str:
    """The bound's backup at its least cost per site, where the rows hold it."""
    parts = [
        f"{r['site']}: {r['backup_heat_kwh_at_least_cost'] * 1e-3:.2f} MWh"
        for r in rows
        if r.get("policy") == "bound" and "backup_heat_kwh_at_least_cost" in r
    ]
    if not parts:
        return ""
    return "bound's backup at its least cost (its backup column is the least backup): " + (
        "; ".join(parts))


def _cell(row: dict[str, Any], key: str, fmt: str) -> str:
    value = row.get(key)
    if value is None:
        return "-"
    if isinstance(value, float) and key in SCALE:
        value = value * SCALE[key]
    try:
        return fmt.format(value)
    except (ValueError, TypeError):
        return str(value)


def render(header: Sequence[str], cells: Sequence[Sequence[str]], markdown: bool = False,
           right: bool = False) -> str:
    """A text table (columns padded, ``right``-aligned if asked) or a Markdown one; the
    tools' one renderer (bench_year.py and bench_planner.py use it too)."""
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in cells]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]

    def line(values: Sequence[str]) -> str:
        return " | ".join(v.rjust(w) if right else v.ljust(w)
                          for v, w in zip(values, widths, strict=True))

    return "\n".join([line(header), "-+-".join("-" * w for w in widths),
                      *(line(r) for r in cells)])


def table(rows: Sequence[dict[str, Any]], markdown: bool = False) -> str:
    cells = [[_cell(r, key, fmt) for _, key, fmt in COLUMNS] for r in rows]
    return render([c[0] for c in COLUMNS], cells, markdown=markdown)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--start", default="2026-01-05",
                        help="start, ISO date; without an offset in each site's local time")
    parser.add_argument("--fortnights", action="store_true",
                        help=f"14 days from each of {', '.join(FORTNIGHTS)} instead")
    parser.add_argument("--sites", nargs="*",
                        default=[str(p) for p in sorted((ROOT / "site_profiles").glob("*.yaml"))])
    parser.add_argument("--policies", nargs="*", default=list(POLICIES))
    parser.add_argument("--json", help="also write every row to this JSON file")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--merge", nargs="+", metavar="JSON",
                        help="run nothing: print one table of the rows these --json files "
                             "hold (e.g. policies run in separate processes), gaps anew")
    args = parser.parse_args(argv)
    if args.merge:
        rows = merge([json.loads(Path(f).read_text()) for f in args.merge])
        print(table(rows, markdown=args.markdown))
        print(footer(rows))
        return 0
    windows = ([(s, 14.0) for s in FORTNIGHTS] if args.fortnights
               else [(args.start, args.days)])

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    rows: list[dict[str, Any]] = []
    for site_path in args.sites:
        rows += run_site(load_site(site_path).profile, args.policies, windows, log)
        if args.json:  # after every site, so a long run leaves what it has done
            Path(args.json).write_text(json.dumps(rows, indent=2, default=str))
    what = " + ".join(f"{d:g} days from {s}" for s, d in windows)
    sources = {r["site"]: r["weather"] for r in rows}
    print(f"{what}; weather: " + "; ".join(f"{k}: {v}" for k, v in sources.items()))
    print(table(rows, markdown=args.markdown))
    print(footer(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
