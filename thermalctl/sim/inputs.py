"""Built-in synthetic inputs for the simulated site: weather, GPU workload, hot-water draws.

Nothing here needs a download. Each generator is deterministic for a seed. The
shapes are simple and documented; real files (EPW weather, workload traces,
DHWcalc draw profiles) are read by :mod:`thermalctl.sim.readers` and give the same
callables.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from thermalctl.config.site import RackGroup, SimulationSettings

__all__ = [
    "SECONDS_PER_DAY",
    "SyntheticWeather",
    "SyntheticWorkload",
    "Weather",
    "draw_shape_fraction",
]

SECONDS_PER_DAY = 86_400.0
SECONDS_PER_YEAR = 365.0 * SECONDS_PER_DAY


@dataclass(frozen=True)
class Weather:
    temp_c: float
    relative_humidity: float
    wind_m_per_s: float


@dataclass(frozen=True)
class SyntheticWeather:
    """Sinusoidal annual and daily temperature cycle.

    T(t) = mean - A_year cos(2 pi (day - 15) / 365) - A_day cos(2 pi (hour - 3) / 24):
    coldest in mid January and at 03:00, warmest mid July and at 15:00.
    """

    settings: SimulationSettings

    def __call__(self, time_s: float) -> Weather:
        day = (time_s % SECONDS_PER_YEAR) / SECONDS_PER_DAY
        hour = (time_s % SECONDS_PER_DAY) / 3600.0
        s = self.settings
        temp = (
            s.weather_mean_temp_c
            - s.weather_annual_amplitude_k * math.cos(2 * math.pi * (day - 15.0) / 365.0)
            - s.weather_daily_amplitude_k * math.cos(2 * math.pi * (hour - 3.0) / 24.0)
        )
        return Weather(temp_c=temp, relative_humidity=0.75, wind_m_per_s=3.0)


def _diurnal(time_s: float, peak_hour: float, depth: float) -> float:
    hour = (time_s % SECONDS_PER_DAY) / 3600.0
    return 1.0 + depth * math.cos(2 * math.pi * (hour - peak_hour) / 24.0)


class SyntheticWorkload:
    """Must-run (inference) power and deferrable (training/batch) arrivals for one group.

    Mean dynamic power is ``mean_utilisation * (max - idle)``; ``must_run_fraction``
    of it is inference following a daily curve (peak 14:00, +/-40 %), the rest
    arrives as deferrable work, in jobs of random size, mostly in office hours.
    """

    def __init__(self, group: RackGroup, seed: int) -> None:
        self.group = group
        dynamic_w = group.mean_utilisation_fraction * (group.max_power_w - group.idle_power_w)
        self.must_run_mean_w = dynamic_w * group.must_run_fraction
        self.deferrable_mean_w = dynamic_w * (1.0 - group.must_run_fraction)
        self._rng = np.random.default_rng(seed)

    def must_run_w(self, time_s: float) -> float:
        return self.must_run_mean_w * _diurnal(time_s, 14.0, 0.4)

    def arrivals_kwh(self, time_s: float, dt_s: float) -> float:
        """Deferrable work [kWh at the racks] arriving in ``[time_s, time_s + dt_s)``."""
        mean_kwh = self.deferrable_mean_w * _diurnal(time_s, 11.0, 0.6) * dt_s / 3.6e6
        # Gamma noise with the right mean keeps arrivals positive and bursty.
        return float(self._rng.gamma(2.0, mean_kwh / 2.0)) if mean_kwh > 0 else 0.0


def draw_shape_fraction(time_s: float) -> float:
    """Share of the daily hot-water volume drawn per second at ``time_s`` (integrates to 1/day).

    Two peaks (07:00 and 19:00) on a small base, as in hotel and residential profiles
    (VDI 6002-1 hourly shapes).
    """
    hour = (time_s % SECONDS_PER_DAY) / 3600.0
    morning = math.exp(-0.5 * ((hour - 7.5) / 1.2) ** 2)
    evening = math.exp(-0.5 * ((hour - 19.5) / 1.8) ** 2)
    base = 0.15
    # integral over 24 h of (base + m + e) = base*24 + sqrt(2 pi)(1.2 + 1.8)
    norm = base * 24.0 + math.sqrt(2 * math.pi) * (1.2 + 1.8)
    return (base + morning + evening) / norm / 3600.0


WeatherSource = Callable[[float], Weather]
