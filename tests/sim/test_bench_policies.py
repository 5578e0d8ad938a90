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


@pytest.mark.slow
def test_forecast_ladder_runs_the_planner_with_one_forecast_perfect(tmp_path: Path) -> None:
    out = tmp_path / "ladder.json"
    run = subprocess.run(
        [sys.executable, str(REPO / "tools" / "forecast_ladder.py"), "--sites", str(POOL_SITE),
         "--days", "0.5", "--parts", "weather", "--horizons", "--json", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stderr
    rows = json.loads(out.read_text())
    assert [r["run"] for r in rows] == ["mpc", "perfect weather", "mpc_perfect"]
    assert all(r["plan_failures"] == 0 for r in rows)
    # The "mpc" line is the shipped mpc: the same figures as `simulate --policy mpc`.
    import datetime as dt

    from thermalctl.config.loader import load_site
    from thermalctl.models.localtime import zone
    from thermalctl.sim.offline import simulate

    profile = load_site(POOL_SITE).profile
    start = dt.datetime(2026, 1, 5, tzinfo=zone(profile.site.timezone)).timestamp()
    shipped = simulate(profile, "mpc", 0.5, start_s=start).metrics
    assert rows[0]["backup_heat_kwh"] == pytest.approx(shipped["backup_heat_kwh"], rel=1e-9)
    assert "perfect weather" in run.stdout
