"""Synthetic inputs on the site's clock: draws and workload in local time, weather in solar time."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from tests.conftest import HOTEL_SITE, POOL_SITE
from thermalctl.config.loader import load_site
from thermalctl.config.site import SiteProfile
from thermalctl.sim.inputs import (
    SyntheticWeather,
    SyntheticWorkload,
    draw_shape_for,
    draw_shape_fraction,
    solar_hour,
)

POOL = load_site(POOL_SITE).profile  # Exmouth: Europe/London, 3.41 deg W
HOTEL = load_site(HOTEL_SITE).profile  # Hamburg: Europe/Berlin, 9.99 deg E
JAN15_2026 = dt.datetime(2026, 1, 15, tzinfo=dt.UTC).timestamp()  # winter: CET = UTC+1
JUL15_2026 = dt.datetime(2026, 7, 15, tzinfo=dt.UTC).timestamp()  # summer: CEST = UTC+2
MINUTES = np.arange(1440) * 60.0


def _argmax_hour_utc(values: list[float]) -> float:
    return float(np.argmax(values)) / 60.0


def test_utc_draw_shape_is_the_old_one() -> None:
    for t in JAN15_2026 + np.linspace(0.0, 86400.0, 97):
        assert draw_shape_for("UTC")(float(t)) == draw_shape_fraction(float(t))
    # The old formula, by hand, at 07:30 UTC (the morning peak).
    norm = 0.15 * 24 + math.sqrt(2 * math.pi) * 3.0
    evening = math.exp(-0.5 * (12.0 / 1.8) ** 2)
    assert draw_shape_fraction(JAN15_2026 + 7.5 * 3600) == pytest.approx(
        (0.15 + 1.0 + evening) / norm / 3600.0
    )


@pytest.mark.parametrize(
    ("day_s", "peak_utc_h"),
    [(JAN15_2026, 6.5), (JUL15_2026, 5.5)],  # 07:30 CET, 07:30 CEST
)
def test_berlin_morning_peak_follows_the_wall_clock(day_s: float, peak_utc_h: float) -> None:
    shape = draw_shape_for("Europe/Berlin")
    morning = [shape(day_s + m) for m in MINUTES[: 12 * 60]]
    assert _argmax_hour_utc(morning) == pytest.approx(peak_utc_h)


def test_local_draw_shape_still_integrates_to_one_day() -> None:
    shape = draw_shape_for("Europe/Berlin")
    daily = sum(shape(JAN15_2026 + m) for m in MINUTES) * 60.0
    # The Gaussians are not wrapped at midnight: the evening one loses its tail past
    # 2.5 sigma, about 0.2 % of the day's volume.
    assert daily == pytest.approx(1.0, rel=0.005)


def test_unknown_zone_fails_when_the_shape_is_used() -> None:
    with pytest.raises(KeyError):  # zoneinfo.ZoneInfoNotFoundError
        draw_shape_for("Mars/Olympus")(JAN15_2026)


@pytest.mark.parametrize(("day_s", "offset_h"), [(JAN15_2026, 1.0), (JUL15_2026, 2.0)])
def test_workload_peaks_are_local_hours(day_s: float, offset_h: float) -> None:
    group = HOTEL.rack_groups[0]
    local = SyntheticWorkload(group, seed=7, tz="Europe/Berlin")
    utc = SyntheticWorkload(group, seed=7)
    must_run = [local.must_run_w(day_s + m) for m in MINUTES]
    assert _argmax_hour_utc(must_run) == pytest.approx(14.0 - offset_h)  # 14:00 local
    assert _argmax_hour_utc([utc.must_run_w(day_s + m) for m in MINUTES]) == pytest.approx(14.0)
    # Deferrable arrivals: same noise (seed, UTC day), shape peak at 11:00 local.
    for slot in range(0, 96, 7):
        mid_s = day_s + (slot + 0.5) * 900.0
        hour_local = ((mid_s + offset_h * 3600.0) % 86400.0) / 3600.0
        hour_utc = (mid_s % 86400.0) / 3600.0
        ratio = (1 + 0.6 * math.cos(2 * math.pi * (hour_local - 11) / 24)) / (
            1 + 0.6 * math.cos(2 * math.pi * (hour_utc - 11) / 24)
        )
        t = day_s + slot * 900.0
        assert local.arrival_rate_w(t) == pytest.approx(ratio * utc.arrival_rate_w(t))


def test_solar_hour() -> None:
    assert solar_hour(JAN15_2026, 0.0) == pytest.approx(0.0)
    assert solar_hour(JAN15_2026, 15.0) == pytest.approx(1.0)
    assert solar_hour(JAN15_2026, -3.41) == pytest.approx(24.0 - 3.41 / 15.0)


@pytest.mark.parametrize(("profile", "longitude_deg"), [(POOL, -3.41), (HOTEL, 9.99)])
def test_weather_is_coldest_at_three_solar_time(profile: SiteProfile, longitude_deg: float) -> None:
    weather = SyntheticWeather.for_site(profile)
    assert weather.longitude_deg == longitude_deg
    # 15 January: the annual cycle is at its minimum, so it does not move the daily one.
    day_s = dt.datetime(2026, 1, 16, tzinfo=dt.UTC).timestamp()
    coldest_utc_h = float(np.argmin([weather(day_s + m).temp_c for m in MINUTES])) / 60.0
    assert coldest_utc_h == pytest.approx(3.0 - longitude_deg / 15.0, abs=1.5 / 60)
    # The default (longitude 0) keeps the old UTC cycle.
    plain = SyntheticWeather(profile.simulation)
    assert float(np.argmin([plain(day_s + m).temp_c for m in MINUTES])) / 60.0 == 3.0
