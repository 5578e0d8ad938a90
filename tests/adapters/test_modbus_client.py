"""ModbusHub against the simulated Exmouth pool devices over real Modbus TCP on loopback."""

from __future__ import annotations

import dataclasses
import logging
import math

import pytest

from thermalctl.adapters.errors import AdapterError, DeviceError, WriteRefused
from thermalctl.adapters.modbus_client import ModbusHub, bound_registers, close_hubs, hubs_for
from thermalctl.adapters.modbus_codec import decode_register, encode_register
from thermalctl.config.hardware import DataType, Register
from thermalctl.config.loader import Site
from thermalctl.config.site import DeviceBinding
from thermalctl.config.units import to_canonical
from thermalctl.points import Quality, Reading
from thermalctl.sim.modbus_server import SimulatedDevices

pytestmark = pytest.mark.integration

NOW_S = 1_700_000_000.0
FLOATS = (DataType.FLOAT32, DataType.FLOAT64)


class StepClock:
    """A monotonic clock the test moves by hand (for the reconnect back-off)."""

    def __init__(self) -> None:
        self.now_s = 1000.0

    def __call__(self) -> float:
        return self.now_s

    def advance(self, seconds: float) -> None:
        self.now_s += seconds


def with_devices(site: Site, devices: tuple[DeviceBinding, ...]) -> Site:
    """``site`` with its device bindings replaced."""
    return dataclasses.replace(site, profile=site.profile.model_copy(update={"devices": devices}))


def sample_value(reg: Register) -> float:
    """An in-range engineering value (map unit) for ``reg``, as the register stores it."""
    if reg.data_type is DataType.BOOL:
        return 1.0
    low = reg.min if reg.min is not None else 0.0
    high = reg.max if reg.max is not None else low + 1.0e4
    value = low + 0.37 * (high - low)
    return decode_register(reg, encode_register(reg, value))  # quantised to the register


def device(site: Site, device_id: str) -> DeviceBinding:
    return next(d for d in site.profile.devices if d.id == device_id)


async def read(hubs: dict[str, ModbusHub], site: Site, device_id: str) -> dict[str, Reading]:
    dev = device(site, device_id)
    readings = await hubs[dev.bus_key].read_device(dev, site.maps[dev.id], NOW_S)
    return {r.point: r for r in readings}


async def test_reads_every_bound_register_in_canonical_units(
    sim: SimulatedDevices, bound: Site, hubs: dict[str, ModbusHub]
) -> None:
    for dev in bound.profile.devices:
        hw = bound.maps[dev.id]
        expected: dict[str, tuple[float, str]] = {}
        for reg in bound_registers(dev, hw):
            value_canonical, unit = to_canonical(sample_value(reg), reg.unit)
            sim.set_value(dev.id, reg.name, value_canonical)
            expected[f"{dev.id}.{reg.name}"] = (value_canonical, unit)
        readings = await read(hubs, bound, dev.id)
        assert set(readings) == set(expected)
        for point, (value, unit) in expected.items():
            reading = readings[point]
            assert reading.quality is Quality.GOOD, reading
            assert reading.unit == unit
            assert reading.value == pytest.approx(value, rel=1e-6)  # float32 round trip
            assert reading.timestamp_s == NOW_S


async def test_unit_conversions_at_the_edge(
    sim: SimulatedDevices, bound: Site, hubs: dict[str, ModbusHub]
) -> None:
    sim.set_value("facility_meter", "active_power_total", 61_000.0)  # stored as kW
    sim.set_value("facility_meter", "active_energy_delivered", 1234.567)  # stored as int64 Wh
    sim.set_value("pool_heat_meter", "power", 42_500.0)  # stored as kW
    sim.set_value("loop", "loop_flow", 6.0 / 3600.0)  # stored as 0.001 m3/h
    sim.set_value("loop", "supply_temp", 35.2)  # stored as 0.1 degC
    facility = await read(hubs, bound, "facility_meter")
    assert facility["facility_meter.active_power_total"].value == pytest.approx(61_000.0)
    assert facility["facility_meter.active_power_total"].unit == "W"
    assert facility["facility_meter.active_energy_delivered"].value == pytest.approx(1234.567)
    assert facility["facility_meter.active_energy_delivered"].unit == "kWh"
    heat = await read(hubs, bound, "pool_heat_meter")
    assert heat["pool_heat_meter.power"].value == pytest.approx(42_500.0)
    loop = await read(hubs, bound, "loop")
    assert loop["loop.loop_flow"].value == pytest.approx(6.0 / 3600.0)
    assert loop["loop.loop_flow"].unit == "m3/s"
    assert loop["loop.supply_temp"].value == pytest.approx(35.2)


