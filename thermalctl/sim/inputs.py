"""Built-in synthetic inputs for the simulated site: weather, GPU workload, hot-water draws.

Nothing here needs a download. Each generator is deterministic for a seed and a
pure function of time, so a perfect-foresight (oracle) policy can look ahead
without disturbing the run. The shapes are simple and documented; real files
(EPW weather, workload traces, DHWcalc draw profiles) are read by
:mod:`thermalctl.sim.readers` and give the same callables.

Times are Unix seconds (UTC). Daily shapes are placed in the site's time:

* what people do (hot-water draws, inference demand, office-hours batch work) follows
  the local wall clock of the site's IANA time zone (``site.timezone``), daylight
  saving included, via :func:`thermalctl.models.localtime.local_hour`;
* the weather's daily cycle follows the sun, so it is placed in local mean solar time
  from the site's longitude (no daylight-saving jump in the weather).

Every ``tz`` / ``longitude_deg`` defaults to UTC / 0 deg, the behaviour before sites had
a time zone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from thermalctl.config.site import RackGroup, SimulationSettings, SiteProfile
from thermalctl.models.localtime import local_hour
from thermalctl.models.sinks.dhw import standard_draw_shape

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
    "draw_shape_for",
    "draw_shape_fraction",
    "solar_hour",
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


#: Earth turns 15 degrees of longitude per hour [deg/h].
DEG_PER_HOUR = 15.0


def solar_hour(time_s: float, longitude_deg: float) -> float:
    """Local mean solar time of day at ``longitude_deg`` (east positive) [h], in [0, 24).

    Mean solar time is UTC shifted by 4 min per degree of longitude; the equation of
    time (up to +/-16 min over the year) is left out, as it is far below the scale of
    a daily temperature cycle.

    >>> round(solar_hour(12 * 3600.0, 15.0), 3)  # 12:00 UTC at 15 deg E
    13.0
    """
    return ((time_s / 3600.0 + longitude_deg / DEG_PER_HOUR) % 24.0 + 24.0) % 24.0


@dataclass(frozen=True)
class SyntheticWeather:
    """Sinusoidal annual and daily temperature cycle.

    T(t) = mean - A_year cos(2 pi (day - 15) / 365) - A_day cos(2 pi (hour - 3) / 24):
    coldest in mid January and at 03:00, warmest mid July and at 15:00, where ``hour``
    is the local mean solar time at ``longitude_deg`` [deg, east positive]
    (:func:`solar_hour`). Longitude, not the time zone: the daily temperature cycle
    follows the sun, so it neither jumps with daylight saving nor depends on where a
    zone's border runs (Spain keeps CET at 4 deg W; Exmouth at 3.4 deg W is 14 min
    behind Greenwich). ``day`` is UTC; its shift is a fraction of a day in a yearly cycle.
    Build it for a site with :meth:`for_site`.
    """

    settings: SimulationSettings
    longitude_deg: float = 0.0

    @classmethod
    def for_site(cls, profile: SiteProfile) -> SyntheticWeather:
        """The synthetic weather of a site: its simulation settings and longitude."""
        return cls(profile.simulation, longitude_deg=profile.site.longitude_deg)

    def __call__(self, time_s: float) -> Weather:
        day = (time_s % SECONDS_PER_YEAR) / SECONDS_PER_DAY
        hour = solar_hour(time_s, self.longitude_deg)
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


def _diurnal(time_s: float, peak_hour: float, depth: float, tz: str) -> float:
    """Daily cosine ``1 + depth cos(2 pi (h - peak) / 24)`` of the local hour ``h`` in ``tz``."""
    hour = float(local_hour(time_s, tz))
    return 1.0 + depth * math.cos(2 * math.pi * (hour - peak_hour) / 24.0)


class SyntheticWorkload:
    """Must-run (inference) power and deferrable (training/batch) arrivals for one group.

    Mean dynamic power is ``mean_utilisation * (max - idle)``; ``must_run_fraction``
    of it is inference following a daily curve (peak 14:00, +/-40 %), the rest
    arrives as deferrable work, mostly in office hours (peak 11:00, +/-60 %), with
    gamma noise per 15-min slot. Both peaks are local wall-clock hours in ``tz`` (an
    IANA name, the site's ``site.timezone``; default UTC). The noise of a day is drawn
    from ``(seed, UTC day)``, so the series is a pure function of time.
    """

    def __init__(self, group: RackGroup, seed: int, tz: str = "UTC") -> None:
        self.group = group
        self.tz = tz
        dynamic_w = group.mean_utilisation_fraction * (group.max_power_w - group.idle_power_w)
        self.must_run_mean_w = dynamic_w * group.must_run_fraction
        self.deferrable_mean_w = dynamic_w * (1.0 - group.must_run_fraction)
        self.seed = seed
        self._noise: dict[int, npt.NDArray[np.float64]] = {}
        #: The last slot's arrival rate (a pure function of the slot) [W].
        self._rate_slot: int | None = None
        self._rate_w = 0.0

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
        return self.must_run_mean_w * _diurnal(time_s, 14.0, 0.4, self.tz)

    def arrival_rate_w(self, time_s: float) -> float:
        slot = math.floor(time_s / WORKLOAD_SLOT_S + 1e-9)
        if slot == self._rate_slot:  # constant over a slot; the plant asks every sub-step
            return self._rate_w
        day, index = divmod(slot, _SLOTS_PER_DAY)
        slot_mid_s = (slot + 0.5) * WORKLOAD_SLOT_S
        shape = _diurnal(slot_mid_s, 11.0, 0.6, self.tz)
        rate = float(self.deferrable_mean_w * shape * self._day_noise(int(day))[int(index)])
        self._rate_slot, self._rate_w = slot, rate
        return rate

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


def _draw_shape_at_hour(hour: float) -> float:
    """The one standard shape (:func:`thermalctl.models.sinks.dhw.standard_draw_shape`,
    which the planner's forecast uses too) at a clock hour [h] -> [1/s]."""
    return standard_draw_shape(hour * 3600.0)


def draw_shape_for(tz: str = "UTC") -> DrawShape:
    """The standard hot-water draw shape on the local wall clock of ``tz`` [1/s].

    Two peaks (07:30 and 19:30 local time) on a small base, as in hotel and
    residential profiles (VDI 6002-1 hourly shapes); it integrates to one daily volume
    per day (mean 1/86400 per second). Daylight saving moves the peaks with the clock:
    in Berlin the morning peak is at 06:30 UTC in winter and 05:30 UTC in summer.

    Parameters
    ----------
    tz : str
        IANA time zone of the site (``profile.site.timezone``).

    Returns
    -------
    DrawShape
        ``time_s -> share of the daily volume drawn per second`` [1/s].

    >>> berlin = draw_shape_for("Europe/Berlin")
    >>> t = 1767249000.0  # 2026-01-01 06:30 UTC = 07:30 CET, the morning peak
    >>> berlin(t) == draw_shape_fraction(t + 3600.0)
    True
    """

    def shape(time_s: float) -> float:
        return _draw_shape_at_hour(float(local_hour(time_s, tz)))

    shape.__doc__ = f"Standard draw shape on the wall clock of {tz} [1/s]."
    return shape


def draw_shape_fraction(time_s: float) -> float:
    """Share of the daily hot-water volume drawn per second at ``time_s`` (integrates to 1/day).

    The standard shape of :func:`draw_shape_for` with its clock in UTC; a site's own
    shape is ``draw_shape_for(profile.site.timezone)``.
    """
    return _draw_shape_at_hour((time_s % SECONDS_PER_DAY) / 3600.0)
