"""Forecasts for the planner: from the past only (MPC), or from the true future (oracle).

* :class:`HistoryForecaster` learns from what the controller saw: weather by
  persistence of yesterday's same quarter hour with the present error fading out,
  must-run power and deferred-work arrivals as the mean of past days by quarter hour,
  hot-water draws as the mean of past days by quarter hour, each inferred from the
  tank's measured energy balance (heat meter in, stored heat from the mean temperature,
  standing loss out; the rest left with the draws). Where it has no history yet (or
  the tank has no mean-temperature sensor string) it falls back to the profile's means
  (the daily volume on the standard VDI 6002-1 shape), which the site states, not the
  simulator.
* :class:`OracleForecaster` reads a :class:`FutureSource` (the simulator's input
  generators) and returns what will actually happen: the upper bound.

Both also give the age profile of the waiting work (:meth:`queue_due_kwh`) and each
sink's demand, its loss line from the sink model
(:mod:`thermalctl.models.sinks`) with the set point in force
(:class:`~thermalctl.control.settings.OperatorSettings`).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from thermalctl.config.site import Prices, SiteProfile
from thermalctl.control.settings import OperatorSettings
from thermalctl.control.state import SiteState
from thermalctl.models.localtime import in_hours
from thermalctl.models.sinks import SinkModel, models_for

__all__ = [
    "Forecast",
    "Forecaster",
    "FutureSource",
    "HistoryForecaster",
    "OracleForecaster",
    "QueueAges",
    "sink_loss_lines",
    "time_of_use_price",
]

Array = npt.NDArray[np.float64]
SECONDS_PER_DAY = 86_400.0
#: Days of history averaged for must-run and arrival forecasts (a week covers weekdays).
HISTORY_DAYS = 7
#: The present weather-forecast error fades with this time constant [s] (6 h: the usual
#: decorrelation time of persistence errors in temperature).
WEATHER_BIAS_DECAY_S = 6 * 3600.0
#: Waiting work smaller than this is treated as none [kWh].
QUEUE_EPS_KWH = 1e-6


def time_of_use_price(prices: Prices, times_s: Array, tz: str) -> Array:
    """Electricity price at each time [EUR/kWh]: peak price inside ``peak_hours``.

    ``peak_hours`` are the site's local time (``tz``, an IANA zone: the profile's
    ``site.timezone``), daylight saving included.
    """
    peak = prices.electricity_peak_eur_per_kwh or prices.electricity_eur_per_kwh
    a, b = prices.peak_hours
    inside = in_hours(np.asarray(times_s, dtype=float), (float(a), float(b)), tz)
    return np.where(inside, peak, prices.electricity_eur_per_kwh)


def sink_loss_lines(
    models: Mapping[str, SinkModel],
    settings: OperatorSettings,
    times_s: Array,
    ambient_c: Array,
    draw_m3_per_s: Mapping[str, Array],
) -> dict[str, tuple[Array, Array]]:
    """Each sink's heat loss as ``offset + slope * T`` at each time [W], [W/K].

    From the sink models (:meth:`thermalctl.models.sinks.SinkModel.loss_line_w`),
    linearised around the set point in force (the operator's, else the profile's).
    """
    return {
        sink_id: model.loss_line_w(
            times_s, ambient_c, draw_m3_per_s.get(sink_id), settings.setpoint_c(model.sink)
        )
        for sink_id, model in models.items()
    }


@dataclass
class QueueAges:
    """The waiting work's arrival times, tracked from the queue size alone.

    Growth is booked as new work now; shrinkage is taken from the oldest work first
    (FIFO, as schedulers run it). When work arrives and runs in the same interval this
    keeps old work on the books that has in fact run, so ages are over-estimated:
    the safe side for deadlines.
    """

    jobs: deque[list[float]] = field(default_factory=deque)  # [arrived_s, kwh]

    def observe(self, now_s: float, queued_kwh: float) -> None:
        booked = sum(j[1] for j in self.jobs)
        if queued_kwh > booked + QUEUE_EPS_KWH:
            self.jobs.append([now_s, queued_kwh - booked])
            return
        surplus = booked - max(queued_kwh, 0.0)
        while self.jobs and surplus > QUEUE_EPS_KWH:
            take = min(self.jobs[0][1], surplus)
            self.jobs[0][1] -= take
            surplus -= take
            if self.jobs[0][1] <= QUEUE_EPS_KWH:
                self.jobs.popleft()


def _due_profile(
    jobs: list[tuple[float, float]], start_s: float, step_s: float, n: int, window_s: float
) -> Array:
    """Cumulative energy of ``jobs`` due (arrival + window) by the end of each step."""
    due = np.zeros(n)
    ends = start_s + step_s * (np.arange(n) + 1)
    for arrived, kwh in jobs:
        due += np.where(arrived + window_s <= ends, kwh, 0.0)
    return due


@dataclass(frozen=True)
class Forecast:
    """What the planner needs to know about the horizon (arrays of ``n`` steps).

    ``sink_loss_w`` is each sink's demand: its loss line ``(offset [W], slope [W/K])``
    at the middle of each step, from the sink models with the set point in force.
    """

    ambient_c: Array
    must_run_w: Mapping[str, Array]
    arrivals_kwh: Mapping[str, Array]
    draw_m3_per_s: Mapping[str, Array]
    queue_due_kwh: Mapping[str, Array]
    queue_kwh: Mapping[str, float]
    sink_loss_w: Mapping[str, tuple[Array, Array]] = field(default_factory=dict)


class Forecaster(Protocol):
    def observe(self, state: SiteState) -> None:
        """Learn from the latest state (called on every fast decision)."""

    def forecast(
        self,
        state: SiteState,
        settings: OperatorSettings,
        start_s: float,
        step_s: float,
        n: int,
    ) -> Forecast:
        """Forecast ``n`` steps of ``step_s`` from ``start_s`` (set points from ``settings``)."""
        ...


class FutureSource(Protocol):
    """The true inputs of a simulated run (for the oracle only)."""

    def ambient_c(self, time_s: float) -> float: ...

    def must_run_w(self, group_id: str, time_s: float) -> float: ...

    def arrivals_kwh(self, group_id: str, time_s: float, dt_s: float) -> float: ...

    def draw_m3_per_s(self, sink_id: str, time_s: float) -> float: ...

    def queue_jobs(self, group_id: str) -> list[tuple[float, float]]: ...


class _SlotMeans:
    """Per-quarter-hour values for the last ``HISTORY_DAYS`` days."""

    def __init__(self, slots_per_day: int) -> None:
        self.slots = slots_per_day
        self.days: dict[int, Array] = {}

    def put(self, slot_index: int, value: float) -> None:
        day, slot = divmod(slot_index, self.slots)
        row = self.days.get(day)
        if row is None:
            row = np.full(self.slots, np.nan)
            self.days[day] = row
            for old in [d for d in self.days if d <= day - HISTORY_DAYS]:
                del self.days[old]
        row[slot] = value

    def get(self, slot_index: int) -> float:
        day, slot = divmod(slot_index, self.slots)
        row = self.days.get(day)
        return math.nan if row is None else float(row[slot])

    def window(self, first_slot: int, n: int) -> Array:
        """Values of ``n`` consecutive slots from ``first_slot`` (NaN where unknown)."""
        out = np.full(n, np.nan)
        k = 0
        while k < n:
            day, slot = divmod(first_slot + k, self.slots)
            take = min(n - k, self.slots - slot)
            row = self.days.get(day)
            if row is not None:
                out[k : k + take] = row[slot : slot + take]
            k += take
        return out

    def mean_by_slot(self) -> Array:
        if not self.days:
            return np.full(self.slots, np.nan)
        stack = np.vstack(list(self.days.values()))
        counts = np.sum(~np.isnan(stack), axis=0)
        sums = np.nansum(stack, axis=0)
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


class HistoryForecaster:
    """Forecasts from the past only (the MPC's view)."""

    def __init__(
        self, profile: SiteProfile, step_s: float = 900.0, deadline_margin_h: float = 1.0
    ) -> None:
        self.profile = profile
        self.sink_models = models_for(profile)
        self.step_s = step_s
        self.deadline_margin_h = deadline_margin_h
        self.slots_per_day = round(SECONDS_PER_DAY / step_s)
        self.ambient = _SlotMeans(self.slots_per_day)
        self.must = {g.id: _SlotMeans(self.slots_per_day) for g in profile.rack_groups}
        self.arrivals = {g.id: _SlotMeans(self.slots_per_day) for g in profile.rack_groups}
        self.ages = {g.id: QueueAges() for g in profile.rack_groups}
        #: Learned hot-water draws per quarter hour [m3/s], per sink with draws.
        self.draws = {
            sid: _SlotMeans(self.slots_per_day)
            for sid, m in self.sink_models.items() if m.has_draws
        }
        self._tank_heat_j: dict[str, float] = dict.fromkeys(self.draws, 0.0)
        self._tank_start: dict[str, tuple[float, float] | None] = dict.fromkeys(self.draws)
        self._tank_top_sum: dict[str, float] = dict.fromkeys(self.draws, 0.0)
        self._tank_top_n: dict[str, int] = dict.fromkeys(self.draws, 0)
        self._slot: int | None = None
        self._acc: dict[str, float] = {}
        self._last_s: float | None = None
        self._slot_queue: dict[str, float] = {}
        self._ran_kwh: dict[str, float] = {g.id: 0.0 for g in profile.rack_groups}

    def _must_now(self, state: SiteState, group_id: str) -> float | None:
        return state.value(f"rack.{group_id}.must_run_w")

    def observe(self, state: SiteState) -> None:
        now = state.now_s
        slot = math.floor(now / self.step_s + 1e-9)
        dt = 0.0 if self._last_s is None else max(0.0, now - self._last_s)
        self._last_s = now
        for g in self.profile.rack_groups:
            power = state.value(f"rack.{g.id}.power_w")
            must = self._must_now(state, g.id)
            if power is not None and must is not None:
                self._ran_kwh[g.id] += max(0.0, power - must) * dt / 3.6e6
            queued = state.value(f"rack.{g.id}.queued_kwh")
            if queued is not None:
                self.ages[g.id].observe(now, queued)
        for sid in self.draws:
            heat = state.value(f"sink.{sid}.heat_w")
            if heat is not None:
                self._tank_heat_j[sid] += max(0.0, heat) * dt
            top = state.value(f"sink.{sid}.temp_c")
            if top is not None:
                self._tank_top_sum[sid] += top
                self._tank_top_n[sid] += 1
        if slot != self._slot:
            if self._slot is not None:
                self._close_slot(self._slot, state)
            self._slot = slot
            self._acc = {}
            for g in self.profile.rack_groups:
                self._slot_queue[g.id] = state.value_or(f"rack.{g.id}.queued_kwh", 0.0)
                self._ran_kwh[g.id] = 0.0
            for sid in self.draws:
                mean = state.value(f"sink.{sid}.mean_temp_c")
                self._tank_start[sid] = None if mean is None else (now, mean)
                self._tank_heat_j[sid] = 0.0
                self._tank_top_sum[sid] = 0.0
                self._tank_top_n[sid] = 0
        self._add("ambient", state.value("ambient.temp_c"))
        for g in self.profile.rack_groups:
            self._add(f"must.{g.id}", self._must_now(state, g.id))

    def _add(self, key: str, value: float | None) -> None:
        if value is None:
            return
        self._acc[key + ".sum"] = self._acc.get(key + ".sum", 0.0) + value
        self._acc[key + ".n"] = self._acc.get(key + ".n", 0.0) + 1.0

    def _mean(self, key: str) -> float | None:
        n = self._acc.get(key + ".n", 0.0)
        return self._acc[key + ".sum"] / n if n else None

    def _close_slot(self, slot: int, state: SiteState) -> None:
        amb = self._mean("ambient")
        if amb is not None:
            self.ambient.put(slot, amb)
        for g in self.profile.rack_groups:
            must = self._mean(f"must.{g.id}")
            if must is not None:
                self.must[g.id].put(slot, must)
            queued = state.value(f"rack.{g.id}.queued_kwh")
            if queued is not None and g.id in self._slot_queue:
                arrived = queued - self._slot_queue[g.id] + self._ran_kwh[g.id]
                self.arrivals[g.id].put(slot, max(0.0, arrived))
        for sid in self.draws:
            draw = self._inferred_draw_m3_per_s(sid, state)
            if draw is not None:
                self.draws[sid].put(slot, draw)

    def _inferred_draw_m3_per_s(self, sink_id: str, state: SiteState) -> float | None:
        """The draw that closes the tank's energy balance over the slot just ended [m3/s]:
        metered heat in, less the stored heat's change (mean temperature) and the
        standing loss, left at the tank top's temperature over the mains'. ``None``
        without a mean-temperature sensor string or a top reading."""
        start = self._tank_start.get(sink_id)
        mean = state.value(f"sink.{sink_id}.mean_temp_c")
        n_top = self._tank_top_n[sink_id]
        if start is None or mean is None or n_top == 0:
            return None
        t0, mean0 = start
        span = state.now_s - t0
        if span <= 0:
            return None
        model = self.sink_models[sink_id]
        ua = float(getattr(model.sink, "loss_ua_w_per_k", 0.0))
        mean_c = 0.5 * (mean + mean0)
        loss_j = ua * (mean_c - model.plant_room_temp_c) * span
        stored_j = model.capacity_j_per_k * (mean - mean0)
        drawn_j = self._tank_heat_j[sink_id] - stored_j - loss_j
        top = self._tank_top_sum[sink_id] / n_top
        lift_k = top - float(model.mains_temp_c(state.now_s))
        if lift_k <= 1.0:
            return None
        rho_cp = float(model.draw_w_per_k(np.ones(1))[0])
        return max(0.0, drawn_j) / (rho_cp * lift_k * span)

    def forecast(
        self,
        state: SiteState,
        settings: OperatorSettings,
        start_s: float,
        step_s: float,
        n: int,
    ) -> Forecast:
        p = self.profile
        first = math.floor(start_s / step_s + 1e-9)
        slots = first + np.arange(n)
        day_slot = slots % self.slots_per_day
        times = start_s + step_s * np.arange(n)
        # Weather: yesterday's same slot, corrected by today's present error (fading).
        now_amb = state.value("ambient.temp_c")
        yesterday = self.ambient.window(first - self.slots_per_day, n)
        if now_amb is None:
            now_amb = p.simulation.weather_mean_temp_c
        if np.all(np.isnan(yesterday)):
            ambient = np.full(n, now_amb)
        else:
            yesterday = np.where(np.isnan(yesterday), now_amb, yesterday)
            bias = now_amb - yesterday[0]
            ambient = yesterday + bias * np.exp(-(times - start_s) / WEATHER_BIAS_DECAY_S)
        must: dict[str, Array] = {}
        arrivals: dict[str, Array] = {}
        due: dict[str, Array] = {}
        queue: dict[str, float] = {}
        for g in p.rack_groups:
            dynamic_w = g.mean_utilisation_fraction * (g.max_power_w - g.idle_power_w)
            now_must = self._must_now(state, g.id)
            default_must = g.idle_power_w + dynamic_w * g.must_run_fraction
            fallback = default_must if now_must is None else now_must
            hist = self.must[g.id].mean_by_slot()[day_slot]
            must[g.id] = np.where(np.isnan(hist), fallback, hist)
            default_arr = dynamic_w * (1.0 - g.must_run_fraction) * step_s / 3.6e6
            hist = self.arrivals[g.id].mean_by_slot()[day_slot]
            arrivals[g.id] = np.where(np.isnan(hist), default_arr, hist)
            window = (g.deadline_h - self.deadline_margin_h) * 3600.0
            jobs = [(j[0], j[1]) for j in self.ages[g.id].jobs]
            due[g.id] = _due_profile(jobs, start_s, step_s, n, window)
            queue[g.id] = state.value_or(f"rack.{g.id}.queued_kwh", 0.0)
        mids: Array = (times + step_s / 2).astype(np.float64)
        draws: dict[str, Array] = {}
        for sink_id, model in self.sink_models.items():
            expected = model.draw_forecast_m3_per_s(mids)
            if expected is not None:
                # Until a slot is learned: the profile's daily volume, spread evenly (the
                # standard shape is the simulator's own default draw input).
                expected = np.full(n, model.sink.draw_m3_per_day / SECONDS_PER_DAY)  # type: ignore[union-attr]
                learned = self.draws[sink_id].mean_by_slot()[day_slot]
                draws[sink_id] = np.where(np.isnan(learned), expected, learned)
        losses = sink_loss_lines(self.sink_models, settings, mids, ambient, draws)
        return Forecast(ambient, must, arrivals, draws, due, queue, losses)


class OracleForecaster:
    """The true future from the simulator's inputs (perfect foresight)."""

    def __init__(
        self, profile: SiteProfile, future: FutureSource, deadline_margin_h: float = 1.0
    ) -> None:
        self.profile = profile
        self.sink_models = models_for(profile)
        self.future = future
        self.deadline_margin_h = deadline_margin_h

    def observe(self, state: SiteState) -> None:
        return None

    def forecast(
        self,
        state: SiteState,
        settings: OperatorSettings,
        start_s: float,
        step_s: float,
        n: int,
    ) -> Forecast:
        p = self.profile
        f = self.future
        times = start_s + step_s * np.arange(n)
        mids: Array = (times + step_s / 2).astype(np.float64)
        ambient = np.array([f.ambient_c(t) for t in mids])
        must = {g.id: np.array([f.must_run_w(g.id, t) for t in mids]) for g in p.rack_groups}
        arrivals = {
            g.id: np.array([f.arrivals_kwh(g.id, t, step_s) for t in times])
            for g in p.rack_groups
        }
        draws = {
            sink_id: np.array([f.draw_m3_per_s(sink_id, t) for t in mids])
            for sink_id, model in self.sink_models.items()
            if model.has_draws
        }
        due: dict[str, Array] = {}
        queue: dict[str, float] = {}
        for g in p.rack_groups:
            jobs = f.queue_jobs(g.id)
            window = (g.deadline_h - self.deadline_margin_h) * 3600.0
            due[g.id] = _due_profile(jobs, start_s, step_s, n, window)
            queue[g.id] = sum(kwh for _, kwh in jobs)
        losses = sink_loss_lines(self.sink_models, settings, mids, ambient, draws)
        return Forecast(ambient, must, arrivals, draws, due, queue, losses)
