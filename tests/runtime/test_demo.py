"""Smoke test of ``thermalctl demo``: the scheduler, the simulator and the controller together."""

from __future__ import annotations

import json

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
    assert 0.0 <= out["erf"] <= 1.0
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
