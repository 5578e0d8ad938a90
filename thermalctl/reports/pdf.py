"""The PDF report (A4, matplotlib ``PdfPages``; text kept as text, TrueType fonts)."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.typing import RcKeyType

from thermalctl.reports import content, plots
from thermalctl.reports.info import ReportInfo
from thermalctl.reports.regulatory import EU_REF
from thermalctl.reports.tables import ReportTables, format_frame

__all__ = ["RC_PARAMS", "write_pdf"]

A4_IN = (8.27, 11.69)
#: Type 42 (TrueType) fonts keep the text extractable (pdftotext) and searchable.
RC_PARAMS: dict[RcKeyType, Any] = {
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "font.size": 8,
    "font.family": "DejaVu Sans",
}
HEADER_COLOUR = "#dfe6ee"


def _page(number: list[int], info: ReportInfo, heading: str) -> Figure:
    fig = Figure(figsize=A4_IN)
    number[0] += 1
    fig.text(0.06, 0.965, heading, fontsize=13, weight="bold", color="#1f4e79")
    fig.text(0.06, 0.025, f"thermalctl energy report · {info.site_name} ({info.site_id})",
             fontsize=7, color="#555555")  # fmt: skip
    fig.text(0.94, 0.025, f"page {number[0]}", fontsize=7, color="#555555", ha="right")
    return fig


def _table(
    fig: Figure,
    top: float,
    text: pd.DataFrame,
    wrap: Sequence[int],
    widths: Sequence[float],
    font_size: float = 7.0,
    title: str | None = None,
) -> float:
    """Draw ``text`` (strings) below ``top`` [figure fraction]; returns the bottom."""
    if title:
        fig.text(0.06, top, title, fontsize=10, va="top")
        top -= 0.025
    cells = [[textwrap.fill(str(v), w) for v, w in zip(row, wrap, strict=True)]
             for row in text.itertuples(index=False)]  # fmt: skip
    header = [textwrap.fill(str(c), w) for c, w in zip(text.columns, wrap, strict=True)]
    lines = [max(c.count("\n") + 1 for c in row) for row in [header, *cells]]
    line_in, pad_in = font_size * 1.3 / 72, 0.06
    rows_in = [n * line_in + pad_in for n in lines]
    height = sum(rows_in) / A4_IN[1]
    ax = fig.add_axes((0.06, top - height, 0.88, height))
    ax.set_axis_off()
    table = ax.table(cellText=cells or None, colLabels=header, colWidths=list(widths),
                     loc="upper left", cellLoc="left", colLoc="left")  # fmt: skip
    table.auto_set_font_size(False)
    table.set_fontsize(font_size)
    total_in = sum(rows_in)
    for (r, c), cell in table.get_celld().items():
        cell.set_height(rows_in[r] / total_in)
        cell.set_edgecolor("#b0b7bf")
        cell.set_linewidth(0.4)
        if r == 0:
            cell.set_facecolor(HEADER_COLOUR)
            cell.get_text().set_fontweight("bold")
        elif str(text.iloc[r - 1, 0]) == "total":
            cell.get_text().set_fontweight("bold")
        if r > 0 and _NUMBER.fullmatch(cells[r - 1][c]):
            cell.get_text().set_horizontalalignment("right")
            cell._loc = "right"  # type: ignore[attr-defined]  # no public setter
    return top - height - 0.02


_NUMBER = re.compile(r"-?[\d,]+(\.\d+)?")


def _text_block(fig: Figure, top: float, lines: Sequence[str], width: int = 110) -> float:
    y = top
    for line in lines:
        wrapped = textwrap.fill(line, width)
        fig.text(0.06, y, wrapped, fontsize=7.5, va="top")
        y -= 0.0125 * (wrapped.count("\n") + 1) + 0.008
    return y


def _title_page(info: ReportInfo, tables: ReportTables, start: pd.Timestamp,
                end: pd.Timestamp, n: list[int]) -> Figure:  # fmt: skip
    fig = _page(n, info, "Energy and heat-reuse report")
    fig.text(0.06, 0.94, textwrap.fill(info.site_name, 80), fontsize=11, va="top")
    fig.text(0.06, 0.915, "Site, measurement boundary and key figures for the reporting period",
             fontsize=8, color="#444444", va="top")  # fmt: skip
    facts = pd.DataFrame(content.site_facts(info, start, end), columns=["Item", "Value"])
    y = _table(fig, 0.895, facts, wrap=[30, 88], widths=[0.27, 0.73])
    _table(fig, y - 0.01, content.summary_rows(tables), wrap=[60, 20, 8],
           widths=[0.62, 0.25, 0.13], title="Key figures for the whole period")  # fmt: skip
    return fig


def _meters_page(info: ReportInfo, tables: ReportTables, n: list[int]) -> Figure:
    fig = _page(n, info, "Meters and data quality")
    meters = info.meters or ("no meters listed in the site profile",)
    fig.text(0.06, 0.935, "Meters and sensors", fontsize=10, weight="bold")
    y = _text_block(fig, 0.915, [f"• {m}" for m in meters])
    fig.text(0.06, y - 0.01, "Data quality", fontsize=10, weight="bold")
    _text_block(fig, y - 0.03, [f"• {line}" for line in content.notes(tables)])
    return fig


def _monthly_page(info: ReportInfo, tables: ReportTables, n: list[int]) -> Figure:
    fig = _page(n, info, "Monthly energy and KPI table")
    energy = format_frame(tables.monthly, content.MONTHLY_ENERGY_COLUMNS)
    y = _table(fig, 0.93, energy, wrap=[9, 12, 12, 12, 7, 7, 7, 8, 9],
               widths=[0.10, 0.14, 0.14, 0.14, 0.08, 0.08, 0.08, 0.11, 0.13])  # fmt: skip
    heat = format_frame(tables.monthly, content.MONTHLY_HEAT_COLUMNS)
    _table(fig, y - 0.01, heat, wrap=[9, 10, 10, 10, 9, 10, 10, 10, 8, 6],
           widths=[0.09, 0.11, 0.11, 0.11, 0.10, 0.11, 0.11, 0.10, 0.09, 0.07],
           title="Heat balance and avoided backup energy")  # fmt: skip
    return fig


def _charts_page(info: ReportInfo, tables: ReportTables, n: list[int], which: int) -> Figure:
    if which == 0:
        fig = _page(n, info, "Load diagram and seasonal thermal profile")
        plots.plot_load(fig.add_axes((0.1, 0.56, 0.84, 0.36)), tables.load,
                        tables.result.total.gaps, info.timezone)  # fmt: skip
        plots.plot_seasonal(fig.add_axes((0.1, 0.10, 0.84, 0.36)), tables.monthly)
        return fig
    fig = _page(n, info, "Heat flows and PUE / ERF trend")
    plots.plot_heat_flows(fig.add_axes((0.1, 0.56, 0.84, 0.36)), tables.monthly)
    trend = tables.daily if len(tables.monthly) <= 4 else tables.monthly
    pue, erf = content.enefg_targets(tables)
    plots.plot_trends(fig.add_axes((0.1, 0.10, 0.78, 0.36)), trend, pue, erf)
    return fig


def _regulatory_page(info: ReportInfo, tables: ReportTables, n: list[int]) -> Figure:
    fig = _page(n, info, "EU reporting fields and EnEfG § 11 check")
    fig.text(0.06, 0.94, f"{EU_REF}: fields the meter data can fill, and those it cannot "
             "(values for the report period; the regulation asks for calendar years)",
             fontsize=7.5)  # fmt: skip
    eu = format_frame(tables.eu_fields)
    y = _table(fig, 0.925, eu, wrap=[32, 9, 6, 10, 44, 18],
               widths=[0.26, 0.08, 0.06, 0.10, 0.34, 0.16], font_size=6.5)  # fmt: skip
    enefg = format_frame(tables.enefg)
    title = f"Germany, EnEfG § 11: targets by commissioning date ({info.commissioned.isoformat()})"
    y = _table(fig, y - 0.01, enefg, wrap=[36, 24, 9, 10, 7, 10, 20],
               widths=[0.28, 0.20, 0.08, 0.10, 0.07, 0.09, 0.18], font_size=6.5,
               title=title)  # fmt: skip
    _text_block(fig, y, [
        "EnEfG § 11 asks for annual averages; on a shorter period the status is indicative. "
        "Electricity used only to upgrade waste heat (heat pumps) is left out of the PUE "
        "(§ 11 (2) Satz 3). Duties apply from 300 kW non-redundant connected load; EU "
        "reporting from 500 kW installed IT power (Del. Reg. (EU) 2024/1364 Art. 1).",
    ], width=140)  # fmt: skip
    return fig


def write_pdf(
    path: Path, tables: ReportTables, info: ReportInfo, start: pd.Timestamp, end: pd.Timestamp
) -> None:
    """Write the multi-page PDF report to ``path``."""
    counter = [0]
    with mpl.rc_context(RC_PARAMS):
        pages = [
            _title_page(info, tables, start, end, counter),
            _meters_page(info, tables, counter),
            _monthly_page(info, tables, counter),
            _charts_page(info, tables, counter, 0),
            _charts_page(info, tables, counter, 1),
            _regulatory_page(info, tables, counter),
        ]
        metadata = {"Title": content.title(info), "Author": info.operator or "thermalctl",
                    "Subject": content.period_text(start, end, info.timezone),
                    "Creator": "thermalctl"}  # fmt: skip
        with PdfPages(path, metadata=metadata) as pdf:
            for page in pages:
                pdf.savefig(page)
