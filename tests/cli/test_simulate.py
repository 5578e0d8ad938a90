"""``thermalctl simulate`` through a real process: the JSON tells the whole story on a
clean stdout, progress goes to stderr on longer runs and ``-q`` silences it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import HOTEL_SITE, REPO

THERMALCTL = [sys.executable, "-m", "thermalctl"]
ECHO = {"site", "policy", "kind", "start", "days", "weather"}
MONEY = {"electricity_cost_eur", "fuel_cost_eur", "backlog_cost_eur", "total_cost_eur",
         "co2_kg", "heat_pump_electricity_kwh", "deferred_shifted_kwh"}
SINK_KEYS = {"heat_kwh", "backup_heat_kwh", "overheating_kwh", "comfort_violation_kh"}


def _simulate(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*THERMALCTL, "simulate", "--site", str(HOTEL_SITE), *argv],
                          capture_output=True, text=True, cwd=REPO, timeout=600, check=False)


def test_json_echoes_the_run_and_reports_money_and_every_sink() -> None:
    proc = _simulate("--days", "0.5", "--policy", "baseline", "--start", "2026-02-02",
                     "--json")
    assert proc.returncode == 0, proc.stderr
    m = json.loads(proc.stdout)
    assert set(m) >= ECHO | MONEY
    assert m["policy"] == "thermostat" and m["policy_alias"] == "baseline"
    assert m["kind"] == "controller"
    assert m["start"] == "2026-02-02T00:00:00+01:00"  # local time in Hamburg (CET)
    assert m["days"] == 0.5
    assert m["weather"].startswith("synthetic")
    assert set(m["sinks"]) == {"dhw", "heating"}
    for figures in m["sinks"].values():
        assert set(figures) >= SINK_KEYS
    assert m["total_cost_eur"] == pytest.approx(
        m["electricity_cost_eur"] + m["fuel_cost_eur"] + m["backlog_cost_eur"])
    assert "% simulated" not in proc.stderr  # a short run stays quiet


def test_bound_reports_its_figures_as_a_bound() -> None:
    proc = _simulate("--days", "0.5", "--policy", "bound", "--json")
    assert proc.returncode == 0, proc.stderr
    m = json.loads(proc.stdout)
    assert m["kind"] == "bound" and m["policy"] == "bound"
    assert set(m) >= ECHO | MONEY - {"deferred_shifted_kwh"}


def test_progress_on_stderr_and_quiet_with_q() -> None:
    # Progress shows once a run has taken --progress-after seconds (3 by default); at 0
    # it shows from the first simulated day, whatever the machine's speed.
    args = ("--days", "2", "--policy", "thermostat", "--json", "--progress-after", "0")
    loud = _simulate(*args)
    assert loud.returncode == 0, loud.stderr
    assert "harbour_hotel thermostat: 50% simulated" in loud.stderr
    json.loads(loud.stdout)  # progress never reaches stdout
    quiet = _simulate(*args, "-q")
    assert quiet.returncode == 0, quiet.stderr
    assert "% simulated" not in quiet.stderr
    assert json.loads(quiet.stdout)["days"] == 2


def test_unknown_policy_is_refused_with_the_valid_names() -> None:
    proc = _simulate("--days", "1", "--policy", "optimal")
    assert proc.returncode != 0
    assert "thermostat" in proc.stderr and "rules" in proc.stderr and "bound" in proc.stderr
