"""Placeholder (replaced in the next commit)."""

from __future__ import annotations

from typing import Any


def evaluate(*args: Any, **kwargs: Any) -> dict[str, Any]:
    raise NotImplementedError("bound: not yet")
