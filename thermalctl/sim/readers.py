"""Readers for real input files: EPW weather, GPU workload series, hot-water draw profiles.

Each reader returns the same callables as the synthetic defaults in
:mod:`thermalctl.sim.inputs`, so the plant and the offline simulation take either.
Series are indexed by time of year (weather, draws) or repeat periodically
(workloads). Simulated time is Unix seconds (UTC); each reader converts from the
time base of its file once, in the callable it returns:

* EPW rows are local standard time at the file's own UTC offset (LOCATION field 9);
* DHWcalc / draw CSV rows are local standard time of the ``tz`` given (default UTC);
* workload series have no calendar (public traces are time-shifted) and repeat.

* :func:`read_epw` - EnergyPlus weather (dry bulb, relative humidity, wind).
* :func:`read_workload_csv` - utilisation [% or 0-1] or power [W] over time.
* :func:`read_alibaba_duty_cycle` - Alibaba GenTD26 pod GPU duty cycle (CSV or the
  published ``.tar.gz``), averaged across containers per timestamp.
* :func:`read_alibaba_pod_list` - Alibaba gpu-v2023 pod list, turned into GPUs
  allocated over time.
* :func:`read_dhw_profile` - one value per line [L/h per minute] as DHWcalc writes,
  or a CSV with a flow column.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import tarfile
from pathlib import Path
from zoneinfo import ZoneInfoNotFoundError

import numpy as np
import numpy.typing as npt
import pandas as pd

from thermalctl.config.site import RackGroup
from thermalctl.models.localtime import zone
from thermalctl.sim.inputs import WORKLOAD_SLOT_S, Weather, WorkloadSeries

__all__ = [
    "DrawProfile",
    "EpwWeather",
    "ReaderError",
    "YearProfile",
    "read_alibaba_duty_cycle",
    "read_alibaba_pod_list",
    "read_dhw_profile",
    "read_epw",
    "read_workload_csv",
    "standard_offset_s",
    "utilisation_workload",
]

Array = npt.NDArray[np.float64]
#: Header lines before the first data row of an EPW file (EnergyPlus Auxiliary Programs,
#: "Weather Converter Program", EPW format).
EPW_HEADER_LINES = 8
#: 0-based field of the time zone [h from GMT, east positive] in the EPW LOCATION line
#: ("LOCATION", city, state, country, source, WMO, latitude, longitude, time zone,
#: elevation: the data dictionary's N4, the 9th field after the keyword's).
EPW_LOCATION_TZ_FIELD = 8
#: Range the EPW data dictionary gives the time-zone field [h].
EPW_TZ_RANGE_H = (-12.0, 14.0)
#: 0-based EPW columns: dry bulb [degC], relative humidity [%], wind speed [m/s].
EPW_DRY_BULB, EPW_RH, EPW_WIND = 6, 8, 21
HOURS_PER_YEAR = 8760


class ReaderError(ValueError):
    """An input file that cannot be read or makes no sense."""


def seconds_into_year(time_s: float) -> float:
    """Seconds since 1 January 00:00 of ``time_s``'s year, 29 February folded.

    ``time_s`` is read as a clock reading in seconds since the epoch: pass UTC seconds
    for a UTC calendar, or UTC seconds plus an offset for a local one.
    """
    day = dt.datetime.fromtimestamp(time_s, dt.UTC)
    doy = day.timetuple().tm_yday
    if day.month > 2 and day.year % 4 == 0 and (day.year % 100 != 0 or day.year % 400 == 0):
        doy -= 1
    return (min(doy, 365) - 1) * 86_400.0 + day.hour * 3600.0 + day.minute * 60.0 + day.second


class YearProfile:
    """Values on a regular grid over a year, interpolated, repeating each year.

    Parameters
    ----------
    values : numpy.ndarray
        One value per step from 1 January 00:00 of the file's clock.
    step_s : float
        Grid spacing [s].
    offset_s : float
        Clock time within its step that each value stands for [s] (1800 for hourly
        means labelled by the hour they end).
    utc_offset_s : float
        The file's clock minus UTC [s] (3600 for CET): a value at clock time ``c``
        stands for UTC ``c - utc_offset_s``. The year wraps on the file's clock, so a
        site west of Greenwich reaches its new year's first hour after UTC midnight.
    """

    def __init__(
        self, values: Array, step_s: float, offset_s: float = 0.0, utc_offset_s: float = 0.0
    ) -> None:
        self.values = np.asarray(values, dtype=float)
        self.step_s = step_s
        self.offset_s = offset_s
        self.utc_offset_s = utc_offset_s
        self.period_s = self.values.size * step_s

    def __call__(self, time_s: float) -> float:
        clock_s = seconds_into_year(time_s + self.utc_offset_s)
        pos = ((clock_s - self.offset_s) % self.period_s) / self.step_s
        i = int(pos)
        frac = pos - i
        j = (i + 1) % self.values.size
        return float(self.values[i] * (1.0 - frac) + self.values[j] * frac)


class EpwWeather:
    """Weather from an EPW file, as a callable ``time_s`` [UTC s] ``-> Weather``.

    Parameters
    ----------
    temp_c, rh_fraction, wind_m_per_s : numpy.ndarray
        Hourly dry bulb [degC], relative humidity [0-1] and wind speed [m/s], from
        1 January hour 1 of the file on.
    utc_offset_h : float
        The file's local standard time minus UTC [h] (EPW LOCATION time zone).
    """

    def __init__(
        self, temp_c: Array, rh_fraction: Array, wind_m_per_s: Array, utc_offset_h: float = 0.0
    ) -> None:
        # EPW hour h is the hour ending at h:00 local standard time; its value stands
        # for h - 0.5 on that clock.
        offset_s = utc_offset_h * 3600.0
        self.utc_offset_h = utc_offset_h
        self.temp = YearProfile(temp_c, 3600.0, 1800.0, offset_s)
        self.rh = YearProfile(rh_fraction, 3600.0, 1800.0, offset_s)
        self.wind = YearProfile(wind_m_per_s, 3600.0, 1800.0, offset_s)

    def __call__(self, time_s: float) -> Weather:
        return Weather(self.temp(time_s), self.rh(time_s), self.wind(time_s))


def _epw_utc_offset_h(path: str | Path) -> float:
    """The time zone [h from GMT] of an EPW file's LOCATION line."""
    try:
        with Path(path).open(encoding="utf-8", errors="replace") as handle:
            first = handle.readline()
    except OSError as exc:
        raise ReaderError(f"{path}: not a readable EPW file ({exc})") from exc
    fields = [f.strip() for f in first.split(",")]
    if fields[0].upper() != "LOCATION" or len(fields) <= EPW_LOCATION_TZ_FIELD:
        raise ReaderError(f"{path}: the first line is not an EPW LOCATION line")
    try:
        offset_h = float(fields[EPW_LOCATION_TZ_FIELD])
    except ValueError:
        raise ReaderError(
            f"{path}: LOCATION time zone {fields[EPW_LOCATION_TZ_FIELD]!r} is not a number"
        ) from None
    low, high = EPW_TZ_RANGE_H
    if not low <= offset_h <= high:
        raise ReaderError(f"{path}: LOCATION time zone {offset_h} h is outside {low}..{high}")
    return offset_h


