"""``thermalctl simulate``: fast offline simulation of a policy (no network)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time

from thermalctl.config.loader import DEFAULT_SITE, load_site
from thermalctl.config.site import RackGroup, SiteProfile
from thermalctl.control.registry import ALIASES, POLICIES
from thermalctl.models.localtime import zone
from thermalctl.sim.inputs import Workload
from thermalctl.sim.offline import DECIDE_PERIOD_S, simulate
from thermalctl.sim.readers import (
    read_alibaba_duty_cycle,
    read_alibaba_pod_list,
    read_dhw_profile,
    read_epw,
    read_workload_csv,
)

__all__ = ["add_arguments", "run"]

#: Default simulated start: a Monday in January (winter: the sinks want heat).
DEFAULT_START = "2026-01-05"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", default=str(DEFAULT_SITE), help="site profile YAML")
    parser.add_argument("--days", type=float, default=7.0, help="simulated days (default 7)")
    parser.add_argument(
        "--policy", default="mpc", choices=[*POLICIES, *ALIASES],
        help="; ".join(f"{k}: {v}" for k, v in POLICIES.items())
        + "; aliases: " + ", ".join(f"{k} = {v}" for k, v in ALIASES.items()),
    )
    parser.add_argument("--weather", help="EPW weather file (default: synthetic)")
    parser.add_argument(
        "--workload",
        help="workload CSV for every rack group: utilisation or power_w over time, an "
        "Alibaba GenTD26 duty-cycle CSV/.tar.gz or a gpu-v2023 pod list",
    )
    parser.add_argument("--dhw", help="hot-water draws: one L/h value per minute, or CSV")
    parser.add_argument(
        "--start", default=DEFAULT_START,
        help="start date or time, ISO 8601; without an offset in the site's local time")
    parser.add_argument("--decide-period", type=float, default=DECIDE_PERIOD_S,
                        help="fast-decision period [s] (default %(default)s)")
    parser.add_argument("--backend", default="auto", choices=["auto", "highspy", "scipy"])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress on stderr (shown for runs longer than a few seconds)")
    parser.add_argument("--progress-after", type=float, default=PROGRESS_AFTER_S,
                        metavar="SECONDS",
                        help="show progress once the run has taken this long (default "
                        "%(default)s)")


#: Progress goes to stderr only once a run has taken this long [s] ...
PROGRESS_AFTER_S = 3.0
#: ... and then at most this often [s].
PROGRESS_EVERY_S = 2.0


class StderrProgress:
    """Prints ``<label>: 42 % simulated (12 s)`` to stderr, for runs longer than
    :data:`PROGRESS_AFTER_S`, at most every :data:`PROGRESS_EVERY_S`."""

    def __init__(self, label: str, after_s: float = PROGRESS_AFTER_S) -> None:
        self.label = label
        self.after_s = after_s
        self.started = time.monotonic()
        self.last = -float("inf")

    def __call__(self, done_fraction: float) -> None:
        now = time.monotonic()
        if now - self.started < self.after_s or now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        print(f"{self.label}: {done_fraction:.0%} simulated ({now - self.started:.0f} s)",
              file=sys.stderr, flush=True)


def _synthetic(profile: SiteProfile) -> str:
    s = profile.simulation
    return (f"synthetic: mean {s.weather_mean_temp_c:g} degC, annual amplitude "
            f"{s.weather_annual_amplitude_k:g} K, daily {s.weather_daily_amplitude_k:g} K")


def _workload(path: str, site_groups: tuple[RackGroup, ...]) -> dict[str, Workload]:
    out: dict[str, Workload] = {}
    for group in site_groups:
        if "duty_cycle" in path:
            out[group.id] = read_alibaba_duty_cycle(path, group)
        elif "pod_list" in path:
            out[group.id] = read_alibaba_pod_list(path, group)
        else:
            out[group.id] = read_workload_csv(path, group)
    return out


def run(args: argparse.Namespace) -> int:
    profile = load_site(args.site).profile
    start = dt.datetime.fromisoformat(args.start)
    if start.tzinfo is None:  # a date or time without offset is the site's local time
        start = start.replace(tzinfo=zone(profile.site.timezone))
    if args.days <= 0:
        print("thermalctl simulate: --days must be positive", file=sys.stderr)
        return 2
    result = simulate(
        profile,
        args.policy,
        args.days,
        start_s=start.timestamp(),
        weather=read_epw(args.weather) if args.weather else None,
        weather_source=f"epw:{args.weather}" if args.weather else _synthetic(profile),
        workloads=_workload(args.workload, profile.rack_groups) if args.workload else None,
        draw_shape=(
            read_dhw_profile(args.dhw, tz=profile.site.timezone) if args.dhw else None
        ),
        decide_period_s=args.decide_period,
        backend=args.backend,
        progress=None if args.quiet else StderrProgress(
            f"{profile.site.id} {args.policy}", args.progress_after),
    )
    metrics = result.metrics
    if args.json:
        print(json.dumps(metrics, indent=2))
    else:
        for key, value in metrics.items():
            shown = f"{value:.3f}" if isinstance(value, float) else str(value)
            print(f"{key:<34} {shown}")
    return 0
