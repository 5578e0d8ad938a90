"""The monthly report job: writes last month once, survives restarts, skips empty months."""

from __future__ import annotations

import pandas as pd

from tests.conftest import POOL_SITE
from thermalctl.adapters.store import LocalStore
from thermalctl.config import load_site
from thermalctl.runtime.reporting import MonthlyReporter, previous_month

PROFILE = load_site(POOL_SITE).profile


def test_previous_month_in_site_time_zone() -> None:
    now = pd.Timestamp("2026-03-01 00:30", tz="Europe/London").timestamp()
    start, end = previous_month(now, "Europe/London")
    assert (start, end) == (
        pd.Timestamp("2026-02-01", tz="Europe/London"),
        pd.Timestamp("2026-03-01", tz="Europe/London"),
    )


def test_monthly_report_written_once(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = LocalStore(tmp_path / "s.sqlite")
    t0 = pd.Timestamp("2026-01-01", tz="UTC").timestamp()
    for hour in range(0, 31 * 24 + 2, 2):
        kwh = hour * 20.0
        store.add_ledger(
            t0 + hour * 3600.0,
            {"it_kwh": kwh, "facility_kwh": 1.1 * kwh, "reused_heat_kwh": 0.5 * kwh},
        )
    now = [pd.Timestamp("2026-02-01 05:00", tz="UTC").timestamp()]
    job = MonthlyReporter(PROFILE, store, lambda: now[0])
    files = job()
    assert files is not None and files.pdf.exists()
    assert store.get_meta(MonthlyReporter.META_KEY) == "2026-01"
    assert job() is None  # the same month is not written twice
    monthly = pd.read_csv(files.monthly_csv)
    assert len(monthly) >= 1
    now[0] = pd.Timestamp("2026-03-02", tz="UTC").timestamp()
    assert job() is None  # February has no data: nothing to report
    store.close()
