"""A realistic synthetic month rendered once per test session."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from thermalctl.reports import ReportFiles, ReportInfo, build_report
from thermalctl.reports.info import MeterInfo, SetPointInfo

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
    meters=(
        MeterInfo("it_meter", "eastron_sdm630", "Modbus unit 1", ("it.energy_kwh",),
                  serial="SDM-0042-7781", calibrated=dt.date(2026, 3, 14)),
        MeterInfo("pool_heat_meter", "kamstrup_multical603_gateway", "Modbus unit 3",
                  ("sink.pool.energy_kwh",)),
    ),
    set_points=(SetPointInfo("pod", "immersion", 35.0),),
    backup_efficiency=0.92,
    backup_kind="gas_boiler",
    backup_fuel="gas",
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


@pytest.fixture(scope="session")
def month_report_de(tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    """The German edition of the same month, from the same counters."""
    frame = synthetic_counters("2026-12-31", "2027-02-02")
    out: Path = tmp_path_factory.mktemp("report_de")
    return build_report(frame, INFO, out, "2027-01-01", "2027-02-01", lang="de")
