"""Local time of day for schedules: tariffs, pool covers, occupancy, draw profiles.

Every schedule in a site profile is written in the site's own time zone
(``site.timezone``, an IANA name such as ``Europe/Berlin``); controller and
simulator times are Unix seconds (UTC). These helpers convert once, vectorised,
with the standard library's :mod:`zoneinfo` (daylight saving included), so a
peak tariff from 17:00 to 21:00 in Berlin is 16:00-20:00 UTC in winter and
15:00-19:00 UTC in summer.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

__all__ = ["in_hours", "local_hour", "utc_offset_s", "zone"]

Array = npt.NDArray[np.float64]
SECONDS_PER_DAY = 86_400.0
#: UTC offsets are looked up once per this many seconds [s] (15 min: every real zone's
#: transitions fall on a quarter hour).
_OFFSET_GRID_S = 900.0


@functools.lru_cache(maxsize=32)
def zone(name: str) -> ZoneInfo:
    """The :class:`zoneinfo.ZoneInfo` for an IANA name (cached)."""
    return ZoneInfo(name)


@functools.lru_cache(maxsize=65_536)
def _offset_at_grid(name: str, grid_index: int) -> float:
    when = dt.datetime.fromtimestamp(grid_index * _OFFSET_GRID_S, tz=dt.UTC)
    offset = when.astimezone(zone(name)).utcoffset()
    return 0.0 if offset is None else offset.total_seconds()


def utc_offset_s(times_s: float | Array, tz: str) -> float | Array:
    """Offset of local time from UTC [s] at each Unix time (e.g. 3600 for CET).

    >>> utc_offset_s(1767225600.0, "Europe/Berlin")  # 2026-01-01T00:00Z
    3600.0
    """
    if tz in ("UTC", "Etc/UTC"):
        return np.zeros_like(np.asarray(times_s, dtype=float)) if np.ndim(times_s) else 0.0
    if isinstance(times_s, (float, int)):  # scalar fast path: the same grid, no numpy
        return _offset_at_grid(tz, math.floor(float(times_s) / _OFFSET_GRID_S))
    t = np.asarray(times_s, dtype=float)
    idx = np.floor(t / _OFFSET_GRID_S).astype(np.int64)
    if t.ndim == 0:
        return _offset_at_grid(tz, int(idx))
    unique, inverse = np.unique(idx, return_inverse=True)
    offsets = np.array([_offset_at_grid(tz, int(i)) for i in unique], dtype=float)
    return offsets[inverse].reshape(t.shape)


def local_hour(times_s: float | Array, tz: str) -> float | Array:
    """Local hour of day in ``[0, 24)`` at each Unix time [h].

    >>> float(local_hour(1767225600.0 + 17 * 3600, "Europe/Berlin"))  # 17:00Z in winter
    18.0
    """
    if isinstance(times_s, (float, int)):  # scalar fast path (same arithmetic)
        when = float(times_s)
        return ((when + utc_offset_s(when, tz)) % SECONDS_PER_DAY) / 3600.0
    t = np.asarray(times_s, dtype=float)
    hours = ((t + utc_offset_s(t, tz)) % SECONDS_PER_DAY) / 3600.0
    return float(hours) if hours.ndim == 0 else hours


def in_hours(
    times_s: float | Array, hours: tuple[float, float], tz: str
) -> bool | npt.NDArray[np.bool_]:
    """Whether each time lies in the local-time window ``[start, end)`` [h].

    A window whose start is after its end wraps midnight (``(22, 6)`` is the night).
    An empty window (start == end) contains no time.
    """
    a, b = hours
    if isinstance(times_s, (float, int)):  # scalar fast path
        hour = local_hour(times_s, tz)
        return (hour >= a and hour < b) if a <= b else (hour >= a or hour < b)
    h = np.asarray(local_hour(times_s, tz))
    inside = (h >= a) & (h < b) if a <= b else (h >= a) | (h < b)
    return bool(inside) if inside.ndim == 0 else inside
