"""Machine output through a real process: ``--json`` is one JSON document on stdout and
nothing else (C libraries included), and a closed pipe ends ``thermalctl`` quietly.

pytest's capsys cannot see what C code writes to file descriptor 1, so these tests run
``python -m thermalctl`` as a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import HOTEL_SITE, POOL_SITE, REPO

THERMALCTL = [sys.executable, "-m", "thermalctl"]


def _run(*argv: str, timeout_s: float = 300.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*THERMALCTL, *argv], capture_output=True, text=True, cwd=REPO,
                          timeout=timeout_s, check=False)


@pytest.mark.slow
def test_simulate_mpc_json_is_one_document_despite_the_highs_banner() -> None:
    proc = _run("simulate", "--site", str(POOL_SITE), "--days", "1", "--policy", "mpc", "--json")
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads(proc.stdout)  # the banner would make this fail
    assert metrics["policy"] == "mpc"
    assert "HiGHS" in proc.stderr  # the banner is kept, on stderr


def test_validate_json_is_one_document() -> None:
    proc = _run("validate", "--json", str(POOL_SITE), str(HOTEL_SITE))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"valid": True, "issues": []}


def test_schema_into_head_ends_quietly() -> None:
    shell = f"{' '.join(map(_quote, THERMALCTL))} schema 2>{{err}} | head -n 3"
    err = REPO / "var" / f"schema_head_{os.getpid()}.err"
    err.parent.mkdir(exist_ok=True)
    try:
        proc = subprocess.run(["bash", "-o", "pipefail", "-c", shell.format(err=_quote(str(err)))],
                              capture_output=True, text=True, cwd=REPO, timeout=60, check=False)
        assert proc.stdout.splitlines()[0] == "{"
        assert len(proc.stdout.splitlines()) == 3
        assert err.read_text() == ""
        assert proc.returncode == 0  # pipefail: thermalctl's own status
    finally:
        err.unlink(missing_ok=True)


def test_schema_into_a_closed_pipe_ends_quietly() -> None:
    """The reader is gone before the first byte: every write fails with EPIPE."""
    read_fd, write_fd = os.pipe()
    os.close(read_fd)
    try:
        proc = subprocess.run([*THERMALCTL, "schema"], stdout=write_fd, stderr=subprocess.PIPE,
                              text=True, cwd=REPO, timeout=60, check=False)
    finally:
        os.close(write_fd)
    assert proc.stderr == ""
    assert proc.returncode == 0


def test_python_dash_m_thermalctl_works() -> None:
    proc = _run("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("thermalctl ")


def test_signals_lists_the_catalogue_and_a_sites_bindings() -> None:
    proc = _run("signals", "--json", "--site", str(POOL_SITE))
    assert proc.returncode == 0, proc.stderr
    rows = {r["name"]: r for r in json.loads(proc.stdout)["signals"]}
    supply = rows["loop.supply_temp_c"]
    assert supply["safety"] == "required" and supply["required"]
    assert supply["bound_by"] == "device loop register supply_temp"
    assert rows["rack.pod.gpu_power_cap_w"]["actuator"] is True
    assert rows["rack.pod.gpu_power_cap_w"]["plausible_max"] == 40000
    assert rows["sink.pool.air_temp_c"]["bound_by"] == ""
    assert "sink.pool.mean_temp_c" not in rows  # a tank's signal, not a pool's
    text = _run("signals")
    assert text.returncode == 0
    assert "rack.{group}.gpu_power_cap_w" in text.stdout and "cap (actuator)" in text.stdout


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"