def read_epw(path: str | Path, *, utc_offset_h: float | None = None) -> EpwWeather:
    """Read dry bulb [degC], relative humidity [%] and wind [m/s] from an EPW file.

    Parameters
    ----------
    path : str or pathlib.Path
        The EPW file.
    utc_offset_h : float, optional
        Override of the file's time zone [h from UTC, east positive]. By default the
        LOCATION line's is used, as the format defines; pass ``0.0`` for files whose
        rows are UTC whatever their header says (see Notes).

    Returns
    -------
    EpwWeather
        Weather at Unix time [s, UTC]; ``utc_offset_h`` tells which offset was used.

    Notes
    -----
    The EPW data dictionary (EnergyPlus "Auxiliary Programs", section "EnergyPlus
    Weather File (EPW) Data Dictionary") gives the LOCATION line's fields as city,
    state, country, source, WMO, latitude, longitude, **time zone** (hours from GMT,
    -12 to +14) and elevation; data rows are in local **standard** time of that zone
    (no daylight saving; the HOLIDAYS/DAYLIGHT SAVING line is for building schedules,
    not for the data), and hour 1 is the hour ending at 01:00. So row ``h`` of day ``d``
    stands for ``d`` at ``h - 0.5`` local standard time, which is that minus the offset
    in UTC. The first 8,760 rows are read as one year from 1 January, whatever years
    they carry (typical years mix months of different years), and repeat every year
    on the file's clock.

    Files written by PVGIS (EU JRC) are an exception worth knowing: PVGIS gives its
    TMY in UTC, and its EPW export writes those UTC hours under a LOCATION time zone of
    the site (pvlib's tests compare the rows of PVGIS's EPW and its UTC JSON one to
    one; pvlib-python issue #2139: PVGIS "always returns data in UTC"). For such a file
    pass ``utc_offset_h=0.0``; the default follows the format.
    """
    header_offset_h = _epw_utc_offset_h(path)
    try:
        frame = pd.read_csv(path, skiprows=EPW_HEADER_LINES, header=None)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ReaderError(f"{path}: not a readable EPW file ({exc})") from exc
    if frame.shape[1] <= EPW_WIND or len(frame) < 24:
        raise ReaderError(f"{path}: expected EPW rows with at least {EPW_WIND + 1} fields")
    if len(frame) > HOURS_PER_YEAR:
        frame = frame.iloc[:HOURS_PER_YEAR]
    temp = frame[EPW_DRY_BULB].to_numpy(dtype=float)
    rh = frame[EPW_RH].to_numpy(dtype=float) / 100.0
    wind = frame[EPW_WIND].to_numpy(dtype=float)
    if np.any(temp > 70) or np.any(temp < -70):
        raise ReaderError(f"{path}: dry-bulb temperatures outside -70..70 degC (missing data?)")
    offset_h = header_offset_h if utc_offset_h is None else utc_offset_h
    return EpwWeather(temp, np.clip(rh, 0.0, 1.0), np.clip(wind, 0.0, 60.0), offset_h)


