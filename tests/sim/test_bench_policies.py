"""tools/bench_policies.py through a real subprocess: a short run split over two
processes (as the year is run on a two-core machine) and merged into one table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import POOL_SITE, REPO

BENCH = REPO / "tools" / "bench_policies.py"


def _bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(BENCH), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=600, check=False)


@pytest.mark.slow
def test_split_runs_merge_into_one_table_with_the_gaps(tmp_path: Path) -> None:
    files = []
    for policy in ("thermostat", "bound"):
        out = tmp_path / f"{policy}.json"
        run = _bench("--days", "0.5", "--sites", str(POOL_SITE), "--policies", policy,
                     "--json", str(out))
        assert run.returncode == 0, run.stderr
        assert f"exmouth_pool {policy} 2026-01-05 +0.5 d" in run.stderr  # progress
        rows = json.loads(out.read_text())
        assert [r["policy"] for r in rows] == [policy]
        files.append(str(out))
    merged = _bench("--merge", *reversed(files), "--markdown")
    assert merged.returncode == 0, merged.stderr
    lines = [line for line in merged.stdout.splitlines() if line.startswith("| exmouth")]
    assert [line.split(" | ")[1] for line in lines] == ["thermostat", "bound"]
    thermostat, bound = (line.split(" | ") for line in lines)
    header = merged.stdout.splitlines()[0].split(" | ")
    gap = header.index("gap backup")
    assert thermostat[gap] == "0%"
    assert bound[gap] == "100%"
    backup = header.index("backup MWh")
    assert float(bound[backup]) <= float(thermostat[backup])
    # The bound's least-cost solution's backup, beside its least backup.
    assert "bound's backup at its least cost" in merged.stdout
    least_cost = float(merged.stdout.split("exmouth_pool: ")[-1].split(" MWh")[0])
    assert least_cost >= float(bound[backup]) - 0.005
