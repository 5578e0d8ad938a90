"""``thermalctl assess --site F [--weather EPW] [--years N | --days D] [--out DIR]
[--lang en|de] [--json] [-q]``: the feasibility study of a candidate site.

Simulates the site (:func:`thermalctl.sim.offline.simulate`, the one control core on
the simulated plant) with the ``thermostat`` (today's practice, for reference),
``rules`` and ``mpc`` policies, keeps an hourly trace of each run (:class:`Trace`) and
writes the study (:func:`thermalctl.reports.assess.build_assessment`): PDF, HTML and
CSV, every page marked as a projection. The runs go to up to ``--jobs`` processes
(default: one per policy, at most the machine's cores); each reports its progress on
stderr once it has run a few seconds (``-q`` silences it). A full year is what a user
wants (the default); ``--days`` or a fractional ``--years`` make a short check.

The period starts on 1 January (site local time) of ``--year``, by default the first
calendar year the site runs whole (the year after its commissioning date, or that year
when it is commissioned on 1 January). An EPW file's rows are read at its LOCATION time
zone, as the format defines; ``--epw-utc-offset 0`` reads a PVGIS export, whose rows are
UTC (:func:`thermalctl.sim.readers.read_epw`).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from thermalctl.config import ConfigError, load_site
from thermalctl.config.site import SiteProfile
from thermalctl.control.forecast import time_of_use_price
from thermalctl.models.localtime import zone
from thermalctl.reports.assess import (
    PolicyProjection,
    SinkProjection,
    assessment_folder,
    build_assessment,
    summary,
)
from thermalctl.reports.i18n import LANGUAGES, Catalogue
from thermalctl.reports.info import report_info_from_profile
from thermalctl.sim.accounting import fuel_price_eur_per_kwh
from thermalctl.sim.offline import simulate
from thermalctl.sim.offline_cli import PROGRESS_AFTER_S
from thermalctl.sim.plant import Plant
from thermalctl.sim.readers import read_epw

__all__ = ["POLICIES", "Trace", "add_arguments", "default_year", "project", "run"]

#: The policies of a study: today's practice for reference, then the two thermalctl runs.
POLICIES = ("thermostat", "rules", "mpc")
#: The order the runs start in: the longest first, so that it never waits for a worker.
RUN_ORDER = ("mpc", "rules", "thermostat")
#: Progress lines of one run come at most this often [s] (three runs share stderr for
#: up to an hour).
PROGRESS_EVERY_S = 15.0
#: The trace's sampling period [s].
TRACE_PERIOD_S = 3600.0
DAYS_PER_YEAR = 365.0


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``assess`` sub-command's options to ``parser``."""
    parser.add_argument("--site", required=True, metavar="FILE", help="site profile YAML")
    parser.add_argument("--weather", metavar="EPW",
                        help="EPW weather file (default: synthetic weather from the profile)")
    parser.add_argument("--epw-utc-offset", type=float, metavar="H",
                        help="read the EPW rows at UTC+H (default: the file's LOCATION time "
                        "zone; 0 for a PVGIS export, whose rows are UTC)")  # fmt: skip
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--years", type=_positive, default=1.0, metavar="N",
                        help="simulated years (default 1; fractions allowed)")
    length.add_argument("--days", type=_positive, metavar="D",
                        help="simulated days instead of years (a short check)")
    parser.add_argument("--year", type=int, metavar="YYYY",
                        help="first simulated calendar year (default: the first whole year "
                        "of operation after the commissioning date)")  # fmt: skip
    parser.add_argument("--out", metavar="DIR", help="output folder (default: "
                        "reporting.report_dir/<site>_<start>_<end>_assess)")
    parser.add_argument("--lang", choices=LANGUAGES, default="en",
                        help="language of the study: en (default) or de (German edition)")
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="simulations run in parallel (default: one per policy, at most "
                        "the machine's cores)")  # fmt: skip
    parser.add_argument("--json", action="store_true",
                        help="print the study's figures and files as one JSON object")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress on stderr (shown for runs longer than a few seconds)")


def default_year(commissioned: dt.date) -> int:
    """The first calendar year the site runs whole."""
    return commissioned.year if (commissioned.month, commissioned.day) == (1, 1) \
        else commissioned.year + 1


