"""The physics package imports only numpy, scipy, the standard library and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import thermalctl.physics

PACKAGE_DIR = Path(thermalctl.physics.__file__).parent
ALLOWED_THIRD_PARTY = {"numpy", "scipy"}


def _imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(PACKAGE_DIR.glob("*.py")), ids=lambda p: p.name)
def test_physics_imports_only_numpy_scipy_and_itself(path: Path) -> None:
    for name in _imported_top_levels(path):
        top = name.split(".")[0]
        if top in sys.stdlib_module_names or top in ALLOWED_THIRD_PARTY:
            continue
        assert name.startswith("thermalctl.physics"), f"{path.name} imports {name}"
