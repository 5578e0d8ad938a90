"""What a user sees of the command line: plain help text, every command in the README,
``-q`` everywhere."""

from __future__ import annotations

import argparse
import re

import pytest

from tests.conftest import REPO
from thermalctl.cli import build_parser

#: Markup that reads as noise in a terminal (reStructuredText, Sphinx roles, Markdown bold).
MARKUP = re.compile(r"``|:(?:mod|func|class|meth|data|attr):`|\*\*")


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def _readme_commands() -> set[str]:
    text = (REPO / "README.md").read_text()
    table = text.split("## Commands", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `thermalctl ([a-z-]+)", table, re.M))


def test_top_level_help_is_plain_text() -> None:
    text = build_parser().format_help()
    assert not MARKUP.search(text), text
    assert "thermalctl init DIR" in text  # the description keeps its own line breaks


@pytest.mark.parametrize("name", sorted(_commands()))
def test_command_help_is_plain_text(name: str) -> None:
    text = _commands()[name].format_help()
    assert not MARKUP.search(text), text


def test_every_command_is_in_the_readme_table() -> None:
    assert set(_commands()) == _readme_commands()


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_command_takes_quiet(name: str) -> None:
    options = {s for a in _commands()[name]._actions for s in a.option_strings}
    assert {"-q", "--quiet"} <= options
