"""YAML loading with errors that name the file, the field path, the line and the reason."""

from __future__ import annotations

import difflib
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from thermalctl.config.hardware import DataType, HardwareMap, Register
from thermalctl.config.problems import ConfigProblemsError
from thermalctl.config.site import SiteProfile
from thermalctl.config.units import to_canonical
from thermalctl.examples import DEFAULT_EXAMPLE, UnknownExampleError, example_path, profiles_dir
from thermalctl.examples import maps_dir as shipped_maps_dir
from thermalctl.models.signals import UnknownSignalError, spec

__all__ = [
    "DEFAULT_MAPS_DIR",
    "DEFAULT_SITE",
    "MAPS_FOLDER",
    "ConfigError",
    "ConfigIssue",
    "Site",
    "available_maps",
    "expected_unit",
    "load_hardware_map",
    "load_site",
    "load_site_profile",
    "map_search_dirs",
    "register_range",
    "site_path",
    "validate_files",
]

#: The hardware maps that ship with thermalctl: the last place a ``map:`` name is sought.
DEFAULT_MAPS_DIR = shipped_maps_dir()
#: The shipped example site the commands use when no ``--site`` is given.
DEFAULT_SITE = profiles_dir() / f"{DEFAULT_EXAMPLE}.yaml"
#: The folder beside a profile where its own hardware maps are sought first.
MAPS_FOLDER = "hardware_maps"

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in one file."""

    file: str
    path: str
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path or '<root>'}: {self.reason}"


class ConfigError(Exception):
    """A configuration file could not be loaded; ``issues`` lists every problem."""

    def __init__(self, issues: Sequence[ConfigIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


@dataclass(frozen=True)
class Site:
    """A site profile with the hardware maps its devices use, keyed by device id."""

    profile: SiteProfile
    maps: dict[str, HardwareMap]
    path: Path | None = None


def _line_of(node: yaml.Node | None, loc: Iterable[str | int]) -> int | None:
    """Line (1-based) of the YAML node at ``loc``, or of its deepest existing parent."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for key in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if getattr(k, "value", None) == str(key):
                    child = v
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(key, int)
            and 0 <= key < len(node.value)
        ):
            child = node.value[key]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


@dataclass(frozen=True)
class _Doc:
    """A YAML file read: its data, its node tree (for lines) and the problems found so far."""

    path: Path
    data: dict[str, Any]
    node: yaml.Node | None
    issues: tuple[ConfigIssue, ...] = ()


def _read_yaml(path: Path) -> _Doc:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            [ConfigIssue(str(path), "", f"cannot read file: {exc.strerror}")]
        ) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte_line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError([ConfigIssue(
            str(path), "", f"not UTF-8 text: {exc.reason} (byte 0x{raw[exc.start]:02x} at "
            f"offset {exc.start}); save the file as UTF-8", byte_line)]) from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([ConfigIssue(str(path), "", f"YAML syntax: {problem}", line)]) from exc
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue(str(path), "", "expected a mapping at the top level")])
    return _Doc(path, data, node, tuple(_duplicate_keys(path, node, ())))