class Trace:
    """Recorder for :func:`simulate`: hourly cumulative counters and, step by step, what
    the backup heaters would burn for all the heat (the reference), what they still burn,
    and the heat pumps' electricity, priced at the step's time-of-use price."""

    def __init__(self, profile: SiteProfile, start_s: float, end_s: float) -> None:
        self.profile = profile
        self.end_s = end_s
        self.times_s: list[float] = [start_s]
        self.rows: list[tuple[float, float, float, float, float]] = [(0.0,) * 5]
        self._next_s = start_s + TRACE_PERIOD_S
        self._last_s = start_s
        ids = [s.id for s in profile.sinks]
        self._heat = dict.fromkeys(ids, 0.0)
        self._backup = dict.fromkeys(ids, 0.0)
        self._hp = 0.0
        self.reference = {sid: [0.0, 0.0, 0.0] for sid in ids}  # fuel kWh, EUR, kg
        self.avoided = {sid: [0.0, 0.0, 0.0] for sid in ids}
        self.fuel = [0.0, 0.0, 0.0]
        self.heat_pump = [0.0, 0.0, 0.0]
        self._prices: dict[int, float] = {}

    def _price(self, time_s: float) -> float:
        key = math.floor(time_s / 900.0)  # tariffs change on the quarter hour
        if key not in self._prices:
            p = self.profile
            self._prices[key] = float(
                time_of_use_price(p.prices, np.array([key * 900.0]), p.site.timezone)[0])
        return self._prices[key]

    def __call__(self, plant: Plant) -> None:
        t, p = plant.totals, self.profile
        now = plant.time_s
        price = self._price(0.5 * (now + self._last_s))
        self._last_s = now
        for sink in p.sinks:
            heat, backup = t.heat_kwh[sink.id], t.backup_kwh[sink.id]
            d_heat, d_backup = heat - self._heat[sink.id], backup - self._backup[sink.id]
            self._heat[sink.id], self._backup[sink.id] = heat, backup
            if d_heat == 0.0 and d_backup == 0.0:
                continue
            eff, fuel = sink.backup.efficiency, sink.backup.fuel
            fuel_price = fuel_price_eur_per_kwh(fuel, p, price)
            co2 = p.prices.gas_co2_kg_per_kwh if fuel == "gas" else p.prices.grid_co2_kg_per_kwh
            for book, energy in ((self.reference[sink.id], (d_heat + d_backup) / eff),
                                 (self.avoided[sink.id], d_heat / eff),
                                 (self.fuel, d_backup / eff)):  # fmt: skip
                book[0] += energy
                book[1] += energy * fuel_price
                book[2] += energy * co2
        hp = float(t.heat_pump_electricity_kwh)
        d_hp, self._hp = hp - self._hp, hp
        if d_hp:
            self.heat_pump[0] += d_hp
            self.heat_pump[1] += d_hp * price
            self.heat_pump[2] += d_hp * p.prices.grid_co2_kg_per_kwh
        if now >= self._next_s - 1e-6 or now >= self.end_s - 1e-6:
            self.times_s.append(now)
            self.rows.append((t.facility_kwh, t.it_kwh, sum(self._heat.values()),
                              t.dumped_kwh, sum(self._backup.values())))  # fmt: skip
            while self._next_s <= now + 1e-6:
                self._next_s += TRACE_PERIOD_S

    def counters(self) -> pd.DataFrame:
        """The hourly cumulative counters [kWh] on a UTC index."""
        index = pd.to_datetime(np.array(self.times_s), unit="s", utc=True)
        columns = ["facility_kwh", "it_kwh", "reused_heat_kwh", "dumped_heat_kwh",
                   "backup_heat_kwh"]  # fmt: skip
        return pd.DataFrame(self.rows, index=index, columns=columns)

    def projection(self, policy: str, metrics: dict[str, object]) -> PolicyProjection:
        sinks = []
        for sink in self.profile.sinks:
            figures = metrics["sinks"][sink.id]  # type: ignore[index]
            over = figures.get("overheating_kwh")
            sinks.append(SinkProjection(
                sink_id=sink.id, name=sink.name or sink.id, kind=sink.kind,
                demand_kwh=self._heat[sink.id] + self._backup[sink.id],
                reused_kwh=self._heat[sink.id], backup_kwh=self._backup[sink.id],
                overheating_kwh=0.0 if over is None else float(over),
                avoided_fuel_kwh=self.avoided[sink.id][0],
                avoided_fuel_eur=self.avoided[sink.id][1],
                avoided_co2_kg=self.avoided[sink.id][2]))  # fmt: skip
        ref = [sum(v[i] for v in self.reference.values()) for i in range(3)]
        return PolicyProjection(
            policy=policy, metrics=metrics, counters=self.counters(), sinks=tuple(sinks),
            reference_fuel_kwh=ref[0], reference_fuel_eur=ref[1], reference_co2_kg=ref[2],
            fuel_kwh=self.fuel[0], fuel_eur=self.fuel[1], fuel_co2_kg=self.fuel[2],
            heat_pump_electricity_kwh=self.heat_pump[0], heat_pump_eur=self.heat_pump[1],
            heat_pump_co2_kg=self.heat_pump[2])  # fmt: skip


