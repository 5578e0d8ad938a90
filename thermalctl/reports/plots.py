"""The report's charts, each drawn on a given Axes from the report tables.

The caller chooses the backend; :mod:`thermalctl.reports.build` uses Agg.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from thermalctl.kpi.counters import Gap
from thermalctl.reports.i18n import Catalogue

__all__ = ["plot_heat_flows", "plot_load", "plot_seasonal", "plot_trends"]

COLOURS = {
    "it": "#1f4e79", "reused": "#c0392b", "dumped": "#7f8c8d", "lost": "#d5d8dc",
    "backup": "#e67e22", "supply": "#2c3e50", "pue": "#1f4e79", "erf": "#c0392b",
}  # fmt: skip
EN = Catalogue("en")


def _thousands(t: Catalogue) -> FuncFormatter:
    return FuncFormatter(lambda v, _pos: t.number(v, 0))


def _decimals(t: Catalogue, digits: int) -> FuncFormatter:
    return FuncFormatter(lambda v, _pos: t.number(v, digits))


def _periods(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["period"] != "total"]


def _pad_categories(ax: Axes, count: int, minimum: int = 6) -> None:
    pad = max(0.0, (minimum - count) / 2)
    ax.set_xlim(-0.5 - pad, count - 0.5 + pad)


def plot_load(ax: Axes, load: pd.DataFrame, gaps: Sequence[Gap] = (), tz: str = "UTC",
              t: Catalogue = EN) -> None:
    """Load diagram: IT power and reused (and dumped) heat [kW] over time (site local
    time); gaps shaded."""  # fmt: skip
    index = load.index.tz_convert(tz).tz_localize(None)
    if "it_kw" in load:
        ax.plot(index, load["it_kw"], color=COLOURS["it"], lw=0.9, label=t("chart.it_power"))
    if "reused_kw" in load:
        ax.plot(index, load["reused_kw"], color=COLOURS["reused"], lw=0.9, label=t("chart.reused"))
    if "dumped_kw" in load:
        ax.plot(index, load["dumped_kw"], color=COLOURS["dumped"], lw=0.7, label=t("chart.dumped"))
    for i, gap in enumerate(gaps):
        ax.axvspan(
            gap.start.tz_convert(tz).tz_localize(None), gap.end.tz_convert(tz).tz_localize(None),
            color="#f5b7b1", alpha=0.5, lw=0, label=t("chart.gap") if i == 0 else None,
        )  # fmt: skip
    hourly = len(load) < 2 or load.index[1] - load.index[0] < pd.Timedelta("1D")
    ax.set_title(t("chart.load.hourly" if hourly else "chart.load.daily", tz=tz), loc="left",
                 fontsize=10)  # fmt: skip
    ax.set_ylabel(t("chart.power_kw"))
    ax.yaxis.set_major_formatter(_thousands(t))
    peak = float(np.nanmax(load.to_numpy(dtype=float), initial=1.0)) if len(load) else 1.0
    ax.set_ylim(0, 1.25 * peak)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper right", ncols=4)
    for label in ax.get_xticklabels():
        label.set_rotation(30)
        label.set_horizontalalignment("right")


def plot_seasonal(ax: Axes, monthly: pd.DataFrame, t: Catalogue = EN) -> None:
    """Seasonal thermal profile: heat demand (reused + backup) against DC heat supply, by month."""
    table = _periods(monthly)
    x = np.arange(len(table))
    reused = table["reused_energy_kwh"].fillna(0).to_numpy()
    backup = table["backup_energy_kwh"].fillna(0).to_numpy()
    ax.bar(x, reused, 0.6, color=COLOURS["reused"], label=t("chart.demand_reused"))
    ax.bar(x, backup, 0.6, bottom=reused, color=COLOURS["backup"], label=t("chart.demand_backup"))
    if table["heat_supply_kwh"].notna().any():
        ax.plot(x, table["heat_supply_kwh"], "o-", color=COLOURS["supply"], ms=4,
                label=t("chart.supply"))  # fmt: skip
    ax.set_xticks(x, table["period"].tolist(), rotation=30, ha="right")
    _pad_categories(ax, len(table))
    ax.set_title(t("chart.seasonal.title"), loc="left", fontsize=10)
    ax.set_ylabel(t("chart.heat_kwh_month"))
    ax.yaxis.set_major_formatter(_thousands(t))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")


def plot_heat_flows(ax: Axes, monthly: pd.DataFrame, t: Catalogue = EN) -> None:
    """IT electricity -> heat reused / dumped / lost, stacked per month, with the total's shares."""
    table = _periods(monthly)
    total = monthly[monthly["period"] == "total"].iloc[0]
    x = np.arange(len(table))
    bottom = np.zeros(len(table))
    for column, key, label in (
        ("reused_energy_kwh", "reused", t("chart.flow.reused")),
        ("dumped_energy_kwh", "dumped", t("chart.flow.dumped")),
        ("lost_heat_kwh", "lost", t("chart.flow.lost")),
    ):
        values = table[column].fillna(0).to_numpy()
        share = total[column] / total["it_energy_kwh"] if total["it_energy_kwh"] else np.nan
        text = t("chart.flow.share", label=label, share=t.percent(share)) if np.isfinite(
            share
        ) else label
        ax.bar(x, values, 0.6, bottom=bottom, color=COLOURS[key], label=text)
        bottom += values
    ax.plot(x, table["it_energy_kwh"], "_", color=COLOURS["it"], ms=18, mew=2,
            label=t("chart.it_electricity"))  # fmt: skip
    ax.set_xticks(x, table["period"].tolist(), rotation=30, ha="right")
    ax.set_title(t("chart.flows.title"), loc="left", fontsize=10)
    ax.set_ylabel(t("chart.energy_kwh_month"))
    ax.yaxis.set_major_formatter(_thousands(t))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")


