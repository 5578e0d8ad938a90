"""``thermalctl kpi --csv FILE [--json]``: KPIs of a BMS counters export.

Prints the KPIs over the whole file and a monthly breakdown; with ``--json``
one JSON object (the whole-file figures, ``months``: the same keys per month
plus ``month`` as ``YYYY-MM``). Bad input: message on stderr, exit status 1.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any, TextIO

from thermalctl.adapters.kpi_csv import read_counters_csv
from thermalctl.kpi.engine import KpiResult, PeriodKpis, compute_kpis
from thermalctl.kpi.errors import KpiInputError

__all__ = ["add_arguments", "result_to_json", "run"]

_JSON_KEYS = (
    "facility_energy_kwh", "it_energy_kwh", "reused_energy_kwh", "dumped_energy_kwh",
    "backup_energy_kwh", "water_m3", "renewable_energy_kwh", "pue", "erf", "ere",
    "wue_l_per_kwh", "ref", "completeness", "estimated",
)  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``kpi`` sub-command's options to ``parser``."""
    parser.add_argument("--csv", required=True, metavar="FILE", help="counters CSV export")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--max-gap-min",
        type=float,
        default=None,
        metavar="MIN",
        help="intervals longer than this are gaps (default: 3x the median interval)",
    )
    parser.add_argument(
        "--category",
        type=int,
        choices=(1, 2, 3),
        default=None,
        help="ISO/IEC 30134-2 PUE measurement category of the IT meter",
    )
    parser.add_argument(
        "--tz", default="UTC", help="time zone of the monthly breakdown (default UTC)"
    )


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _period_json(period: PeriodKpis) -> dict[str, Any]:
    out: dict[str, Any] = {key: _finite(getattr(period, key)) for key in _JSON_KEYS}
    out["start"] = period.start.isoformat()
    out["end"] = period.end.isoformat()
    out["estimated_reasons"] = list(period.estimated_reasons)
    out["gaps"] = [
        {"start": g.start.isoformat(), "end": g.end.isoformat(), "duration_s": g.duration_s}
        for g in period.gaps
    ]
    return out


def result_to_json(result: KpiResult) -> dict[str, Any]:
    """The whole-window figures with ``months`` (or other periods) as a JSON-ready dict."""
    out = _period_json(result.total)
    out["measurement_category"] = result.measurement_category
    out["max_gap_s"] = result.max_gap_s
    out["counter_events"] = [
        {"column": e.column, "timestamp": e.timestamp.isoformat(), "kind": e.kind,
         "previous": e.previous, "value": e.value, "rollover": e.rollover}
        for e in result.events
    ]  # fmt: skip
    out["months"] = [{"month": p.label, **_period_json(p)} for p in result.periods]
    return out


def _fmt(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _print_table(result: KpiResult, out: TextIO) -> None:
    head = (
        f"{'period':<10} {'E_DC kWh':>14} {'E_IT kWh':>14} {'E_REUSE kWh':>14} "
        f"{'PUE':>6} {'ERF':>6} {'ERE':>6} {'complete':>9}  note"
    )
    out.write(head + "\n" + "-" * len(head) + "\n")
    for period in (*result.periods, result.total):
        note = "estimated" if period.estimated else ""
        out.write(
            f"{period.label:<10} {_fmt(period.facility_energy_kwh, 1):>14} "
            f"{_fmt(period.it_energy_kwh, 1):>14} {_fmt(period.reused_energy_kwh, 1):>14} "
            f"{_fmt(period.pue, 3):>6} {_fmt(period.erf, 3):>6} {_fmt(period.ere, 3):>6} "
            f"{period.completeness:>9.1%}  {note}\n"
        )


def run(args: argparse.Namespace) -> int:
    """Run ``thermalctl kpi``; returns the exit status."""
    try:
        frame = read_counters_csv(args.csv)
        result = compute_kpis(
            frame,
            "MS",
            tz=args.tz,
            max_gap_s=None if args.max_gap_min is None else args.max_gap_min * 60.0,
            measurement_category=args.category,
        )
    except KpiInputError as exc:
        print(f"thermalctl kpi: error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        json.dump(result_to_json(result), sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
        return 0
    total = result.total
    out = sys.stdout
    out.write(f"KPIs from {args.csv}\n")
    out.write(f"period {total.start.isoformat()} to {total.end.isoformat()}\n")
    if result.measurement_category is not None:
        out.write(f"PUE measurement category {result.measurement_category} (ISO/IEC 30134-2)\n")
    for label, value in (("WUE L/kWh", total.wue_l_per_kwh), ("REF", total.ref)):
        if value is not None:
            out.write(f"{label}: {value:.3f}\n")
    out.write("\n")
    _print_table(result, out)
    for gap in total.gaps:
        out.write(f"gap: {gap.start.isoformat()} to {gap.end.isoformat()} "
                  f"({gap.duration_s / 3600:.2f} h)\n")  # fmt: skip
    for event in result.events:
        out.write(f"{event.kind} of {event.column} at {event.timestamp.isoformat()}: "
                  f"{event.previous} -> {event.value}\n")  # fmt: skip
    return 0
