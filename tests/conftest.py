"""Shared test fixtures: paths to the shipped profiles, maps and ../shared/data."""

from __future__ import annotations

import socket
from dataclasses import dataclass
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


#: 2026-01-05 00:00 UTC: a winter Monday, the demo's default start.
WINTER_START_S = 1_767_571_200.0


@dataclass
class ManualClock:
    """A clock the test advances by hand (no wall-clock dependence)."""

    now: float = WINTER_START_S

    def __call__(self) -> float:
        return self.now


def free_ports(count: int) -> list[int]:
    """Ports that were free on 127.0.0.1 a moment ago (the OS picks them)."""
    sockets = []
    for _ in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports
