"""sd_notify: messages on a real Unix datagram socket, and ``thermalctl run`` under it.

The socket stands in for systemd's: the protocol is one datagram of ``KEY=value``
lines (sd_notify(3)), so a bound ``AF_UNIX``/``SOCK_DGRAM`` socket receives exactly
what systemd would.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import free_port
from thermalctl.adapters.sdnotify import SystemdNotifier, TickNotifier
from thermalctl.points import Alarm, AlarmSeverity, Decision, Mode
from thermalctl.runtime.init_cli import write_site

#: Bounds a wait on the controller; not a measurement.
WAIT_S = 120.0


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, str]]:
    """A bound datagram socket (short path: sun_path holds 108 bytes)."""
    folder = tempfile.mkdtemp(prefix="sdn")
    path = os.path.join(folder, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5.0)
    try:
        yield sock, path
    finally:
        sock.close()
        os.unlink(path)
        os.rmdir(folder)


@dataclass
class _Tick:
    decision: Decision
    alarms: tuple[Alarm, ...]


def _tick(mode: Mode, *codes: str) -> _Tick:
    alarms = tuple(Alarm(c, c, AlarmSeverity.WARNING, 0.0) for c in codes)
    return _Tick(Decision(timestamp_s=0.0, mode=mode, policy="test"), alarms)


def test_no_socket_no_message() -> None:
    notifier = SystemdNotifier.from_env({})
    assert not notifier.enabled
    assert notifier.ready() is False


def test_ready_watchdog_stopping_on_a_path_socket(listener: tuple[socket.socket, str]) -> None:
    sock, path = listener
    ticks = TickNotifier.from_env(2.0, {"NOTIFY_SOCKET": path})
    ticks.on_tick(_tick(Mode.AUTO))
    assert sock.recv(4096).decode() == "READY=1\nWATCHDOG=1\nSTATUS=mode auto, 0 alarm(s)"
    ticks.on_tick(_tick(Mode.SAFE, "loop.supply_temp_c.stale"))
    assert sock.recv(4096).decode() == (
        "WATCHDOG=1\nSTATUS=mode safe, 1 alarm(s): loop.supply_temp_c.stale")
    ticks.stopping()
    assert sock.recv(4096).decode() == "STOPPING=1\nSTATUS=stopping"


def test_abstract_socket_address() -> None:
    name = f"thermalctl-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5.0)
        assert SystemdNotifier.from_env({"NOTIFY_SOCKET": "@" + name}).ready("up")
        assert sock.recv(4096) == b"READY=1\nSTATUS=up"


def test_a_vanished_socket_never_stops_a_tick(tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    ticks = TickNotifier.from_env(2.0, {"NOTIFY_SOCKET": str(tmp_path / "gone")})
    for _ in range(3):
        ticks.on_tick(_tick(Mode.AUTO))  # no exception
    assert sum("cannot notify systemd" in r.message for r in caplog.records) == 1


def test_watchdog_for_another_process_is_ignored() -> None:
    env = {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "60000000", "WATCHDOG_PID": "1"}
    assert SystemdNotifier.from_env(env).watchdog_usec is None
    env["WATCHDOG_PID"] = str(os.getpid())
    assert SystemdNotifier.from_env(env).watchdog_usec == 60_000_000


def test_watchdog_shorter_than_two_ticks_is_warned(caplog: pytest.LogCaptureFixture) -> None:
    TickNotifier.from_env(30.0, {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "45000000"})
    assert any("raise WatchdogSec" in r.message for r in caplog.records)


def _site_with_unreachable_devices(folder: Path) -> Path:
    """An init'd site whose devices are on loopback ports where nothing listens."""
    profile = write_site(folder, "exmouth_pool")[0].path
    text = re.sub(r"(?m)^(\s+port:) 150\d\d$", lambda m: f"{m.group(1)} {free_port()}",
                  profile.read_text())
    profile.write_text(text)
    return profile


@pytest.mark.slow
@pytest.mark.integration
def test_run_notifies_systemd_and_keeps_its_state_in_the_state_directory(
    tmp_path: Path, listener: tuple[socket.socket, str]
) -> None:
    sock, path = listener
    profile = _site_with_unreachable_devices(tmp_path / "etc")
    state = tmp_path / "state"
    env = {k: v for k, v in os.environ.items() if not k.startswith("THERMALCTL_")}
    env |= {"NOTIFY_SOCKET": path, "STATE_DIRECTORY": str(state), "WATCHDOG_USEC": "120000000"}
    thermalctl = Path(sys.executable).with_name("thermalctl")
    proc = subprocess.Popen([str(thermalctl), "run", "--site", str(profile)], cwd=tmp_path,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    messages: list[str] = []
    try:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline and sum("WATCHDOG=1" in m for m in messages) < 2:
            try:
                messages.append(sock.recv(4096).decode())
            except TimeoutError:
                assert proc.poll() is None, proc.communicate(timeout=10)[1].decode()[-3000:]
        proc.send_signal(signal.SIGTERM)
        messages.append(sock.recv(4096).decode())
        _, err = proc.communicate(timeout=WAIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert messages[0].startswith("READY=1\nWATCHDOG=1\nSTATUS=mode "), messages
    assert messages[1].startswith("WATCHDOG=1\nSTATUS=mode "), messages
    # Devices unreachable: the controller ticks on, in safe mode, and says so.
    assert "mode safe" in messages[1], messages
    assert messages[-1] == "STOPPING=1\nSTATUS=stopping", messages
    assert proc.returncode == 0, err.decode()[-3000:]
    assert (state / "exmouth_pool.sqlite").is_file()
    assert (state / "exmouth_pool.audit.jsonl").is_file()
    assert not (tmp_path / "var").exists()