def plot_trends(
    ax: Axes,
    table: pd.DataFrame,
    pue_limits: Sequence[tuple[float, str]] = (),
    erf_limits: Sequence[tuple[float, str]] = (),
    t: Catalogue = EN,
) -> None:
    """PUE (left axis) and ERF (right axis) per period, with target lines."""
    rows = _periods(table)
    x = np.arange(len(rows))
    ax.plot(x, rows["pue"], "o-", color=COLOURS["pue"], ms=3, label="PUE")
    for value, label in pue_limits:
        ax.axhline(value, color=COLOURS["pue"], ls="--", lw=0.8)
        ax.annotate(label, (0, value), fontsize=6, color=COLOURS["pue"], va="bottom")
    ax.set_ylabel("PUE [-]", color=COLOURS["pue"])
    right = ax.twinx()
    right.plot(x, rows["erf"], "s-", color=COLOURS["erf"], ms=3, label="ERF")
    for value, label in erf_limits:
        right.axhline(value, color=COLOURS["erf"], ls=":", lw=0.8)
        right.annotate(label, (len(x) - 1, value), fontsize=6, color=COLOURS["erf"],
                       va="bottom", ha="right")  # fmt: skip
    right.set_ylabel("ERF [-]", color=COLOURS["erf"])
    right.set_ylim(0, max(1.0, float(np.nanmax(rows["erf"].to_numpy(dtype=float), initial=0))))
    pue_max = float(np.nanmax(rows["pue"].to_numpy(dtype=float), initial=1.0))
    ax.set_ylim(1.0, max([pue_max * 1.05, *(v * 1.05 for v, _ in pue_limits)]))
    labels = rows["period"].tolist()
    stride = max(1, len(labels) // 12)
    ax.set_xticks(x[::stride], labels[::stride], rotation=30, ha="right")
    ax.set_title(t("chart.trend.title"), loc="left", fontsize=10)
    ax.yaxis.set_major_formatter(_decimals(t, 2))
    right.yaxis.set_major_formatter(_decimals(t, 1))
    ax.grid(alpha=0.3)
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    ax.legend(handles, ["PUE", "ERF"], fontsize=7, loc="upper left")
