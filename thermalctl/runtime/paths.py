"""Where a running thermalctl keeps its state: the local store and the audit trail beside it.

One rule, used by ``run`` and ``demo``: ``--state-dir`` when given; else the folder
systemd made for the service (``StateDirectory=thermalctl`` sets ``$STATE_DIRECTORY``,
e.g. ``/var/lib/thermalctl``); else ``./var`` in the working directory. ``--store``
still names a store file outright. Relative paths are the caller's: relative to the
working directory, never to where thermalctl is installed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["DEFAULT_STATE_DIR", "STATE_DIRECTORY_ENV", "state_dir", "store_path"]

#: The state folder outside systemd (relative to the working directory).
DEFAULT_STATE_DIR = Path("var")
#: Set by systemd for a unit with ``StateDirectory=`` (systemd.exec(5), "Paths").
STATE_DIRECTORY_ENV = "STATE_DIRECTORY"


def state_dir(given: str | os.PathLike[str] | None = None,
              env: Mapping[str, str] = os.environ) -> Path:
    """The state folder: ``given``, else ``$STATE_DIRECTORY``, else ``./var``.

    systemd joins several ``StateDirectory=`` entries with ``:``; the first is ours.
    """
    if given:
        return Path(given)
    from_systemd = env.get(STATE_DIRECTORY_ENV, "").split(":")[0]
    return Path(from_systemd) if from_systemd else DEFAULT_STATE_DIR


def store_path(name: str, *, store: str | os.PathLike[str] | None = None,
               given_state_dir: str | os.PathLike[str] | None = None,
               env: Mapping[str, str] = os.environ) -> Path:
    """The local store: ``store`` when given, else ``<state dir>/<name>.sqlite``.

    ``name`` is the site id for ``run`` and ``demo-<site id>`` for the demo, so a demo
    never writes into the store a controller uses.
    """
    if store:
        return Path(store)
    return state_dir(given_state_dir, env) / f"{name}.sqlite"
