"""SimulatedDevices over real Modbus TCP, checked with a plain pymodbus client."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.constants import ExcCodes
from pymodbus.exceptions import ModbusException

from thermalctl.adapters.modbus_codec import EncodeError, decode_register, encode_register
from thermalctl.config.hardware import DataType, Register
from thermalctl.config.loader import Site
from thermalctl.config.units import to_canonical
from thermalctl.sim.modbus_server import SimulatedDevices

pytestmark = pytest.mark.integration

ClientFor = Callable[[str], Awaitable[AsyncModbusTcpClient]]


@pytest.fixture
async def client_for(sim: SimulatedDevices) -> AsyncIterator[ClientFor]:
    """Connect a raw pymodbus client to the port serving a device; closed after the test."""
    clients: list[AsyncModbusTcpClient] = []

    async def connect(device_id: str) -> AsyncModbusTcpClient:
        client = AsyncModbusTcpClient(
            "127.0.0.1", port=sim.ports[device_id], timeout=0.2, retries=0, reconnect_delay=0
        )
        assert await client.connect()
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.close()


def sample_value(reg: Register) -> float:
    """An in-range engineering value (map unit) for ``reg``."""
    if reg.data_type is DataType.BOOL:
        return 1.0
    low = reg.min if reg.min is not None else 0.0
    high = reg.max if reg.max is not None else low + 1.0e4
    return low + 0.37 * (high - low)


def all_registers(site: Site) -> list[tuple[str, Register]]:
    return [(d.id, reg) for d in site.profile.devices for reg in site.maps[d.id].registers]


def with_devices(site: Site, updates: dict[str, dict[str, object]]) -> Site:
    devices = tuple(d.model_copy(update=updates.get(d.id, {})) for d in site.profile.devices)
    return dataclasses.replace(site, profile=site.profile.model_copy(update={"devices": devices}))


# -- construction and ports -----------------------------------------------------------


async def test_ports_are_bound_and_bound_site_points_at_them(
    sim: SimulatedDevices, site: Site, port_map: dict[str, int]
) -> None:
    assert sim.ports == port_map
    bound = sim.bound_site()
    for original, moved in zip(site.profile.devices, bound.profile.devices, strict=True):
        assert (moved.host, moved.port) == ("127.0.0.1", port_map[original.id])
        assert moved.model_copy(update={"port": original.port}) == original
    assert bound.maps == site.maps


def test_port_offset_and_validation(site: Site) -> None:
    offset = SimulatedDevices(site, port_offset=1000)
    assert offset.ports == {d.id: d.port + 1000 for d in site.profile.devices}
    shared = with_devices(site, {"facility_meter": {"port": 15020}})  # same port as it_meter
    with pytest.raises(ValueError, match="duplicate unit ids"):
        SimulatedDevices(shared)
    gateway = with_devices(site, {"facility_meter": {"port": 15020, "unit_id": 2}})
    with pytest.raises(ValueError, match="share a port"):
        SimulatedDevices(gateway, ports={"it_meter": 20000, "facility_meter": 20001})
    with pytest.raises(ValueError, match="two gateways"):
        SimulatedDevices(site, ports={"it_meter": 20000, "loop": 20000})


async def test_port_zero_binds_a_free_port(site: Site, port_map: dict[str, int]) -> None:
    async with SimulatedDevices(site, ports={**port_map, "loop": 0}) as sim:
        assert sim.ports["loop"] > 0
        assert sim.ports["it_meter"] == port_map["it_meter"]
        assert sim.bound_site().profile.devices[3].port == sim.ports["loop"]


async def test_gateway_serves_several_units_on_one_port(site: Site) -> None:
    gateway = with_devices(site, {"facility_meter": {"port": 15020, "unit_id": 2}})
    ports = {d.id: 0 for d in gateway.profile.devices}  # every gateway on a free port
    async with SimulatedDevices(gateway, ports=ports) as sim:
        assert sim.ports["it_meter"] == sim.ports["facility_meter"]
        sim.set_value("it_meter", "total_power", 1000.0)
        sim.set_value("facility_meter", "active_power_total", 2000.0)
        client = AsyncModbusTcpClient(
            "127.0.0.1", port=sim.ports["it_meter"], timeout=0.2, retries=0, reconnect_delay=0
        )
        assert await client.connect()
        try:
            meter = await client.read_input_registers(52, count=2, device_id=1)
            incomer = await client.read_holding_registers(3059, count=2, device_id=2)
        finally:
            client.close()
    assert meter.registers == [0x447A, 0x0000]  # 1000.0 as IEEE-754 binary32
    assert incomer.registers == [0x4000, 0x0000]  # 2.0 kW


# -- values ---------------------------------------------------------------------------


async def test_served_words_follow_the_map(
    sim: SimulatedDevices, client_for: ClientFor
) -> None:
    sim.set_value("loop", "supply_temp", 35.2)  # int16, 0.1 degC
    sim.set_value("pod_ctrl", "gpu_power_cap", 40_000.0)  # uint32, low word first
    sim.set_value("facility_meter", "active_energy_delivered", 1234.5)  # int64 Wh
    sim.set_value("loop", "dump_enable", 1.0)
    loop = await client_for("loop")
    assert (await loop.read_input_registers(4000, count=1, device_id=1)).registers == [352]
    assert (await loop.read_coils(0, count=1, device_id=1)).bits[0] is True
    pod = await client_for("pod_ctrl")
    assert (await pod.read_holding_registers(100, count=2, device_id=1)).registers == [
        0x9C40,
        0x0000,
    ]
    meter = await client_for("facility_meter")
    words = (await meter.read_holding_registers(3203, count=4, device_id=1)).registers
    assert words == [0, 0, 0x12, 0xD644]  # 1 234 500 Wh


def test_set_and_get_round_trip_every_register(site: Site) -> None:
    sim = SimulatedDevices(site)  # values live in the image; no server needed
    for device_id, reg in all_registers(site):
        value = sample_value(reg)
        stored = decode_register(reg, encode_register(reg, value))  # the register's resolution
        canonical, _unit = to_canonical(value, reg.unit)
        sim.set_value(device_id, reg.name, canonical)
        expected = to_canonical(stored, reg.unit)[0]
        assert sim.get_value(device_id, reg.name) == pytest.approx(expected, rel=1e-6), reg.name


def test_set_value_errors_and_out_of_range_values(site: Site) -> None:
    sim = SimulatedDevices(site)
    with pytest.raises(KeyError):
        sim.set_value("no_such_device", "power", 1.0)
    with pytest.raises(KeyError):
        sim.set_value("loop", "no_such_register", 1.0)
    with pytest.raises(EncodeError, match="supply_temp"):
        sim.set_value("loop", "supply_temp", math.nan)
    with pytest.raises(EncodeError, match="overflows int16"):
        sim.set_value("loop", "supply_temp", 5000.0)
    sim.set_value("loop", "supply_temp", 150.0)  # outside the valid range: a faulty sensor
    assert sim.get_value("loop", "supply_temp") == pytest.approx(150.0)


async def test_client_writes_land_and_bad_addresses_are_refused(
    sim: SimulatedDevices, client_for: ClientFor
) -> None:
    loop = await client_for("loop")
    assert not (await loop.write_registers(21200, [0, 5000], device_id=1)).isError()
    assert sim.get_value("loop", "sink1_heat_request") == 5000.0
    assert not (await loop.write_coil(0, True, device_id=1)).isError()
    assert sim.get_value("loop", "dump_enable") == 1.0
    read_only = await loop.write_registers(21700, [1], device_id=1)  # valve position
    gap = await loop.write_registers(21204, [1], device_id=1)  # between two registers
    for response in (read_only, gap):
        assert response.isError()
        assert response.exception_code == ExcCodes.ILLEGAL_ADDRESS
    meter = await client_for("it_meter")
    no_table = await meter.read_holding_registers(0, count=1, device_id=1)
    beyond = await meter.read_input_registers(400, count=2, device_id=1)
    for response in (no_table, beyond):
        assert response.isError()
        assert response.exception_code == ExcCodes.ILLEGAL_ADDRESS


# -- faults ---------------------------------------------------------------------------


async def test_exception_fault(sim: SimulatedDevices, client_for: ClientFor) -> None:
    sim.set_fault("loop", "exception")
    assert sim.fault("loop") == "exception"
    loop = await client_for("loop")
    response = await loop.read_input_registers(4000, count=1, device_id=1)
    assert response.isError()
    assert response.exception_code == ExcCodes.DEVICE_FAILURE
    write = await loop.write_coil(0, True, device_id=1)
    assert write.isError()
    assert sim.get_value("loop", "dump_enable") == 0.0
    sim.set_fault("loop", "none")
    assert not (await loop.read_input_registers(4000, count=1, device_id=1)).isError()


async def test_garbage_fault_keeps_the_stored_values(
    sim: SimulatedDevices, client_for: ClientFor
) -> None:
    sim.set_value("pod_ctrl", "it_power", 20_000.0)
    sim.set_fault("pod_ctrl", "garbage")
    pod = await client_for("pod_ctrl")
    words = (await pod.read_input_registers(0, count=10, device_id=1)).registers
    assert words[0:2] == [0xFFFF, 0xFFFF]  # float32 it_power: NaN
    assert words[2:6] == [0xFFFF] * 4  # float64 it_energy: NaN
    assert not (await pod.write_registers(100, [1000, 0], device_id=1)).isError()
    assert sim.get_value("pod_ctrl", "gpu_power_cap") == 1000.0  # writes still land
    sim.set_fault("pod_ctrl", "none")
    words = (await pod.read_input_registers(0, count=2, device_id=1)).registers
    assert words == encode_register(sim.site.maps["pod_ctrl"].register("it_power"), 20_000.0)


async def test_silent_fault_drops_requests_only_for_that_device(
    sim: SimulatedDevices, client_for: ClientFor
) -> None:
    sim.set_fault("loop", "silent")
    loop = await client_for("loop")
    with pytest.raises((ModbusException, TimeoutError)):
        await loop.read_input_registers(4000, count=1, device_id=1)
    meter = await client_for("it_meter")
    assert not (await meter.read_input_registers(52, count=2, device_id=1)).isError()


def test_unknown_fault_is_rejected(site: Site) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        SimulatedDevices(site).set_fault("loop", "fire")  # type: ignore[arg-type]


async def test_stop_and_start_keep_ports_and_values(
    sim: SimulatedDevices, client_for: ClientFor
) -> None:
    ports = sim.ports
    sim.set_value("loop", "supply_temp", 41.0)
    await sim.stop_port("loop")
    meter = await client_for("it_meter")  # other gateways keep serving
    assert not (await meter.read_input_registers(52, count=2, device_id=1)).isError()
    probe = AsyncModbusTcpClient("127.0.0.1", port=ports["loop"], timeout=0.2, reconnect_delay=0)
    assert not await probe.connect()  # connection refused
    probe.close()
    await sim.stop()
    await sim.start()
    assert sim.ports == ports
    loop = await client_for("loop")
    assert (await loop.read_input_registers(4000, count=1, device_id=1)).registers == [410]
