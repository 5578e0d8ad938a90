"""The self-contained HTML report: inline CSS, charts embedded as base64 PNG."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable
from pathlib import Path

import matplotlib as mpl
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from thermalctl.reports import content, plots
from thermalctl.reports.info import ReportInfo
from thermalctl.reports.pdf import RC_PARAMS
from thermalctl.reports.regulatory import EU_REF
from thermalctl.reports.tables import ReportTables, format_frame

__all__ = ["write_html"]

CSS = """
body { font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em auto; max-width: 1100px;
       color: #222; font-size: 14px; }
h1 { color: #1f4e79; font-size: 1.6em; } h2 { color: #1f4e79; border-bottom: 1px solid #ccd;
     padding-bottom: .2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .6em 0; font-size: 12.5px; }
th, td { border: 1px solid #b0b7bf; padding: 3px 7px; vertical-align: top; }
th { background: #dfe6ee; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; }
img { max-width: 100%; } .muted { color: #555; font-size: 12px; }
"""


def _png(draw: Callable[[Axes], None]) -> str:
    with mpl.rc_context(RC_PARAMS):
        fig = Figure(figsize=(10, 4.2))
        draw(fig.add_axes((0.08, 0.2, 0.84, 0.7)))
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="chart" src="data:image/png;base64,{data}">'


def _table(text: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in text.columns)
    rows = []
    for row in text.itertuples(index=False):
        cells = []
        for value in row:
            value = str(value)
            numeric = value.replace(",", "").replace(".", "").replace("-", "").isdigit()
            css = ' class="num"' if numeric else ""
            cells.append(f"<td{css}>{html.escape(value)}</td>")
        css_row = ' class="total"' if str(row[0]) == "total" else ""
        rows.append(f"<tr{css_row}>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def write_html(
    path: Path, tables: ReportTables, info: ReportInfo, start: pd.Timestamp, end: pd.Timestamp
) -> None:
    """Write the report as one HTML file with no external resources."""
    facts = pd.DataFrame(content.site_facts(info, start, end), columns=["Item", "Value"])
    meters = "".join(f"<li>{html.escape(m)}</li>" for m in info.meters) or "<li>none listed</li>"
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in content.notes(tables))
    trend = tables.daily if len(tables.monthly) <= 4 else tables.monthly
    pue, erf = content.enefg_targets(tables)
    charts = [
        _png(lambda ax: plots.plot_load(ax, tables.load, tables.result.total.gaps, info.timezone)),
        _png(lambda ax: plots.plot_seasonal(ax, tables.monthly)),
        _png(lambda ax: plots.plot_heat_flows(ax, tables.monthly)),
        _png(lambda ax: plots.plot_trends(ax, trend, pue, erf)),
    ]
    body = f"""
<h1>{html.escape(content.title(info))}</h1>
<p class="muted">{html.escape(content.period_text(start, end, info.timezone))}</p>
<h2>Site and measurement boundary</h2>
{_table(facts)}
<h2>Key figures for the whole period</h2>
{_table(content.summary_rows(tables))}
<h2>Meters</h2><ul>{meters}</ul>
<h2>Data quality</h2><ul>{notes}</ul>
<h2>Monthly energy and KPI table</h2>
{_table(format_frame(tables.monthly, content.MONTHLY_ENERGY_COLUMNS))}
<h3>Heat balance and avoided backup energy</h3>
{_table(format_frame(tables.monthly, content.MONTHLY_HEAT_COLUMNS))}
<h2>Load diagram</h2>{charts[0]}
<h2>Seasonal thermal profile</h2>{charts[1]}
<h2>Heat flows</h2>{charts[2]}
<h2>PUE and ERF trend</h2>{charts[3]}
<h2>EU reporting fields ({html.escape(EU_REF)})</h2>
<p class="muted">Values for the report period; the regulation asks for calendar years.</p>
{_table(format_frame(tables.eu_fields))}
<h2>Germany, EnEfG § 11 check</h2>
<p class="muted">Targets by commissioning date ({info.commissioned.isoformat()}); the law asks
for annual averages, so on a shorter period the status is indicative. Electricity used only to
upgrade waste heat is left out of the PUE (§ 11 (2) Satz 3).</p>
{_table(format_frame(tables.enefg))}
"""
    document = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(content.title(info))}</title><style>{CSS}</style></head>"
        f"<body>{body}</body></html>\n"
    )
    path.write_text(document, encoding="utf-8")
