"""The feasibility study as PDF (A4) and as one self-contained HTML page.

Built from the energy report's parts: its page layout, tables and origin banner
(:mod:`thermalctl.reports.pdf`, :mod:`thermalctl.reports.html`), its charts
(:mod:`thermalctl.reports.plots`), the site facts and scope text
(:mod:`thermalctl.reports.content`) and the message catalogue. Every page footer and
every table says the data are projected.
"""

from __future__ import annotations

import html
import textwrap
from pathlib import Path

import matplotlib as mpl
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from thermalctl.reports import assess_plots, content, plots
from thermalctl.reports import html as html_report
from thermalctl.reports import pdf as pdf_report
from thermalctl.reports.assess import (
    KEY_ROWS,
    Assessment,
    comparison_text,
    period_label,
    sinks_text,
    whole_years,
)
from thermalctl.reports.i18n import Catalogue
from thermalctl.reports.tables import ReportTables, format_frame

__all__ = ["write_assessment_html", "write_assessment_pdf"]

#: The monthly table of the study: energies and indicators (completeness and
#: "estimated" say nothing about a simulation).
MONTHLY_COLUMNS = [
    "period", "facility_energy_kwh", "it_energy_kwh", "reused_energy_kwh",
    "dumped_energy_kwh", "backup_energy_kwh", "heat_demand_kwh", "pue", "erf",
]  # fmt: skip
MONTHLY_WIDTHS = (0.08, 0.12, 0.12, 0.14, 0.13, 0.12, 0.13, 0.08, 0.08)
SINK_WIDTHS = (0.22, 0.10, 0.10, 0.08, 0.10, 0.10, 0.10, 0.10, 0.10)
SCOPE_WIDTHS = pdf_report.SCOPE_WIDTHS
ENEFG_WIDTHS = pdf_report.ENEFG_WIDTHS


def _expected_tables(a: Assessment) -> ReportTables:
    return a.tables[a.expected.policy]


def _comparison_widths(a: Assessment) -> tuple[float, ...]:
    n = len(a.policies)
    rest = (1.0 - 0.42 - 0.07) / n
    return (0.42, 0.07, *([rest] * n))


def assumptions(a: Assessment, t: Catalogue) -> list[str]:
    """What the projection rests on, one line each."""
    policies = ", ".join(t(f"assess.policy.{p}") for p in a.policies)
    lines = [
        t("assess.assume.period", period=period_label(a, t)),
        t("assess.assume.weather", weather=a.weather),
        t("assess.assume.policies", policies=policies,
          expected=t(f"assess.policy.{a.expected.policy}")),
        t("assess.assume.reference"),
        *a.assumptions,
    ]
    if not whole_years(a):
        lines.append(t("assess.assume.not_annual"))
    return lines


def site_facts(a: Assessment, t: Catalogue) -> pd.DataFrame:
    """The energy report's site facts, the period named as simulated."""
    rows = [(t("assess.fact.period") if label == t("fact.period") else label, value)
            for label, value in content.site_facts(a.info, _expected_tables(a), a.start,
                                                   a.end, t)]  # fmt: skip
    return pd.DataFrame(rows, columns=[t("col.item"), t("col.value")])


def limits(t: Catalogue) -> list[str]:
    """What the study cannot say: read before a decision."""
    return [t(f"assess.limit.{n}") for n in ("model", "workload", "prices", "meters")]


# -- PDF ------------------------------------------------------------------------------------
def _page(doc: pdf_report._Doc, heading: str) -> Figure:
    fig = Figure(figsize=pdf_report.A4_IN)
    doc.pages += 1
    fig.text(0.06, 0.965, heading, fontsize=13, weight="bold", color="#1f4e79")
    footer = doc.t("assess.footer", id=doc.info.site_id)
    short = doc.t("origin.line", origin=doc.t("source.projected"))
    fig.text(0.06, 0.025, f"{footer} · {short}", fontsize=7, color="#555555")
    fig.text(0.94, 0.025, doc.t("page", n=doc.pages), fontsize=7, color="#555555", ha="right")
    return fig


def _origin_line(fig: Figure, doc: pdf_report._Doc) -> None:
    fig.text(0.06, 0.948, doc.origin, fontsize=6.5, style="italic",
             color=pdf_report.ORIGIN_COLOUR)  # fmt: skip


