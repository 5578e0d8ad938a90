"""YAML loading with errors that name the file, the field path, the line and the reason."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from thermalctl.config.hardware import HardwareMap
from thermalctl.config.site import SiteProfile
from thermalctl.config.units import to_canonical

__all__ = [
    "DEFAULT_MAPS_DIR",
    "DEFAULT_SITE",
    "ConfigError",
    "ConfigIssue",
    "Site",
    "load_hardware_map",
    "load_site",
    "load_site_profile",
    "validate_files",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MAPS_DIR = REPO_ROOT / "hardware_maps"
DEFAULT_SITE = REPO_ROOT / "site_profiles" / "exmouth_pool.yaml"

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


def _read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            [ConfigIssue(str(path), "", f"cannot read file: {exc.strerror}")]
        ) from exc
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
    return data, node


def _validate(model: type[M], path: Path, data: Any, node: yaml.Node | None) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        issues = []
        for err in exc.errors(include_url=False):
            loc = [p for p in err["loc"] if not (isinstance(p, str) and p in _UNION_TAGS)]
            dotted = ".".join(str(p) for p in loc)
            msg = err["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            # Cross-field validators prefix their message with the path they concern.
            m = _PATH_PREFIX.match(msg)
            if m:
                loc = [*loc, *(int(x) if x.isdigit() else x for x in m.group(1).split("."))]
                dotted = ".".join(str(p) for p in loc)
                msg = m.group(2)
            issues.append(ConfigIssue(str(path), dotted, msg, _line_of(node, loc)))
        raise ConfigError(issues) from exc


_PATH_PREFIX = re.compile(r"^([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)*): (.*)$", re.DOTALL)
_UNION_TAGS = {"pool", "dhw", "space_heating"}


def load_hardware_map(
    name_or_path: str | os.PathLike[str], maps_dir: Path | None = None
) -> HardwareMap:
    """Load a hardware map by file stem (looked up in ``maps_dir``) or by path."""
    path = _resolve_map(str(name_or_path), maps_dir)
    data, node = _read_yaml(path)
    return _validate(HardwareMap, path, data, node)


def _resolve_map(name: str, maps_dir: Path | None) -> Path:
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") and candidate.exists():
        return candidate
    dirs = [d for d in (maps_dir, _env_maps_dir(), DEFAULT_MAPS_DIR) if d is not None]
    for d in dirs:
        for suffix in (".yaml", ".yml"):
            p = d / f"{name}{suffix}"
            if p.exists():
                return p
    return dirs[0] / f"{name}.yaml"


def _env_maps_dir() -> Path | None:
    env = os.environ.get("THERMALCTL_MAPS_DIR")
    return Path(env) if env else None


#: Canonical unit a signal's name promises, by its ending.
_SIGNAL_UNITS = (
    ("_temp_c", "degC"),
    ("_kwh", "kWh"),
    ("_w", "W"),
    ("_m3_per_s", "m3/s"),
)


def expected_unit(signal: str) -> str | None:
    """The canonical unit a bound register must have for ``signal`` (None: unitless)."""
    for suffix, unit in _SIGNAL_UNITS:
        if signal.endswith(suffix):
            return unit
    return None


def load_site_profile(path: str | os.PathLike[str]) -> SiteProfile:
    p = Path(path)
    data, node = _read_yaml(p)
    return _validate(SiteProfile, p, data, node)


def load_site(path: str | os.PathLike[str] | None = None, maps_dir: Path | None = None) -> Site:
    """Load a site profile and every hardware map its devices name.

    Raises :class:`ConfigError` listing every problem (profile and maps).
    """
    p = Path(path) if path is not None else DEFAULT_SITE
    data, node = _read_yaml(p)
    profile = _validate(SiteProfile, p, data, node)
    if maps_dir is None and (p.parent.parent / "hardware_maps").is_dir():
        maps_dir = p.parent.parent / "hardware_maps"
    maps: dict[str, HardwareMap] = {}
    issues: list[ConfigIssue] = []
    for i, dev in enumerate(profile.devices):
        try:
            hw = load_hardware_map(dev.map, maps_dir)
        except ConfigError as exc:
            issues.extend(exc.issues)
            continue
        for kind in ("signals", "actuators"):
            for sig, reg_name in getattr(dev, kind).items():
                where = f"devices.{i}.{kind}.{sig}"
                line = _line_of(node, ["devices", i, kind, sig])

                def problem(reason: str, where: str = where, line: int | None = line) -> None:
                    issues.append(ConfigIssue(str(p), where, reason, line))

                try:
                    reg = hw.register(reg_name)
                except KeyError:
                    problem(f"map {dev.map!r} has no register {reg_name!r}")
                    continue
                expected = expected_unit(sig)
                got = to_canonical(0.0, reg.unit)[1]
                if expected is not None and got != expected:
                    problem(
                        f"register {reg_name!r} of map {dev.map!r} is in {reg.unit} "
                        f"({got}), but {sig} needs {expected}"
                    )
                if kind == "actuators" and not reg.writable:
                    problem(f"register {reg_name!r} of map {dev.map!r} is read-only")
        maps[dev.id] = hw
    if issues:
        raise ConfigError(issues)
    return Site(profile, maps, p)


def validate_files(paths: Iterable[str | os.PathLike[str]]) -> list[ConfigIssue]:
    """Validate site profiles and hardware maps; return every problem found.

    A file is taken for a hardware map when it has a top-level ``registers`` key.
    """
    issues: list[ConfigIssue] = []
    for path in paths:
        p = Path(path)
        try:
            data, _ = _read_yaml(p)
            if "registers" in data:
                load_hardware_map(p)
            else:
                load_site(p)
        except ConfigError as exc:
            issues.extend(exc.issues)
    return issues
