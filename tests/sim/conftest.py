"""Fixtures for the simulator tests: the Exmouth pool devices on free loopback ports.

Ports are found by binding to 127.0.0.1:0 (``tests.conftest.free_ports``); the
simulator is stopped after each test.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import free_ports
from thermalctl.config.loader import Site, load_site
from thermalctl.sim.modbus_server import SimulatedDevices

SITE_PATH = Path(__file__).resolve().parents[2] / "site_profiles" / "exmouth_pool.yaml"


@pytest.fixture(scope="session")
def site() -> Site:
    """The Exmouth pool site (immutable, so loaded once)."""
    return load_site(SITE_PATH)


@pytest.fixture
def port_map(site: Site) -> dict[str, int]:
    """A free port for every gateway (profile host:port) of the site, keyed by device id."""
    endpoints = sorted({(d.host, d.port) for d in site.profile.devices})
    chosen = dict(zip(endpoints, free_ports(len(endpoints)), strict=True))
    return {d.id: chosen[(d.host, d.port)] for d in site.profile.devices}


@pytest.fixture
async def sim(site: Site, port_map: dict[str, int]) -> AsyncIterator[SimulatedDevices]:
    """The site's devices served on free loopback ports."""
    async with SimulatedDevices(site, ports=port_map) as devices:
        yield devices
