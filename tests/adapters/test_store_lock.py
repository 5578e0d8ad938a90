"""One writer per store: a second process (a second ``thermalctl run``) is refused,
naming the first one's pid; the lock goes with the process, even on SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import POOL_SITE, REPO
from thermalctl.adapters.store import LocalStore, StoreLocked

_HOLDER = """
import sys, time
from thermalctl.adapters.store import LocalStore
store = LocalStore(sys.argv[1], exclusive=True)
print("ready", flush=True)
sys.stdin.readline()  # hold the store until the test says so (or kills us)
store.close()
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THERMALCTL_")}
    env["PYTHONPATH"] = str(REPO)
    return env


@pytest.fixture
def holder(tmp_path):
    """A second process holding ``tmp_path/s.sqlite`` open for writing."""
    path = tmp_path / "s.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=_env())
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield path, proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def test_second_writer_in_another_process_is_refused_with_the_holders_pid(holder) -> None:
    path, proc = holder
    expected = f"in use by another thermalctl process \\(pid {proc.pid}"
    with pytest.raises(StoreLocked, match=expected):
        LocalStore(path, exclusive=True)
    with LocalStore(path) as reader:  # readers do not lock
        assert reader.count("readings") == 0


def test_the_lock_dies_with_its_process(holder) -> None:
    path, proc = holder
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    with LocalStore(path, exclusive=True) as store:
        assert store.count("ledger") == 0
    assert Path(f"{path}.lock").read_text().strip() == str(os.getpid())


def test_second_thermalctl_run_on_one_store_exits_with_a_clear_error(holder, tmp_path) -> None:
    path, proc = holder
    done = subprocess.run(
        [sys.executable, "-m", "thermalctl", "run", "--site", str(POOL_SITE), "--store", str(path)],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 1
    assert f"pid {proc.pid}" in done.stderr and "one instance per store" in done.stderr
    assert "Traceback" not in done.stderr


def test_two_store_objects_in_one_process_exclude_each_other_too(tmp_path) -> None:
    with LocalStore(tmp_path / "s.sqlite", exclusive=True), pytest.raises(StoreLocked):
        LocalStore(tmp_path / "s.sqlite", exclusive=True)
    LocalStore(tmp_path / "s.sqlite", exclusive=True).close()  # released on close
