"""What an authority needs from a report: where the data comes from, which rules apply,
gaps in local time, set points by cooling type, traceable meters, one folder name."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.conftest import HOTEL_SITE
from thermalctl.adapters.store import SIMULATED, LocalStore
from thermalctl.config import load_site
from thermalctl.config.site import SiteProfile
from thermalctl.kpi import compute_kpis
from thermalctl.reports import build_report, build_tables, cli, content, report_info_from_profile
from thermalctl.reports.i18n import Catalogue, UnknownLanguage
from thermalctl.reports.naming import report_folder, report_stem
from thermalctl.reports.regulatory import enefg_check, scope_table
from thermalctl.runtime.reporting import write_report

from .conftest import INFO
from .synthetic import synthetic_counters

HOTEL = HOTEL_SITE
JAN = ("2027-01-01", "2027-02-01")


def _pdf_text(pdf: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    done = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True)  # fmt: skip
    return done.stdout


def _total(pue: float = 1.4, erf: float = 0.3):  # type: ignore[no-untyped-def]
    frame = pd.DataFrame(
        {"facility_kwh": [0.0, 100.0 * pue], "it_kwh": [0.0, 100.0],
         "reused_heat_kwh": [0.0, 100.0 * pue * erf]},
        index=pd.to_datetime(["2027-01-01", "2027-01-02"], utc=True),
    )  # fmt: skip
    return compute_kpis(frame).total


# -- data origin --------------------------------------------------------------------------
def _ledger_store(path: Path, origin: str | None) -> LocalStore:
    store = LocalStore(path, origin=origin)
    frame = synthetic_counters("2026-12-31", "2027-02-02", freq="1h")
    for stamp, row in frame.iterrows():
        store.add_ledger(stamp.timestamp(), {k: float(v) for k, v in row.items()})
    return store


def test_a_simulated_store_makes_a_simulated_report(tmp_path: Path) -> None:
    profile = load_site(HOTEL).profile
    store = _ledger_store(tmp_path / "demo.sqlite", SIMULATED)
    start, end = (pd.Timestamp(d, tz="Europe/Berlin") for d in JAN)
    files = write_report(profile, store, start, end, tmp_path / "out")
    store.close()
    text = _pdf_text(files.pdf)
    assert "SIMULATED DATA" in text and "measured (meter counters)" not in text
    # on the cover and above every table: one origin line per table, one per chart page
    # and one in each page's footer
    tables_drawn = 2 + 1 + 1 + 2 + 2 + 1 + 1  # facts, key figures, meters, (no gaps),
    assert text.count("Data: simulated") >= tables_drawn + 7  # monthly x2, scope, EU, EnEfG
    assert set(pd.read_csv(files.monthly_csv)["origin"]) == {"simulated"}
    eu = pd.read_csv(files.eu_fields_csv).set_index("symbol")
    assert eu.loc["E_DC", "source"].startswith("simulated")
    html = files.html.read_text(encoding="utf-8")
    assert html.count("Data: simulated") >= 9 and "SIMULATED DATA" in html


def test_a_csv_export_is_measured_and_the_store_mark_cannot_be_overridden(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = synthetic_counters("2026-12-31", "2027-02-02", freq="1h")
    csv = tmp_path / "export.csv"
    frame.to_csv(csv, index_label="timestamp", date_format="%Y-%m-%dT%H:%M:%SZ")
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    out = tmp_path / "out"
    args = ["--site", str(HOTEL), "--from", JAN[0], "--to", JAN[1], "--out", str(out)]
    assert cli.run(parser.parse_args([*args, "--csv", str(csv)])) == 0
    monthly = pd.read_csv(out / "harbour_hotel_2027-01-01_2027-02-01_monthly_kpis.csv")
    assert set(monthly["origin"]) == {"measured"}
    capsys.readouterr()
    store = _ledger_store(tmp_path / "s.sqlite", SIMULATED)
    store.close()
    assert cli.run(parser.parse_args([*args, "--store", str(tmp_path / "s.sqlite"),
                                      "--origin", "measured"])) == 1  # fmt: skip
    assert "--origin is for a --csv export" in capsys.readouterr().err


# -- applicability ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("power_kw", "enefg", "eed"),
    [(26.0, "no", "no"), (200.0, "check", "no"), (400.0, "yes", "no"), (800.0, "yes", "yes")],
)
def test_scope_by_installed_it_power(power_kw: float, enefg: str, eed: str) -> None:
    info = dataclasses.replace(INFO, installed_it_power_kw=power_kw)
    scope = scope_table(info, dt.date(2027, 1, 1), dt.date(2027, 1, 31), Catalogue())
    codes = dict(zip(scope["citation"], scope["applicable"], strict=True))
    assert codes["EnEfG § 3 Nr. 24, § 11"] == enefg
    assert codes[next(c for c in codes if c.startswith("Directive"))] == eed
    reasons = " ".join(scope["reason"])
    assert f"{power_kw:g} kW" in reasons


def test_a_small_office_is_not_held_to_the_enefg_targets() -> None:
    """26 kW: the renewable rule (and every other) is 'not applicable because ...'."""
    office = dataclasses.replace(INFO, installed_it_power_kw=26.0,
                                 commissioned=dt.date(2021, 5, 1))  # fmt: skip
    table = enefg_check(_total(), office, dt.date(2027, 12, 31), Catalogue(),
                        dt.date(2027, 1, 1))  # fmt: skip
    assert set(table["applicable"]) == {"no"}
    for status in table["status"]:
        assert status.startswith("not applicable because the site is below 300 kW")
    german = enefg_check(_total(), office, dt.date(2027, 12, 31), Catalogue("de"))
    assert all(s.startswith("nicht anzuwenden, weil") for s in german["status"])
    # the same site at 400 kW: the dates decide, values are judged
    big = dataclasses.replace(office, installed_it_power_kw=400.0)
    statuses = enefg_check(_total(pue=1.4), big, dt.date(2027, 12, 31))["status"].tolist()
    assert statuses[0] == "met" and statuses[1].startswith("not yet applicable")


def test_a_period_before_commissioning_is_flagged(tmp_path: Path) -> None:
    late = dataclasses.replace(INFO, commissioned=dt.date(2027, 6, 1), installed_it_power_kw=400)
    frame = synthetic_counters("2026-12-31", "2027-02-02")
    files = build_report(frame, late, tmp_path, *JAN)
    scope = pd.read_csv(files.scope_csv)
    assert scope["applicable"].iloc[0] == "no"
    assert "ends before commissioning on 2027-06-01" in scope["reason"].iloc[0]
    enefg = pd.read_csv(files.enefg_csv)
    assert set(enefg["applicable"]) == {"no"}
    assert all("period ends before commissioning (2027-06-01)" in s for s in enefg["status"])
    text = " ".join(_pdf_text(files.pdf).split())
    assert "2027-06-01: the period ends before commissioning" in text  # on the cover
    # a period that starts before commissioning and ends after: to check
    partly = scope_table(dataclasses.replace(late, commissioned=dt.date(2027, 1, 15)),
                         dt.date(2027, 1, 1), dt.date(2027, 1, 31), Catalogue())  # fmt: skip
    assert partly["applicable"].iloc[0] == "check"


# -- gaps, thresholds ---------------------------------------------------------------------
def test_gaps_in_local_time_with_end_and_duration(tmp_path: Path) -> None:
    frame = synthetic_counters("2026-12-31", "2027-02-02")
    hole = (frame.index > pd.Timestamp("2027-01-10T02:00Z")) & (
        frame.index < pd.Timestamp("2027-01-10T08:15Z"))
    tables = build_tables(frame[~hole], INFO, *(pd.Timestamp(d, tz="Europe/Berlin")
                                                for d in JAN))  # fmt: skip
    gap = tables.gaps.iloc[0]
    # 02:00-08:15 UTC is 03:00-09:15 in Berlin (CET)
    assert (f"{gap['start']:%Y-%m-%d %H:%M}", f"{gap['end']:%Y-%m-%d %H:%M}") == (
        "2027-01-10 03:00", "2027-01-10 09:15")
    text = " ".join(content.notes(tables, "Europe/Berlin", Catalogue()))
    assert "from 2027-01-10 03:00 to 2027-01-10 09:15 (6 h 15 min); times in Europe/Berlin" in text
    assert "longer than 45 min;" in text  # 3 x the 15-min sampling
    assert "UTC" not in text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(180.05, "3 min"), (45.0, "45 s"), (22_500.0, "6 h 15 min"), (3_600.0, "1 h"),
     (183_600.0, "2 d 3 h"), (90.4, "1 min 30 s")],
)  # fmt: skip
def test_durations_read_as_people_write_them(seconds: float, text: str) -> None:
    assert Catalogue().duration(seconds) == text


# -- set points, meters -------------------------------------------------------------------
def _profile(**device_fields: object) -> SiteProfile:
    data = yaml.safe_load(HOTEL.read_text())
    data["devices"][0].update(device_fields)
    return SiteProfile.model_validate(data)


def test_set_points_follow_the_cooling_type() -> None:
    profile = load_site(HOTEL).profile
    liquid = report_info_from_profile(profile)
    air_groups = tuple(g.model_copy(update={"cooling": "air"}) for g in profile.rack_groups)
    air = report_info_from_profile(profile.model_copy(update={"rack_groups": air_groups}))
    t = Catalogue()
    frame = synthetic_counters("2026-12-31", "2027-02-02")
    window = [pd.Timestamp(d, tz="Europe/Berlin") for d in JAN]
    for info, want, absent in ((liquid, "coolant supply", "air-cooled"),
                               (air, "air-cooled racks", "liquid-cooled")):  # fmt: skip
        eu = build_tables(frame, info, *window).eu_fields
        rows = eu[eu["field"].str.startswith(t("eu.setpoints"))]
        assert len(rows) == 1
        text = " ".join(rows["field"]) + " " + " ".join(rows["source"])
        assert want in text and absent not in text
    assert rows["value"].isna().all()  # the air set point is not known to thermalctl
    liquid_rows = build_tables(frame, liquid, *window).eu_fields
    supply_c = profile.heat_loop.supply_temp_setpoint_c
    assert supply_c in liquid_rows["value"].tolist()


def test_meters_carry_serial_and_calibration_from_the_profile(tmp_path: Path) -> None:
    profile = _profile(serial="SDM630-22-019876", calibrated="2025-11-03")
    info = report_info_from_profile(profile)
    meter = info.meters[0]
    assert (meter.serial, meter.calibrated) == ("SDM630-22-019876", dt.date(2025, 11, 3))
    files = build_report(synthetic_counters("2026-12-31", "2027-02-02"), info, tmp_path, *JAN)
    text = _pdf_text(files.pdf)
    assert "SDM630-22-019876" in text and "2025-11-03" in text
    listed = content.meter_table(info, Catalogue())
    assert listed.iloc[0].tolist()[-2:] == ["SDM630-22-019876", "2025-11-03"]
    assert listed.iloc[1].tolist()[-2:] == ["not in the site profile"] * 2  # the others: none
    assert "cannot be traced to its" in text
    with pytest.raises(ValueError, match="calibrated"):
        _profile(calibrated="last spring")


# -- one folder name ----------------------------------------------------------------------
def test_demo_report_command_and_monthly_job_name_the_folder_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    profile = load_site(HOTEL).profile
    store = _ledger_store(tmp_path / "s.sqlite", None)
    start, end = (pd.Timestamp(d, tz="Europe/Berlin") for d in JAN)
    demo_files = write_report(profile, store, start, end)  # as the demo and the monthly job do
    store.close()
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    assert cli.run(parser.parse_args(["--site", str(HOTEL), "--from", JAN[0], "--to", JAN[1],
                                      "--store", "s.sqlite"])) == 0  # fmt: skip
    printed = Path(capsys.readouterr().out.split()[0])
    folder = report_folder(profile.reporting.report_dir, "harbour_hotel", start, end,
                           "Europe/Berlin")  # fmt: skip
    assert demo_files.pdf.parent == printed.parent == folder
    assert folder.name == "harbour_hotel_2027-01-01_2027-02-01"
    # a demo's hours are not named like a day
    two_hours = report_stem("pool", pd.Timestamp("2026-01-05T00:00Z"),
                            pd.Timestamp("2026-01-05T02:00Z"), "Europe/London")  # fmt: skip
    assert two_hours == "pool_2026-01-05T0000_2026-01-05T0200"


def test_an_unknown_language_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnknownLanguage, match="'fr' is not available"):
        build_report(synthetic_counters("2026-12-31", "2027-01-03"), INFO, tmp_path,
                     "2027-01-01", "2027-01-02", lang="fr")  # fmt: skip
    assert list(tmp_path.iterdir()) == []
