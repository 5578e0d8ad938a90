"""The import contract (DESIGN.md "Direction of imports", STYLE.md rule 1), for every package.

Every module under ``thermalctl/`` is parsed with :mod:`ast` (nothing is imported, so no
side effects) and its imports are checked against :data:`RULES`:

* ``physics``, ``control``, ``kpi`` and ``models`` are pure: they import none of
  ``thermalctl.adapters``, ``.runtime``, ``.sim``, ``.reports``, ``.cli`` and no network,
  scheduler or file-format library (:data:`IO_LIBRARIES`); and they make no file I/O call
  (:data:`IO_CALLS`, :data:`IO_QUALIFIED_CALLS`).
* ``physics`` imports nothing of thermalctl but itself.
* ``kpi`` does not import ``control`` (accounting reads meters, not the policy).
* ``adapters`` never import ``control`` or ``runtime`` (they produce Readings and consume
  Decisions, both from ``thermalctl.points``).
* ``sim`` never imports ``runtime``, nor ``adapters`` except the register codec
  (``thermalctl.adapters.modbus_codec``): the simulated devices encode their registers
  with the same code the real client decodes them with, so both speak one wire format.
* ``config`` and ``points`` (which everything imports) import neither ``control`` nor
  any of the layers above it; they may use the pure ``physics`` and ``models``.

Relative imports are resolved to absolute names; ``importlib.import_module("...")`` and
``__import__("...")`` with a literal name count as imports; imports under
``if TYPE_CHECKING:`` count too (a type-only import still couples the packages).
Each failure message lists every offending (module, import) pair, not just the first.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "thermalctl"

#: Top-level names of network, messaging, database, scheduler and config-file libraries.
IO_LIBRARIES: tuple[str, ...] = (
    "socket", "socketserver", "ssl", "selectors", "asyncio", "http", "urllib", "urllib3",
    "requests", "httpx", "aiohttp", "paho", "pymodbus", "influxdb_client", "sqlite3",
    "apscheduler", "yaml",
)  # fmt: skip
#: Call names (a bare function or any attribute) that read or write files.
IO_CALLS: frozenset[str] = frozenset({
    "open", "read_text", "write_text", "read_bytes", "write_bytes",
    "read_csv", "to_csv", "read_parquet", "to_parquet", "read_excel", "to_excel",
    "read_pickle", "to_pickle", "read_hdf", "to_hdf",
    "loadtxt", "savetxt", "genfromtxt", "fromfile", "tofile",
})  # fmt: skip
#: Calls that read or write files only when made on a given module (``np.load`` is file
#: I/O; a method called ``load`` on some object need not be).
IO_QUALIFIED_CALLS: frozenset[str] = frozenset({
    "np.load", "np.save", "np.savez", "np.savez_compressed",
    "numpy.load", "numpy.save", "numpy.savez", "numpy.savez_compressed",
    "json.load", "json.dump", "pickle.load", "pickle.dump",
})  # fmt: skip

PURE_PACKAGES = ("physics", "control", "kpi", "models")
IMPURE_THERMALCTL = (
    "thermalctl.adapters", "thermalctl.runtime", "thermalctl.sim", "thermalctl.reports",
    "thermalctl.cli",
)  # fmt: skip


@dataclass(frozen=True)
class Rule:
    """Modules under any of ``packages`` must not import anything under ``forbidden``,
    except names under ``allowed``."""

    name: str
    packages: tuple[str, ...]
    forbidden: tuple[str, ...]
    allowed: tuple[str, ...] = ()

    def applies_to(self, module: str) -> bool:
        return any(_under(module, f"thermalctl.{p}") for p in self.packages)

    def violated_by(self, imported: str) -> bool:
        return any(_under(imported, f) for f in self.forbidden) and not any(
            _under(imported, a) for a in self.allowed
        )


RULES: tuple[Rule, ...] = (
    Rule("pure packages import no I/O layer", PURE_PACKAGES, IMPURE_THERMALCTL + IO_LIBRARIES),
    Rule("physics imports only itself", ("physics",), ("thermalctl",), ("thermalctl.physics",)),
    Rule("kpi does not import control", ("kpi",), ("thermalctl.control",)),
    Rule("adapters never import control or runtime", ("adapters",),
         ("thermalctl.control", "thermalctl.runtime")),
    Rule("sim imports no runtime, and adapters only for the register codec", ("sim",),
         ("thermalctl.runtime", "thermalctl.adapters"), ("thermalctl.adapters.modbus_codec",)),
    Rule("config and points import no layer above the pure core", ("config", "points"),
         (*IMPURE_THERMALCTL, "thermalctl.control")),
    Rule("examples (shipped data) import nothing of thermalctl", ("examples",),
         ("thermalctl",), ("thermalctl.examples",)),
)  # fmt: skip


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def module_name(path: Path, root: Path = PACKAGE_DIR) -> str:
    """Dotted module name of a file under the ``thermalctl`` package directory."""
    parts = ["thermalctl", *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, is_package: bool, level: int, target: str | None) -> str:
    base = module.split(".") if is_package else module.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, target] if target else base)


def imported_names(source: str, module: str, *, is_package: bool = False) -> Iterator[str]:
    """Every module name ``source`` (the text of ``module``) imports, as absolute names."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = _resolve(module, is_package, node.level, node.module)
            yield base
            # ``from pkg import sub`` imports the submodule pkg.sub when there is one
            yield from (
                f"{base}.{alias.name}" for alias in node.names if _is_module(f"{base}.{alias.name}")
            )
        elif (
            isinstance(node, ast.Call)
            and _call_name(node.func) in ("importlib.import_module", "import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value


def _is_module(name: str) -> bool:
    """Whether ``name`` is a module or package of thermalctl on disk."""
    if not _under(name, "thermalctl"):
        return False
    path = PACKAGE_DIR.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        inner = _call_name(func.value)
        return f"{inner}.{func.attr}" if inner else func.attr
    return ""


def io_calls(source: str) -> Iterator[tuple[int, str]]:
    """(line, call) for every file I/O call in ``source``."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        last = func.attr if isinstance(func, ast.Attribute) else _call_name(func)
        qualified = _call_name(func)
        if last in IO_CALLS or qualified in IO_QUALIFIED_CALLS:
            yield node.lineno, qualified or last


def import_violations(
    source: str, module: str, *, is_package: bool = False, rules: tuple[Rule, ...] = RULES
) -> list[tuple[str, str, str]]:
    """(module, imported name, rule) for every import of ``module`` that breaks a rule."""
    names = sorted(set(imported_names(source, module, is_package=is_package)))
    found: list[tuple[str, str, str]] = []
    for rule in rules:
        if not rule.applies_to(module):
            continue
        bad = [name for name in names if rule.violated_by(name)]
        # ``from thermalctl.adapters import mqtt``: one pair (the submodule), not two
        found += [
            (module, name, rule.name)
            for name in bad
            if not any(other != name and _under(other, name) for other in bad)
        ]
    return found


def _modules() -> list[tuple[str, Path]]:
    return [(module_name(p), p) for p in sorted(PACKAGE_DIR.rglob("*.py"))]


# -- the checker itself, on tiny sources -------------------------------------------------
@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("thermalctl.control.x", "import thermalctl.adapters.mqtt", "thermalctl.adapters.mqtt"),
        ("thermalctl.control.x", "from thermalctl.runtime import app", "thermalctl.runtime.app"),
        ("thermalctl.kpi.x", "import socket", "socket"),
        ("thermalctl.kpi.x", "from urllib.request import urlopen", "urllib.request"),
        ("thermalctl.models.x", "import yaml", "yaml"),
        ("thermalctl.models.x", "from thermalctl import sim", "thermalctl.sim"),
        ("thermalctl.physics.x", "from thermalctl.config import site", "thermalctl.config.site"),
        ("thermalctl.physics.x", "from .. import points", "thermalctl.points"),
        ("thermalctl.control.x", "from ..adapters.store import Store", "thermalctl.adapters.store"),
        ("thermalctl.control.x", "import importlib\nimportlib.import_module('thermalctl.cli')",
         "thermalctl.cli"),
        ("thermalctl.control.x", "if TYPE_CHECKING:\n    import asyncio", "asyncio"),
        ("thermalctl.kpi.x", "from thermalctl.control.state import X", "thermalctl.control.state"),
        ("thermalctl.adapters.x", "from thermalctl.control import X", "thermalctl.control"),
        ("thermalctl.adapters.x", "import thermalctl.runtime.app", "thermalctl.runtime.app"),
        ("thermalctl.sim.x", "from thermalctl.runtime.app import App", "thermalctl.runtime.app"),
        ("thermalctl.sim.x", "from thermalctl.adapters.mqtt import X", "thermalctl.adapters.mqtt"),
    ],
)  # fmt: skip
def test_checker_flags_a_bad_import(module: str, source: str, expected: str) -> None:
    found = {name for _, name, _ in import_violations(source, module)}
    assert expected in found


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("thermalctl.control.x", "import numpy as np\nfrom thermalctl.physics import pool"),
        ("thermalctl.control.x", "from thermalctl.config.site import SiteProfile\nimport time"),
        ("thermalctl.physics.x", "from .water import density\nimport scipy.optimize"),
        ("thermalctl.sim.x", "from thermalctl.adapters.modbus_codec import encode"),
        ("thermalctl.runtime.x", "import asyncio\nfrom thermalctl.adapters import mqtt"),
        ("thermalctl.kpi.x", "import http_status_table  # a name that only starts like http"),
    ],
)
def test_checker_passes_a_good_import(module: str, source: str) -> None:
    assert import_violations(source, module) == []


def test_relative_imports_resolve_in_packages_and_modules() -> None:
    assert "thermalctl.control.state" in set(
        imported_names("from .state import SiteState", "thermalctl.control.policy")
    )
    assert "thermalctl.control.state" in set(
        imported_names("from .state import SiteState", "thermalctl.control", is_package=True)
    )
    assert "thermalctl.points" in set(
        imported_names("from ..points import Reading", "thermalctl.control.core")
    )


@pytest.mark.parametrize(
    ("source", "call"),
    [
        ("open('x.csv')", "open"),
        ("Path('x').read_text()", "read_text"),
        ("path.write_text('a')", "path.write_text"),
        ("pd.read_csv(f)", "pd.read_csv"),
        ("frame.to_csv('out.csv')", "frame.to_csv"),
        ("p.read_bytes()", "p.read_bytes"),
        ("np.load('a.npy')", "np.load"),
        ("with path.open() as fh:\n    pass", "path.open"),
    ],
)
def test_checker_flags_file_io(source: str, call: str) -> None:
    assert [name for _, name in io_calls(source)] == [call]


def test_checker_passes_pure_calls() -> None:
    assert list(io_calls("np.interp(1, [0, 2], [0, 4])\nsettings.to_json()\nstate.load(1)")) == []


# -- the real tree ------------------------------------------------------------------------
def test_every_package_is_covered() -> None:
    """A new top-level package must be placed in the contract (or be a leaf like config)."""
    packages = {p.name for p in PACKAGE_DIR.iterdir() if (p / "__init__.py").is_file()}
    placed = {p for rule in RULES for p in rule.packages}
    leaves = {"reports", "runtime"}  # the top of the graph: they may import anything below
    assert packages - placed - leaves == set()


def test_import_direction() -> None:
    bad = [
        violation
        for module, path in _modules()
        for violation in import_violations(
            path.read_text(encoding="utf-8"), module, is_package=path.name == "__init__.py"
        )
    ]
    listing = "\n".join(f"  {module} imports {name}  [{rule}]" for module, name, rule in bad)
    assert not bad, f"{len(bad)} import(s) break DESIGN.md's direction:\n{listing}"


def test_pure_packages_do_no_file_io() -> None:
    bad = [
        (module, line, call)
        for module, path in _modules()
        if any(_under(module, f"thermalctl.{p}") for p in PURE_PACKAGES)
        for line, call in io_calls(path.read_text(encoding="utf-8"))
    ]
    listing = "\n".join(f"  {module}:{line} calls {call}()" for module, line, call in bad)
    assert not bad, (
        f"{len(bad)} file I/O call(s) in pure packages (move them to adapters/):\n{listing}"
    )
