"""The KPI engine is pure: no adapters, runtime, network, plotting or logging of data."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = (
    "thermalctl.adapters", "thermalctl.runtime", "thermalctl.reports", "thermalctl.sim",
    "pymodbus", "paho", "influxdb_client", "apscheduler", "matplotlib", "requests", "httpx",
)  # fmt: skip


def test_engine_imports_nothing_impure() -> None:
    code = (
        "import sys, thermalctl.kpi.engine, thermalctl.kpi.counters\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r} "
        f"or any(m.startswith(f + '.') or m == f for f in {FORBIDDEN!r}))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
