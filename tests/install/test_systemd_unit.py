"""The systemd unit and its environment file, checked by systemd's own tools.

``systemd-analyze verify`` loads the unit as systemd would (unknown keys, bad values,
a missing executable) without a running systemd; ``systemd-analyze security --offline``
scores its sandboxing. ExecStart points at /opt/thermalctl, which does not exist here:
the checked copy points at this environment's ``thermalctl`` instead.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from thermalctl.config import services

UNIT = REPO / "packaging" / "thermalctl@.service"
ENV_EXAMPLE = REPO / "packaging" / "thermalctl.env.example"
INSTALLED_EXEC = "/opt/thermalctl/bin/thermalctl"
#: systemd-analyze security's overall exposure, 0 (locked down) .. 10, times ten: <= 2.0.
EXPOSURE_THRESHOLD = 20


def _systemd_analyze() -> str:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze not installed (Debian package systemd)")
    return tool


def _checkable_copy(tmp_path: Path) -> Path:
    """The unit as an instance, ExecStart pointing at the thermalctl of this environment."""
    here = Path(sys.executable).with_name("thermalctl")
    assert here.exists(), here
    text = UNIT.read_text()
    assert INSTALLED_EXEC in text
    unit = tmp_path / "thermalctl@exmouth_pool.service"
    unit.write_text(text.replace(INSTALLED_EXEC, str(here)))
    return unit


def _settings(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z]+)=(.*)$", line)
        if m:
            out.setdefault(m.group(1), []).append(m.group(2))
    return out


def test_unit_verifies_cleanly(tmp_path: Path) -> None:
    tool = _systemd_analyze()
    done = subprocess.run([tool, "verify", str(_checkable_copy(tmp_path))],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == "", done.stderr  # an unknown key is only a warning


def test_verify_catches_a_misspelt_key(tmp_path: Path) -> None:
    """The check above can fail: a typo in the unit is reported."""
    tool = _systemd_analyze()
    unit = _checkable_copy(tmp_path)
    unit.write_text(unit.read_text().replace("ProtectSystem=strict", "ProtectSystm=strict"))
    done = subprocess.run([tool, "verify", str(unit)], capture_output=True, text=True,
                          timeout=60, check=False)
    assert "Unknown key" in done.stderr


def test_unit_is_sandboxed(tmp_path: Path) -> None:
    tool = _systemd_analyze()
    done = subprocess.run(
        [tool, "security", "--offline=yes", f"--threshold={EXPOSURE_THRESHOLD}",
         str(_checkable_copy(tmp_path))],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    settings = _settings(UNIT.read_text())
    for key, value in {
        "Type": "notify", "DynamicUser": "yes", "StateDirectory": "thermalctl",
        "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
        "NoNewPrivileges": "yes", "Restart": "on-failure",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
        "AmbientCapabilities": "CAP_NET_BIND_SERVICE",
    }.items():
        assert settings.get(key) == [value], key
    assert settings["WatchdogSec"] and settings["RestartSec"]


def test_env_example_names_only_variables_thermalctl_reads() -> None:
    known = {v for k, v in vars(services).items() if k.startswith("ENV_")}
    known.add("THERMALCTL_RUN_ARGS")  # expanded by the unit's ExecStart
    named = set(re.findall(r"^#?(THERMALCTL_[A-Z_]+)=", ENV_EXAMPLE.read_text(), re.M))
    assert named - known == set()
    assert known - named == set()  # and every one is shown
    assert "$THERMALCTL_RUN_ARGS" in UNIT.read_text()
