"""Shared helpers for the physics tests: reading the reference CSV tables."""

from __future__ import annotations

import csv
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"


def read_reference_csv(name: str) -> list[dict[str, float]]:
    """Rows of a reference table in ``tests/physics/data`` ('#' lines are its source notes)."""
    with (DATA_DIR / name).open(encoding="utf-8") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    return [{key: float(value) for key, value in row.items()} for row in csv.DictReader(lines)]
