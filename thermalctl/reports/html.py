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
from thermalctl.reports.i18n import Catalogue
from thermalctl.reports.info import ReportInfo
from thermalctl.reports.origin import MEASURED
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
.origin { color: #7a4b00; font-size: 12px; font-style: italic; margin: .8em 0 .2em; }
.banner { padding: .6em 1em; border: 1px solid #a4161a; background: #fdecea; color: #a4161a;
          font-weight: bold; border-radius: 4px; }
.banner.measured { border-color: #2e6b1f; background: #e8f1e4; color: #2e6b1f; }
"""


def _png(draw: Callable[[Axes], None]) -> str:
    with mpl.rc_context(RC_PARAMS):
        fig = Figure(figsize=(10, 4.2))
        draw(fig.add_axes((0.08, 0.2, 0.84, 0.7)))
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=100)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="chart" src="data:image/png;base64,{data}">'


def _table(text: pd.DataFrame, origin: str) -> str:
    """The table, with the data's ``origin`` above it."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in text.columns)
    rows = []
    for row in text.itertuples(index=False):
        cells = []
        for value in row:
            value = str(value)
            numeric = value.replace(",", "").replace(".", "").replace("-", "").isdigit()
            css = ' class="num"' if numeric else ""
            cells.append(f"<td{css}>{html.escape(value)}</td>")
        css_row = ' class="total"' if str(row[0]) in ("total", "gesamt") else ""
        rows.append(f"<tr{css_row}>{''.join(cells)}</tr>")
    return (
        f'<p class="origin">{html.escape(origin)}</p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _list(lines: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in lines) + "</ul>"


def write_html(
    path: Path, tables: ReportTables, info: ReportInfo, start: pd.Timestamp, end: pd.Timestamp
) -> None:
    """Write the report as one HTML file with no external resources, in the tables' language."""
    t = Catalogue(tables.lang)
    origin = content.origin_line(tables, t)
    facts = pd.DataFrame(content.site_facts(info, tables, start, end, t),
                         columns=[t("col.item"), t("col.value")])  # fmt: skip
    if info.meters:
        meters = _table(content.meter_table(info, t), origin)
        if content.meters_untraceable(info):
            meters += f'<p class="muted">{html.escape(t("meter.untraceable"))}</p>'
    else:
        meters = f"<p>{html.escape(t('meter.none'))}</p>"
    gaps = ""
    if len(tables.gaps):
        gaps = (f"<h3>{html.escape(t('heading.gaps', tz=info.timezone))}</h3>"
                + _table(content.gap_frame(tables, t), origin))  # fmt: skip
    trend = tables.daily if len(tables.monthly) <= 4 else tables.monthly
    pue, erf = content.enefg_targets(tables, t)
    charts = [
        _png(lambda ax: plots.plot_load(ax, tables.load, tables.result.total.gaps,
                                        info.timezone, t)),
        _png(lambda ax: plots.plot_seasonal(ax, tables.monthly, t)),
        _png(lambda ax: plots.plot_heat_flows(ax, tables.monthly, t)),
        _png(lambda ax: plots.plot_trends(ax, trend, pue, erf, t)),
    ]
    banner_class = "banner measured" if tables.origin == MEASURED else "banner"
    e = html.escape
    body = f"""
<h1>{e(content.title(info, t))}</h1>
<p class="muted">{e(content.period_text(start, end, info.timezone, t))}</p>
<p class="{banner_class}">{e(content.origin_banner(tables, t))}</p>
<h2>{e(t("heading.site"))}</h2>
{_table(facts, origin)}
<h2>{e(t("heading.scope"))}</h2>
{_list(content.scope_flags(tables, t))}
<h2>{e(t("heading.key_figures"))}</h2>
{_table(content.summary_rows(tables, t), origin)}
<h2>{e(t("heading.meters"))}</h2>{meters}
<h2>{e(t("heading.quality"))}</h2>{_list(content.notes(tables, info.timezone, t))}{gaps}
<h2>{e(t("heading.monthly"))}</h2>
{_table(format_frame(tables.monthly, content.MONTHLY_ENERGY_COLUMNS, t), origin)}
<h3>{e(t("heading.heat_balance"))}</h3>
{_table(format_frame(tables.monthly, content.MONTHLY_HEAT_COLUMNS, t), origin)}
<p class="origin">{e(origin)}</p>
<h2>{e(t("chart.load.heading"))}</h2>{charts[0]}
<h2>{e(t("chart.seasonal.heading"))}</h2>{charts[1]}
<h2>{e(t("chart.flows.heading"))}</h2>{charts[2]}
<h2>{e(t("chart.trend.heading"))}</h2>{charts[3]}
<h2>{e(t("heading.applicability"))}</h2>
{_table(format_frame(tables.scope, t=t), origin)}
<h2>{e(t("heading.eu", ref=EU_REF))}</h2>
<p class="muted">{e(t("eu.period_note"))}</p>
{_table(format_frame(tables.eu_fields, t=t), origin)}
<h2>{e(t("heading.enefg", commissioned=info.commissioned.isoformat()))}</h2>
<p class="muted">{e(t("smallprint.enefg"))}</p>
{_table(format_frame(tables.enefg, t=t), origin)}
"""
    document = (
        f'<!DOCTYPE html>\n<html lang="{tables.lang}"><head><meta charset="utf-8">'
        f"<title>{e(content.title(info, t))}</title><style>{CSS}</style></head>"
        f"<body>{body}</body></html>\n"
    )
    path.write_text(document, encoding="utf-8")