async def test_out_of_range_value_is_bad(
    sim: SimulatedDevices, bound: Site, hubs: dict[str, ModbusHub]
) -> None:
    sim.set_value("loop", "supply_temp", 150.0)  # the map's valid range ends at 120 degC
    reading = (await read(hubs, bound, "loop"))["loop.supply_temp"]
    assert reading.quality is Quality.BAD and not reading.usable
    assert reading.value == pytest.approx(150.0)  # kept, so safety can tell hot from broken
    assert reading.unit == "degC"
    assert "out of range" in reading.reason and "120" in reading.reason


async def test_write_holding_registers_and_coil(
    sim: SimulatedDevices, bound: Site, hubs: dict[str, ModbusHub]
) -> None:
    loop, pod = device(bound, "loop"), device(bound, "pod_ctrl")
    await hubs[loop.bus_key].write(loop, bound.maps["loop"], "sink1_heat_request", 12_345.0)
    await hubs[pod.bus_key].write(pod, bound.maps["pod_ctrl"], "gpu_power_cap", 40_000.0)
    assert sim.get_value("loop", "sink1_heat_request") == 12_345.0
    assert sim.get_value("pod_ctrl", "gpu_power_cap") == 40_000.0  # low word first
    for value in (1.0, 0.0):
        await hubs[loop.bus_key].write(loop, bound.maps["loop"], "dump_enable", value)
        assert sim.get_value("loop", "dump_enable") == value
    readback = await read(hubs, bound, "pod_ctrl")
    assert readback["pod_ctrl.gpu_power_cap"].value == 40_000.0


@pytest.mark.parametrize(
    ("register", "value", "match"),
    [
        ("supply_temp", 20.0, "read-only"),
        ("valve_position", 0.5, "read-only"),
        ("no_such_register", 1.0, "no register"),
        ("sink1_heat_request", 5.0e6, "above its maximum"),
        ("sink1_heat_request", -1.0, "below its minimum"),
        ("sink1_heat_request", math.nan, "cannot write nan"),
        ("dump_enable", 0.5, "0 or 1"),
    ],
)
async def test_write_refused_before_sending(
    sim: SimulatedDevices,
    bound: Site,
    hubs: dict[str, ModbusHub],
    register: str,
    value: float,
    match: str,
) -> None:
    loop = device(bound, "loop")
    sim.set_value("loop", "sink1_heat_request", 777.0)
    with pytest.raises(WriteRefused, match=match) as info:
        await hubs[loop.bus_key].write(loop, bound.maps["loop"], register, value)
    assert isinstance(info.value, AdapterError) and isinstance(info.value, ValueError)
    assert sim.get_value("loop", "sink1_heat_request") == 777.0


async def test_exception_response_is_bad_then_recovers(
    sim: SimulatedDevices, bound: Site, hubs: dict[str, ModbusHub]
) -> None:
    sim.set_value("pod_ctrl", "it_power", 30_000.0)
    sim.set_fault("pod_ctrl", "exception")
    readings = await read(hubs, bound, "pod_ctrl")
    assert all(r.quality is Quality.BAD for r in readings.values())
    assert all("exception response 0x04" in r.reason for r in readings.values())
    pod = device(bound, "pod_ctrl")
    with pytest.raises(DeviceError, match="exception response"):
        await hubs[pod.bus_key].write(pod, bound.maps["pod_ctrl"], "gpu_power_cap", 1000.0)
    sim.set_fault("pod_ctrl", "none")
    readings = await read(hubs, bound, "pod_ctrl")
    assert readings["pod_ctrl.it_power"].quality is Quality.GOOD
    assert readings["pod_ctrl.it_power"].value == 30_000.0


async def test_garbage_registers_are_bad(
    sim: SimulatedDevices, bound: Site, hubs: dict[str, ModbusHub]
) -> None:
    sim.set_fault("loop", "garbage")
    readings = await read(hubs, bound, "loop")
    hw = bound.maps["loop"]
    floats = [p for p in readings if hw.register(p.split(".")[1]).data_type in FLOATS]
    assert floats
    for point in floats:  # all-ones words are NaN
        assert readings[point].quality is Quality.BAD
        assert "not finite" in readings[point].reason
    # random integer words land outside the valid ranges (seeded, so always the same)
    assert readings["loop.supply_temp"].quality is Quality.BAD
    assert "out of range" in readings["loop.supply_temp"].reason
    for reading in readings.values():
        assert reading.quality is Quality.BAD or reading.unit == "1"  # only bits may pass


async def test_silent_device_times_out_and_recovers(
    sim: SimulatedDevices, bound: Site, hubs: dict[str, ModbusHub]
) -> None:
    sim.set_value("it_meter", "total_power", 55_000.0)
    sim.set_fault("it_meter", "silent")
    readings = await read(hubs, bound, "it_meter")
    assert all(r.quality is Quality.BAD for r in readings.values())
    reasons = [r.reason for r in readings.values()]
    assert reasons[0].startswith("timeout")
    assert all("timeout" in reason for reason in reasons)  # later requests skipped
    sim.set_fault("it_meter", "none")
    readings = await read(hubs, bound, "it_meter")
    assert readings["it_meter.total_power"].quality is Quality.GOOD
    assert readings["it_meter.total_power"].value == 55_000.0


