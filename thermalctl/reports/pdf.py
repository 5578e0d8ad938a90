"""The PDF report (A4, matplotlib ``PdfPages``; text kept as text, TrueType fonts)."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib as mpl
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.typing import RcKeyType

from thermalctl.reports import content, plots
from thermalctl.reports.i18n import Catalogue
from thermalctl.reports.info import ReportInfo
from thermalctl.reports.origin import MEASURED
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
TABLE_WIDTH = 0.88  # of the page
GLYPH_EM = 0.68  # with the cells' padding
#: Column widths [fraction of the table] of each table.
METER_WIDTHS = (0.12, 0.25, 0.12, 0.23, 0.15, 0.13)
ENERGY_WIDTHS = (0.10, 0.14, 0.14, 0.14, 0.08, 0.08, 0.08, 0.11, 0.13)
HEAT_WIDTHS = (0.09, 0.11, 0.11, 0.11, 0.10, 0.11, 0.11, 0.10, 0.09, 0.07)
SCOPE_WIDTHS = (0.12, 0.12, 0.18, 0.07, 0.06, 0.09, 0.36)
EU_WIDTHS = (0.26, 0.08, 0.06, 0.10, 0.34, 0.16)
ENEFG_WIDTHS = (0.23, 0.15, 0.08, 0.09, 0.06, 0.09, 0.30)
#: Banner colours by data origin: measured plain, anything else a warning.
BANNER_COLOURS = {MEASURED: ("#e8f1e4", "#2e6b1f")}
WARNING_COLOURS = ("#fdecea", "#a4161a")
ORIGIN_COLOUR = "#7a4b00"
_NUMBER = re.compile(r"-?\d[\d.,]*")


@dataclass
class _Doc:
    """What every page needs: the site, the tables, the language, the page count."""

    info: ReportInfo
    tables: ReportTables
    t: Catalogue
    pages: int = 0
    origin: str = field(init=False)

    def __post_init__(self) -> None:
        self.origin = content.origin_line(self.tables, self.t)


def _page(doc: _Doc, heading: str) -> Figure:
    fig = Figure(figsize=A4_IN)
    doc.pages += 1
    fig.text(0.06, 0.965, heading, fontsize=13, weight="bold", color="#1f4e79")
    footer = doc.t("footer", id=doc.info.site_id)
    short = doc.t("origin.line", origin=doc.t(f"source.{doc.tables.origin}"))
    fig.text(0.06, 0.025, f"{footer} · {short}", fontsize=7, color="#555555")
    fig.text(0.94, 0.025, doc.t("page", n=doc.pages), fontsize=7, color="#555555", ha="right")
    return fig


def _table(
    fig: Figure,
    top: float,
    text: pd.DataFrame,
    widths: Sequence[float],
    *,
    origin: str,
    font_size: float = 7.0,
    title: str | None = None,
) -> float:
    """Draw ``text`` (strings) below ``top`` [figure fraction], the data's ``origin``
    above it; returns the bottom."""
    if title:
        fig.text(0.06, top, title, fontsize=10, va="top")
        top -= 0.022
    fig.text(0.06, top, origin, fontsize=6.5, va="top", style="italic", color=ORIGIN_COLOUR)
    top -= 0.014
    # characters per line of each column: its width [pt] over a DejaVu Sans glyph's mean
    # advance (about 0.62 em, bold headers included)
    wrap = [max(3, int(w * TABLE_WIDTH * A4_IN[0] * 72 / (font_size * GLYPH_EM))) for w in widths]
    cells = [[textwrap.fill(str(v), w) for v, w in zip(row, wrap, strict=True)]
             for row in text.itertuples(index=False)]  # fmt: skip
    header = [textwrap.fill(str(c), w) for c, w in zip(text.columns, wrap, strict=True)]
    lines = [max(c.count("\n") + 1 for c in row) for row in [header, *cells]]
    line_in, pad_in = font_size * 1.3 / 72, 0.06
    rows_in = [n * line_in + pad_in for n in lines]
    height = sum(rows_in) / A4_IN[1]
    ax = fig.add_axes((0.06, top - height, TABLE_WIDTH, height))
    ax.set_axis_off()
    table = ax.table(cellText=cells or None, colLabels=header, colWidths=list(widths),
                     loc="upper left", cellLoc="left", colLoc="left")  # fmt: skip
    table.auto_set_font_size(False)
    table.set_fontsize(font_size)
    total_in = sum(rows_in)
    bold_first = {"total", "gesamt"}
    for (r, c), cell in table.get_celld().items():
        cell.set_height(rows_in[r] / total_in)
        cell.set_edgecolor("#b0b7bf")
        cell.set_linewidth(0.4)
        if r == 0:
            cell.set_facecolor(HEADER_COLOUR)
            cell.get_text().set_fontweight("bold")
        elif str(text.iloc[r - 1, 0]) in bold_first:
            cell.get_text().set_fontweight("bold")
        if r > 0 and _NUMBER.fullmatch(cells[r - 1][c]):
            cell.get_text().set_horizontalalignment("right")
            cell._loc = "right"  # type: ignore[attr-defined]  # no public setter
    return top - height - 0.02


def _text_block(fig: Figure, top: float, lines: Sequence[str], width: int = 110,
                size: float = 7.5) -> float:  # fmt: skip
    y = top
    for line in lines:
        wrapped = textwrap.fill(line, width)
        fig.text(0.06, y, wrapped, fontsize=size, va="top")
        y -= 0.0125 * (size / 7.5) * (wrapped.count("\n") + 1) + 0.008
    return y


def _banner(fig: Figure, top: float, doc: _Doc) -> float:
    """The data origin, boxed: green for measured data, red for anything else."""
    background, colour = BANNER_COLOURS.get(doc.tables.origin, WARNING_COLOURS)
    text = textwrap.fill(content.origin_banner(doc.tables, doc.t), 105)
    lines = text.count("\n") + 1
    fig.text(0.06, top, text, fontsize=8.5, va="top", color=colour, weight="bold",
             bbox={"boxstyle": "round,pad=0.5", "facecolor": background, "edgecolor": colour,
                   "linewidth": 0.8})  # fmt: skip
    return top - 0.0145 * lines - 0.02


def _title_page(doc: _Doc, start: pd.Timestamp, end: pd.Timestamp) -> Figure:
    t, info = doc.t, doc.info
    fig = _page(doc, t("heading.report"))
    fig.text(0.06, 0.94, textwrap.fill(info.site_name, 80), fontsize=11, va="top")
    fig.text(0.06, 0.918, t("cover.subtitle"), fontsize=8, color="#444444", va="top")
    y = _banner(fig, 0.898, doc)
    facts = pd.DataFrame(content.site_facts(info, doc.tables, start, end, t),
                         columns=[t("col.item"), t("col.value")])  # fmt: skip
    y = _table(fig, y, facts, widths=[0.25, 0.75], origin=doc.origin)
    fig.text(0.06, y, t("heading.scope"), fontsize=10, va="top")
    y = _text_block(fig, y - 0.02, [f"• {line}" for line in content.scope_flags(doc.tables, t)],
                    width=125, size=7)  # fmt: skip
    _table(fig, y - 0.005, content.summary_rows(doc.tables, t), widths=[0.62, 0.25, 0.13],
           title=t("heading.key_figures"), origin=doc.origin)
    return fig


def _meters_page(doc: _Doc) -> Figure:
    t, info = doc.t, doc.info
    fig = _page(doc, t("heading.meters_quality"))
    fig.text(0.06, 0.935, t("heading.meters"), fontsize=10, weight="bold", va="top")
    y = 0.915
    if info.meters:
        y = _table(fig, y, content.meter_table(info, t), METER_WIDTHS, origin=doc.origin,
                   font_size=6.5)
        if content.meters_untraceable(info):
            y = _text_block(fig, y, [t("meter.untraceable")], width=130, size=7)
    else:
        y = _text_block(fig, y, [t("meter.none")])
    fig.text(0.06, y - 0.01, t("heading.quality"), fontsize=10, weight="bold", va="top")
    y = _text_block(fig, y - 0.03, [f"• {n}" for n in content.notes(doc.tables,
                                                                    info.timezone, t)])
    if len(doc.tables.gaps):
        _table(fig, y - 0.005, content.gap_frame(doc.tables, t), widths=[0.3, 0.3, 0.2],
               origin=doc.origin, title=t("heading.gaps", tz=info.timezone))
    return fig


def _monthly_page(doc: _Doc) -> Figure:
    t = doc.t
    fig = _page(doc, t("heading.monthly"))
    energy = format_frame(doc.tables.monthly, content.MONTHLY_ENERGY_COLUMNS, t)
    y = _table(fig, 0.935, energy, ENERGY_WIDTHS, origin=doc.origin)
    heat = format_frame(doc.tables.monthly, content.MONTHLY_HEAT_COLUMNS, t)
    _table(fig, y - 0.01, heat, HEAT_WIDTHS, title=t("heading.heat_balance"), origin=doc.origin)
    return fig


def _charts_page(doc: _Doc, which: int) -> Figure:
    t, tables, info = doc.t, doc.tables, doc.info
    if which == 0:
        fig = _page(doc, t("heading.charts_load"))
        fig.text(0.06, 0.948, doc.origin, fontsize=6.5, style="italic", color=ORIGIN_COLOUR)
        plots.plot_load(fig.add_axes((0.1, 0.55, 0.84, 0.36)), tables.load,
                        tables.result.total.gaps, info.timezone, t)  # fmt: skip
        plots.plot_seasonal(fig.add_axes((0.1, 0.10, 0.84, 0.36)), tables.monthly, t)
        return fig
    fig = _page(doc, t("heading.charts_flows"))
    fig.text(0.06, 0.948, doc.origin, fontsize=6.5, style="italic", color=ORIGIN_COLOUR)
    plots.plot_heat_flows(fig.add_axes((0.1, 0.55, 0.84, 0.36)), tables.monthly, t)
    trend = tables.daily if len(tables.monthly) <= 4 else tables.monthly
    pue, erf = content.enefg_targets(tables, t)
    plots.plot_trends(fig.add_axes((0.1, 0.10, 0.78, 0.36)), trend, pue, erf, t)
    return fig


def _regulatory_page(doc: _Doc) -> Figure:
    t, tables = doc.t, doc.tables
    fig = _page(doc, t("heading.regulatory"))
    y = _table(fig, 0.935, format_frame(tables.scope, t=t), SCOPE_WIDTHS, font_size=6.5,
               title=t("heading.applicability"), origin=doc.origin)
    eu = format_frame(tables.eu_fields, t=t)
    _table(fig, y - 0.005, eu, EU_WIDTHS, font_size=6.5, title=t("heading.eu", ref=EU_REF),
           origin=doc.origin)
    return fig


def _enefg_page(doc: _Doc) -> Figure:
    t, tables, info = doc.t, doc.tables, doc.info
    fig = _page(doc, t("heading.enefg_page"))
    enefg = format_frame(tables.enefg, t=t)
    y = _table(fig, 0.935, enefg, ENEFG_WIDTHS, font_size=6.5,
               title=t("heading.enefg", commissioned=info.commissioned.isoformat()),
               origin=doc.origin)
    _text_block(fig, y, [t("smallprint.enefg")], width=140, size=7)
    return fig


def write_pdf(
    path: Path, tables: ReportTables, info: ReportInfo, start: pd.Timestamp, end: pd.Timestamp
) -> None:
    """Write the multi-page PDF report to ``path`` in the tables' language."""
    doc = _Doc(info, tables, Catalogue(tables.lang))
    with mpl.rc_context(RC_PARAMS):
        pages = [
            _title_page(doc, start, end),
            _meters_page(doc),
            _monthly_page(doc),
            _charts_page(doc, 0),
            _charts_page(doc, 1),
            _regulatory_page(doc),
            _enefg_page(doc),
        ]
        metadata = {"Title": content.title(info, doc.t),
                    "Author": info.operator or "thermalctl",
                    "Subject": content.period_text(start, end, info.timezone, doc.t),
                    "Creator": "thermalctl", "Keywords": doc.origin}  # fmt: skip
        with PdfPages(path, metadata=metadata) as pdf:
            for page in pages:
                pdf.savefig(page)
