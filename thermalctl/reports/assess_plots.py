"""Charts of the feasibility study that the energy report has no use for.

The load diagram and the seasonal profile are the energy report's
(:mod:`thermalctl.reports.plots`); these add what a planner asks before building:

* :func:`plot_duration` - the annual duration curves of the sinks' heat demand and of the
  heat the data centre offers (reused + dumped), hour by hour sorted from the largest:
  where supply lies above demand the surplus goes to the dry cooler, where it lies
  below the backup heaters fill in;
* :func:`plot_policy_months` - reused heat per month under each policy.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from thermalctl.kpi.counters import interval_energies
from thermalctl.reports.i18n import Catalogue
from thermalctl.reports.plots import COLOURS

__all__ = ["hourly_power_kw", "plot_duration", "plot_policy_months"]

POLICY_COLOURS = {"thermostat": "#95a5a6", "rules": "#e67e22", "mpc": "#c0392b"}


def hourly_power_kw(counters: pd.DataFrame, column: str) -> pd.Series:
    """Mean power [kW] of each interval of an hourly counter column [kWh]."""
    series = counters[column].dropna()
    steps = interval_energies(series).increments
    hours = series.index.to_series().diff().dt.total_seconds().iloc[1:] / 3600.0
    return pd.Series(steps.to_numpy() / hours.to_numpy(), index=series.index[1:])


def plot_duration(ax: Axes, counters: pd.DataFrame, t: Catalogue) -> None:
    """Duration curves of heat demand (reused + backup) and DC heat supply (reused +
    dumped) [kW], each sorted from its largest hour."""
    reused = hourly_power_kw(counters, "reused_heat_kwh")
    demand = (reused + hourly_power_kw(counters, "backup_heat_kwh")).to_numpy()
    supply = (reused + hourly_power_kw(counters, "dumped_heat_kwh")).to_numpy()
    hours = np.arange(1, len(demand) + 1)
    ax.plot(hours, np.sort(demand)[::-1], color=COLOURS["backup"], lw=1.2,
            label=t("assess.chart.demand"))  # fmt: skip
    ax.plot(hours, np.sort(supply)[::-1], color=COLOURS["supply"], lw=1.2,
            label=t("assess.chart.supply"))  # fmt: skip
    ax.plot(hours, np.sort(reused.to_numpy())[::-1], color=COLOURS["reused"], lw=1.0, ls="--",
            label=t("assess.chart.reused"))  # fmt: skip
    ax.set_xlim(0, max(1, len(hours)))
    top = float(np.nanmax(np.concatenate([demand, supply]), initial=1.0))
    ax.set_ylim(0, 1.15 * top)
    ax.set_title(t("assess.chart.duration.title"), loc="left", fontsize=10)
    ax.set_xlabel(t("assess.chart.hours"))
    ax.set_ylabel(t("chart.power_kw"))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")


def plot_policy_months(ax: Axes, monthly: Mapping[str, pd.DataFrame], t: Catalogue) -> None:
    """Reused heat [kWh] per month, one bar per policy."""
    policies = list(monthly)
    first = monthly[policies[0]]
    periods = first[first["period"] != "total"]["period"].tolist()
    x = np.arange(len(periods))
    width = 0.8 / max(1, len(policies))
    for i, policy in enumerate(policies):
        table = monthly[policy]
        values = table[table["period"] != "total"]["reused_energy_kwh"].fillna(0).to_numpy()
        ax.bar(x - 0.4 + width * (i + 0.5), values, width,
               color=POLICY_COLOURS.get(policy, "#34495e"),
               label=t(f"assess.policy.{policy}"))  # fmt: skip
    ax.set_xticks(x, periods, rotation=30, ha="right")
    pad = max(0.0, (6 - len(periods)) / 2)  # a month or two stay in the middle
    ax.set_xlim(-0.6 - pad, len(periods) - 0.4 + pad)
    ax.set_title(t("assess.chart.policies.title"), loc="left", fontsize=10)
    ax.set_ylabel(t("chart.heat_kwh_month"))
    ax.yaxis.set_major_formatter(lambda v, _pos: t.number(v, 0))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
