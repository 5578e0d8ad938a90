"""``thermalctl report`` from a CSV export and error handling."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import HOTEL_SITE
from thermalctl.reports import cli

from .synthetic import synthetic_counters

SITE = HOTEL_SITE


def _run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="thermalctl report")
    cli.add_arguments(parser)
    return cli.run(parser.parse_args(argv))


def test_report_from_csv_writes_all_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = synthetic_counters("2027-01-31", "2027-03-02", freq="1h")
    csv = tmp_path / "export.csv"
    frame.to_csv(csv, index_label="timestamp", date_format="%Y-%m-%dT%H:%M:%SZ")
    out = tmp_path / "out"
    assert _run("--site", str(SITE), "--from", "2027-02-01", "--to", "2027-03-01",
                "--out", str(out), "--csv", str(csv)) == 0  # fmt: skip
    printed = capsys.readouterr().out.split()
    assert len(printed) == 7 and all(Path(p).exists() for p in printed)
    assert (out / "harbour_hotel_2027-02-01_2027-03-01_monthly_kpis.csv").read_text().count(
        "\n"
    ) == 3  # header, 2027-02, total


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--store", "absent.sqlite"], "does not exist"),
        (["--csv", "absent.csv"], "cannot open"),
    ],
)
def test_missing_data_source_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    extra = [extra[0], str(tmp_path / extra[1])]
    code = _run("--site", str(SITE), "--from", "2027-02-01", "--to", "2027-03-01",
                "--out", str(tmp_path), *extra)  # fmt: skip
    assert code == 1
    assert message in capsys.readouterr().err


def test_bad_site_and_reversed_dates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("--site", str(tmp_path / "nope.yaml"), "--from", "2027-02-01", "--to",
                "2027-03-01", "--out", str(tmp_path)) == 1  # fmt: skip
    assert "thermalctl report: error:" in capsys.readouterr().err
    assert _run("--site", str(SITE), "--from", "2027-03-01", "--to", "2027-02-01",
                "--out", str(tmp_path)) == 1  # fmt: skip
    assert "--to must be after --from" in capsys.readouterr().err


def test_report_from_the_local_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store_module = pytest.importorskip("thermalctl.adapters.store")
    frame = synthetic_counters("2027-01-31", "2027-03-02", freq="1h")
    path = tmp_path / "ledger.sqlite"
    with store_module.LocalStore(path) as store:
        for stamp, row in frame.iterrows():
            store.add_ledger(stamp.timestamp(), {k: float(v) for k, v in row.items()})
    out = tmp_path / "out"
    assert _run("--site", str(SITE), "--from", "2027-02-01", "--to", "2027-03-01",
                "--out", str(out), "--store", str(path)) == 0  # fmt: skip
    monthly = pd.read_csv(out / "harbour_hotel_2027-02-01_2027-03-01_monthly_kpis.csv")
    # the read margin lets the window's edges be interpolated: the month is complete
    assert monthly["completeness_pct"].iloc[-1] == 100.0
    # a store without an origin mark holds a real controller's data
    assert set(monthly["origin"]) == {"measured"}
