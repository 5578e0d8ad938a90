"""Invariants of the contest on every shipped site, for every policy, in three seasons.

Each case is a short run (:data:`DAYS` days) from a winter, a shoulder-season and a
summer start, with the site's own weather (the real EPW where
``tools/bench_policies.SITE_WEATHER`` names one and ``../shared/data`` holds it). The
checks and their tolerances are :func:`thermalctl.sim.accounting.invariant_violations`:

* no heat dumped while a backup heater fires and that sink's exchanger has headroom
  (beyond 0.5 % of the IT energy);
* no space heating at or above the heating limit (beyond 0.1 % of the IT energy);
* comfort held (at most 0.1 K h outside the band per sink and day);
* every legionella cycle due done;
* energy balance closed within 0.1 % of the IT energy;
* deferred work on time;
* rack coolant within its limits (and rack power within its limits).

A policy that breaks one fails, whichever policy it is. ``bound`` is not a controller:
its figures are checked against the policies in ``tests/control/test_bound.py``.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, SITE_PROFILES
from thermalctl.config.loader import load_site
from thermalctl.models.localtime import zone
from thermalctl.sim.accounting import invariant_violations, unchecked_invariants
from thermalctl.sim.offline import simulate

#: Days per case: two, so a case sees a legionella cycle, a night and a day twice.
DAYS = 2.0
#: Local starts: a winter Monday, a shoulder-season Monday, a summer Monday.
SEASONS = {"winter": "2026-01-05", "shoulder": "2026-04-13", "summer": "2026-07-06"}
POLICIES = ("thermostat", "rules", "mpc")


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench", REPO / "tools/bench_policies.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def _run(site_path: str, policy: str, season: str) -> dict[str, Any]:
    profile = load_site(site_path).profile
    weather, source = _bench().site_weather(profile)
    start = dt.datetime.fromisoformat(SEASONS[season]).replace(
        tzinfo=zone(profile.site.timezone))
    return simulate(profile, policy, DAYS, start_s=start.timestamp(), weather=weather,
                    weather_source=source).metrics


#: Breaches known and reported to their owner, shown as xfail (not strict: the owner's
#: fix must not turn CI red) until fixed. Nothing here is a tolerance.
#: (Empty: the one breach it held, mpc passing the racks' coolant limit on the hotel in
#: April, is fixed by the feed-forward of the surplus to the dry cooler.)
KNOWN: dict[tuple[str, str, str], str] = {}


def _case(site: Path, policy: str, season: str) -> Any:
    reason = KNOWN.get((site.stem, policy, season))
    marks = [pytest.mark.xfail(strict=False, reason=reason)] if reason else []
    return pytest.param(str(site), policy, season, id=f"{site.stem}-{policy}-{season}",
                        marks=marks)


CASES = [
    _case(site, policy, season)
    for site in SITE_PROFILES
    for policy in POLICIES
    for season in SEASONS
]


@pytest.mark.slow
@pytest.mark.parametrize(("site_path", "policy", "season"), CASES)
def test_invariants_hold(site_path: str, policy: str, season: str) -> None:
    metrics = _run(site_path, policy, season)
    assert unchecked_invariants(metrics) == [], "the plant must count every invariant"
    broken = invariant_violations(metrics)
    assert broken == {}, f"{Path(site_path).stem} {policy} {season}: {broken}"
