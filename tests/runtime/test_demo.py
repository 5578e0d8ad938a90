"""Smoke test of ``thermalctl demo``: the scheduler, the simulator and the controller together."""

from __future__ import annotations

import json
from pathlib import Path

from thermalctl.adapters.audit import read_records, verify
from thermalctl.adapters.store import MEASURED, SIMULATED, LocalStore, store_origin
from thermalctl.cli import main


def test_demo_json_summary(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # the report goes to the profile's relative report_dir
    store = tmp_path / "demo.sqlite"
    rc = main(
        ["demo", "--hours", "3", "--speed", "1800", "--json", "--quiet", "--store", str(store)]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    for key in (
        "it_energy_kwh",
        "facility_energy_kwh",
        "reused_heat_kwh",
        "dumped_heat_kwh",
        "pue",
        "erf",
        "alarms",
    ):
        assert key in out
    assert out["it_energy_kwh"] > 0
    assert out["reused_heat_kwh"] > 0
    assert out["pue"] >= 1.0
    # Over three hours the loop's stored heat (it starts warm at its set point) may reach
    # the pool on top of what the racks make: ERF can exceed 1 by that much, no more
    # (about 2.5 kWh/K of loop water, a couple of kelvin, against ~85 kWh facility energy).
    assert 0.0 <= out["erf"] <= 1.06
    assert abs(out["energy_balance_residual_kwh"]) < 1e-6 * out["it_energy_kwh"] + 1e-9
    assert out["ticks"] > 10
    assert store.exists()
    pdf = tmp_path / out["report"]
    assert pdf.suffix == ".pdf" and pdf.read_bytes().startswith(b"%PDF")


def test_demo_rejects_a_broken_site(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("site: {id: Bad}\n")
    assert main(["demo", "--site", str(bad), "--hours", "0.1"]) == 1
    assert "site.id" in capsys.readouterr().err


def _demo(*extra: str) -> int:
    return main(["demo", "--hours", "1", "--speed", "3600", "--json", "--quiet", "--no-report",
                 *extra])


def test_demo_never_touches_the_run_store(tmp_path, capsys, monkeypatch) -> None:
    """Old code: the demo deleted var/<site>.sqlite, run's default store."""
    monkeypatch.chdir(tmp_path)
    site_store = tmp_path / "var" / "exmouth_pool.sqlite"
    with LocalStore(site_store, origin=MEASURED) as store:
        store.add_ledger(1.0, {"it_kwh": 123.0})
    before = site_store.read_bytes()
    assert _demo() == 0
    out = json.loads(capsys.readouterr().out)
    assert out["store"] == str(Path("var") / "demo-exmouth_pool.sqlite")
    assert site_store.read_bytes() == before
    assert store_origin(tmp_path / out["store"]) == SIMULATED
    assert _demo() == 0  # a second demo starts its own store afresh
    assert json.loads(capsys.readouterr().out)["ticks"] > 0


def test_demo_refuses_a_store_with_measured_data(tmp_path, capsys) -> None:
    measured = tmp_path / "site.sqlite"
    with LocalStore(measured, origin=MEASURED) as store:
        store.add_ledger(1.0, {"it_kwh": 123.0})
    before = measured.read_bytes()
    assert _demo("--store", str(measured)) == 1
    err = capsys.readouterr().err
    assert f"local store {measured} holds measured data" in err and "Traceback" not in err
    assert measured.read_bytes() == before


def test_demo_refuses_a_file_that_is_not_a_store(tmp_path, capsys) -> None:
    other = tmp_path / "thesis.txt"
    other.write_text("years of work\n")
    assert _demo("--store", str(other)) == 1
    assert "not a thermalctl local store" in capsys.readouterr().err
    assert other.read_text() == "years of work\n"


def test_demo_audit_trail_is_sealed_and_verifies(tmp_path, capsys) -> None:
    store = tmp_path / "demo.sqlite"
    # 22:00 to 01:00 UTC (= London in January): the first day completes and is sealed
    assert main(["demo", "--start", "2026-01-04T22:00", "--hours", "3", "--speed", "3600",
                 "--json", "--quiet", "--no-report", "--policy", "baseline",
                 "--store", str(store)]) == 0
    out = json.loads(capsys.readouterr().out)
    trail = Path(out["audit"])
    assert trail == tmp_path / "demo.audit.jsonl"
    events = [r["event"] for _, r, _ in read_records(trail) if r]
    assert events[0] == "start" and events[-1] == "stop" and "ledger_seal" in events
    assert verify(trail, LocalStore(store, readonly=True)).seals_checked == 1
    assert main(["audit", "verify", "--store", str(store)]) == 0