class Progress:
    """``<site> <policy>: 42% simulated (3 min 10 s, about 4 min 22 s left)`` on stderr,
    once the run has taken :data:`PROGRESS_AFTER_S`, then every :data:`PROGRESS_EVERY_S`."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.monotonic()
        self.last: float | None = None

    def __call__(self, done_fraction: float) -> None:
        now = time.monotonic()
        elapsed = now - self.started
        if elapsed < PROGRESS_AFTER_S:
            return
        if self.last is not None and now - self.last < PROGRESS_EVERY_S and done_fraction < 1:
            return
        self.last = now
        en = Catalogue("en")
        left = elapsed * (1.0 - done_fraction) / done_fraction if done_fraction > 0 else math.nan
        rest = f", about {en.duration(left)} left" if done_fraction < 1.0 else ""
        print(f"{self.label}: {done_fraction:.0%} simulated ({en.duration(elapsed)}{rest})",
              file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Task:
    """One simulation of a study (picklable: it crosses to a worker process)."""

    site: str
    policy: str
    start_s: float
    days: float
    weather: str | None
    utc_offset_h: float | None
    weather_source: str
    progress: bool


def project(task: Task) -> PolicyProjection:
    """Simulate one policy of a study and return its projection."""
    profile = load_site(task.site).profile
    weather = read_epw(task.weather, utc_offset_h=task.utc_offset_h) if task.weather else None
    trace = Trace(profile, task.start_s, task.start_s + task.days * 86_400.0)
    progress = Progress(f"{profile.site.id} {task.policy}") if task.progress else None
    result = simulate(profile, task.policy, task.days, start_s=task.start_s, weather=weather,
                      weather_source=task.weather_source, progress=progress,
                      recorder=trace)  # fmt: skip
    return trace.projection(task.policy, result.metrics)


def _worker_init() -> None:
    """A worker writes nothing to stdout: what a solver prints goes to stderr."""
    sys.stdout.flush()
    os.dup2(2, 1)


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """File descriptor 1 on stderr while the simulations run in this process: stdout
    carries the study's files (or its JSON) and nothing a solver prints."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _run_all(tasks: Sequence[Task], jobs: int) -> list[PolicyProjection]:
    if jobs <= 1:
        with _stdout_to_stderr():
            return [project(task) for task in tasks]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                             initializer=_worker_init) as pool:  # fmt: skip
        return list(pool.map(project, tasks))


def _weather_text(args: argparse.Namespace, profile: SiteProfile, t: Catalogue) -> str:
    if not args.weather:
        s = profile.simulation
        return t("assess.assume.synthetic", mean=s.weather_mean_temp_c,
                 annual=s.weather_annual_amplitude_k, daily=s.weather_daily_amplitude_k)
    offset = read_epw(args.weather, utc_offset_h=args.epw_utc_offset).utc_offset_h
    why = t("assess.assume.epw_header" if args.epw_utc_offset is None
            else "assess.assume.epw_given")  # fmt: skip
    return f"EPW {Path(args.weather).name}; " + t("assess.assume.epw_offset", offset=f"{offset:+g}",
                                                 why=why)


def run(args: argparse.Namespace) -> int:
    """Run ``thermalctl assess``; returns the exit status."""
    try:
        site = load_site(args.site)
        profile = site.profile
        t = Catalogue(args.lang)
        info = report_info_from_profile(profile)
        days = args.days if args.days is not None else args.years * DAYS_PER_YEAR
        year = args.year if args.year is not None else default_year(profile.site.commissioned)
        start = dt.datetime(year, 1, 1, tzinfo=zone(profile.site.timezone))
        weather = _weather_text(args, profile, t)
        start_ts = pd.Timestamp(start).tz_convert("UTC")
        end_ts = start_ts + pd.Timedelta(days=days)
        jobs = args.jobs or min(len(POLICIES), os.cpu_count() or 1)
        tasks = [Task(str(site.path or args.site), policy, start.timestamp(), days, args.weather,
                      args.epw_utc_offset, weather, not args.quiet) for policy in RUN_ORDER]
        if not args.quiet:
            print(f"thermalctl assess: {profile.site.id}, {days:g} days from {start:%Y-%m-%d}, "
                  f"policies {', '.join(POLICIES)} ({jobs} in parallel)", file=sys.stderr)
        runs = _run_all(tasks, jobs)
        out = Path(args.out) if args.out else assessment_folder(
            profile.reporting.report_dir, info, start_ts, end_ts)
        assumptions = [t("assess.assume.workload", power=info.installed_it_power_kw)]
        files = build_assessment(runs, info, out, start_ts, end_ts, weather=weather,
                                 assumptions=assumptions, lang=args.lang)  # fmt: skip
    except ConfigError:
        raise  # the CLI prints every issue
    except (OSError, ValueError) as exc:
        print(f"thermalctl assess: error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        document = summary(files.assessment)
        document["files"] = [str(p) for p in files.paths]
        print(json.dumps(document, indent=2, default=str))
    else:
        for path in files.paths:
            print(path)
    return 0
