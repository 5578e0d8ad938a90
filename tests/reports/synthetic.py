"""A synthetic but plausible site: counters every 15 min from a small immersion-cooled pod.

Not measured data. IT power about 50 kW with a daily cycle; facility overhead
12 % + 2 kW; 95 % of IT heat captured; the pool takes what it needs (more in
winter), the rest is dumped; a gas boiler covers the remaining demand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def synthetic_counters(
    start: str, end: str, freq: str = "15min", seed: int = 3, tz: str = "Europe/Berlin"
) -> pd.DataFrame:
    index = pd.date_range(pd.Timestamp(start, tz=tz), pd.Timestamp(end, tz=tz), freq=freq)
    index = index.tz_convert("UTC")
    rng = np.random.default_rng(seed)
    hours = np.asarray((index - index[0]).total_seconds() / 3600.0)
    day_of_year = index.day_of_year.to_numpy()
    hour_of_day = index.hour.to_numpy()
    it_kw = 50 + 8 * np.sin(2 * np.pi * (hour_of_day - 9) / 24) + rng.normal(0, 1.5, len(index))
    facility_kw = 1.12 * it_kw + 2.0
    captured_kw = 0.95 * it_kw
    demand_kw = (
        45 + 20 * np.cos(2 * np.pi * (day_of_year - 15) / 365) + rng.normal(0, 3, len(index))
    )
    demand_kw = np.clip(demand_kw, 5, None)
    reused_kw = np.minimum(captured_kw, demand_kw)
    dumped_kw = captured_kw - reused_kw
    backup_kw = demand_kw - reused_kw
    step_h = np.diff(hours, prepend=hours[0])

    def counter(power_kw: np.ndarray, offset: float) -> np.ndarray:
        return offset + np.cumsum(power_kw * step_h)

    return pd.DataFrame(
        {
            "facility_kwh": counter(facility_kw, 812_345.0),
            "it_kwh": counter(it_kw, 701_220.0),
            "reused_heat_kwh": counter(reused_kw, 250_004.0),
            "dumped_heat_kwh": counter(dumped_kw, 80_110.0),
            "backup_heat_kwh": counter(backup_kw, 40_000.0),
        },
        index=pd.DatetimeIndex(index, name="timestamp"),
    )
