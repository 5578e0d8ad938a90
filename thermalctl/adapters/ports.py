"""Device ports: the one small interface the controller talks to devices through.

The controller never sees a bus, a register or a topic. It sees ports, each of
which reads one device's signals and writes its actuators, in canonical units and
by *signal name* (``loop.supply_temp_c``, ``rack.pod.gpu_power_cap_w``):

* :class:`ModbusDevicePort`: one Modbus device behind its bus's
  :class:`~thermalctl.adapters.modbus_client.ModbusHub`, decoded by its hardware map;
* :class:`SourcePort`: a read-only source such as the MQTT sensor ingestion;
* :class:`MemoryPort`: in memory, for unit tests of the control loop without sockets
  (the transport pattern of httpx: the client knows the interface, real and mock
  transports implement it).

Reads never raise (a failure is a ``BAD`` reading with its reason); writes raise
:class:`~thermalctl.adapters.errors.AdapterError` (``WriteRefused`` before sending,
``DeviceError`` when the device or bus failed).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from thermalctl.adapters.errors import DeviceError, WriteRefused
from thermalctl.adapters.modbus_client import ModbusHub
from thermalctl.config.hardware import HardwareMap
from thermalctl.config.site import DeviceBinding
from thermalctl.points import Quality, Reading

__all__ = [
    "DevicePort",
    "MemoryPort",
    "ModbusDevicePort",
    "ReadingSource",
    "SourcePort",
    "modbus_ports",
]


class DevicePort(Protocol):
    """One device (or source) as the controller sees it."""

    @property
    def name(self) -> str: ...

    @property
    def poll_period_s(self) -> float:
        """How often the device is read [s] (0: every tick)."""
        ...

    @property
    def point_signals(self) -> Mapping[str, str]:
        """Reading point name -> the controller signal it measures."""
        ...

    @property
    def actuators(self) -> Mapping[str, str]:
        """Writable signal -> the point that reads back what the device holds."""
        ...

    async def read(self, now_s: float) -> list[Reading]:
        """Every bound point, stamped ``now_s``; never raises."""
        ...

    async def write(self, signal: str, value: float) -> None:
        """Write an actuator signal (canonical units); raises ``AdapterError``."""
        ...

    async def close(self) -> None: ...


class ReadingSource(Protocol):
    """A non-Modbus source of readings (e.g. MQTT sensors)."""

    @property
    def point_signals(self) -> dict[str, str]: ...

    def readings(self, now_s: float) -> list[Reading]: ...


class ModbusDevicePort:
    """A Modbus device: its binding, its hardware map and the hub of its bus."""

    def __init__(self, binding: DeviceBinding, hw: HardwareMap, hub: ModbusHub) -> None:
        self.binding = binding
        self.hw = hw
        self.hub = hub
        self.point_signals = {f"{binding.id}.{reg}": sig for sig, reg in binding.signals.items()}
        self.actuators = {sig: f"{binding.id}.{reg}" for sig, reg in binding.actuators.items()}

    @property
    def name(self) -> str:
        return self.binding.id

    @property
    def poll_period_s(self) -> float:
        return self.binding.poll_period_s

    async def read(self, now_s: float) -> list[Reading]:
        return await self.hub.read_device(self.binding, self.hw, now_s)

    async def write(self, signal: str, value: float) -> None:
        register = self.binding.actuators.get(signal)
        if register is None:
            raise WriteRefused(f"device {self.binding.id}: no actuator bound to {signal}")
        await self.hub.write(self.binding, self.hw, register, value)

    async def close(self) -> None:
        return None  # the hub is shared by the bus's devices; its owner closes it


def modbus_ports(
    devices: Iterable[DeviceBinding], maps: Mapping[str, HardwareMap], hubs: Mapping[str, ModbusHub]
) -> list[ModbusDevicePort]:
    """One port per device, on the hub of its bus."""
    return [ModbusDevicePort(d, maps[d.id], hubs[d.bus_key]) for d in devices]


class SourcePort:
    """A read-only reading source (MQTT sensors) as a port, read every tick."""

    poll_period_s = 0.0
    actuators: Mapping[str, str] = {}

    def __init__(self, name: str, source: ReadingSource) -> None:
        self.name = name
        self.source = source

    @property
    def point_signals(self) -> Mapping[str, str]:
        return self.source.point_signals

    async def read(self, now_s: float) -> list[Reading]:
        return self.source.readings(now_s)

    async def write(self, signal: str, value: float) -> None:
        raise WriteRefused(f"{self.name}: read-only source, cannot write {signal}")

    async def close(self) -> None:
        return None


@dataclass
class MemoryPort:
    """An in-memory device for unit tests: values by signal, writes recorded.

    ``values`` holds what the device measures (signal -> value; NaN reads as BAD);
    ``fail_reads`` / ``fail_writes`` make it behave like a dead device.
    """

    name: str
    values: dict[str, float] = field(default_factory=dict)
    writable: Sequence[str] = ()
    poll_period_s: float = 0.0
    unit: str = ""
    fail_reads: bool = False
    fail_writes: bool = False
    writes: list[tuple[str, float]] = field(default_factory=list)

    @property
    def point_signals(self) -> Mapping[str, str]:
        points = {f"{self.name}.{sig}": sig for sig in self.values}
        points.update({f"{self.name}.{sig}": sig for sig in self.writable})
        return points

    @property
    def actuators(self) -> Mapping[str, str]:
        return {sig: f"{self.name}.{sig}" for sig in self.writable}

    async def read(self, now_s: float) -> list[Reading]:
        out = []
        for point, sig in self.point_signals.items():
            value = self.values.get(sig, math.nan)
            if self.fail_reads:
                out.append(Reading.bad(point, self.unit, now_s, "no answer (memory port)"))
            elif math.isfinite(value):
                out.append(Reading(point, value, self.unit, Quality.GOOD, now_s))
            else:
                out.append(Reading.bad(point, self.unit, now_s, "not set"))
        return out

    async def write(self, signal: str, value: float) -> None:
        if signal not in self.writable:
            raise WriteRefused(f"{self.name}: {signal} is not writable")
        if self.fail_writes:
            raise DeviceError(f"{self.name}: write failed (memory port)")
        self.values[signal] = value
        self.writes.append((signal, value))

    async def close(self) -> None:
        return None
