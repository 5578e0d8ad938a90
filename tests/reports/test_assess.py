"""``thermalctl assess``: the feasibility study, through a real subprocess and in process.

Short runs (``--days``): the full year is for users. The checks are on what the study
must say (projected on every page, the three policies, avoided = reference - still
burnt, the trace equal to the simulator's own counters, one set of numbers in both
languages), not on the site's figures, which belong to the simulator's tests.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.conftest import HOTEL_SITE, REPO, SHARED_DATA
from thermalctl.config import load_site
from thermalctl.reports.assess import PolicyProjection, build_assessment
from thermalctl.reports.info import report_info_from_profile
from thermalctl.runtime import assess_cli
from thermalctl.runtime.assess_cli import POLICIES, Task, default_year, project

PIEDMONT_SITE = REPO / "site_profiles" / "piedmont_residential_hp.yaml"
PVGIS_EPW = SHARED_DATA / "pvgis_tmy_45.000_8.000_2005_2023.epw"
#: Relative tolerance of sums booked two ways (float rounding over ~600 steps).
REL = 1e-9


def _assess(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "thermalctl", "assess", *argv], cwd=cwd, capture_output=True,
        text=True, timeout=600, check=False,
    )  # fmt: skip


def _pages(pdf: Path) -> list[str]:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    return [p for p in out.split("\f") if p.strip()]


@pytest.fixture(scope="module")
def hotel_json(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("assess")
    proc = _assess("--site", str(HOTEL_SITE), "--days", "2", "--out", str(out / "study"),
                   "--json", "-q", cwd=out)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), out / "study"


def test_cli_json_names_the_projection_and_every_policy(
    hotel_json: tuple[dict[str, Any], Path],
) -> None:
    doc, out = hotel_json
    assert doc["origin"] == "projected"
    assert set(doc["policies"]) == set(POLICIES) == {"thermostat", "rules", "mpc"}
    assert doc["expected_policy"] == "mpc"
    assert doc["days"] == pytest.approx(2.0)
    year = default_year(load_site(HOTEL_SITE).profile.site.commissioned)
    assert doc["start"].startswith(f"{year}-01-01T00:00")
    files = [Path(p) for p in doc["files"]]
    assert all(p.parent == out and p.stat().st_size > 0 for p in files)
    assert {p.suffix for p in files} == {".pdf", ".html", ".csv"}


def test_avoided_is_reference_less_what_is_still_burnt(
    hotel_json: tuple[dict[str, Any], Path],
) -> None:
    doc, _ = hotel_json
    profile = load_site(HOTEL_SITE).profile
    gas = profile.prices.gas_eur_per_kwh
    assert {s.backup.fuel for s in profile.sinks} == {"gas"}  # so every kWh is at one price
    for policy, f in doc["policies"].items():
        sinks = doc["sinks"][policy]
        assert f["reused_heat_kwh"] > 0, policy
        assert f["heat_demand_kwh"] == pytest.approx(f["reused_heat_kwh"] + f["backup_heat_kwh"],
                                                     rel=1e-6)  # fmt: skip
        # the trace's per-sink backup is the simulator's own backup counter
        assert sum(s["backup_kwh"] for s in sinks) == pytest.approx(f["backup_heat_kwh"], rel=REL)
        assert f["avoided_fuel_kwh"] == pytest.approx(sum(s["avoided_fuel_kwh"] for s in sinks),
                                                      rel=REL)  # fmt: skip
        fuel_still = f["backup_heat_kwh"] / 0.92
        assert f["reference_fuel_kwh"] == pytest.approx(f["avoided_fuel_kwh"] + fuel_still,
                                                        rel=1e-6)  # fmt: skip
        assert f["reference_fuel_eur"] == pytest.approx(f["reference_fuel_kwh"] * gas, rel=REL)
        # the simulator's ledger prices the fuel still burnt the same way
        assert f["fuel_cost_eur"] == pytest.approx(fuel_still * gas, rel=1e-6)
        assert f["heat_pump_electricity_kwh"] == 0.0
        assert f["avoided_cost_eur"] == pytest.approx(f["avoided_fuel_kwh"] * gas, rel=1e-6)
        assert 0.0 < f["erf"] <= 1.05
        assert 0.0 < f["coverage_fraction"] <= 1.0


def test_every_page_says_projected(hotel_json: tuple[dict[str, Any], Path]) -> None:
    doc, _ = hotel_json
    pdf = next(Path(p) for p in doc["files"] if p.endswith(".pdf"))
    pages = _pages(pdf)
    assert len(pages) == 6
    assert "PROJECTION" in pages[0] and "not measurements" in pages[0]
    for i, page in enumerate(pages, 1):
        assert "Data: projected (feasibility study)" in page, f"page {i}"
        assert "measured (meter counters)" not in page, f"page {i}"
    text = "\n".join(pages)
    for policy in ("Thermostat (today's practice)", "Rules (commissioning", "Planner (MPC)"):
        assert policy in text
    assert "EnEfG / EED outlook" in text and "not applicable because" in text
    html = next(Path(p) for p in doc["files"] if p.endswith(".html")).read_text()
    assert "PROJECTION" in html and "data:image/png;base64," in html


def test_policies_csv_holds_the_json_figures(hotel_json: tuple[dict[str, Any], Path]) -> None:
    doc, _ = hotel_json
    path = next(Path(p) for p in doc["files"] if p.endswith("_policies.csv"))
    with path.open() as handle:
        rows = {r["figure"]: r for r in csv.DictReader(handle)}
    for policy, figures in doc["policies"].items():
        for key, value in figures.items():
            if value is None:
                assert rows[key][policy] == ""
            else:
                assert float(rows[key][policy]) == pytest.approx(value, rel=1e-12), key
    assert rows["coverage_fraction"]["unit"] == "fraction"


def test_cli_progress_header_and_quiet(tmp_path: Path) -> None:
    """Without -q stderr says what runs; with -q no line of ours (a solver's banner may
    still pass through)."""
    loud = _assess("--site", str(HOTEL_SITE), "--days", "0.25", "--out", str(tmp_path / "a"),
                   "--jobs", "1", cwd=tmp_path)  # fmt: skip
    assert loud.returncode == 0, loud.stderr
    assert "thermalctl assess: harbour_hotel, 0.25 days from" in loud.stderr
    printed = loud.stdout.split()
    assert len(printed) == 6 and all(Path(p).is_file() for p in printed)
    quiet = _assess("--site", str(HOTEL_SITE), "--days", "0.25", "--out", str(tmp_path / "b"),
                    "--jobs", "1", "-q", cwd=tmp_path)  # fmt: skip
    assert quiet.returncode == 0, quiet.stderr
    assert "thermalctl assess" not in quiet.stderr and "simulated (" not in quiet.stderr


@pytest.mark.skipif(not PVGIS_EPW.is_file(), reason=f"{PVGIS_EPW} not present")
def test_cli_german_with_pvgis_weather(tmp_path: Path) -> None:
    proc = _assess("--site", str(PIEDMONT_SITE), "--weather", str(PVGIS_EPW),
                   "--epw-utc-offset", "0", "--days", "1", "--lang", "de", "--json", "-q",
                   cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["weather"] == (f"EPW {PVGIS_EPW.name}; EPW-Zeilen gelesen mit UTC+0 h "
                              "(mit --epw-utc-offset angegeben)")  # fmt: skip
    files = [tmp_path / p for p in doc["files"]]  # relative to the working directory
    assert all(p.is_file() for p in files)
    # the default folder: reporting.report_dir under the working directory, beside (not
    # inside) a measured report's folder of the same period
    assert all(p.parent.name == "piedmont_residential_2027-01-01_2027-01-02_assess"
               for p in files)  # fmt: skip
    assert all(p.name.endswith((".de.pdf", ".de.html", ".de.csv")) for p in files)
    pages = _pages(next(p for p in files if p.suffix == ".pdf"))
    assert "PROGNOSE" in pages[0] and "Machbarkeitsstudie" in pages[0]
    assert all("Daten: prognostiziert (Machbarkeitsstudie)" in page for page in pages)
    # the heat pump on the loop lifts the heat: its electricity is counted against the saving
    mpc = doc["policies"]["mpc"]
    assert mpc["heat_pump_electricity_kwh"] > 0
    assert mpc["avoided_cost_eur"] < sum(s["avoided_fuel_eur"] for s in doc["sinks"]["mpc"])


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--days", "0"], 2, "must be a positive number"),
        (["--years", "1", "--days", "2"], 2, "not allowed with argument"),
        (["--days", "1", "--weather", "absent.epw"], 1, "absent.epw"),
        (["--days", "1", "--lang", "fr"], 2, "invalid choice: 'fr'"),
    ],
)
def test_cli_bad_input_fails_with_the_reason(
    tmp_path: Path, argv: list[str], code: int, message: str
) -> None:
    proc = _assess("--site", str(HOTEL_SITE), *argv, "-q", cwd=tmp_path)
    assert proc.returncode == code
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_bad_site_names_the_file(tmp_path: Path) -> None:
    proc = _assess("--site", str(tmp_path / "nope.yaml"), "--days", "1", cwd=tmp_path)
    assert proc.returncode == 1
    assert "nope.yaml" in proc.stderr and "Traceback" not in proc.stderr


# -- in process ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hotel_runs() -> list[PolicyProjection]:
    profile = load_site(HOTEL_SITE).profile
    start = pd.Timestamp(f"{default_year(profile.site.commissioned)}-01-01",
                         tz=profile.site.timezone)  # fmt: skip
    return [project(Task(str(HOTEL_SITE), policy, start.timestamp(), 0.5, None, None,
                         "synthetic", progress=False)) for policy in POLICIES]  # fmt: skip


def test_trace_is_hourly_and_matches_the_simulator(hotel_runs: list[PolicyProjection]) -> None:
    for run in hotel_runs:
        counters, m = run.counters, run.metrics
        assert len(counters) == 13  # start, then every hour of the 12
        assert (counters.index.to_series().diff().dropna() == pd.Timedelta("1h")).all()
        assert (counters.diff().dropna() >= -1e-9).all().all()  # cumulative
        last = counters.iloc[-1]
        for column, key in (("it_kwh", "it_energy_kwh"), ("facility_kwh", "facility_energy_kwh"),
                            ("reused_heat_kwh", "reused_heat_kwh"),
                            ("dumped_heat_kwh", "dumped_heat_kwh"),
                            ("backup_heat_kwh", "backup_heat_kwh")):  # fmt: skip
            assert last[column] == pytest.approx(m[key], rel=REL, abs=1e-9), column


def test_german_edition_prints_the_same_numbers(
    hotel_runs: list[PolicyProjection], tmp_path: Path
) -> None:
    profile = load_site(HOTEL_SITE).profile
    info = report_info_from_profile(profile)
    start = hotel_runs[0].counters.index[0]
    end = hotel_runs[0].counters.index[-1]
    en = build_assessment(hotel_runs, info, tmp_path, start, end, weather="synthetic")
    de = build_assessment(hotel_runs, info, tmp_path, start, end, weather="synthetisch",
                          lang="de")  # fmt: skip
    assert en.pdf != de.pdf and de.pdf.name.endswith("_assess.de.pdf")
    assert en.policies_csv.read_text() == de.policies_csv.read_text()
    assert en.sinks_csv.read_text() == de.sinks_csv.read_text()
    reused = {r.policy: r.reused_kwh for r in hotel_runs}["mpc"]
    german = f"{reused:,.0f}".replace(",", ".")
    text = "\n".join(_pages(de.pdf))
    assert german in text and "Wiederverwendete RZ-Wärme E_REUSE" in text
    assert "Regeln (Inbetriebnahme)" in text and "Ausblick EnEfG / EED" in text


def test_study_refuses_no_runs(tmp_path: Path) -> None:
    info = report_info_from_profile(load_site(HOTEL_SITE).profile)
    t0 = pd.Timestamp("2027-01-01", tz="UTC")
    with pytest.raises(ValueError, match="at least one simulated policy"):
        build_assessment([], info, tmp_path, t0, t0 + pd.Timedelta("1D"), weather="x")


@pytest.mark.parametrize(
    ("commissioned", "year"),
    [("2026-09-01", 2027), ("2027-01-01", 2027), ("2026-12-31", 2027)],
)
def test_default_year_is_the_first_whole_year_of_operation(commissioned: str, year: int) -> None:
    import datetime as dt

    assert default_year(dt.date.fromisoformat(commissioned)) == year


def test_progress_lines_are_spaced_and_say_what_is_left(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = iter([100.0, 101.0, 110.0, 112.0, 130.0, 131.0])
    monkeypatch.setattr(assess_cli.time, "monotonic", lambda: next(clock))
    progress = assess_cli.Progress("site mpc")  # started at 100 s
    for done in (0.05, 0.10, 0.11, 0.50, 1.0):  # at 101, 110, 112, 130, 131 s
        progress(done)
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "site mpc: 10% simulated (10 s, about 1 min 30 s left)",  # 101 s: too early
        "site mpc: 50% simulated (30 s, about 30 s left)",  # 112 s: too soon after
        "site mpc: 100% simulated (31 s)",  # the end is always shown
    ]