def _cover(doc: pdf_report._Doc, a: Assessment) -> Figure:
    t, info = doc.t, doc.info
    fig = _page(doc, t("assess.heading"))
    fig.text(0.06, 0.94, textwrap.fill(info.site_name, 80), fontsize=11, va="top")
    fig.text(0.06, 0.918, t("assess.subtitle"), fontsize=8, color="#444444", va="top")
    y = pdf_report._banner(fig, 0.898, doc)
    y = pdf_report._table(fig, y, site_facts(a, t), widths=[0.25, 0.75], origin=doc.origin,
                          font_size=6.8)
    fig.text(0.06, y, t("assess.heading.assumptions"), fontsize=10, va="top")
    y = pdf_report._text_block(fig, y - 0.02, [f"• {line}" for line in assumptions(a, t)],
                               width=125, size=7)  # fmt: skip
    pdf_report._table(fig, y - 0.005, comparison_text(a, t, KEY_ROWS), _comparison_widths(a),
                      title=t("assess.heading.key"), origin=doc.origin)  # fmt: skip
    return fig


def _comparison_page(doc: pdf_report._Doc, a: Assessment) -> Figure:
    t = doc.t
    fig = _page(doc, t("assess.heading.comparison"))
    y = pdf_report._text_block(fig, 0.935, [t("assess.note.reference")], width=125, size=7)
    y = pdf_report._table(fig, y, comparison_text(a, t), _comparison_widths(a),
                          origin=doc.origin, font_size=6.8)  # fmt: skip
    y = pdf_report._text_block(fig, y, [t("assess.note.total_cost")], width=125, size=6.8)
    pdf_report._table(fig, y - 0.005, sinks_text(a.expected, t), SINK_WIDTHS, font_size=6.5,
                      title=t("assess.heading.sinks",
                              policy=t(f"assess.policy.{a.expected.policy}")),
                      origin=doc.origin)  # fmt: skip
    return fig


def _charts_supply(doc: pdf_report._Doc, a: Assessment) -> Figure:
    t, tables = doc.t, doc.tables
    fig = _page(doc, t("assess.heading.charts_load",
                       policy=t(f"assess.policy.{a.expected.policy}")))  # fmt: skip
    _origin_line(fig, doc)
    plots.plot_load(fig.add_axes((0.1, 0.55, 0.84, 0.36)), tables.load, (),
                    doc.info.timezone, t)  # fmt: skip
    plots.plot_seasonal(fig.add_axes((0.1, 0.10, 0.84, 0.36)), tables.monthly, t)
    return fig


def _charts_duration(doc: pdf_report._Doc, a: Assessment) -> Figure:
    t = doc.t
    fig = _page(doc, t("assess.heading.charts_duration"))
    _origin_line(fig, doc)
    assess_plots.plot_duration(fig.add_axes((0.1, 0.55, 0.84, 0.36)), a.expected.counters, t)
    monthly = {p: a.tables[p].monthly for p in a.policies}
    assess_plots.plot_policy_months(fig.add_axes((0.1, 0.10, 0.84, 0.36)), monthly, t)
    return fig


def _monthly_page(doc: pdf_report._Doc, a: Assessment) -> Figure:
    t = doc.t
    fig = _page(doc, t("assess.heading.monthly_limits",
                       policy=t(f"assess.policy.{a.expected.policy}")))  # fmt: skip
    table = format_frame(doc.tables.monthly, MONTHLY_COLUMNS, t)
    y = pdf_report._table(fig, 0.935, table, MONTHLY_WIDTHS, origin=doc.origin)
    fig.text(0.06, y - 0.005, t("assess.heading.limits"), fontsize=10, va="top")
    pdf_report._text_block(fig, y - 0.025, [f"• {line}" for line in limits(t)], width=125,
                           size=7)  # fmt: skip
    return fig


def _outlook_page(doc: pdf_report._Doc, a: Assessment) -> Figure:
    t, info = doc.t, doc.info
    fig = _page(doc, t("assess.heading.outlook"))
    y = pdf_report._table(fig, 0.935, format_frame(doc.tables.scope, t=t), SCOPE_WIDTHS,
                          font_size=6.5, title=t("heading.applicability"),
                          origin=doc.origin)  # fmt: skip
    for policy in a.policies:
        if policy == "thermostat":
            continue
        title = t("assess.heading.enefg", policy=t(f"assess.policy.{policy}"),
                  commissioned=info.commissioned.isoformat())  # fmt: skip
        y = pdf_report._table(fig, y - 0.005, format_frame(a.tables[policy].enefg, t=t),
                              ENEFG_WIDTHS, font_size=6.5, title=title, origin=doc.origin)
    pdf_report._text_block(fig, y, [t("smallprint.enefg"), t("assess.note.outlook")],
                           width=140, size=7)  # fmt: skip
    return fig


