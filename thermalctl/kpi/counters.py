"""Meter counters to energies: register wrap, meter resets, power integration, gaps.

Cumulative energy registers are what billing-grade meters keep, and they lose no
energy across a gap in the samples: the difference of two readings is the exact
energy in between, only its split in time is unknown. Two things break the
difference:

- **wrap**: the register overflows and starts again at zero. A drop is a wrap
  when the reading before it lies close to a register limit ``R`` such that the
  implied increment ``R - previous + value`` is small (at most
  ``wrap_tolerance_fraction * R``). The limits tried by default are the usual
  decimal counters (10^4 .. 10^9 kWh) and a 32-bit register in Wh, 0.01 kWh,
  0.1 kWh or kWh (``2**32`` scaled).
- **reset**: any other drop; the meter was replaced or cleared and restarted at
  zero, so the increment over that interval is the new reading itself. That is
  a lower bound (energy between the last old reading and the replacement is
  not known), so such intervals are marked estimated by :mod:`.engine`.

Where a quantity has no counter, :func:`counter_from_power` integrates a power
series by the trapezoid rule into a counter; its values are estimates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from thermalctl.kpi.errors import KpiInputError

__all__ = [
    "DEFAULT_ROLLOVERS",
    "DEFAULT_WRAP_TOLERANCE_FRACTION",
    "CounterEvent",
    "CounterIntervals",
    "Gap",
    "counter_from_power",
    "covered_fraction",
    "find_gaps",
    "interval_energies",
]

#: Register limits tried when looking for a wrap [counter unit]: decimal
#: counters with 4 to 9 integer digits, and an unsigned 32-bit register holding
#: the count in Wh, 0.01 kWh, 0.1 kWh or kWh (scaled to kWh).
DEFAULT_ROLLOVERS: tuple[float, ...] = (
    1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
    2**32 / 1000, 2**32 / 100, 2**32 / 10, float(2**32),
)  # fmt: skip

#: A drop is read as a wrap only if the implied increment is at most this share
#: of the register limit (5 % of a 10^6 kWh register is 50 MWh in one interval).
DEFAULT_WRAP_TOLERANCE_FRACTION = 0.05

_SECONDS_PER_HOUR = 3600.0
_W_PER_KW = 1000.0


@dataclass(frozen=True)
class CounterEvent:
    """A drop in a counter, read as a register wrap, a meter reset, or a glitch (one
    low sample the next reading contradicts, replaced by interpolation)."""

    column: str
    timestamp: pd.Timestamp
    kind: Literal["wrap", "reset", "glitch"]
    previous: float
    value: float
    rollover: float | None
    increment: float


@dataclass(frozen=True)
class CounterIntervals:
    """Energy per sampling interval, indexed by the interval's end timestamp."""

    increments: pd.Series
    events: tuple[CounterEvent, ...]


@dataclass(frozen=True)
class Gap:
    """A span not covered by samples closer together than the maximum gap."""

    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()


def _as_rollovers(rollover: float | Sequence[float] | None) -> tuple[float, ...]:
    if rollover is None:
        return ()
    if isinstance(rollover, int | float):
        return (float(rollover),)
    return tuple(sorted(float(r) for r in rollover))


def interval_energies(
    counter: pd.Series,
    *,
    rollover: float | Sequence[float] | None = DEFAULT_ROLLOVERS,
    wrap_tolerance_fraction: float = DEFAULT_WRAP_TOLERANCE_FRACTION,
) -> CounterIntervals:
    """Turn a cumulative counter into the energy of each interval between samples.

    Parameters
    ----------
    counter : readings of one cumulative register [kWh or m³], time index,
        increasing, no NaN (drop missing readings first).
    rollover : register limit(s) [same unit] a wrap may happen at; None: every
        drop is a reset.
    wrap_tolerance_fraction : largest implied increment of a wrap, as a share
        of the limit [fraction].

    Returns
    -------
    CounterIntervals
        ``increments`` has one value per sample after the first, labelled with
        the interval's end; ``events`` lists every wrap and reset.

    Notes
    -----
    For readings ``v[i-1]``, ``v[i]``: the increment is ``v[i] - v[i-1]`` if it
    is not negative; ``R - v[i-1] + v[i]`` for the smallest limit ``R > v[i-1]``
    with that value at most ``wrap_tolerance_fraction * R`` (wrap); otherwise
    ``v[i]`` (reset: the meter restarted at zero).

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=3, freq="h", tz="UTC")
    >>> r = interval_energies(pd.Series([999_990.0, 999_998.0, 3.0], idx), rollover=1e6)
    >>> r.increments.tolist(), r.events[0].kind
    ([8.0, 5.0], 'wrap')
    """
    values = counter.to_numpy(dtype=float)
    if np.isnan(values).any():
        raise KpiInputError(f"column {counter.name!r}: counter has missing values")
    limits = _as_rollovers(rollover)
    tolerance = wrap_tolerance_fraction
    events: list[CounterEvent] = []
    values = _drop_glitches(counter, values, events)
    diffs = np.diff(values)
    for i in np.flatnonzero(diffs < 0):
        previous, value = values[i], values[i + 1]
        wraps = (r for r in limits if previous < r and r - previous + value <= tolerance * r)
        limit = next(wraps, None)
        if limit is not None:
            diffs[i] = limit - previous + value
            kind: Literal["wrap", "reset"] = "wrap"
        else:
            diffs[i] = value
            kind = "reset"
        events.append(
            CounterEvent(
                column=str(counter.name),
                timestamp=counter.index[i + 1],
                kind=kind,
                previous=float(previous),
                value=float(value),
                rollover=limit,
                increment=float(diffs[i]),
            )
        )
    increments = pd.Series(diffs, index=counter.index[1:], name=counter.name)
    events.sort(key=lambda e: e.timestamp)
    return CounterIntervals(increments=increments, events=tuple(events))


