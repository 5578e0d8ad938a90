"""Shared test fixtures: paths to the shipped profiles, maps and ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SITE_PROFILES = sorted((REPO / "site_profiles").glob("*.yaml"))
HARDWARE_MAPS = sorted((REPO / "hardware_maps").glob("*.yaml"))
SHARED_DATA = REPO.parent / "shared" / "data"
POOL_SITE = REPO / "site_profiles" / "exmouth_pool.yaml"
HOTEL_SITE = REPO / "site_profiles" / "harbour_hotel_dhw.yaml"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real public data not present at {SHARED_DATA}")
    return SHARED_DATA
