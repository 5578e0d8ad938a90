"""Report tables: same figures as the KPI engine, heat balance, EnEfG rules."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from tests.conftest import POOL_SITE
from thermalctl.config import load_site
from thermalctl.kpi import compute_kpis
from thermalctl.reports import ReportFiles, report_info_from_profile
from thermalctl.reports.regulatory import enefg_check

from .conftest import INFO

SITE_DIR = POOL_SITE.parent


def test_total_row_is_the_engine_result(month_report: ReportFiles) -> None:
    monthly = month_report.tables.monthly
    assert monthly["period"].tolist() == ["2027-01", "total"]
    result = month_report.tables.result
    total = monthly.iloc[-1]
    assert total["pue"] == round(result.total.pue, 3)
    assert total["facility_energy_kwh"] == round(result.total.facility_energy_kwh, 1)
    # lost heat closes the balance of the IT electricity (within rounding of 0.1 kWh)
    balance = total["reused_energy_kwh"] + total["dumped_energy_kwh"] + total["lost_heat_kwh"]
    assert balance == pytest.approx(total["it_energy_kwh"], abs=0.2)
    assert total["avoided_backup_energy_kwh"] == pytest.approx(
        total["reused_energy_kwh"] / 0.92, abs=0.1
    )
    assert total["avoided_cost_eur"] == pytest.approx(total["avoided_backup_energy_kwh"] * 0.09,
                                                      abs=0.01)  # fmt: skip
    # the window is one local month: 1 Jan 00:00 CET = 31 Dec 23:00 UTC
    assert result.total.start == pd.Timestamp("2026-12-31T23:00", tz="UTC")
    assert len(month_report.tables.daily) == 31 + 1


def test_daily_sums_equal_the_month(month_report: ReportFiles) -> None:
    daily = month_report.tables.daily
    days = daily[daily["period"] != "total"]
    assert days["it_energy_kwh"].sum() == pytest.approx(daily.iloc[-1]["it_energy_kwh"], abs=2.0)


@pytest.mark.parametrize(
    ("commissioned", "period_end", "expected"),
    [
        # existing site: PUE 1.5 from 1 July 2027, 1.3 from 1 July 2030; no ERF duty
        (dt.date(2023, 3, 1), dt.date(2027, 12, 31),
         [("<= 1.5", "2027-07-01", "met"), ("<= 1.3", "2030-07-01", "not yet applicable")]),
        # new site from 1 July 2026: PUE 1.2 and ERF 10 % two years after commissioning
        (dt.date(2026, 9, 1), dt.date(2028, 12, 31),
         [("<= 1.2", "2028-09-01", "not met"), (">= 0.10", "2028-09-01", "met")]),
        (dt.date(2027, 8, 1), dt.date(2028, 1, 31),
         [("<= 1.2", "2029-08-01", "not yet"), (">= 0.15", "2029-08-01", "not yet")]),
        (dt.date(2028, 7, 1), dt.date(2031, 1, 31),
         [("<= 1.2", "2030-07-01", "not met"), (">= 0.20", "2030-07-01", "met")]),
    ],
)  # fmt: skip
def test_enefg_targets_by_commissioning_date(
    commissioned: dt.date, period_end: dt.date, expected: list[tuple[str, str, str]]
) -> None:
    frame = pd.DataFrame(
        {"facility_kwh": [0.0, 140.0], "it_kwh": [0.0, 100.0], "reused_heat_kwh": [0.0, 30.0]},
        index=pd.to_datetime(["2027-01-01", "2027-01-02"], utc=True),
    )
    total = compute_kpis(frame).total  # PUE 1.4, ERF 0.214
    # a data centre in the act's scope (>= 300 kW), so the targets' dates decide
    info = dataclasses.replace(INFO, commissioned=commissioned, installed_it_power_kw=400.0)
    table = enefg_check(total, info, period_end)
    rows = table[table["requirement"].str.match("PUE|ERF")]
    got = list(zip(rows["threshold"], rows["applies_from"], rows["status"], strict=True))
    assert len(got) == len(expected)
    for (threshold, applies, status), (want_t, want_a, want_s) in zip(got, expected, strict=True):
        assert (threshold, applies) == (want_t, want_a)
        assert status.startswith(want_s)


@pytest.mark.parametrize("name", ["exmouth_pool.yaml", "harbour_hotel_dhw.yaml"])
def test_report_info_from_site_profiles(name: str) -> None:
    profile = load_site(SITE_DIR / name).profile
    info = report_info_from_profile(profile)
    assert info.site_id == profile.site.id
    assert info.commissioned == profile.site.commissioned
    assert info.measurement_category == profile.reporting.measurement_category
    assert info.backup_efficiency == profile.sinks[0].backup.efficiency
    assert info.fuel_price_eur_per_kwh == profile.prices.gas_eur_per_kwh
    assert len(info.meters) == len(profile.devices) + len(profile.mqtt_sensors)
    assert info.timezone == profile.site.timezone