def _to_slots(time_s: Array, values: Array) -> Array:
    """Mean of ``values`` per workload slot from the first time on (gaps held)."""
    order = np.argsort(time_s)
    t = time_s[order] - time_s[order][0]
    v = values[order]
    idx = (t // WORKLOAD_SLOT_S).astype(int)
    n = int(idx.max()) + 1
    sums = np.bincount(idx, weights=v, minlength=n)
    counts = np.bincount(idx, minlength=n)
    out = np.full(n, np.nan)
    np.divide(sums, counts, out=out, where=counts > 0)
    series = pd.Series(out).ffill().bfill()
    return series.to_numpy(dtype=float)


def utilisation_workload(
    utilisation_fraction: Array, group: RackGroup, *, rescale: bool = True
) -> WorkloadSeries:
    """Turn a utilisation series (0-1 per 15-min slot) into a rack group's workload.

    Power by the linear idle/peak model ``P = idle + u (max - idle)``; of the dynamic
    part, ``must_run_fraction`` is must-run and the rest arrives as deferrable work.
    With ``rescale`` the series is scaled to the group's ``mean_utilisation_fraction``
    (public traces are anonymised and scaled; their shape is what is kept).
    """
    u = np.clip(np.asarray(utilisation_fraction, dtype=float), 0.0, None)
    if u.size == 0 or not np.all(np.isfinite(u)):
        raise ReaderError("utilisation series is empty or not finite")
    mean = float(u.mean())
    if rescale:
        if mean <= 0:
            raise ReaderError("utilisation series is all zero; cannot rescale")
        u = u * (group.mean_utilisation_fraction / mean)
    dynamic = u * (group.max_power_w - group.idle_power_w)
    return WorkloadSeries(
        must_run=dynamic * group.must_run_fraction,
        arrival_rate=dynamic * (1.0 - group.must_run_fraction),
        step_s=WORKLOAD_SLOT_S,
    )


def read_workload_csv(
    path: str | Path, group: RackGroup, *, rescale: bool = True
) -> WorkloadSeries:
    """Read a workload CSV: a time column and a utilisation or power column.

    Time: ``time_s`` / ``timestamp`` (seconds) or ``time`` (ISO dates). Value:
    ``utilisation`` / ``utilization`` / ``util`` (fraction, or percent if any value is
    above 1.5) or ``power_w`` [W] (turned into utilisation by the idle/peak model).
    """
    try:
        frame = pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ReaderError(f"{path}: not a readable CSV ({exc})") from exc
    cols = {c.lower().strip(): c for c in frame.columns}
    time_s = _time_column(frame, cols, path)
    util_col = next((cols[c] for c in ("utilisation", "utilization", "util",
                                       "utilisation_pct", "value") if c in cols), None)
    if "power_w" in cols:
        power = frame[cols["power_w"]].to_numpy(dtype=float)
        u = (power - group.idle_power_w) / (group.max_power_w - group.idle_power_w)
    elif util_col is not None:
        u = frame[util_col].to_numpy(dtype=float)
        if np.nanmax(u) > 1.5:
            u = u / 100.0
    else:
        raise ReaderError(f"{path}: needs a power_w or utilisation column, has {list(frame)}")
    return utilisation_workload(_to_slots(time_s, u), group, rescale=rescale)


def _time_column(frame: pd.DataFrame, cols: dict[str, str], path: str | Path) -> Array:
    for name in ("time_s", "timestamp", "timestamp_anon", "t"):
        if name in cols:
            return frame[cols[name]].to_numpy(dtype=float)
    if "time" in cols:
        stamps = pd.to_datetime(frame[cols["time"]], utc=True)
        return (stamps - stamps.iloc[0]).dt.total_seconds().to_numpy(dtype=float)
    raise ReaderError(f"{path}: needs a time_s, timestamp or time column")


def read_alibaba_duty_cycle(
    path: str | Path, group: RackGroup, *, rescale: bool = True
) -> WorkloadSeries:
    """GenTD26 ``pod_gpu_duty_cycle_anon`` (CSV or .tar.gz): mean across containers."""
    path = Path(path)
    try:
        if path.name.endswith((".tar.gz", ".tgz")):
            with tarfile.open(path, "r:gz") as tar:
                member = next((m for m in tar.getmembers() if m.name.endswith(".csv")), None)
                if member is None:
                    raise ReaderError(f"{path}: no CSV inside")
                handle = tar.extractfile(member)
                if handle is None:
                    raise ReaderError(f"{path}: {member.name} is not a file")
                frame = pd.read_csv(io.BytesIO(handle.read()))
        else:
            frame = pd.read_csv(path)
    except (OSError, tarfile.TarError, pd.errors.ParserError) as exc:
        raise ReaderError(f"{path}: cannot read ({exc})") from exc
    if not {"value", "timestamp_anon"} <= set(frame.columns):
        raise ReaderError(f"{path}: expected columns value, timestamp_anon")
    mean = frame.groupby("timestamp_anon")["value"].mean()
    time_s = mean.index.to_numpy(dtype=float)
    return utilisation_workload(
        _to_slots(time_s, mean.to_numpy(dtype=float) / 100.0), group, rescale=rescale
    )


def gpus_allocated(path: str | Path) -> tuple[Array, Array]:
    """GPUs allocated per 15-min slot from a gpu-v2023 pod list: (slot start [s], GPUs)."""
    try:
        frame = pd.read_csv(path)
    except (OSError, pd.errors.ParserError) as exc:
        raise ReaderError(f"{path}: cannot read ({exc})") from exc
    need = {"num_gpu", "gpu_milli", "creation_time", "deletion_time", "scheduled_time"}
    if not need <= set(frame.columns):
        raise ReaderError(f"{path}: expected columns {sorted(need)}")
    frame = frame[frame["scheduled_time"].notna()]
    start = frame["scheduled_time"].to_numpy(dtype=float)
    end_all = frame["deletion_time"].to_numpy(dtype=float)
    horizon = float(np.nanmax(end_all)) if np.isfinite(end_all).any() else float(start.max())
    end = np.where(np.isfinite(end_all), end_all, horizon)
    gpus = frame["num_gpu"].to_numpy(dtype=float) * frame["gpu_milli"].to_numpy(dtype=float)
    gpus /= 1000.0
    n = int(horizon // WORKLOAD_SLOT_S) + 1
    delta = np.zeros(n + 1)
    np.add.at(delta, np.clip((start // WORKLOAD_SLOT_S).astype(int), 0, n), gpus)
    np.add.at(delta, np.clip((end // WORKLOAD_SLOT_S).astype(int), 0, n), -gpus)
    return (np.arange(n) * WORKLOAD_SLOT_S).astype(np.float64), np.cumsum(delta)[:n]


def read_alibaba_pod_list(
    path: str | Path, group: RackGroup, *, rescale: bool = True
) -> WorkloadSeries:
    """gpu-v2023 pod list as a workload: utilisation = GPUs allocated / the peak."""
    _, alloc = gpus_allocated(path)
    peak = float(alloc.max())
    if peak <= 0:
        raise ReaderError(f"{path}: no GPUs ever allocated")
    return utilisation_workload(alloc / peak, group, rescale=rescale)


#: Standard-time offsets are looked up once per this many seconds [s] (every real zone's
#: transitions fall on a quarter hour).
_STD_OFFSET_GRID_S = 900.0


@functools.lru_cache(maxsize=65_536)
def _standard_offset_at_grid(tz: str, grid_index: int) -> float:
    when = dt.datetime.fromtimestamp(grid_index * _STD_OFFSET_GRID_S, tz=dt.UTC)
    local = when.astimezone(zone(tz))
    offset, dst = local.utcoffset(), local.dst()
    return (0.0 if offset is None else offset.total_seconds()) - (
        0.0 if dst is None else dst.total_seconds()
    )


def standard_offset_s(time_s: float, tz: str) -> float:
    """Local standard time minus UTC in ``tz`` at ``time_s`` [s], daylight saving left out.

    >>> standard_offset_s(1782820800.0, "Europe/Berlin")  # 2026-07-01: CEST, standard CET
    3600.0
    """
    if tz in ("UTC", "Etc/UTC"):
        return 0.0
    return _standard_offset_at_grid(tz, int(time_s // _STD_OFFSET_GRID_S))


class DrawProfile:
    """Hot-water draw shape from a flow series: share of the daily volume per second.

    Parameters
    ----------
    flow_l_per_h : numpy.ndarray
        Draw flow per step [L/h], from 1 January 00:00 of the profile's clock.
    step_s : float
        Step length [s].
    tz : str
        IANA time zone whose local **standard** time the profile's clock is (default
        UTC). Step ``i`` stands for ``i * step_s`` after 1 January 00:00 on that clock.
    """

    def __init__(self, flow_l_per_h: Array, step_s: float, tz: str = "UTC") -> None:
        flow = np.clip(np.asarray(flow_l_per_h, dtype=float), 0.0, None)
        days = flow.size * step_s / 86_400.0
        daily_l = float(flow.sum()) * step_s / 3600.0 / days
        if daily_l <= 0:
            raise ReaderError("draw profile has no draws")
        try:
            zone(tz)  # an unknown zone fails here, not in the middle of a run
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ReaderError(f"unknown time zone {tz!r} (an IANA name is needed)") from exc
        self.daily_volume_l = daily_l
        # [L/h] / [L/day] -> [1/h] ; / 3600 -> [1/s]
        self._shape = flow / daily_l / 3600.0
        self.step_s = step_s
        self.period_s = flow.size * step_s
        self.tz = tz

    def __call__(self, time_s: float) -> float:
        clock_s = seconds_into_year(time_s + standard_offset_s(time_s, self.tz))
        i = int((clock_s % self.period_s) // self.step_s)
        return float(self._shape[min(i, self._shape.size - 1)])


def read_dhw_profile(path: str | Path, step_s: float = 60.0, *, tz: str = "UTC") -> DrawProfile:
    """Read draws [L/h]: one value per line (DHWcalc, 1 min) or a CSV with ``flow_l_per_h``.

    Parameters
    ----------
    path : str or pathlib.Path
        The profile.
    step_s : float
        Step between lines [s] (DHWcalc: the "time step duration" of its log).
    tz : str
        IANA time zone of the household the profile describes, usually the site's
        ``site.timezone``; default UTC (the profile's clock is then UTC).

    Returns
    -------
    DrawProfile
        ``time_s`` [UTC s] ``->`` share of the daily volume drawn per second [1/s].

    Notes
    -----
    Time base: a DHWcalc profile has no timestamps, only equal steps from day 1, 00:00
    (525,600 one-minute lines for 365 days; Jordan & Vajen, "DHWcalc: program to
    generate domestic hot water profiles with statistical means for user defined
    conditions", ISES Solar World Congress 2005). Its daily probabilities are clock
    hours of the household (06:30-07:30 holds half the weekday volume in the profile
    of ``../shared/data``). A year of equal steps has no 23- or 25-hour days, so that
    clock is read as the **local standard time** of ``tz`` all year. A profile made with
    DHWcalc's "daylight saving time" option has the summer shift in its draws already
    (this one says "not applied": its 06:30 is 07:30 summer wall-clock time). Day 1 is
    1 January; the profile repeats every year and 29 February is folded as for EPW.
    """
    path = Path(path)
    try:
        with path.open() as fh:
            first = fh.readline()
        if "," in first or first.strip().lower().startswith(("time", "flow")):
            frame = pd.read_csv(path)
            cols = {c.lower().strip(): c for c in frame.columns}
            col = next((cols[c] for c in ("flow_l_per_h", "flow", "l_per_h") if c in cols), None)
            if col is None:
                raise ReaderError(f"{path}: needs a flow_l_per_h column")
            flow = frame[col].to_numpy(dtype=float)
        else:
            flow = np.loadtxt(path, dtype=float, ndmin=1)
    except (OSError, ValueError) as exc:
        if isinstance(exc, ReaderError):
            raise
        raise ReaderError(f"{path}: cannot read draws ({exc})") from exc
    if flow.size == 0 or not np.all(np.isfinite(flow)):
        raise ReaderError(f"{path}: empty or non-numeric draw profile")
    return DrawProfile(flow, step_s, tz)