def write_assessment_pdf(path: Path, a: Assessment) -> None:
    """Write the study's PDF to ``path``."""
    doc = pdf_report._Doc(a.info, _expected_tables(a), Catalogue(a.lang))
    with mpl.rc_context(pdf_report.RC_PARAMS):
        pages = [_cover(doc, a), _comparison_page(doc, a), _charts_supply(doc, a),
                 _charts_duration(doc, a), _monthly_page(doc, a), _outlook_page(doc, a)]
        metadata = {"Title": doc.t("assess.title", site=a.info.site_name),
                    "Author": a.info.operator or "thermalctl",
                    "Subject": period_label(a, doc.t), "Creator": "thermalctl",
                    "Keywords": doc.origin}  # fmt: skip
        with PdfPages(path, metadata=metadata) as pdf:
            for page in pages:
                pdf.savefig(page)


# -- HTML -----------------------------------------------------------------------------------
def write_assessment_html(path: Path, a: Assessment) -> None:
    """Write the study as one HTML file with no external resources."""
    t = Catalogue(a.lang)
    tables = _expected_tables(a)
    origin = content.origin_line(tables, t)
    e = html.escape
    table = html_report._table
    png = html_report._png
    facts = site_facts(a, t)
    expected = t(f"assess.policy.{a.expected.policy}")
    monthly = {p: a.tables[p].monthly for p in a.policies}
    charts = [
        png(lambda ax: plots.plot_load(ax, tables.load, (), a.info.timezone, t)),
        png(lambda ax: plots.plot_seasonal(ax, tables.monthly, t)),
        png(lambda ax: assess_plots.plot_duration(ax, a.expected.counters, t)),
        png(lambda ax: assess_plots.plot_policy_months(ax, monthly, t)),
    ]
    enefg = ""
    for p in a.policies:
        if p == "thermostat":
            continue
        title = t("assess.heading.enefg", policy=t(f"assess.policy.{p}"),
                  commissioned=a.info.commissioned.isoformat())  # fmt: skip
        enefg += f"<h3>{e(title)}</h3>" + table(format_frame(a.tables[p].enefg, t=t), origin)
    body = f"""
<h1>{e(t("assess.title", site=a.info.site_name))}</h1>
<p class="muted">{e(period_label(a, t))}</p>
<p class="banner">{e(content.origin_banner(tables, t))}</p>
<h2>{e(t("heading.site"))}</h2>
{table(facts, origin)}
<h2>{e(t("assess.heading.assumptions"))}</h2>
{html_report._list(assumptions(a, t))}
<h2>{e(t("assess.heading.comparison"))}</h2>
<p class="muted">{e(t("assess.note.reference"))}</p>
{table(comparison_text(a, t), origin)}
<p class="muted">{e(t("assess.note.total_cost"))}</p>
<h3>{e(t("assess.heading.sinks", policy=expected))}</h3>
{table(sinks_text(a.expected, t), origin)}
<h2>{e(t("assess.heading.charts_load", policy=expected))}</h2>
<p class="origin">{e(origin)}</p>{charts[0]}{charts[1]}
<h2>{e(t("assess.heading.charts_duration"))}</h2>
<p class="origin">{e(origin)}</p>{charts[2]}{charts[3]}
<h2>{e(t("assess.heading.monthly", policy=expected))}</h2>
{table(format_frame(tables.monthly, MONTHLY_COLUMNS, t), origin)}
<h2>{e(t("assess.heading.outlook"))}</h2>
<h3>{e(t("heading.applicability"))}</h3>
{table(format_frame(tables.scope, t=t), origin)}
{enefg}
<p class="muted">{e(t("smallprint.enefg"))} {e(t("assess.note.outlook"))}</p>
<h2>{e(t("assess.heading.limits"))}</h2>
{html_report._list(limits(t))}
"""
    document = (
        f'<!DOCTYPE html>\n<html lang="{a.lang}"><head><meta charset="utf-8">'
        f"<title>{e(t('assess.title', site=a.info.site_name))}</title>"
        f"<style>{html_report.CSS}</style></head><body>{body}</body></html>\n"
    )
    path.write_text(document, encoding="utf-8")
