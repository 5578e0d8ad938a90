"""Many problems from one validator, each with its own field path.

A pydantic validator can raise only one error. A cross-field validator that finds
several problems raises :class:`ConfigProblemsError` (a ``ValueError``, so pydantic
reports it) carrying every ``(path, reason)``; the loader finds it in the error's
context and reports each problem at its own field and YAML line. Paths are
relative to the model that raised them and keep dotted mapping keys whole
(``("devices", 0, "signals", "rack.pod.power_w")``).
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["ConfigProblemsError", "Loc", "Problem"]

Loc = tuple[str | int, ...]
Problem = tuple[Loc, str]


class ConfigProblemsError(ValueError):
    """Several problems found by one validator."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            "; ".join(f"{'.'.join(map(str, loc)) or '<root>'}: {why}" for loc, why in problems)
        )


def raise_if_any(problems: Sequence[Problem]) -> None:
    """Raise :class:`ConfigProblemsError` if ``problems`` is not empty."""
    if problems:
        raise ConfigProblemsError(problems)
