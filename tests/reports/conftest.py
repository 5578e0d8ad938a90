"""A realistic synthetic month rendered once per test session."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from thermalctl.reports import ReportFiles, ReportInfo, build_report

from .synthetic import synthetic_counters

INFO = ReportInfo(
    site_id="harbour_test",
    site_name="Harbour hotel test site",
    operator="Example GmbH",
    address="Hamburg, DE",
    commissioned=dt.date(2026, 9, 1),
    measurement_category=2,
    installed_it_power_kw=120.0,
    floor_area_m2=40.0,
    meters=("it_meter: Eastron SDM630", "pool_heat_meter: Kamstrup MULTICAL 603"),
    backup_efficiency=0.92,
    backup_description="gas boiler, efficiency 0.92",
    fuel_price_eur_per_kwh=0.09,
    fuel_co2_kg_per_kwh=0.201,
    timezone="Europe/Berlin",
    boundary="racks, coolant loop, plate heat exchanger, dry cooler",
)


@pytest.fixture(scope="session")
def month_report(tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    frame = synthetic_counters("2026-12-31", "2027-02-02")
    out: Path = tmp_path_factory.mktemp("report")
    return build_report(frame, INFO, out, "2027-01-01", "2027-02-01")
