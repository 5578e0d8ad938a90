"""``thermalctl report --site FILE --from DATE --to DATE [--out DIR] [--store PATH | --csv FILE]
[--lang en|de]``.

Loads the site profile, reads the counters from the local store (default
``var/<site id>.sqlite``) or from a BMS CSV export, and writes the HTML, PDF and
CSV report. ``--to`` is exclusive; dates are midnight in the site's time zone. The
folder defaults to the one the demo and the monthly job use for the same period
(:func:`thermalctl.reports.naming.report_folder` under ``reporting.report_dir``).
The data's origin comes from the store's mark (``meta.origin``: a demo's store is
simulated); a CSV export is measured unless ``--origin`` says otherwise. ``--lang de``
writes the German edition. Errors go to stderr with exit status 1.
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
from thermalctl.reports.i18n import LANGUAGES
from thermalctl.reports.info import report_info_from_profile
from thermalctl.reports.naming import report_folder
from thermalctl.reports.origin import MEASURED, MIXED, PROJECTED, SIMULATED

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
    parser.add_argument("--out", metavar="DIR",
                        help="output directory (default: reporting.report_dir/"
                        "<site>_<from>_<to>, the folder the demo uses)")  # fmt: skip
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--store", metavar="PATH", help="local store (default var/<site>.sqlite)")
    source.add_argument("--csv", metavar="FILE", help="read counters from a BMS CSV export")
    parser.add_argument("--origin", choices=(MEASURED, SIMULATED, PROJECTED), default=None,
                        help="where a --csv export's counters come from (default measured); "
                        "a store records its own")  # fmt: skip
    parser.add_argument("--lang", choices=LANGUAGES, default="en",
                        help="language of the report: en (default) or de (German edition)")


def _read_store(path: Path, start: pd.Timestamp,
                end: pd.Timestamp) -> tuple[pd.DataFrame, str]:  # fmt: skip
    """The counters around ``[start, end)`` and the store's origin, read only."""
    from thermalctl.adapters.store import LocalStore, store_origin  # only when it is used

    if not path.exists():
        raise FileNotFoundError(f"store {path} does not exist (use --store or --csv)")
    origin = store_origin(path) or MEASURED
    if origin not in (MEASURED, SIMULATED, MIXED):
        raise ValueError(f"store {path}: meta.origin {origin!r} is not one the report knows")
    store = LocalStore(path, readonly=True)
    try:
        epoch = pd.Timestamp(0, tz="UTC")
        frame = store.counters_frame(
            (start - READ_MARGIN - epoch).total_seconds(),
            (end + READ_MARGIN - epoch).total_seconds(),
        )
    finally:
        store.close()
    return frame, origin


def run(args: argparse.Namespace) -> int:
    """Run ``thermalctl report``; returns the exit status."""
    if args.end <= args.start:
        print("thermalctl report: error: --to must be after --from", file=sys.stderr)
        return 1
    if args.origin is not None and not args.csv:
        print("thermalctl report: error: --origin is for a --csv export; a store records "
              "its own origin (meta.origin)", file=sys.stderr)  # fmt: skip
        return 1
    try:
        site = load_site(args.site)
        info = report_info_from_profile(site.profile)
        start, end = to_utc(args.start, info.timezone), to_utc(args.end, info.timezone)
        if args.csv:
            frame, origin = read_counters_csv(args.csv), args.origin or MEASURED
        else:
            store = Path(args.store) if args.store else Path("var") / f"{info.site_id}.sqlite"
            frame, origin = _read_store(store, start, end)
        out = Path(args.out) if args.out else report_folder(
            site.profile.reporting.report_dir, info.site_id, start, end, info.timezone)
        files = build_report(frame, info, out, start, end, origin=origin, lang=args.lang)
    except (ConfigError, KpiInputError, FileNotFoundError, OSError, ValueError) as exc:
        print(f"thermalctl report: error: {exc}", file=sys.stderr)
        return 1
    for path in files.paths:
        print(path)
    return 0
