"""Import contract (STYLE.md rule 1): pure packages import no adapter, runtime or network library,
and adapters never import control."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "thermalctl"
NETWORK = {
    "pymodbus",
    "paho",
    "influxdb_client",
    "apscheduler",
    "socket",
    "requests",
    "urllib3",
    "sqlite3",
    "asyncio",
}
FORBIDDEN = {
    "physics": NETWORK
    | {
        "thermalctl.adapters",
        "thermalctl.runtime",
        "thermalctl.control",
        "thermalctl.sim",
        "thermalctl.kpi",
        "thermalctl.reports",
    },
    "control": NETWORK | {"thermalctl.adapters", "thermalctl.runtime", "thermalctl.sim"},
    "kpi": NETWORK | {"thermalctl.adapters", "thermalctl.runtime", "thermalctl.control"},
    "adapters": {"thermalctl.control", "thermalctl.runtime"},
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


CASES = [(pkg, f) for pkg in FORBIDDEN for f in sorted((PKG / pkg).rglob("*.py"))]


@pytest.mark.parametrize(("package", "path"), CASES, ids=[f"{p}/{f.name}" for p, f in CASES])
def test_import_direction(package: str, path: Path) -> None:
    bad = sorted(
        name
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[package])
    )
    assert not bad, f"{path.relative_to(PKG.parent)} imports {bad}"
