"""The BMS sees the controller's alarms and status while the local store cannot write.

The real controller runs against the simulated pool site over Modbus TCP, the BMS server
is its observer, and the store's SQLite file is capped at its current size
(``PRAGMA max_page_count``: every later insert fails with SQLITE_FULL, as on a full
disk). The BMS is read with pymodbus' client on 127.0.0.1; time is a manual clock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pymodbus.client import AsyncModbusTcpClient

from tests.adapters.test_bms import Operator
from tests.conftest import POOL_SITE, ManualClock
from tests.servers import free_port
from thermalctl.adapters.bms import BmsServer, bms_register_map
from thermalctl.adapters.store import LocalStore
from thermalctl.config import load_site
from thermalctl.config.services import BmsListen
from thermalctl.control.policy import BaselinePolicy
from thermalctl.runtime.controller import Controller
from thermalctl.runtime.demo import relocate_to_free_ports
from thermalctl.sim.site import SimulatedSite

pytestmark = pytest.mark.integration


async def _read_status(port: int, first: int) -> tuple[list[bool], list[int]]:
    client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=2, retries=0)
    assert await client.connect()
    try:
        bits = await client.read_discrete_inputs(0, count=5, device_id=1)
        regs = await client.read_input_registers(first, count=8, device_id=1)
        assert not bits.isError() and not regs.isError()
        words = []
        for i in range(0, 8, 2):
            word = client.convert_from_registers(regs.registers[i:i + 2],
                                                 client.DATATYPE.UINT32, word_order="big")
            assert isinstance(word, int)
            words.append(word)
        return list(bits.bits[:5]), words
    finally:
        client.close()


@pytest.fixture
async def plant(tmp_path: Path) -> AsyncIterator[tuple[Controller, LocalStore, SimulatedSite,
                                                        ManualClock, BmsServer]]:
    site = relocate_to_free_ports(load_site(POOL_SITE))
    clock = ManualClock()
    sim = SimulatedSite(site, clock)
    await sim.start()
    sim.initialise_actuators()
    store = LocalStore(tmp_path / "store.sqlite")
    controller = Controller(site, store, BaselinePolicy(site.profile), clock)
    controller.alarm_sources.append(store.failure_alarms)   # as runtime.services wires it
    bms = BmsServer(site.profile, BmsListen(host="127.0.0.1", port=free_port()),
                    Operator(site.profile))
    await bms.start()
    controller.observers.append(bms)
    try:
        yield controller, store, sim, clock, bms
    finally:
        await bms.stop()
        await controller.close()
        await sim.stop()
        store.close()


async def test_bms_registers_keep_moving_and_show_the_alarm_when_the_store_is_full(
        plant: tuple[Controller, LocalStore, SimulatedSite, ManualClock, BmsServer]) -> None:
    controller, store, sim, clock, bms = plant
    first = next(p.register.address for p in bms.points
                 if p.register.name == "alarms_active_count")
    assert first == next(p.register.address for p in bms_register_map(controller.profile)
                         if p.register.name == "alarms_active_count")

    async def tick() -> None:
        clock.now += 30.0
        sim.sync()
        await controller.tick()

    for _ in range(3):
        await tick()
    bits, (count, critical, mode, tick_s) = await _read_status(bms.listen.port, first)
    assert bits[0] is False and count == 0 and mode == 0 and tick_s == int(clock.now)

    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")    # the disk is full from now on
    seen = []
    for _ in range(4):
        await tick()
        seen.append(await _read_status(bms.listen.port, first))
    assert store.failure() is not None                        # the store did fail
    bits, (count, critical, _mode, tick_s) = seen[-1]
    assert "store.write_failed" in controller.active_alarms
    assert bits[0] is True and bits[1] is True                # any alarm, critical alarm
    assert count >= 1 and critical >= 1
    assert [s[1][3] for s in seen] == [int(clock.now) - 30 * i for i in (3, 2, 1, 0)]
