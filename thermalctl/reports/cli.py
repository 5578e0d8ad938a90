"""``thermalctl report --site FILE --from DATE --to DATE --out DIR [--store PATH | --csv FILE]``.

Loads the site profile, reads the counters from the local store (default
``var/<site id>.sqlite``) or from a BMS CSV export, and writes the HTML, PDF and
CSV report. ``--to`` is exclusive; dates are midnight in the site's time zone.
Errors go to stderr with exit status 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import pandas as pd

from thermalctl.adapters.kpi_csv import read_counters_csv
from thermalctl.config import ConfigError, load_site
from thermalctl.kpi.errors import KpiInputError
from thermalctl.reports.build import build_report, to_utc
from thermalctl.reports.info import report_info_from_profile

__all__ = ["add_arguments", "run"]

#: Counters are read this far beyond the window so its edges can be interpolated.
READ_MARGIN = pd.Timedelta(days=1)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``report`` sub-command's options to ``parser``."""
    parser.add_argument("--site", required=True, metavar="FILE", help="site profile YAML")
    parser.add_argument("--from", dest="start", required=True, type=_date, metavar="DATE",
                        help="first day (YYYY-MM-DD, site time zone)")  # fmt: skip
    parser.add_argument("--to", dest="end", required=True, type=_date, metavar="DATE",
                        help="day after the last (exclusive)")  # fmt: skip
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--store", metavar="PATH", help="local store (default var/<site>.sqlite)")
    source.add_argument("--csv", metavar="FILE", help="read counters from a BMS CSV export")


def _read_store(path: Path, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    from thermalctl.adapters.store import LocalStore  # the adapter, only when it is used

    if not path.exists():
        raise FileNotFoundError(f"store {path} does not exist (use --store or --csv)")
    store = LocalStore(path)
    try:
        epoch = pd.Timestamp(0, tz="UTC")
        return store.counters_frame(
            (start - READ_MARGIN - epoch).total_seconds(),
            (end + READ_MARGIN - epoch).total_seconds(),
        )
    finally:
        close = getattr(store, "close", None)
        if callable(close):
            close()


def run(args: argparse.Namespace) -> int:
    """Run ``thermalctl report``; returns the exit status."""
    if args.end <= args.start:
        print("thermalctl report: error: --to must be after --from", file=sys.stderr)
        return 1
    try:
        site = load_site(args.site)
        info = report_info_from_profile(site.profile)
        start, end = to_utc(args.start, info.timezone), to_utc(args.end, info.timezone)
        if args.csv:
            frame = read_counters_csv(args.csv)
        else:
            store = Path(args.store) if args.store else Path("var") / f"{info.site_id}.sqlite"
            frame = _read_store(store, start, end)
        files = build_report(frame, info, Path(args.out), start, end)
    except (ConfigError, KpiInputError, FileNotFoundError, OSError) as exc:
        print(f"thermalctl report: error: {exc}", file=sys.stderr)
        return 1
    for path in files.paths:
        print(path)
    return 0
