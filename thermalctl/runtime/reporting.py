"""Report jobs: the monthly permitting report, and the demo's report of its run.

Both read the local store (the energy ledger), so they work with or without InfluxDB,
and take the data's origin from the store's own mark (``meta.origin``: a demo's store is
``simulated``). Both name their folder with :func:`thermalctl.reports.naming.report_folder`,
as ``thermalctl report`` does.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from thermalctl.adapters.store import MEASURED, ORIGIN_META_KEY, LocalStore
from thermalctl.config.site import SiteProfile
from thermalctl.reports.build import ReportFiles, build_report
from thermalctl.reports.info import report_info_from_profile
from thermalctl.reports.naming import report_folder

__all__ = ["MonthlyReporter", "previous_month", "store_data_origin", "write_report"]

log = logging.getLogger(__name__)

#: Counters are read this far beyond the window so its edges can be interpolated.
READ_MARGIN_S = 86_400.0


def store_data_origin(store: LocalStore) -> str:
    """The origin the store records (``meta.origin``); a store without the mark holds
    a real controller's data (stores before origins were recorded) and is measured."""
    return store.get_meta(ORIGIN_META_KEY) or MEASURED


def write_report(
    profile: SiteProfile,
    store: LocalStore,
    start: pd.Timestamp,
    end: pd.Timestamp,
    out_dir: Path | None = None,
    *,
    lang: str = "en",
) -> ReportFiles:
    """Write the HTML / PDF / CSV report for ``[start, end)`` from the store's ledger,
    into ``out_dir`` or the profile's ``report_dir`` / :func:`report_folder`."""
    frame = store.counters_frame(start.timestamp() - READ_MARGIN_S, end.timestamp() + READ_MARGIN_S)
    frame = frame.dropna(how="all")
    folder = out_dir or report_folder(profile.reporting.report_dir, profile.site.id, start, end,
                                      profile.site.timezone)  # fmt: skip
    files = build_report(frame, report_info_from_profile(profile), folder, start, end,
                         origin=store_data_origin(store), lang=lang)  # fmt: skip
    log.info("report for %s .. %s written to %s", start, end, folder)
    return files


def previous_month(now_s: float, tz: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First day of last month and first day of this month, in the site's time zone."""
    now = pd.Timestamp(dt.datetime.fromtimestamp(now_s, dt.UTC)).tz_convert(tz)
    this_month = now.normalize().replace(day=1)
    last_month = (this_month - pd.Timedelta(days=1)).replace(day=1)
    return last_month, this_month


class MonthlyReporter:
    """Writes last month's report once, after the month has ended (hourly check).

    The month last reported is kept in the store's ``meta`` table, so a restart
    neither skips nor repeats a report.
    """

    META_KEY = "report.last_month"

    def __init__(self, profile: SiteProfile, store: LocalStore, clock: Callable[[], float]) -> None:
        self.profile = profile
        self.store = store
        self.clock = clock

    def __call__(self) -> ReportFiles | None:
        start, end = previous_month(self.clock(), self.profile.site.timezone)
        label = f"{start:%Y-%m}"
        if self.store.get_meta(self.META_KEY) == label:
            return None
        inside = self.store.counters_frame(start.timestamp(), end.timestamp() - 1e-3)
        if len(inside.dropna(how="all")) < 2:  # no energy can be computed from fewer
            return None
        files = write_report(self.profile, self.store, start, end)
        self.store.set_meta(self.META_KEY, label)
        return files
