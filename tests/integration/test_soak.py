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
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import POOL_SITE, REPO

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SOAK = REPO / "tools" / "soak.py"
#: Faults the short run injects at least (seeded, so the same each time; about 20).
MIN_FAULTS = 16


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
    kept = re.search(r"work directory kept: (\S+)", done.stderr)
    if kept:  # a failing run keeps its files for a person; a test run cleans them up
        work = Path(kept.group(1))
        leftovers = subprocess.run(["pgrep", "-f", str(work)], capture_output=True, text=True)
        assert not leftovers.stdout.strip(), f"servers left running: {leftovers.stdout}"
        shutil.rmtree(work, ignore_errors=True)
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
    assert sum(faults.values()) >= MIN_FAULTS
    assert s["faults_alarmed"] == s["faults_cleared"] == s["faults_total"]
    assert s["points_lost"] == s["points_duplicated"] == 0
    assert s["points_written"] == s["points_read_back"]
    assert s["ledger_values_matched"] > 0 and s["decisions_checked"] == s["ticks"]
    assert s["audit"]["ok"]  # type: ignore[index]


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


def test_audit_trail_on_a_full_disk_neither_raises_nor_tears_a_line(tmp_path: Path) -> None:
    """What the soak found: a safety trip while the store's disk was full raised ENOSPC
    out of the audit trail into the tick (safe targets never written) and left a torn
    line. Now the record is held and written, whole and in order, once space is back."""
    from thermalctl.adapters.audit import AuditTrail, verify

    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                          capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        trail = AuditTrail(mount / "site.audit.jsonl", clock=lambda: 1_767_571_200.0)
        trail.record("start", source="cli")
        ballast = mount / "ballast"
        fd = os.open(ballast, os.O_WRONLY | os.O_CREAT, 0o600)
        try:  # fill the disk to the last byte
            for size in (65536, 512, 1):
                try:
                    while os.write(fd, b"\0" * size) == size:
                        pass
                except OSError:
                    pass
        finally:
            os.close(fd)
        for k in range(20):  # more than the file's last page holds: ENOSPC, a torn line
            trail.record("safety_trip", source="controller", reason=f"trip {k} " + "x" * 190)
        meanwhile = verify(trail.path)
        assert meanwhile.ok and meanwhile.records < 21, meanwhile  # whole lines only
        ballast.unlink()
        trail.record("safety_clear", source="controller", reason="space back")
        trail.close()
        result = verify(trail.path)
        assert result.ok and result.records == 22, result
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=30)


def test_integer_energy_counters_have_an_upper_bound() -> None:
    """What the 48 h soak found: garbage on the facility meter decoded its INT64 Wh counter
    to 2e17 Wh, in range (min 0, no max), and the ledger took it (then fell back: not
    monotonic). Every integer energy register of a shipped map needs a maximum, so random
    words are refused as out of range (a chance of about 1e-7 for an INT64)."""
    from thermalctl.config.loader import load_hardware_map

    unbounded = []
    for path in sorted((REPO / "hardware_maps").glob("*.yaml")):
        for reg in load_hardware_map(path).registers:
            integer = reg.data_type.value.startswith(("int", "uint"))
            if integer and reg.unit in ("Wh", "kWh", "MWh") and reg.max is None:
                unbounded.append(f"{path.name}: {reg.name}")
    assert unbounded == []
