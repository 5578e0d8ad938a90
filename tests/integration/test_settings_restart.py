"""Operator settings survive a restart of the real ``thermalctl run`` (issue 11, finding 10).

Real processes on 127.0.0.1: ``tools/serve_sim.py`` serves the pool site over Modbus
TCP, a Mosquitto broker carries the operator's commands, ``thermalctl run`` controls
the plant with its BMS server on; the operator sets manual mode, a pool set point and
a GPU cap over MQTT, the controller is stopped (SIGTERM) and started again on the same
store, and the BMS (read with ``mbpoll``, a real BMS-side client) and the MQTT state
show the same settings, the audit trail says who changed them.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.test_controller_kill import _env, _stop, plant, site_file  # noqa: F401
from tests.servers import (  # noqa: F401
    Listener,
    MosquittoServer,
    free_port,
    mosquitto_server_fixture,
    require_binary,
    wait_for,
)
from thermalctl.adapters.audit import audit_path_for, read_records

pytestmark = pytest.mark.integration

WAIT_S = 30.0


def _run(site: Path, store: Path, cwd: Path, mqtt_url: str, bms_port: int) -> subprocess.Popen:
    env = _env()
    env["THERMALCTL_MQTT_URL"] = mqtt_url
    env["THERMALCTL_BMS_LISTEN"] = f"127.0.0.1:{bms_port}"
    return subprocess.Popen(
        [sys.executable, "-m", "thermalctl", "run", "--site", str(site), "--store", str(store)],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _holding(port: int, start: int, count: int) -> dict[int, int] | None:
    """Holding registers read by mbpoll (None while the server is not up)."""
    proc = subprocess.run(
        ["mbpoll", "-m", "tcp", "-p", str(port), "-a", "1", "-0", "-1", "-t", "4", "-r",
         str(start), "-c", str(count), "127.0.0.1"],
        capture_output=True, text=True, timeout=10, check=False)
    if proc.returncode != 0:
        return None
    return {int(m[1]): int(m[2]) for m in re.finditer(r"^\[(\d+)\]:\s+(-?\d+)", proc.stdout, re.M)}


def _stop_gracefully(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(timeout=20) == 0, proc.stderr.read() if proc.stderr else ""
    finally:
        _stop(proc)


def test_mode_set_point_and_cap_survive_a_restart(
    plant, site_file, mosquitto_server: MosquittoServer, tmp_path: Path  # noqa: F811
) -> None:
    require_binary("mbpoll")
    store = tmp_path / "var" / "pool.sqlite"
    url = mosquitto_server.url_for["admin"]
    bms_port = free_port()
    listener = Listener(mosquitto_server)
    root = "thermalctl/exmouth_pool"
    first = _run(site_file, store, tmp_path, url, bms_port)
    try:
        assert wait_for(lambda: listener.last(f"{root}/status") == b"online", WAIT_S)
        assert wait_for(lambda: _holding(bms_port, 1, 1) is not None, WAIT_S)
        for key, value in (("mode", "manual"), ("setpoint/pool", "30.5"),
                           ("gpu_cap/pod", "20000")):
            listener.publish(f"{root}/cmd/{key}", value)
            assert wait_for(
                lambda key=key: any(
                    json.loads(p).get("topic") == f"{root}/cmd/{key}" and json.loads(p)["ok"]
                    for p in listener.messages.get(f"{root}/ack", [])), WAIT_S), key
        before = _holding(bms_port, 1, 1), _holding(bms_port, 100, 1), _holding(bms_port, 200, 1)
        assert before == ({1: 1}, {100: 305}, {200: 200})  # manual, 30.5 degC, 20 kW / 100 W
        _stop_gracefully(first)
    finally:
        _stop(first)

    second = _run(site_file, store, tmp_path, url, bms_port)
    try:
        assert wait_for(lambda: _holding(bms_port, 1, 1) is not None, WAIT_S)
        time.sleep(1.0)  # a few ticks under the restored settings
        after = _holding(bms_port, 1, 1), _holding(bms_port, 100, 1), _holding(bms_port, 200, 1)
        assert after == before
        _stop_gracefully(second)
    finally:
        _stop(second)
        listener.close()
    records = [r for _, r, _ in read_records(audit_path_for(store)) if r]
    changes = [(r["key"], r["new"], r["source"]) for r in records if r["event"] == "setting"]
    assert [c[0] for c in changes] == ["mode", "setpoint/pool", "gpu_cap/pod"]
    assert all(c[2].startswith("mqtt:") for c in changes)
