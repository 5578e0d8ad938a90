"""Simulated Modbus devices served over real Modbus TCP on loopback.

:class:`SimulatedDevices` builds, from a :class:`~thermalctl.config.loader.Site`,
one pymodbus TCP server per port, with one device per unit id: devices that share
a port in the profile sit behind one simulated gateway. Register contents come
from the same hardware maps the controller decodes with, and are encoded by the
same codec, so the controller cannot tell the simulator from a site.

The simulator's plant model publishes measurements with :meth:`~SimulatedDevices.set_value`
and reads the controller's commands with :meth:`~SimulatedDevices.get_value`, both in
canonical units (W, degC, kWh, m3/s).

Each device's registers live in a :class:`_DeviceImage`, the single source of
truth. pymodbus (3.16) serves ``SimDevice`` objects and calls an ``action``
coroutine on every request with the live register block; the image's action
copies the image into that block before a read, stores what a client writes,
and injects faults. Faults (:meth:`~SimulatedDevices.set_fault`):

``"none"``
    Normal service.
``"exception"``
    Every request to the device gets Modbus exception 0x04 (device failure).
``"garbage"``
    Reads return a fixed set of random words (seeded), float registers all-ones
    words (NaN in any word or byte order) and random bits; the stored values are
    kept and served again once the fault is cleared. Writes still land.
``"silent"``
    The device never answers (requests are dropped, the TCP connection stays
    up): a dead meter behind a gateway; the client sees timeouts. To simulate a
    dead gateway or host, stop its server with :meth:`~SimulatedDevices.stop_port`
    (clients see the connection refused) and bring it back with
    :meth:`~SimulatedDevices.start_port`.

Writes to addresses that are not a writable register of the map get exception
0x02 (illegal address), as a real device answers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Mapping, Sequence
from typing import Literal, get_args

from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType as SimType
from pymodbus.simulator import SimData, SimDevice
from pymodbus.simulator.simutils import SimUtils

from thermalctl.adapters.modbus_codec import (
    BIT_TABLES,
    decode_register,
    encode_register,
    from_canonical,
)
from thermalctl.config.hardware import DataType, HardwareMap, Register, Table
from thermalctl.config.loader import Site
from thermalctl.config.site import DeviceBinding
from thermalctl.config.units import to_canonical

__all__ = ["FaultKind", "SimulatedDevices"]

FaultKind = Literal["none", "exception", "garbage", "silent"]

#: Modbus function code -> the table it addresses.
_FC_TABLE: dict[int, Table] = {
    1: Table.COIL,
    5: Table.COIL,
    15: Table.COIL,
    2: Table.DISCRETE,
    3: Table.HOLDING,
    6: Table.HOLDING,
    16: Table.HOLDING,
    22: Table.HOLDING,
    23: Table.HOLDING,
    4: Table.INPUT,
}

#: pymodbus SimDevice takes the four tables in this order when they are not shared.
_SIM_TABLE_ORDER = (Table.COIL, Table.DISCRETE, Table.HOLDING, Table.INPUT)


@dataclasses.dataclass
class _Span:
    """One table of one device: the addresses from the first register to the last."""

    start: int
    values: list[int]
    writable: set[int]

    def __contains__(self, address: int) -> bool:
        return self.start <= address < self.start + len(self.values)


class _DeviceImage:
    """The register contents of one simulated device, and its fault state."""

    def __init__(self, device: DeviceBinding, hw: HardwareMap, seed: int) -> None:
        self.device = device
        self.hw = hw
        self.fault: FaultKind = "none"
        self._rng = random.Random(f"{seed}:{device.id}")
        self._garbage: dict[Table, list[int]] = {}
        self.spans: dict[Table, _Span] = {}
        for table in Table:
            regs = [r for r in hw.registers if r.table is table]
            if not regs:
                continue
            start = min(r.address for r in regs)
            end = max(r.end for r in regs)
            writable = {a for r in regs if r.writable for a in range(r.address, r.end)}
            self.spans[table] = _Span(start, [0] * (end - start), writable)

    # -- values ------------------------------------------------------------------------

    def put(self, reg: Register, words: Sequence[int]) -> None:
        span = self.spans[reg.table]
        first = reg.address - span.start
        span.values[first : first + reg.register_count] = [int(w) for w in words]

    def get(self, reg: Register) -> list[int]:
        span = self.spans[reg.table]
        first = reg.address - span.start
        return span.values[first : first + reg.register_count]

    def set_fault(self, kind: FaultKind) -> None:
        self.fault = kind
        self._garbage = self._make_garbage() if kind == "garbage" else {}

    def _make_garbage(self) -> dict[Table, list[int]]:
        garbage: dict[Table, list[int]] = {}
        for table, span in self.spans.items():
            top = 1 if table in BIT_TABLES else 0xFFFF
            garbage[table] = [self._rng.randint(0, top) for _ in span.values]
        for reg in self.hw.registers:
            if reg.data_type in (DataType.FLOAT32, DataType.FLOAT64):
                first = reg.address - self.spans[reg.table].start
                garbage[reg.table][first : first + reg.register_count] = [0xFFFF] * (
                    reg.register_count
                )
        return garbage

    # -- pymodbus ----------------------------------------------------------------------

    def sim_device(self) -> SimDevice:
        """A pymodbus device with four separate tables laid out like the image."""
        blocks: list[list[SimData]] = []
        for table in _SIM_TABLE_ORDER:
            span = self.spans.get(table)
            bits = table in BIT_TABLES
            if span is None:  # the action answers "illegal address" for this table
                data = (
                    SimData(0, values=False, datatype=SimType.BITS)
                    if bits
                    else SimData(0, datatype=SimType.INVALID)
                )
            else:
                data = SimData(
                    span.start,
                    count=len(span.values),
                    values=False if bits else 0,
                    datatype=SimType.BITS if bits else SimType.REGISTERS,
                )
            blocks.append([data])
        return SimDevice(
            self.device.unit_id,
            simdata=(blocks[0], blocks[1], blocks[2], blocks[3]),
            action=self.action,
        )

    async def action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        current_registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        """pymodbus request hook: inject faults, store writes, serve the image.

        ``current_registers`` is pymodbus' live block for the table, starting at
        ``start_address`` (for bit tables: 16 bits per entry, ``start_address`` in
        units of 16 bits; ``count`` then counts those entries, not bits).
        """
        if self.fault == "silent":
            raise NoSuchIdException(f"device {self.device.id} is silent (simulated fault)")
        if self.fault == "exception":
            return ExcCodes.DEVICE_FAILURE
        table = _FC_TABLE.get(function_code)
        span = self.spans.get(table) if table is not None else None
        if table is None or span is None:
            return ExcCodes.ILLEGAL_ADDRESS
        if table not in BIT_TABLES and not (address in span and address + count - 1 in span):
            return ExcCodes.ILLEGAL_ADDRESS
        if set_values is not None:
            addresses = range(address, address + len(set_values))
            if any(a not in span.writable for a in addresses):
                return ExcCodes.ILLEGAL_ADDRESS
            span.values[address - span.start : address - span.start + len(set_values)] = [
                int(v) for v in set_values
            ]
        served = self._garbage.get(table, span.values)
        if table in BIT_TABLES:
            lead = [False] * (span.start - start_address * 16)
            bits = lead + [bool(b) for b in served]
            bits += [False] * (-len(bits) % 16)
            packed = SimUtils.bitsToRegisters(bits)
            current_registers[: len(packed)] = packed
        else:
            first = span.start - start_address
            current_registers[first : first + len(served)] = served
        return None


@dataclasses.dataclass
class _Port:
    """One TCP server: the devices behind one (simulated) gateway."""

    port: int
    images: list[_DeviceImage]
    server: ModbusTcpServer | None = None


class SimulatedDevices:
    """A site's Modbus devices, served over TCP on loopback.

    Parameters
    ----------
    site : Site
        Profile and hardware maps; every device of the profile is served.
    port_offset : int
        Added to each profile port (run two simulators side by side).
    ports : mapping of device id to port, optional
        Explicit ports; devices that share a port in the profile must map to the
        same port. ``0`` binds a free port (see :attr:`ports` after :meth:`start`).
    host : str
        Address to listen on.
    seed : int
        Seed of the garbage fault's random words.

    Raises
    ------
    ValueError
        Conflicting ports, or two devices with one unit id on one port.
    """

    def __init__(
        self,
        site: Site,
        *,
        port_offset: int = 0,
        ports: Mapping[str, int] | None = None,
        host: str = "127.0.0.1",
        seed: int = 0,
    ) -> None:
        self.site = site
        self.host = host
        explicit = dict(ports or {})
        self._images: dict[str, _DeviceImage] = {}
        groups: dict[tuple[str, int], list[DeviceBinding]] = {}
        for device in site.profile.devices:
            self._images[device.id] = _DeviceImage(device, site.maps[device.id], seed)
            groups.setdefault((device.host, device.port), []).append(device)
        self._ports: list[_Port] = []
        self._port_of: dict[str, _Port] = {}
        taken: set[int] = set()
        for (_host, profile_port), devices in groups.items():
            chosen = {explicit[d.id] for d in devices if d.id in explicit}
            if len(chosen) > 1:
                names = [d.id for d in devices]
                raise ValueError(f"devices {names} share a port but were given ports {chosen}")
            port = chosen.pop() if chosen else profile_port + port_offset
            if port and port in taken:
                raise ValueError(f"port {port} given to two gateways")
            taken.add(port)
            units = [d.unit_id for d in devices]
            if len(set(units)) != len(units):
                raise ValueError(f"port {port}: duplicate unit ids {units}")
            entry = _Port(port, [self._images[d.id] for d in devices])
            self._ports.append(entry)
            self._port_of.update({d.id: entry for d in devices})

    async def __aenter__(self) -> SimulatedDevices:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Start every server that is not running (must be called in the event loop)."""
        for entry in self._ports:
            await self._start(entry)

    async def stop(self) -> None:
        """Stop every server; the register contents are kept for a later :meth:`start`."""
        for entry in self._ports:
            await self._stop(entry)

    async def start_port(self, device_id: str) -> None:
        """Start the server (gateway) that serves ``device_id`` again."""
        await self._start(self._port_of[device_id])

    async def stop_port(self, device_id: str) -> None:
        """Stop the server that serves ``device_id`` and every device on its port."""
        await self._stop(self._port_of[device_id])

    async def _start(self, entry: _Port) -> None:
        if entry.server is not None:
            return
        server = ModbusTcpServer(
            [image.sim_device() for image in entry.images],
            address=(self.host, entry.port),
            ignore_missing_devices=True,  # lets the "silent" fault drop requests
        )
        try:
            await server.serve_forever(background=True)
        except RuntimeError as exc:
            raise OSError(f"cannot listen on {self.host}:{entry.port}: {exc}") from exc
        listener = server.transport
        if isinstance(listener, asyncio.Server):  # the bound port, when 0 was asked for
            entry.port = listener.sockets[0].getsockname()[1]
        entry.server = server

    async def _stop(self, entry: _Port) -> None:
        if entry.server is None:
            return
        server, entry.server = entry.server, None
        await server.shutdown()

    @property
    def ports(self) -> dict[str, int]:
        """Port of each device (the bound one once started)."""
        return {device_id: entry.port for device_id, entry in self._port_of.items()}

    def bound_site(self) -> Site:
        """The site with every device's host and port pointing at this simulator."""
        devices = tuple(
            d.model_copy(update={"host": self.host, "port": self._port_of[d.id].port})
            for d in self.site.profile.devices
        )
        profile = self.site.profile.model_copy(update={"devices": devices})
        return dataclasses.replace(self.site, profile=profile)

    # -- values and faults -------------------------------------------------------------

    def _register(self, device_id: str, register_name: str) -> tuple[_DeviceImage, Register]:
        image = self._images[device_id]
        return image, image.hw.register(register_name)

    def set_value(self, device_id: str, register_name: str, value_canonical: float) -> None:
        """Store ``value_canonical`` (canonical units) in a register, as the device would.

        The value is converted to the register's unit and encoded by the map; it is
        not range-checked, so out-of-range readings can be simulated.

        Raises
        ------
        KeyError
            Unknown device or register.
        EncodeError
            The value cannot be represented (NaN, overflow, not 0/1 for a bit).
        """
        image, reg = self._register(device_id, register_name)
        value = from_canonical(value_canonical, reg.unit)
        image.put(reg, encode_register(reg, value, enforce_range=False))

    def get_value(self, device_id: str, register_name: str) -> float:
        """A register's stored value in canonical units (what a controller wrote)."""
        image, reg = self._register(device_id, register_name)
        return to_canonical(decode_register(reg, image.get(reg)), reg.unit)[0]

    def set_fault(self, device_id: str, kind: FaultKind) -> None:
        """Inject a fault into one device (see the module docstring), ``"none"`` clears it."""
        if kind not in get_args(FaultKind):
            raise ValueError(f"unknown fault {kind!r}; choose one of {get_args(FaultKind)}")
        self._images[device_id].set_fault(kind)

    def fault(self, device_id: str) -> FaultKind:
        """The fault currently injected into ``device_id``."""
        return self._images[device_id].fault