def _duplicate_keys(path: Path, node: yaml.Node | None, loc: tuple[str | int, ...]
                    ) -> list[ConfigIssue]:
    """Every mapping key given twice (YAML would silently keep the last one)."""
    issues: list[ConfigIssue] = []
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            name = str(getattr(key, "value", ""))
            if name == "<<":  # a merge key, not a field
                continue
            line = key.start_mark.line + 1
            if name in first:
                dotted = ".".join(str(p) for p in (*loc, name))
                issues.append(ConfigIssue(str(path), dotted, (
                    f"duplicate key {name!r} (first at line {first[name]}); YAML would keep "
                    "only the last one"), line))
            else:
                first[name] = line
            issues += _duplicate_keys(path, value, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            issues += _duplicate_keys(path, item, (*loc, i))
    return issues


def _validate(model: type[M], doc: _Doc) -> tuple[M | None, list[ConfigIssue]]:
    """The model, or None and every problem pydantic and the validators found."""
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        issues = []
        errors = exc.errors(include_url=False)
        for err in errors:
            if err["type"] == "too_short" and _has_child_error(err["loc"], errors):
                continue  # pydantic's echo of a failed item ("at least 1 item ... not 0")
            loc: list[str | int] = [
                p for p in err["loc"] if not (isinstance(p, str) and p in _UNION_TAGS)
            ]
            cause = (err.get("ctx") or {}).get("error")
            if isinstance(cause, ConfigProblemsError):
                for sub, reason in cause.problems:
                    issues.append(_issue(doc, [*loc, *sub], reason))
                continue
            msg = err["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            # Cross-field validators prefix their message with the path they concern.
            m = _PATH_PREFIX.match(msg)
            if m:
                loc = [*loc, *(int(x) if x.isdigit() else x for x in m.group(1).split("."))]
                msg = m.group(2)
            issues.append(_issue(doc, loc, msg))
        return None, issues


def _has_child_error(loc: tuple[str | int, ...], errors: Sequence[Any]) -> bool:
    return any(len(e["loc"]) > len(loc) and tuple(e["loc"][: len(loc)]) == tuple(loc)
               for e in errors)


def _issue(doc: _Doc, loc: Sequence[str | int], reason: str) -> ConfigIssue:
    return ConfigIssue(str(doc.path), ".".join(str(p) for p in loc), reason,
                       _line_of(doc.node, loc))


def _raise_if_any(issues: Sequence[ConfigIssue]) -> None:
    if issues:
        raise ConfigError(sorted(issues, key=lambda i: (i.file, i.line or 0)))


_PATH_PREFIX = re.compile(r"^([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)*): (.*)$", re.DOTALL)
_UNION_TAGS = {"pool", "dhw", "space_heating"}


def load_hardware_map(
    name_or_path: str | os.PathLike[str], maps_dir: Path | None = None,
    profile_dir: Path | None = None,
) -> HardwareMap:
    """Load a hardware map by file stem or by path (see :func:`map_search_dirs`)."""
    path = _resolve_map(str(name_or_path), maps_dir, profile_dir)
    doc = _read_yaml(path)
    hw, issues = _validate(HardwareMap, doc)
    _raise_if_any([*doc.issues, *issues])
    assert hw is not None
    return hw


def map_search_dirs(maps_dir: Path | None = None, profile_dir: Path | None = None
                    ) -> list[Path]:
    """Where a ``map:`` file stem is sought, first match wins.

    ``maps_dir`` when given; beside the profile: ``<profile folder>/hardware_maps`` (what
    ``thermalctl init`` writes) and ``<profile folder>/../hardware_maps`` (the repository's
    ``site_profiles/`` + ``hardware_maps/``); ``$THERMALCTL_MAPS_DIR``; last, the maps that
    ship with thermalctl. A user's own map of the same name so overrides a shipped one.
    """
    beside = ([profile_dir / MAPS_FOLDER, profile_dir.parent / MAPS_FOLDER]
              if profile_dir is not None else [])
    dirs: list[Path] = []
    for d in (maps_dir, *beside, _env_maps_dir(), DEFAULT_MAPS_DIR):
        if d is not None and all(not _same_dir(d, seen) for seen in dirs):
            dirs.append(d)
    return dirs


def _same_dir(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def _map_dirs(maps_dir: Path | None, profile_dir: Path | None = None) -> list[Path]:
    return map_search_dirs(maps_dir, profile_dir)


def _names_a_file(name: str) -> bool:
    """A ``map:`` value that names a file (``maps/meter.yaml``) rather than a file stem."""
    return Path(name).suffix in (".yaml", ".yml") or "/" in name or os.sep in name


def _resolve_map(name: str, maps_dir: Path | None, profile_dir: Path | None = None) -> Path:
    candidate = Path(name)
    if _names_a_file(name):  # relative to the profile that names it, else to the caller
        return candidate if profile_dir is None else profile_dir / candidate
    dirs = _map_dirs(maps_dir, profile_dir)
    for d in dirs:
        for suffix in (".yaml", ".yml"):
            p = d / f"{name}{suffix}"
            if p.exists():
                return p
    return dirs[0] / f"{name}.yaml"


def available_maps(maps_dir: Path | None = None, profile_dir: Path | None = None) -> list[str]:
    """File stems of the hardware maps a profile (in ``profile_dir``) can name."""
    stems = {f.stem for d in _map_dirs(maps_dir, profile_dir) if d.is_dir()
             for f in [*d.glob("*.yaml"), *d.glob("*.yml")]}
    return sorted(stems)


def _env_maps_dir() -> Path | None:
    env = os.environ.get("THERMALCTL_MAPS_DIR")
    return Path(env) if env else None


def expected_unit(signal: str) -> str | None:
    """The canonical unit a bound register must have for ``signal`` (None: unknown signal)."""
    try:
        return spec(signal).unit
    except UnknownSignalError:
        return None


def site_path(name_or_path: str | os.PathLike[str]) -> Path:
    """The profile a ``--site`` argument means: a file (relative to the working directory)
    or, when no such file exists, the shipped example of that name (``exmouth_pool``)."""
    path = Path(name_or_path)
    if path.exists() or _names_a_file(str(name_or_path)):
        return path
    try:
        return example_path(str(name_or_path))
    except UnknownExampleError as exc:
        raise ConfigError([ConfigIssue(str(path), "", (
            f"cannot read file: no such file in {Path.cwd()}, and {exc}"))]) from exc


def load_site_profile(path: str | os.PathLike[str]) -> SiteProfile:
    """Load and validate a site profile alone (its hardware maps are not read)."""
    doc = _read_yaml(site_path(path))
    profile, issues = _validate(SiteProfile, doc)
    _raise_if_any([*doc.issues, *issues])
    assert profile is not None
    return profile


def load_site(path: str | os.PathLike[str] | None = None, maps_dir: Path | None = None) -> Site:
    """Load a site profile and every hardware map its devices name.

    Raises :class:`ConfigError` listing every problem of the profile, its bindings and
    its maps in one pass, sorted by line.
    """
    p = site_path(path) if path is not None else DEFAULT_SITE
    doc = _read_yaml(p)
    profile, issues = _validate(SiteProfile, doc)
    maps, binding_issues = _check_bindings(doc, maps_dir)
    _raise_if_any([*doc.issues, *issues, *binding_issues])
    assert profile is not None
    return Site(profile, {d.id: maps[d.id] for d in profile.devices}, p)


#: Safety signal (by name ending) -> the limit that trips on it.
_TRIPS = (
    ("loop.supply_temp_c", "coolant_supply_trip_c"),
    ("loop.return_temp_c", "coolant_return_trip_c"),
    (".coolant_out_temp_c", "coolant_return_trip_c"),
)

_Found = list[tuple[list[str | int], str]]


def _check_bindings(doc: _Doc, maps_dir: Path | None
                    ) -> tuple[dict[str, HardwareMap], list[ConfigIssue]]:
    """Check every device binding against its hardware map, from the raw YAML.

    Works on the data as written, so it runs (and reports) even when the profile
    itself has problems.
    """
    maps: dict[str, HardwareMap] = {}
    issues: list[ConfigIssue] = []
    devices = doc.data.get("devices")
    if not isinstance(devices, list):
        return maps, issues
    raw_limits = doc.data.get("limits")
    limits: dict[str, Any] = raw_limits if isinstance(raw_limits, dict) else {}
    for i, dev in enumerate(devices):
        if not isinstance(dev, dict) or not isinstance(dev.get("map"), str):
            continue
        map_name = dev["map"]
        here = doc.path.parent
        path = _resolve_map(map_name, maps_dir, here)
        if not path.exists() and _names_a_file(map_name):
            issues.append(_issue(doc, ["devices", i, "map"], (
                f"hardware map file {str(path)!r} not found (a path in a profile is "
                "relative to the profile's folder)")))
            continue
        if not path.exists():
            issues.append(_issue(doc, ["devices", i, "map"], (
                f"hardware map {map_name!r} not found (looked in "
                f"{', '.join(str(d) for d in _map_dirs(maps_dir, here))}); available: "
                f"{', '.join(available_maps(maps_dir, here)) or 'none'}")))
            continue
        try:
            hw = load_hardware_map(path)
        except ConfigError as exc:
            issues.extend(exc.issues)
            continue
        if isinstance(dev.get("id"), str):
            maps[dev["id"]] = hw
        for kind in ("signals", "actuators"):
            bindings = dev.get(kind)
            if not isinstance(bindings, dict):
                continue
            for sig, reg_name in bindings.items():
                loc: list[str | int] = ["devices", i, kind, str(sig)]
                for where, why in _binding_problems(hw, map_name, str(sig), reg_name, kind,
                                                    limits):
                    issues.append(_issue(doc, where or loc, why))
    return maps, issues


def _binding_problems(hw: HardwareMap, map_name: str, sig: str, reg_name: object, kind: str,
                      limits: dict[str, Any]) -> _Found:
    """(location, or [] for the binding's own line; reason) of one signal -> register."""
    try:
        reg = hw.register(str(reg_name))
    except KeyError:
        names = [r.name for r in hw.registers]
        near = difflib.get_close_matches(str(reg_name), names, n=3)
        hint = f"did you mean {' or '.join(near)}?" if near else f"registers: {', '.join(names)}"
        return [([], f"map {map_name!r} has no register {reg_name!r}; {hint}")]
    out: _Found = []
    expected = expected_unit(sig)
    got = to_canonical(0.0, reg.unit)[1]
    if expected is not None and got != expected:
        out.append(([], f"register {reg.name!r} of map {map_name!r} is in {reg.unit} "
                        f"({got}), but {sig} needs {expected}"))
    if kind == "actuators" and not reg.writable:
        out.append(([], f"register {reg.name!r} of map {map_name!r} is read-only"))
    for ending, limit in _TRIPS:
        trip = limits.get(limit)
        if not sig.endswith(ending) or isinstance(trip, bool) or not isinstance(trip, int | float):
            continue
        high = register_range(reg)[1]
        if trip > high:
            out.append((["limits", limit], (
                f"{trip:g} degC is above what register {reg.name!r} of map {map_name!r} "
                f"(bound to {sig}) can report ({high:g} degC): the trip could never fire")))
    return out


#: Raw range of each integer data type.
_RAW_RANGE: dict[DataType, tuple[int, int]] = {
    DataType.INT16: (-(2**15), 2**15 - 1),
    DataType.UINT16: (0, 2**16 - 1),
    DataType.INT32: (-(2**31), 2**31 - 1),
    DataType.UINT32: (0, 2**32 - 1),
    DataType.INT64: (-(2**63), 2**63 - 1),
    DataType.UINT64: (0, 2**64 - 1),
    DataType.BOOL: (0, 1),
}


def register_range(reg: Register) -> tuple[float, float]:
    """Lowest and highest value a register can report, in canonical units.

    Its declared ``min``/``max`` where given, within what the data type, scale and
    offset can represent.
    """
    raw = _RAW_RANGE.get(reg.data_type)
    if raw is None:  # floating point
        low, high = -math.inf, math.inf
    else:
        ends = sorted((raw[0] * reg.scale + reg.offset, raw[1] * reg.scale + reg.offset))
        low, high = ends[0], ends[1]
    if reg.min is not None:
        low = max(low, reg.min)
    if reg.max is not None:
        high = min(high, reg.max)
    return to_canonical(low, reg.unit)[0], to_canonical(high, reg.unit)[0]


def validate_files(paths: Iterable[str | os.PathLike[str]]) -> list[ConfigIssue]:
    """Validate site profiles and hardware maps; return every problem found.

    A file is taken for a hardware map when it has a top-level ``registers`` key.
    """
    issues: list[ConfigIssue] = []
    for path in paths:
        try:
            p = site_path(path)
            doc = _read_yaml(p)
            if "registers" in doc.data:
                load_hardware_map(p)
            else:
                load_site(p)
        except ConfigError as exc:
            issues.extend(exc.issues)
    return issues
