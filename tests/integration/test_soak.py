"""The soak (``tools/soak.py``), shortened for CI: two simulated hours at 400x with every
kind of fault a few times (device silent / exception / garbage / out of range / port
closed, Mosquitto restarted, VictoriaMetrics SIGKILLed and restarted, the store's disk
full), then every invariant checked. The tool starts its own Mosquitto and
VictoriaMetrics on 127.0.0.1 and stops them; it runs as a subprocess, bounded by
``--max-wall`` and by the subprocess timeout here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import POOL_SITE, REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SOAK = REPO / "tools" / "soak.py"
#: Kinds every short run must have injected at least this often (seeded: reproducible).
AT_LEAST = 2


def _need(binary: str) -> None:
    if shutil.which(binary) is None and not Path(f"/usr/sbin/{binary}").exists():
        pytest.skip(f"{binary} not installed (Debian package); the soak needs the real server")


def run_soak(*args: str, timeout_s: float = 300.0) -> tuple[int, dict[str, object], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THERMALCTL_")}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, str(SOAK), "--site", str(POOL_SITE), "--json", "-q", *args],
        capture_output=True, text=True, timeout=timeout_s, env=env, cwd=REPO,
    )
    lines = done.stdout.strip().splitlines()  # the solver may print a banner first
    summary = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    return done.returncode, summary, done.stderr[-3000:]


def test_short_soak_passes_every_invariant() -> None:
    for binary in ("mosquitto", "mosquitto_passwd", "victoria-metrics"):
        _need(binary)
    code, s, err = run_soak("--hours", "2", "--speed", "400", "--seed", "3",
                            "--faults-per-hour", "36", "--max-wall", "200")
    assert s, f"no summary (exit {code}): {err}"
    print("\nsoak:", json.dumps({k: s[k] for k in (
        "wall_s", "ticks", "tick_ms_p99", "tick_ms_max", "faults", "alarms_raised",
        "alarms_cleared", "points_written", "points_lost", "points_duplicated")}))
    assert s["violation_messages"] == {}, err
    assert code == 0
    faults = s["faults"]
    assert isinstance(faults, dict)
    for kind in ("silent", "exception", "garbage", "out_of_range", "port_closed",
                 "broker", "tsdb", "disk"):
        assert faults.get(kind, 0) >= 1, f"{kind} never injected: {faults}"
    assert sum(faults.values()) >= 8 * AT_LEAST
    assert s["faults_alarmed"] == s["faults_cleared"] == s["faults_total"]
    assert s["points_lost"] == s["points_duplicated"] == 0
    assert s["points_written"] == s["points_read_back"]
    assert s["ledger_values_matched"] > 0 and s["decisions_checked"] == s["ticks"]
    assert s["audit"] == {"ok": True, "records": s["audit"]["records"],  # type: ignore[index]
                          "seals": s["audit"]["seals"]}  # type: ignore[index]


def test_the_soak_can_fail() -> None:
    """A bad option exits 2 with the reason; a wall-time bound the run cannot keep is a
    violation (exit 1) that names itself, and the servers are still stopped."""
    for binary in ("mosquitto", "mosquitto_passwd", "victoria-metrics"):
        _need(binary)
    code, _s, err = run_soak("--kinds", "silent,nonsense", timeout_s=60.0)
    assert code == 2 and "unknown ['nonsense']" in err
    code, s, err = run_soak("--hours", "2", "--speed", "400", "--faults-per-hour", "0",
                            "--max-wall", "3", timeout_s=120.0)
    assert code == 1, err
    assert "wall_time" in s["violations"]  # type: ignore[operator]
