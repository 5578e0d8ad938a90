"""The example sites that ship with thermalctl: site profiles and the hardware maps they use.

The repository keeps them at its top level (``site_profiles/``, ``hardware_maps/``); this
package reaches them through two symbolic links, ``thermalctl/examples/site_profiles`` and
``thermalctl/examples/hardware_maps``, so that one copy of each file serves the checkout,
an editable install and the wheel. Building the wheel follows the links
(``[tool.setuptools.package-data]`` in ``pyproject.toml``), so an installed thermalctl
carries real files under ``thermalctl/examples/`` and finds them here with
:mod:`importlib.resources`, wherever it was installed.

These are read-only examples: ``thermalctl init DIR`` copies one into a folder of the
user's to edit. User files are never looked up here except by name (``--site NAME``).
"""

from __future__ import annotations

import atexit
import contextlib
from importlib import resources
from pathlib import Path

__all__ = [
    "DEFAULT_EXAMPLE",
    "UnknownExampleError",
    "example_names",
    "example_path",
    "maps_dir",
    "profiles_dir",
]

#: The example the commands use when no ``--site`` is given.
DEFAULT_EXAMPLE = "exmouth_pool"

_PROFILES = "site_profiles"
_MAPS = "hardware_maps"
_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


class UnknownExampleError(ValueError):
    """No shipped example of that name; the message lists those there are."""


def _package_dir() -> Path:
    root = resources.files(__name__)
    if isinstance(root, Path):  # an ordinary install or a checkout: files on disk
        return root
    # A zipped install: extract once, for the life of the process (Python >= 3.12 can).
    return _extracted.enter_context(resources.as_file(root))


def profiles_dir() -> Path:
    """The folder of the shipped example site profiles."""
    return (_package_dir() / _PROFILES).resolve()


def maps_dir() -> Path:
    """The folder of the shipped hardware maps (the last place a ``map:`` name is sought)."""
    return (_package_dir() / _MAPS).resolve()


def example_names() -> list[str]:
    """Names (file stems) of the shipped example site profiles, sorted."""
    return sorted(p.stem for p in profiles_dir().glob("*.yaml"))


def example_path(name: str) -> Path:
    """The shipped profile ``name`` (a file stem such as ``exmouth_pool``)."""
    path = profiles_dir() / f"{name}.yaml"
    if not path.is_file():
        raise UnknownExampleError(
            f"no example site {name!r}; the examples are: {', '.join(example_names())}"
        )
    return path
