"""``thermalctl init DIR [--example NAME] [--force]``: an editable starting site in a folder.

Writes ``DIR/<example>.yaml`` (a copy of the shipped example profile under a header that
says what to edit) and ``DIR/hardware_maps/<map>.yaml`` for every hardware map the
profile names. Maps in ``DIR/hardware_maps/`` are found before the shipped ones, so a
user edits or adds maps there. Nothing is overwritten without ``--force``: when any of
the files exists, none is written. ``thermalctl init --list`` lists the examples.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from thermalctl import __version__
from thermalctl.config.loader import MAPS_FOLDER, load_site_profile
from thermalctl.examples import DEFAULT_EXAMPLE, example_names, example_path, maps_dir

__all__ = ["InitFile", "add_arguments", "plan_site", "run", "write_site"]


@dataclass(frozen=True)
class InitFile:
    """One file ``init`` writes: where, and its text."""

    path: Path
    text: str


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Write an editable starting site into a folder: a copy of an example site profile "
        "and the hardware maps it uses (in DIR/hardware_maps/, found before the shipped "
        "maps). Existing files are left alone unless --force."
    )
    parser.add_argument("dir", nargs="?", help="folder to write into (created if missing)")
    parser.add_argument("--example", default=DEFAULT_EXAMPLE,
                        help="example to start from (default: %(default)s; see --list)")
    parser.add_argument("--force", action="store_true", help="overwrite files that exist")
    parser.add_argument("--list", action="store_true", help="list the examples and exit")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    if args.list:
        return _list(args.json)
    if not args.dir:
        print("thermalctl init: give the folder to write into (DIR), or --list", file=sys.stderr)
        return 2
    files = write_site(Path(args.dir), args.example, force=args.force)
    profile = files[0].path
    if args.json:
        print(json.dumps({"example": args.example, "profile": str(profile),
                          "files": [str(f.path) for f in files]}, indent=2))
        return 0
    for f in files:
        print(f"wrote {f.path}")
    print(f"\nnext: edit {profile} (hosts, ports, unit ids, your plant's figures), then\n"
          f"  thermalctl validate {profile}\n"
          f"  thermalctl demo --site {profile}\n"
          f"  thermalctl run --site {profile}")
    return 0


def _list(as_json: bool) -> int:
    rows = []
    for name in example_names():
        site = load_site_profile(example_path(name)).site
        rows.append({"name": name, "site_id": site.id, "title": site.name,
                     "description": site.description})
    if as_json:
        print(json.dumps({"examples": rows}, indent=2))
        return 0
    for row in rows:
        print(f"{row['name']:<20} {row['title']}")
        if row["description"]:
            print(f"{'':<20} {row['description']}")
    return 0


def plan_site(folder: Path, example: str = DEFAULT_EXAMPLE) -> list[InitFile]:
    """The files ``init`` writes for ``example`` into ``folder``: the profile first."""
    source = example_path(example)
    profile = load_site_profile(source)
    target = folder / source.name
    files = [InitFile(target, _profile_header(example, target) + source.read_text("utf-8"))]
    for name in sorted({d.map for d in profile.devices}):
        map_source = maps_dir() / f"{name}.yaml"
        files.append(InitFile(folder / MAPS_FOLDER / map_source.name,
                              _map_header(name) + map_source.read_text("utf-8")))
    return files


def write_site(folder: Path, example: str = DEFAULT_EXAMPLE, *, force: bool = False
               ) -> list[InitFile]:
    """Write the files of :func:`plan_site`; without ``force``, none if any exists."""
    files = plan_site(folder, example)
    existing = [f.path for f in files if f.path.exists()]
    if existing and not force:
        raise FileExistsError(
            f"not overwriting {', '.join(str(p) for p in existing)} (nothing written; "
            "--force overwrites)"
        )
    for f in files:
        f.path.parent.mkdir(parents=True, exist_ok=True)
        f.path.write_text(f.text, encoding="utf-8")
    return files


def _profile_header(example: str, target: Path) -> str:
    return f"""\
# {target.name}: a starting site written by `thermalctl init` (thermalctl {__version__})
# from the shipped example {example!r}. Edit it for your site:
#   site:         id (it names the store, the MQTT topics and the systemd instance),
#                 name, location, time zone, commissioning date
#   devices:      host, port and unit_id of each meter and controller; the hardware maps
#                 they name are in {MAPS_FOLDER}/ beside this file (copies of the shipped
#                 ones: edit them to your devices' register lists, or add your own; a map
#                 there wins over a shipped map of the same name)
#   rack_groups, heat_loop, sinks, limits, prices, reporting: your plant's figures
# Check it:     thermalctl validate {target.name}
# Rehearse it:  thermalctl demo --site {target.name}
# Run it:       thermalctl run --site {target.name}   (as a service: docs/deploy.md)
# `thermalctl schema` prints the JSON Schema for an editor. The example's notes follow.

"""


def _map_header(name: str) -> str:
    return (f"# {name}.yaml: copied by `thermalctl init` from thermalctl's shipped map "
            f"{name!r}.\n# Check the addresses against your device's register list; "
            "`thermalctl validate` checks the file.\n\n")
