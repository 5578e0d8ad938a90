"""``thermalctl run`` SIGKILLed mid-run and restarted on the same store.

Real processes on 127.0.0.1: ``tools/serve_sim.py`` serves the pool site's devices
over Modbus TCP in real time, ``thermalctl run`` (a subprocess, 0.5 s tick) controls it
and writes its store. After a SIGKILL the store must pass ``PRAGMA integrity_check``,
the restarted controller must get the store (the lock died with the process), the
ledger's counters must be monotonic across the restart, the energy the KPI engine
counts over the whole ledger must equal last minus first (nothing counted twice, no
phantom reset at the restart), the last ledger row must agree with the meter's own
register read afterwards (within its float32 resolution plus what the plant made
since), and the audit chain must verify against the store.

Time is bounded: each side runs until the store has a few more ledger rows (at most
:data:`WAIT_S`), about 3 s each.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.conftest import POOL_SITE, REPO, free_ports
from thermalctl.adapters.audit import audit_path_for, read_records, verify
from thermalctl.adapters.modbus_client import close_hubs, hubs_for
from thermalctl.adapters.ports import modbus_ports
from thermalctl.adapters.store import LEDGER_COLUMNS, LocalStore
from thermalctl.config.loader import load_site
from thermalctl.kpi.counters import interval_energies

WAIT_S = 40.0
ROWS_EACH_SIDE = 6
TICK_S = 0.5


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THERMALCTL_")}
    env["PYTHONPATH"] = str(REPO)
    return env


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _ledger(path: Path) -> list[tuple[float, ...]]:
    if not path.exists():
        return []
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return db.execute(
            f"SELECT ts, {', '.join(LEDGER_COLUMNS)} FROM ledger WHERE it_kwh IS NOT NULL "
            "ORDER BY id").fetchall()
    except sqlite3.OperationalError:  # not created yet
        return []
    finally:
        db.close()


def _wait_rows(path: Path, count: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"thermalctl run exited {proc.returncode}: {proc.stderr.read()}")
        if len(_ledger(path)) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"fewer than {count} ledger rows after {WAIT_S:g} s")


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)


@pytest.fixture
def site_file(tmp_path) -> Path:
    """The pool profile on free ports, ticking every 0.5 s."""
    profile = yaml.safe_load(POOL_SITE.read_text())
    ports = free_ports(len({d["port"] for d in profile["devices"]}))
    mapping = dict(zip(sorted({d["port"] for d in profile["devices"]}), ports, strict=True))
    for dev in profile["devices"]:
        dev["port"] = mapping[dev["port"]]
        dev["poll_period_s"] = TICK_S
    profile["fast_period_s"] = TICK_S
    path = tmp_path / "pool.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return path


@pytest.fixture
def plant(site_file, tmp_path):
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "tools" / "serve_sim.py"), "--site", str(site_file),
         "--period", "0.2"],
        cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ports = {d["port"] for d in yaml.safe_load(site_file.read_text())["devices"]}
    deadline = time.monotonic() + WAIT_S
    while not all(_port_open(p) for p in ports):
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "simulator did not open its ports"
        time.sleep(0.1)
    yield proc
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        _stop(proc)


def _run(site_file: Path, store: Path, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "thermalctl", "run", "--site", str(site_file), "--store",
         str(store)], cwd=cwd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True)


async def _meter_now(site_file: Path) -> tuple[float, float]:
    """(IT energy counter [kWh] read over Modbus now, IT power [W])."""
    site = load_site(site_file)
    hubs = hubs_for(site)
    try:
        port = next(p for p in modbus_ports(site.profile.devices, site.maps, hubs)
                    if "it.energy_kwh" in p.point_signals.values())
        readings = {port.point_signals.get(r.point): r for r in await port.read(time.time())}
    finally:
        await close_hubs(hubs)
    energy, power = readings["it.energy_kwh"], readings["it.power_w"]
    assert energy.usable and power.usable
    return float(energy.value), float(power.value)


def test_sigkill_mid_run_then_restart_on_the_same_store(plant, site_file, tmp_path) -> None:
    store = tmp_path / "var" / "pool.sqlite"
    first = _run(site_file, store, tmp_path)
    try:
        _wait_rows(store, ROWS_EACH_SIDE, first)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        _stop(first)
    with sqlite3.connect(store) as db:  # opens the WAL as a recovering reader would
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    before = _ledger(store)

    second = _run(site_file, store, tmp_path)
    try:
        _wait_rows(store, len(before) + ROWS_EACH_SIDE, second)
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=20) == 0, second.stderr.read() if second.stderr else ""
    finally:
        _stop(second)
    meter_kwh, power_w = asyncio.run(_meter_now(site_file))

    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = _ledger(store)
    assert rows[: len(before)] == before  # the first run's rows untouched by the second
    ts = [r[0] for r in rows]
    assert all(b > a for a, b in itertools.pairwise(ts)), "ledger times not increasing"
    for col, name in enumerate(LEDGER_COLUMNS, start=1):
        values = [r[col] for r in rows if r[col] is not None]
        assert all(b >= a for a, b in itertools.pairwise(values)), f"{name} fell"

    it = pd.Series([r[2] for r in rows],
                   index=pd.to_datetime([r[0] for r in rows], unit="s", utc=True))
    counted = interval_energies(it).increments.sum()
    assert counted == pytest.approx(it.iloc[-1] - it.iloc[0], abs=1e-9)  # nothing twice

    resolution = float(np.spacing(np.float32(meter_kwh)))
    made_since = power_w * (time.time() - ts[-1] + 1.0) / 3.6e6  # at most, with margin
    assert it.iloc[-1] <= meter_kwh + resolution
    assert meter_kwh - it.iloc[-1] <= made_since + resolution

    trail = audit_path_for(store)
    with LocalStore(store, readonly=True) as reader:
        result = verify(trail, reader)
    assert result.ok, str(result)
    events = [r["event"] for _, r, _ in read_records(trail) if r]
    assert events == ["start", "start", "stop"]  # the killed run never wrote its stop