async def test_stopped_server_then_back_off_then_recovery(
    sim: SimulatedDevices, bound: Site, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="thermalctl.adapters.modbus_client")
    clock = StepClock()
    hubs = hubs_for(bound, clock=clock)
    sim.set_value("pod_ctrl", "it_power", 12_000.0)
    assert (await read(hubs, bound, "pod_ctrl"))["pod_ctrl.it_power"].quality is Quality.GOOD
    await sim.stop_port("pod_ctrl")
    for _ in range(3):  # the first fails on the network, the others inside the back-off
        readings = await read(hubs, bound, "pod_ctrl")
        assert all(r.quality is Quality.BAD for r in readings.values())
        assert all(r.reason.startswith("connection error") for r in readings.values())
    assert "next connection attempt" in readings["pod_ctrl.it_power"].reason
    pod = device(bound, "pod_ctrl")
    assert hubs[pod.bus_key].failing
    await sim.start_port("pod_ctrl")
    clock.advance(60.0)
    readings = await read(hubs, bound, "pod_ctrl")
    assert readings["pod_ctrl.it_power"].quality is Quality.GOOD
    assert readings["pod_ctrl.it_power"].value == 12_000.0
    assert not hubs[pod.bus_key].failing
    messages = [r.getMessage() for r in caplog.records]
    assert sum(m.startswith("Modbus bus") and "failing" in m for m in messages) == 1
    assert sum(m.startswith("Modbus bus") and "recovered" in m for m in messages) == 1
    assert sum("device pod_ctrl read failing" in m for m in messages) == 1
    assert sum("device pod_ctrl read recovered" in m for m in messages) == 1
    await close_hubs(hubs)


async def test_write_to_stopped_server_raises_device_error(
    sim: SimulatedDevices, bound: Site, hubs: dict[str, ModbusHub]
) -> None:
    await sim.stop_port("loop")
    loop = device(bound, "loop")
    with pytest.raises(DeviceError, match="connection error"):
        await hubs[loop.bus_key].write(loop, bound.maps["loop"], "dump_enable", 1.0)


async def test_nothing_listening_never_raises(site: Site, free_port: int) -> None:
    dev = device(site, "it_meter").model_copy(update={"port": free_port})
    hub = ModbusHub("127.0.0.1", free_port, timeout_s=0.3)
    try:
        readings = await hub.read_device(dev, site.maps["it_meter"], NOW_S)
    finally:
        await hub.close()
    assert len(readings) == len(bound_registers(dev, site.maps["it_meter"]))
    assert all(r.quality is Quality.BAD for r in readings)
    assert all(r.reason.startswith("connection error") for r in readings)


async def test_gateway_devices_share_one_hub_and_fail_alone(site: Site) -> None:
    """Two meters behind one gateway: one hub, and one silent meter leaves the other readable."""
    heat = device(site, "pool_heat_meter")
    moved = {  # the facility meter joins the heat meter's gateway as unit 2
        "facility_meter": {"port": heat.port, "unit_id": 2},
        "pool_heat_meter": {"timeout_s": 0.05},
    }
    devices = tuple(d.model_copy(update=moved.get(d.id, {})) for d in site.profile.devices)
    gateway_site = with_devices(site, devices)
    async with SimulatedDevices(gateway_site, port_offset=0, ports={heat.id: 0}) as sim:
        assert sim.ports["facility_meter"] == sim.ports["pool_heat_meter"]
        bound = sim.bound_site()
        hub_map = hubs_for(bound)
        try:
            keys = {device(bound, name).bus_key for name in ("facility_meter", "pool_heat_meter")}
            assert len(keys) == 1
            assert len(hub_map) == len(bound.profile.devices) - 1
            sim.set_value("facility_meter", "active_power_total", 70_000.0)
            sim.set_value("pool_heat_meter", "power", 30_000.0)
            sim.set_fault("pool_heat_meter", "silent")
            for _ in range(4):  # more than the hub's unanswered-request limit
                heat_readings = await read(hub_map, bound, "pool_heat_meter")
                facility = await read(hub_map, bound, "facility_meter")
                assert all(r.quality is Quality.BAD for r in heat_readings.values())
                reading = facility["facility_meter.active_power_total"]
                assert reading.quality is Quality.GOOD, reading
                assert reading.value == pytest.approx(70_000.0)
        finally:
            for hub in hub_map.values():
                await hub.close()


def test_hubs_for_rejects_a_bus_with_two_endpoints(site: Site) -> None:
    devices = tuple(d.model_copy(update={"bus": "gw"}) for d in site.profile.devices)
    with pytest.raises(ValueError, match="bus 'gw'"):
        hubs_for(with_devices(site, devices))
