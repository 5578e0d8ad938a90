"""Built-in synthetic inputs for the simulated site: weather, GPU workload, hot-water draws.

Nothing here needs a download. Each generator is deterministic for a seed and a
pure function of time, so a perfect-foresight (oracle) policy can look ahead
without disturbing the run. The shapes are simple and documented; real files
(EPW weather, workload traces, DHWcalc draw profiles) are read by
:mod:`thermalctl.sim.readers` and give the same callables.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from thermalctl.config.site import RackGroup, SimulationSettings

__all__ = [
    "SECONDS_PER_DAY",
    "WORKLOAD_SLOT_S",
    "DrawShape",
    "SyntheticWeather",
    "SyntheticWorkload",
    "Weather",
    "WeatherSource",
    "Workload",
    "WorkloadSeries",
    "draw_shape_fraction",
]

SECONDS_PER_DAY = 86_400.0
SECONDS_PER_YEAR = 365.0 * SECONDS_PER_DAY
#: Workload series are piecewise constant over slots of this length [s] (the planner's step).
WORKLOAD_SLOT_S = 900.0
_SLOTS_PER_DAY = int(SECONDS_PER_DAY / WORKLOAD_SLOT_S)
#: Shape parameter of the gamma noise on deferrable arrivals [-]: 2 gives a coefficient of
#: variation of 0.71 per 15-min slot (bursty batch submissions, always positive).
ARRIVAL_GAMMA_SHAPE = 2.0


@dataclass(frozen=True)
class Weather:
    temp_c: float
    relative_humidity: float
    wind_m_per_s: float


WeatherSource = Callable[[float], Weather]
DrawShape = Callable[[float], float]
"""Share of the daily hot-water volume drawn per second at a time [1/s] (mean 1/86400)."""


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


class Workload(Protocol):
    """Must-run power and deferrable arrivals of one rack group, as functions of time."""

    def must_run_w(self, time_s: float) -> float:
        """Must-run (inference) power above idle at ``time_s`` [W]."""
        ...

    def arrival_rate_w(self, time_s: float) -> float:
        """Deferrable work arriving per unit time at ``time_s`` [W = J/s of rack energy]."""
        ...

    def arrivals_kwh(self, time_s: float, dt_s: float) -> float:
        """Deferrable work [kWh at the racks] arriving in ``[time_s, time_s + dt_s)``."""
        ...


def _slot_integral(rate: Callable[[float], float], time_s: float, dt_s: float) -> float:
    """Integral of a slot-wise constant ``rate`` [W] over ``[time_s, time_s + dt_s)`` [kWh]."""
    energy_j = 0.0
    t = time_s
    end = time_s + dt_s
    while t < end - 1e-9:
        boundary = (math.floor(t / WORKLOAD_SLOT_S + 1e-9) + 1) * WORKLOAD_SLOT_S
        chunk = min(end, boundary) - t
        energy_j += rate(t) * chunk
        t += chunk
    return energy_j / 3.6e6


def _diurnal(time_s: float, peak_hour: float, depth: float) -> float:
    hour = (time_s % SECONDS_PER_DAY) / 3600.0
    return 1.0 + depth * math.cos(2 * math.pi * (hour - peak_hour) / 24.0)


class SyntheticWorkload:
    """Must-run (inference) power and deferrable (training/batch) arrivals for one group.

    Mean dynamic power is ``mean_utilisation * (max - idle)``; ``must_run_fraction``
    of it is inference following a daily curve (peak 14:00, +/-40 %), the rest
    arrives as deferrable work, mostly in office hours (peak 11:00, +/-60 %), with
    gamma noise per 15-min slot. The noise of a day is drawn from ``(seed, day)``,
    so the series is a pure function of time.
    """

    def __init__(self, group: RackGroup, seed: int) -> None:
        self.group = group
        dynamic_w = group.mean_utilisation_fraction * (group.max_power_w - group.idle_power_w)
        self.must_run_mean_w = dynamic_w * group.must_run_fraction
        self.deferrable_mean_w = dynamic_w * (1.0 - group.must_run_fraction)
        self.seed = seed
        self._noise: dict[int, npt.NDArray[np.float64]] = {}

    def _day_noise(self, day: int) -> npt.NDArray[np.float64]:
        noise = self._noise.get(day)
        if noise is None:
            rng = np.random.default_rng([self.seed, day & 0x7FFFFFFF])
            noise = rng.gamma(ARRIVAL_GAMMA_SHAPE, 1.0 / ARRIVAL_GAMMA_SHAPE, _SLOTS_PER_DAY)
            if len(self._noise) > 64:
                self._noise.clear()
            self._noise[day] = noise
        return noise

    def must_run_w(self, time_s: float) -> float:
        return self.must_run_mean_w * _diurnal(time_s, 14.0, 0.4)

    def arrival_rate_w(self, time_s: float) -> float:
        slot = math.floor(time_s / WORKLOAD_SLOT_S + 1e-9)
        day, index = divmod(slot, _SLOTS_PER_DAY)
        slot_mid_s = (slot + 0.5) * WORKLOAD_SLOT_S
        shape = _diurnal(slot_mid_s, 11.0, 0.6)
        return float(self.deferrable_mean_w * shape * self._day_noise(int(day))[int(index)])

    def arrivals_kwh(self, time_s: float, dt_s: float) -> float:
        return _slot_integral(self.arrival_rate_w, time_s, dt_s)


@dataclass
class WorkloadSeries:
    """A workload from a sampled series, repeated periodically.

    Parameters
    ----------
    must_run_w, arrival_rate_w : numpy.ndarray
        Must-run power above idle and deferrable arrival rate per sample [W].
    step_s : float
        Sample spacing [s].
    start_s : float
        Time of the first sample [s]; the series repeats after ``len * step_s``.
    """

    must_run: npt.NDArray[np.float64]
    arrival_rate: npt.NDArray[np.float64]
    step_s: float
    start_s: float = 0.0
    _period_s: float = field(init=False)

    def __post_init__(self) -> None:
        if self.must_run.shape != self.arrival_rate.shape or self.must_run.size == 0:
            raise ValueError("must_run and arrival_rate need the same, non-zero length")
        self._period_s = self.must_run.size * self.step_s

    def _index(self, time_s: float) -> int:
        offset = (time_s - self.start_s) % self._period_s
        return min(int(offset // self.step_s), self.must_run.size - 1)

    def must_run_w(self, time_s: float) -> float:
        return float(self.must_run[self._index(time_s)])

    def arrival_rate_w(self, time_s: float) -> float:
        return float(self.arrival_rate[self._index(time_s)])

    def arrivals_kwh(self, time_s: float, dt_s: float) -> float:
        return self.arrival_rate_w(time_s) * dt_s / 3.6e6


def draw_shape_fraction(time_s: float) -> float:
    """Share of the daily hot-water volume drawn per second at ``time_s`` (integrates to 1/day).

    Two peaks (07:30 and 19:30) on a small base, as in hotel and residential profiles
    (VDI 6002-1 hourly shapes).
    """
    hour = (time_s % SECONDS_PER_DAY) / 3600.0
    morning = math.exp(-0.5 * ((hour - 7.5) / 1.2) ** 2)
    evening = math.exp(-0.5 * ((hour - 19.5) / 1.8) ** 2)
    base = 0.15
    # integral over 24 h of (base + m + e) = base*24 + sqrt(2 pi)(1.2 + 1.8)
    norm = base * 24.0 + math.sqrt(2 * math.pi) * (1.2 + 1.8)
    return (base + morning + evening) / norm / 3600.0
