"""Energy KPIs of a data centre from cumulative meter counters (pure: pandas and numpy).

Input is a frame of cumulative counters on a tz-aware DatetimeIndex (converted to
UTC): ``facility_kwh`` (E_DC), ``it_kwh`` (E_IT), ``reused_heat_kwh`` (E_REUSE)
and optionally ``dumped_heat_kwh``, ``backup_heat_kwh``, ``water_m3``,
``renewable_kwh``. Every period's energies are counter differences, interpolated
linearly in time at the period's edges; every ratio is a ratio of those sums,
never a mean of shorter-period ratios.

Indicators
----------
- PUE = E_DC / E_IT  (ISO/IEC 30134-2; EN 50600-4-2), with the caller's
  measurement category (1: E_IT at UPS output, 2: PDU output, 3: IT input).
- ERF = E_REUSE / E_DC  (ISO/IEC 30134-6; EN 50600-4-6).
- ERE = (E_DC - E_REUSE) / E_IT = (1 - ERF) * PUE  (The Green Grid, White Paper 29).
- WUE = water input [L] / E_IT [kWh]  (ISO/IEC 30134-9).
- REF = E_renewable / E_DC  (ISO/IEC 30134-3), measured or from a configured share.
- Avoided backup energy = E_REUSE / backup efficiency (fuel not burnt, or
  electricity not used by a heat pump of that COP); its cost and CO2 at the given
  price and emission factor.

Periods are calendar days (``"D"``), months (``"MS"``) or years (``"YS"``) in
the time zone ``tz``, clipped to the window ``[start, end)``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import pandas as pd

from thermalctl.kpi.counters import (
    DEFAULT_ROLLOVERS,
    DEFAULT_WRAP_TOLERANCE_FRACTION,
    CounterEvent,
    Gap,
    counter_from_power,
    covered_fraction,
    find_gaps,
    interval_energies,
)
from thermalctl.kpi.errors import KpiInputError

__all__ = [
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "CounterEvent",
    "Freq",
    "Gap",
    "KpiInputError",
    "KpiResult",
    "PeriodKpis",
    "compute_kpis",
    "counter_from_power",
    "covered_fraction",
    "find_gaps",
    "interval_energies",
    "period_edges",
]

Freq = Literal["D", "MS", "YS"]
RolloverSpec = float | Sequence[float] | Mapping[str, float | Sequence[float] | None] | None

REQUIRED_COLUMNS: tuple[str, ...] = ("facility_kwh", "it_kwh", "reused_heat_kwh")
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "dumped_heat_kwh", "backup_heat_kwh", "water_m3", "renewable_kwh",
)  # fmt: skip

#: Without an explicit maximum gap, an interval longer than this many median
#: sampling intervals is a gap (tolerates jitter and a missed poll or two).
AUTO_MAX_GAP_MEDIAN_FACTOR = 3.0
_L_PER_M3 = 1000.0
_EPOCH = pd.Timestamp(0, tz="UTC")


@dataclass(frozen=True)
class PeriodKpis:
    """Energies [kWh], indicators [-] and data quality of one period ``[start, end)``."""

    label: str
    start: pd.Timestamp
    end: pd.Timestamp
    facility_energy_kwh: float
    it_energy_kwh: float
    reused_energy_kwh: float
    dumped_energy_kwh: float | None
    backup_energy_kwh: float | None
    water_m3: float | None
    renewable_energy_kwh: float | None
    pue: float | None
    erf: float | None
    ere: float | None
    wue_l_per_kwh: float | None
    ref: float | None
    completeness: float
    gaps: tuple[Gap, ...]
    estimated: bool
    estimated_reasons: tuple[str, ...]
    avoided_backup_energy_kwh: float | None
    avoided_cost_eur: float | None
    avoided_co2_kg: float | None

    def as_record(self) -> dict[str, object]:
        """Flat dict (gaps summarised as count and seconds) for tables and JSON."""
        record = asdict(self)
        gaps = record.pop("gaps")
        record["gap_count"] = len(gaps)
        record["gap_duration_s"] = float(sum(g.duration_s for g in self.gaps))
        record["estimated_reasons"] = "; ".join(self.estimated_reasons)
        return record


@dataclass(frozen=True)
class KpiResult:
    """KPIs over the whole window (``total``) and per period (``periods``)."""

    total: PeriodKpis
    periods: tuple[PeriodKpis, ...]
    freq: Freq | None
    measurement_category: int | None
    events: tuple[CounterEvent, ...]
    max_gap_s: float

    def to_frame(self) -> pd.DataFrame:
        """One row per period (or the total when there are no periods), indexed by label."""
        rows = self.periods or (self.total,)
        return pd.DataFrame([p.as_record() for p in rows]).set_index("label")


@dataclass(frozen=True)
class _Options:
    estimated_columns: frozenset[str]
    renewable_fraction: float | None
    backup_efficiency: float | None
    fuel_price_eur_per_kwh: float | None
    fuel_co2_kg_per_kwh: float | None


def _epoch_s(index: pd.DatetimeIndex) -> np.ndarray:
    """Seconds since 1970 (independent of the index's datetime resolution)."""
    return (index - _EPOCH).total_seconds().to_numpy(dtype=float)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def _check_frame(frame: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(frame.index, pd.DatetimeIndex) or frame.index.tz is None:
        raise KpiInputError("the index must be a tz-aware DatetimeIndex (UTC)")
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise KpiInputError(f"missing counter column(s): {', '.join(missing)}")
    frame = frame.tz_convert("UTC") if str(frame.index.tz) != "UTC" else frame
    steps = frame.index[1:] - frame.index[:-1]
    bad = np.flatnonzero(steps <= pd.Timedelta(0))
    if len(bad):
        i = int(bad[0]) + 1
        raise KpiInputError(
            f"row {i}: timestamp {frame.index[i].isoformat()} is not after the previous row "
            f"({frame.index[i - 1].isoformat()})"
        )
    columns = [c for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in frame.columns]
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        negative = np.flatnonzero(values < 0)
        if len(negative):
            i = int(negative[0])
            raise KpiInputError(
                f"row {i} ({frame.index[i].isoformat()}), column {column!r}: "
                f"negative counter {values[i]}"
            )
        if column in REQUIRED_COLUMNS and np.isnan(values).all():
            raise KpiInputError(f"column {column!r}: no valid values")
    return frame[columns].apply(pd.to_numeric, errors="coerce").astype(float)


def period_edges(
    start: pd.Timestamp, end: pd.Timestamp, freq: Freq | None, tz: str = "UTC"
) -> list[pd.Timestamp]:
    """Edges [UTC] of the calendar periods of ``freq`` in ``tz`` that cover ``[start, end)``."""
    if freq is None:
        return [start, end]
    local = start.tz_convert(tz).normalize()
    if freq == "MS":
        local = local.replace(day=1)
    elif freq == "YS":
        local = local.replace(month=1, day=1)
    elif freq != "D":
        raise KpiInputError(f"freq must be None, 'D', 'MS' or 'YS', not {freq!r}")
    grid = pd.date_range(local, end.tz_convert(tz), freq=freq).tz_convert("UTC")
    inner = [t for t in grid if start < t < end]
    return [start, *inner, end]


def _label(start: pd.Timestamp, freq: Freq | None, tz: str) -> str:
    fmt = {"D": "%Y-%m-%d", "MS": "%Y-%m", "YS": "%Y"}.get(freq or "", "")
    return start.tz_convert(tz).strftime(fmt) if fmt else "total"


def _rollover_for(rollover: RolloverSpec, column: str) -> float | Sequence[float] | None:
    if isinstance(rollover, Mapping):
        return rollover.get(column, DEFAULT_ROLLOVERS)
    return rollover


def compute_kpis(
    frame: pd.DataFrame,
    freq: Freq | None = None,
    *,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    tz: str = "UTC",
    max_gap_s: float | None = None,
    rollover: RolloverSpec = DEFAULT_ROLLOVERS,
    wrap_tolerance_fraction: float = DEFAULT_WRAP_TOLERANCE_FRACTION,
    estimated_columns: Collection[str] = (),
    measurement_category: int | None = None,
    renewable_fraction: float | None = None,
    backup_efficiency: float | None = None,
    fuel_price_eur_per_kwh: float | None = None,
    fuel_co2_kg_per_kwh: float | None = None,
) -> KpiResult:
    """Compute energies and KPIs over ``[start, end)`` and per calendar period.

    Parameters
    ----------
    frame : cumulative counters [kWh; water in m³] on a tz-aware DatetimeIndex.
        NaN marks a missing reading of that column.
    freq : None (window only), ``"D"``, ``"MS"`` or ``"YS"``.
    start, end : the window [UTC]; default the first and last timestamp.
    tz : time zone of the calendar periods.
    max_gap_s : an interval between samples longer than this [s] is a gap;
        default ``AUTO_MAX_GAP_MEDIAN_FACTOR`` times the median interval.
    rollover : register limit(s) for wrap detection, one for all columns or a
        mapping column -> limit(s); None: every drop is a meter reset.
    wrap_tolerance_fraction : see :func:`interval_energies` [fraction].
    estimated_columns : columns integrated from power, reported as estimated.
    measurement_category : ISO/IEC 30134-2 PUE category (1, 2 or 3), reported as given.
    renewable_fraction : share of E_DC that is renewable [fraction], used for
        REF when there is no ``renewable_kwh`` counter.
    backup_efficiency : efficiency [fraction] or COP of the heater the reused
        heat replaces; enables the avoided-energy figures.
    fuel_price_eur_per_kwh, fuel_co2_kg_per_kwh : price [EUR/kWh] and emission
        factor [kg/kWh] of the backup heater's fuel.

    Raises
    ------
    KpiInputError
        Missing column, naive or unordered index, negative counter, fewer than
        two samples; the message names the row and column.

    Examples
    --------
    >>> idx = pd.date_range("2024-01-01", periods=3, freq="12h", tz="UTC")
    >>> f = pd.DataFrame({"facility_kwh": [0.0, 120, 160], "it_kwh": [0.0, 100, 120],
    ...                   "reused_heat_kwh": [0.0, 30, 50]}, index=idx)
    >>> round(compute_kpis(f).total.pue, 4)
    1.3333
    """
    data = _check_frame(frame)
    if measurement_category not in (None, 1, 2, 3):
        raise KpiInputError(f"measurement_category must be 1, 2 or 3, not {measurement_category}")
    complete_rows = data[list(REQUIRED_COLUMNS)].notna().all(axis=1)
    sample_index = data.index[complete_rows.to_numpy()]
    if len(sample_index) < 2:
        raise KpiInputError("need at least two rows with facility_kwh, it_kwh and reused_heat_kwh")
    window_start = sample_index[0] if start is None else pd.Timestamp(start).tz_convert("UTC")
    window_end = sample_index[-1] if end is None else pd.Timestamp(end).tz_convert("UTC")
    if window_end <= window_start:
        raise KpiInputError(f"empty window: start {window_start} is not before end {window_end}")
    if max_gap_s is None:
        median_s = float(np.median((sample_index[1:] - sample_index[:-1]).total_seconds()))
        max_gap_s = AUTO_MAX_GAP_MEDIAN_FACTOR * median_s

    edges = period_edges(window_start, window_end, freq, tz)
    edges_s = _epoch_s(pd.DatetimeIndex(edges))
    energies: dict[str, np.ndarray] = {}
    events: list[CounterEvent] = []
    for column in data.columns:
        series = data[column].dropna()
        if len(series) < 2:
            continue
        intervals = interval_energies(
            series,
            rollover=_rollover_for(rollover, column),
            wrap_tolerance_fraction=wrap_tolerance_fraction,
        )
        events.extend(intervals.events)
        cumulative = np.concatenate([[0.0], np.cumsum(intervals.increments.to_numpy())])
        at_edges = np.interp(edges_s, _epoch_s(series.index), cumulative)
        energies[column] = np.diff(at_edges)
        energies[column + "@total"] = np.array([at_edges[-1] - at_edges[0]])

    gaps = find_gaps(sample_index, window_start, window_end, max_gap_s)
    extra = _Options(
        estimated_columns=frozenset(estimated_columns),
        renewable_fraction=renewable_fraction,
        backup_efficiency=backup_efficiency,
        fuel_price_eur_per_kwh=fuel_price_eur_per_kwh,
        fuel_co2_kg_per_kwh=fuel_co2_kg_per_kwh,
    )
    periods: list[PeriodKpis] = []
    if freq is not None:
        for i in range(len(edges) - 1):
            values = {c: float(v[i]) for c, v in energies.items() if not c.endswith("@total")}
            label = _label(edges[i], freq, tz)
            periods.append(_period(label, edges[i], edges[i + 1], values, gaps, events, extra))
    totals = {c[: -len("@total")]: float(v[0]) for c, v in energies.items() if c.endswith("@total")}
    total = _period("total", window_start, window_end, totals, gaps, events, extra)
    return KpiResult(
        total=total,
        periods=tuple(periods),
        freq=freq,
        measurement_category=measurement_category,
        events=tuple(events),
        max_gap_s=float(max_gap_s),
    )


def _period(
    label: str,
    start: pd.Timestamp,
    end: pd.Timestamp,
    values: Mapping[str, float],
    all_gaps: Sequence[Gap],
    events: Sequence[CounterEvent],
    extra: _Options,
) -> PeriodKpis:
    overlapping = [g for g in all_gaps if g.start < end and g.end > start]
    gaps = tuple(Gap(max(g.start, start), min(g.end, end)) for g in overlapping)
    reasons: list[str] = []
    if any(g.start < t < g.end for g in all_gaps for t in (start, end)):
        reasons.append("a gap spans the period edge: energy split by linear interpolation")
    for event in events:
        if event.kind in ("reset", "glitch") and start < event.timestamp <= end:
            what = "meter reset" if event.kind == "reset" else "interpolated glitch"
            reasons.append(f"{what} of {event.column} at {event.timestamp.isoformat()}")
    reasons.extend(
        f"{c} integrated from power" for c in sorted(extra.estimated_columns) if c in values
    )
    dc, it, reuse = values["facility_kwh"], values["it_kwh"], values["reused_heat_kwh"]
    water = values.get("water_m3")
    renewable = values.get("renewable_kwh")
    if renewable is None and extra.renewable_fraction is not None:
        ref: float | None = extra.renewable_fraction
    else:
        ref = _ratio(renewable, dc)
    efficiency = extra.backup_efficiency
    avoided = reuse / efficiency if efficiency is not None and efficiency > 0 else None
    price, co2 = extra.fuel_price_eur_per_kwh, extra.fuel_co2_kg_per_kwh
    return PeriodKpis(
        label=label,
        start=start,
        end=end,
        facility_energy_kwh=dc,
        it_energy_kwh=it,
        reused_energy_kwh=reuse,
        dumped_energy_kwh=values.get("dumped_heat_kwh"),
        backup_energy_kwh=values.get("backup_heat_kwh"),
        water_m3=water,
        renewable_energy_kwh=renewable,
        pue=_ratio(dc, it),
        erf=_ratio(reuse, dc),
        ere=_ratio(dc - reuse, it),
        wue_l_per_kwh=_ratio(None if water is None else water * _L_PER_M3, it),
        ref=ref,
        completeness=covered_fraction(gaps, start, end),
        gaps=gaps,
        estimated=bool(reasons),
        estimated_reasons=tuple(reasons),
        avoided_backup_energy_kwh=avoided,
        avoided_cost_eur=None if avoided is None or price is None else avoided * price,
        avoided_co2_kg=None if avoided is None or co2 is None else avoided * co2,
    )
