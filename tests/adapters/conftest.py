"""Fixtures for the Modbus adapter tests: the Exmouth pool site served by the simulator.

The simulator listens on free loopback ports (found by binding to 127.0.0.1:0) and is
stopped after each test; device timeouts are cut to 0.3 s so that fault tests stay fast.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import free_ports
from thermalctl.adapters.modbus_client import ModbusHub, close_hubs, hubs_for
from thermalctl.config.loader import Site, load_site
from thermalctl.config.site import DeviceBinding
from thermalctl.sim.modbus_server import SimulatedDevices

SITE_PATH = Path(__file__).resolve().parents[2] / "site_profiles" / "exmouth_pool.yaml"
TEST_TIMEOUT_S = 0.3


def _with_devices(site: Site, devices: tuple[DeviceBinding, ...]) -> Site:
    return dataclasses.replace(site, profile=site.profile.model_copy(update={"devices": devices}))


def _free_port_map(site: Site) -> dict[str, int]:
    """A free port for every gateway (profile host:port) of ``site``, keyed by device id."""
    endpoints = sorted({(d.host, d.port) for d in site.profile.devices})
    chosen = dict(zip(endpoints, free_ports(len(endpoints)), strict=True))
    return {d.id: chosen[(d.host, d.port)] for d in site.profile.devices}


@pytest.fixture(scope="session")
def site() -> Site:
    """The Exmouth pool site with short device timeouts."""
    loaded = load_site(SITE_PATH)
    devices = tuple(
        d.model_copy(update={"timeout_s": TEST_TIMEOUT_S}) for d in loaded.profile.devices
    )
    return _with_devices(loaded, devices)


@pytest.fixture
async def sim(site: Site) -> AsyncIterator[SimulatedDevices]:
    """The site's devices served on free loopback ports."""
    async with SimulatedDevices(site, ports=_free_port_map(site)) as devices:
        yield devices


@pytest.fixture
def free_port() -> int:
    """A loopback port nothing listens on."""
    return free_ports(1)[0]


@pytest.fixture
def bound(sim: SimulatedDevices) -> Site:
    """The site as the controller sees it: devices at the simulator's ports."""
    return sim.bound_site()


@pytest.fixture
async def hubs(bound: Site) -> AsyncIterator[dict[str, ModbusHub]]:
    """One hub per bus of the bound site, closed after the test."""
    hub_map = hubs_for(bound)
    yield hub_map
    await close_hubs(hub_map)