def _drop_glitches(
    counter: pd.Series, values: npt.NDArray[np.float64], events: list[CounterEvent]
) -> npt.NDArray[np.float64]:
    """Replace single low samples that the next reading contradicts.

    A sample below its predecessor whose successor is back at or above the predecessor
    is no reset (a new meter does not jump back to the old total): it is a glitch (a
    gateway answering 0 while it reboots, a half-written register). It is replaced by
    linear interpolation in time between its neighbours, and reported.
    """
    out = values.copy()
    seconds = (counter.index - counter.index[0]).total_seconds().to_numpy(dtype=float)
    for i in range(1, len(out) - 1):
        before, value, after = out[i - 1], out[i], out[i + 1]
        if value < before <= after:
            span = seconds[i + 1] - seconds[i - 1]
            share = (seconds[i] - seconds[i - 1]) / span if span > 0 else 0.5
            out[i] = before + (after - before) * share
            events.append(
                CounterEvent(
                    column=str(counter.name),
                    timestamp=counter.index[i],
                    kind="glitch",
                    previous=float(before),
                    value=float(value),
                    rollover=None,
                    increment=float(out[i] - before),
                )
            )
    return out


def counter_from_power(power_w: pd.Series) -> pd.Series:
    """Integrate a power series into a cumulative energy counter by the trapezoid rule.

    Use it only where no meter counter exists; the result is an estimate and
    should be passed to :func:`thermalctl.kpi.engine.compute_kpis` in
    ``estimated_columns``.

    Parameters
    ----------
    power_w : mean or instantaneous power [W] on a time index; NaN samples are dropped.

    Returns
    -------
    pandas.Series
        Cumulative energy [kWh], 0 at the first valid sample.

    Notes
    -----
    ``E[i] = E[i-1] + (P[i-1] + P[i]) / 2 * (t[i] - t[i-1])``, converted from W·s to kWh.

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=3, freq="h", tz="UTC")
    >>> counter_from_power(pd.Series([1000.0, 3000.0, 3000.0], idx)).tolist()
    [0.0, 2.0, 5.0]
    """
    valid = power_w.dropna()
    if valid.empty:
        return valid.astype(float)
    seconds = (valid.index - valid.index[0]).total_seconds().to_numpy(dtype=float)
    power = valid.to_numpy(dtype=float)
    steps_kwh = (power[1:] + power[:-1]) / 2.0 * np.diff(seconds) / _SECONDS_PER_HOUR / _W_PER_KW
    energy = np.concatenate([[0.0], np.cumsum(steps_kwh)])
    return pd.Series(energy, index=valid.index, name=power_w.name)


def find_gaps(
    index: pd.DatetimeIndex, start: pd.Timestamp, end: pd.Timestamp, max_gap_s: float
) -> tuple[Gap, ...]:
    """Spans of ``[start, end)`` not covered by samples at most ``max_gap_s`` apart.

    An interval between two samples longer than ``max_gap_s`` [s] is a gap, and
    so is the time before the first or after the last sample when it is longer
    than ``max_gap_s``. Gaps are clipped to ``[start, end)``.
    """
    limit = pd.Timedelta(seconds=max_gap_s)
    if len(index) == 0:
        return (Gap(start, end),) if end > start else ()
    spans: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    if index[0] - start > limit:
        spans.append((start, index[0]))
    steps = index[1:] - index[:-1]
    spans.extend((index[i], index[i + 1]) for i in np.flatnonzero(steps > limit))
    if end - index[-1] > limit:
        spans.append((index[-1], end))
    gaps = [Gap(max(a, start), min(b, end)) for a, b in spans]
    return tuple(g for g in gaps if g.end > g.start)


def covered_fraction(gaps: Sequence[Gap], start: pd.Timestamp, end: pd.Timestamp) -> float:
    """Share of ``[start, end)`` not inside any of ``gaps`` [fraction 0-1]."""
    total_s = (end - start).total_seconds()
    if total_s <= 0:
        return 0.0
    missing_s = sum(max(0.0, (min(g.end, end) - max(g.start, start)).total_seconds()) for g in gaps)
    return max(0.0, 1.0 - missing_s / total_s)
