"""``thermalctl kpi``: the hand-computed reference file, JSON shape, errors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from thermalctl.runtime import kpi_cli as cli

DATA = Path(__file__).parents[1] / "kpi" / "data"  # the KPI reference files


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="thermalctl kpi")
    cli.add_arguments(parser)
    return cli.run(parser.parse_args(argv))


def test_json_matches_hand_computed_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("--csv", str(DATA / "bms_export_wrap.csv"), "--json") == 0
    out = json.loads(capsys.readouterr().out)
    # values from tests/kpi/data/README.md
    assert out["facility_energy_kwh"] == pytest.approx(480.0)
    assert out["it_energy_kwh"] == pytest.approx(380.0)
    assert out["reused_energy_kwh"] == pytest.approx(160.0)
    assert out["pue"] == pytest.approx(480 / 380)
    assert out["erf"] == pytest.approx(1 / 3)
    assert out["ere"] == pytest.approx(320 / 380)
    assert out["completeness"] == 1.0
    assert [m["month"] for m in out["months"]] == ["2024-01", "2024-02"]
    jan, feb = out["months"]
    assert jan["pue"] == pytest.approx(1.2)
    assert jan["wue_l_per_kwh"] == pytest.approx(2.0)
    assert feb["pue"] == pytest.approx(240 / 180)
    keys = {"facility_energy_kwh", "it_energy_kwh", "reused_energy_kwh", "pue", "erf", "ere",
            "completeness"}  # fmt: skip
    assert keys <= set(out) and all(keys <= set(m) for m in out["months"])
    assert [e["kind"] for e in out["counter_events"]] == ["wrap"]


def test_human_table_lists_months_and_total(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("--csv", str(DATA / "bms_export_wrap.csv")) == 0
    out = capsys.readouterr().out
    lines = {
        line.split()[0]: line.split()
        for line in out.splitlines()
        if line.startswith(("20", "total"))
    }
    assert lines["2024-01"][1:5] == ["240.0", "200.0", "80.0", "1.200"]
    assert lines["2024-02"][4] == "1.333"
    assert lines["total"][4] == "1.263"
    assert "wrap of facility_kwh at 2024-02-02T00:00:00+00:00" in out


def test_bad_row_exits_non_zero_with_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "timestamp,facility_kwh,it_kwh,reused_heat_kwh\n2024-01-01,1,1,1\n2024-01-02,x,2,2\n",
        encoding="utf-8",
    )
    assert _run("--csv", str(path), "--json") == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "line 3, column 'facility_kwh': 'x' is not a number" in captured.err
