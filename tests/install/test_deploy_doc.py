"""docs/deploy.md names only what exists: commands, options, files, variables, anchors."""

from __future__ import annotations

import argparse
import re

from tests.conftest import REPO
from tests.install.test_cli_manners import _commands
from thermalctl.config import services

DOC = REPO / "docs" / "deploy.md"


def _anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    return re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-")


def _options(parser: argparse.ArgumentParser) -> set[str]:
    """Every option string of ``parser`` and of its own subcommands (``audit verify``)."""
    known = {s for a in parser._actions for s in a.option_strings}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                known |= _options(sub)
    return known


def test_commands_and_options_exist() -> None:
    """Each command line shown (``/opt/thermalctl/bin/thermalctl CMD ...`` or
    `` `thermalctl CMD ...` ``) names a real command and real options."""
    commands = _commands()
    text = DOC.read_text()
    shown = re.findall(r"(?:/opt/thermalctl/bin/|`)thermalctl ([a-z]+)([^\n`]*)", text)
    assert len(shown) >= 7
    for name, rest in shown:
        assert name in commands, f"no command thermalctl {name}"
        for opt in re.findall(r"(?<!\S)(--?[a-z][a-z-]*)", rest):
            assert opt in _options(commands[name]), f"thermalctl {name} has no {opt}"


def test_files_and_links_exist() -> None:
    text = DOC.read_text()
    for target in re.findall(r"\]\((?!https?:)([^)#]+)(?:#([^)]+))?\)", text):
        path, anchor = target
        file = (DOC.parent / path).resolve()
        assert file.exists(), path
        if anchor:
            headings = re.findall(r"^#+ (.+)$", file.read_text(), re.M)
            assert anchor in {_anchor(h) for h in headings}, (path, anchor)
    for rel in re.findall(r"`(packaging/[^`]+)`", text):
        assert (REPO / rel).exists(), rel


def test_environment_variables_exist() -> None:
    known = {v for k, v in vars(services).items() if k.startswith("ENV_")}
    known.add("THERMALCTL_RUN_ARGS")
    named = set(re.findall(r"THERMALCTL_[A-Z_]+", DOC.read_text()))
    assert named <= known, named - known
