"""Modbus TCP client: one :class:`ModbusHub` per bus (host:port, or a named gateway).

The hub owns the bus: one pymodbus ``AsyncModbusTcpClient``, one lock so that
devices behind a gateway take turns, and the reconnect back-off. It reads a
device's bound registers (decoded by its hardware map, converted to canonical
units) and writes actuator registers.

Reads never raise: every register comes back as a :class:`~thermalctl.points.Reading`,
``BAD`` with a reason when the bus is down, the device times out, answers with a
Modbus exception, or reports a value outside the register's valid range. Writes
raise :class:`~thermalctl.adapters.errors.WriteRefused` before sending anything
that is not allowed, and :class:`~thermalctl.adapters.errors.DeviceError` when the
device or the bus fails.

Connection failures back off exponentially (``backoff_initial_s`` doubling up to
``backoff_max_s``); while backing off, reads fail fast without touching the
network. Writes always try to connect: a command (open the dump) must not wait for
a back-off timer. A bus failure is logged once when it starts and once when it
recovers; the same holds for each device's read failures.

pymodbus quirks handled here (3.16): ``device_id=`` names the unit; the client's
own reconnect task is disabled (``reconnect_delay=0``) so that the hub alone
decides when to reconnect; ``retries=0`` so that a silent device costs one
timeout, not four; pymodbus' own "close after N unanswered requests" is replaced by
the hub's count over the whole bus (:data:`MAX_UNANSWERED`), so one dead unit behind
a gateway does not make the hub back off from its live neighbours. pymodbus does not
fail a pending request when the peer closes the connection: such a request ends in a
timeout, which the hub then reports as a lost connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.constants import ExcCodes
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.pdu import ModbusPDU

from thermalctl.adapters.errors import DeviceError, WriteRefused
from thermalctl.adapters.modbus_codec import (
    DecodeError,
    EncodeError,
    ReadBlock,
    check_range,
    encode_register,
    from_canonical,
    plan_reads,
    unpack_block,
)
from thermalctl.config.hardware import HardwareMap, Register, Table
from thermalctl.config.site import DeviceBinding
from thermalctl.config.units import to_canonical
from thermalctl.points import Quality, Reading

if TYPE_CHECKING:
    from thermalctl.config.loader import Site

__all__ = [
    "MAX_UNANSWERED",
    "ModbusHub",
    "bound_registers",
    "close_hubs",
    "describe_exception_code",
    "hubs_for",
]

_LOG = logging.getLogger(__name__)

#: Consecutive unanswered requests on a bus after which the hub reopens the
#: connection (a half-open TCP connection to a dead gateway never errors by itself).
MAX_UNANSWERED = 3


def bound_registers(device: DeviceBinding, hw: HardwareMap) -> list[Register]:
    """Registers a device binds: its signals, then its actuators (read back), once each."""
    names = dict.fromkeys([*device.signals.values(), *device.actuators.values()])
    return [hw.register(name) for name in names]


def describe_exception_code(code: int) -> str:
    """``"0x02 ILLEGAL_ADDRESS"`` for a Modbus exception code."""
    try:
        name = ExcCodes(code).name
    except ValueError:
        name = "unknown"
    return f"{code:#04x} {name}"


#: pymodbus' internal timeout as a multiple of the hub's (see ``_new_client``).
LIBRARY_TIMEOUT_FACTOR = 5.0


class ModbusHub:
    """The one client of one Modbus TCP bus.

    Parameters
    ----------
    host, port : str, int
        The device or gateway to connect to.
    timeout_s : float
        Connect and response timeout of the client [s]; each device's own
        ``timeout_s`` also bounds its requests.
    backoff_initial_s, backoff_max_s : float
        First and largest wait between reconnect attempts [s].
    max_gap : int
        Unused registers read through rather than split at (see ``plan_reads``).
    clock : callable
        Monotonic seconds; injectable so tests can step time.
    name : str, optional
        Bus key used in logs (default ``host:port``).
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout_s: float = 1.0,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 60.0,
        max_gap: int = 8,
        clock: Callable[[], float] = time.monotonic,
        name: str | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.name = name or f"{host}:{port}"
        self.timeout_s = timeout_s
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.max_gap = max_gap
        self._clock = clock
        self._client: AsyncModbusTcpClient | None = None
        self._lock = asyncio.Lock()
        self._failures = 0
        self._next_attempt_s = -float("inf")
        self._failing_devices: set[str] = set()
        self._unanswered = 0
        #: Each device's read plan, made once (binding and map are frozen): device id ->
        #: (binding, map, blocks), used while the same binding and map are passed.
        self._plans: dict[str, tuple[DeviceBinding, HardwareMap, list[ReadBlock]]] = {}

    @property
    def connected(self) -> bool:
        """True while the TCP connection is open."""
        return self._client is not None and self._client.connected

    @property
    def failing(self) -> bool:
        """True after a connection failure, until a connection succeeds."""
        return self._failures > 0

    # -- connection --------------------------------------------------------------------

    def _new_client(self) -> AsyncModbusTcpClient:
        # Built lazily: pymodbus needs a running event loop to build a client.
        client = AsyncModbusTcpClient(
            self.host,
            port=self.port,
            name=self.name,
            # pymodbus' own wait_for is only a backstop: the hub's asyncio.timeout must fire
            # first, or the two race and a bare CancelledError escapes (seen on CPython 3.11
            # when the event loop stalls past both deadlines).
            timeout=self.timeout_s * LIBRARY_TIMEOUT_FACTOR,
            retries=0,
            reconnect_delay=0,
        )
        # The hub, not pymodbus, decides when silence means a dead connection.
        client.set_max_no_responses(2**31)
        return client

    async def _connect(self, *, force: bool) -> AsyncModbusTcpClient:
        """The connected client (call with the lock held).

        Raises ``DeviceError`` while backing off (unless ``force``) or when the
        connection attempt fails.
        """
        if self._client is not None and self._client.connected:
            return self._client
        now = self._clock()
        if not force and now < self._next_attempt_s:
            raise DeviceError(
                f"connection error: bus {self.name} down, next connection attempt in "
                f"{self._next_attempt_s - now:.1f} s"
            )
        if self._client is None:
            self._client = self._new_client()
        try:
            async with asyncio.timeout(self.timeout_s):
                connected = await self._client.connect()
        except TimeoutError:
            connected = False
        if connected:
            self._bus_ok()
            return self._client
        reason = f"connection error: cannot connect to {self.name}"
        self._bus_failed(reason)
        raise DeviceError(reason)

    def _bus_failed(self, reason: str) -> None:
        if self._failures == 0:
            _LOG.warning("Modbus bus %s failing: %s", self.name, reason)
        delay = min(self.backoff_max_s, self.backoff_initial_s * 2.0 ** min(self._failures, 30))
        self._failures += 1
        self._next_attempt_s = self._clock() + delay

    def _bus_ok(self) -> None:
        if self._failures:
            _LOG.info(
                "Modbus bus %s recovered after %d failed attempt(s)", self.name, self._failures
            )
        self._failures = 0
        self._next_attempt_s = -float("inf")

    def _lost(self, reason: str) -> DeviceError:
        """Close the connection, start backing off, and say why."""
        if self._client is not None:
            self._client.close()
        self._bus_failed(reason)
        return DeviceError(f"connection error: {reason}")

    async def close(self) -> None:
        """Close the connection; the hub reconnects if it is used again."""
        async with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    # -- requests ----------------------------------------------------------------------

    async def _request(
        self,
        device: DeviceBinding,
        call: Callable[[AsyncModbusTcpClient], Awaitable[ModbusPDU]],
        *,
        force_connect: bool = False,
    ) -> ModbusPDU:
        """Run one request under the lock; translate every failure to DeviceError."""
        async with self._lock:
            client = await self._connect(force=force_connect)
            try:
                async with asyncio.timeout(device.timeout_s):
                    result = await call(client)
            except (TimeoutError, ModbusIOException) as exc:
                if not client.connected:  # the peer closed while we waited
                    raise self._lost(f"connection to {self.name} lost") from exc
                self._unanswered += 1
                if self._unanswered >= MAX_UNANSWERED:
                    self._unanswered = 0
                    client.close()  # reopened by the next request
                detail = "" if isinstance(exc, TimeoutError) else f" ({exc})"
                raise DeviceError(
                    f"timeout: unit {device.unit_id} gave no valid answer within "
                    f"{device.timeout_s} s{detail}"
                ) from exc
            except (ConnectionException, OSError) as exc:
                raise self._lost(str(exc)) from exc
            except ModbusException as exc:
                raise DeviceError(f"modbus error: {exc}") from exc
            self._unanswered = 0
        if result.isError():
            code = getattr(result, "exception_code", 0)
            raise DeviceError(f"exception response {describe_exception_code(code)}")
        return result

    async def _read_block(self, device: DeviceBinding, block: ReadBlock) -> Sequence[int]:
        kwargs = {"count": block.count, "device_id": device.unit_id}
        readers = {
            Table.HOLDING: lambda c: c.read_holding_registers(block.start, **kwargs),
            Table.INPUT: lambda c: c.read_input_registers(block.start, **kwargs),
            Table.COIL: lambda c: c.read_coils(block.start, **kwargs),
            Table.DISCRETE: lambda c: c.read_discrete_inputs(block.start, **kwargs),
        }
        result = await self._request(device, readers[block.table])
        return list(result.bits) if block.is_bits else list(result.registers)

    async def read_device(
        self, device: DeviceBinding, hw: HardwareMap, now_s: float
    ) -> list[Reading]:
        """Read every register ``device`` binds (signals and actuator read-backs).

        Returns one reading per register, named ``<device id>.<register name>``, in
        canonical units, stamped ``now_s``. Never raises: failures become ``BAD``
        readings with a reason. After a timeout or a lost connection the device's
        remaining requests in this read are skipped (a dead device costs one
        timeout, not one per request) and carry the same reason. (A binding that
        names a register missing from the map raises ``KeyError``; ``load_site``
        rejects such profiles.)
        """
        readings: list[Reading] = []
        skip_reason: str | None = None
        failures: list[str] = []
        for block in self._read_plan(device, hw):
            if skip_reason is not None:
                readings.extend(_bad_block(device, block, now_s, skip_reason))
                continue
            try:
                words = await self._read_block(device, block)
                values = unpack_block(block, words)
            except DeviceError as exc:
                reason = str(exc)
                failures.append(reason)
                readings.extend(_bad_block(device, block, now_s, reason))
                if not reason.startswith("exception response"):
                    skip_reason = reason  # the same cause; the device is not asked again
                continue
            except DecodeError as exc:
                failures.append(f"decode error: {exc}")
                readings.extend(_bad_block(device, block, now_s, f"decode error: {exc}"))
                continue
            readings.extend(
                _reading(device, reg, values[reg.name], now_s) for reg in block.registers
            )
        self._log_device(device, failures)
        return readings

    def _read_plan(self, device: DeviceBinding, hw: HardwareMap) -> list[ReadBlock]:
        """The blocks that read every register ``device`` binds (planned once)."""
        cached = self._plans.get(device.id)
        if cached is not None and cached[0] is device and cached[1] is hw:
            return cached[2]
        blocks = plan_reads(hw, [r.name for r in bound_registers(device, hw)], self.max_gap)
        self._plans[device.id] = (device, hw, blocks)
        return blocks

    def _log_device(self, device: DeviceBinding, failures: list[str]) -> None:
        if failures and device.id not in self._failing_devices:
            self._failing_devices.add(device.id)
            _LOG.warning("Modbus device %s read failing: %s", device.id, failures[0])
        elif not failures and device.id in self._failing_devices:
            self._failing_devices.discard(device.id)
            _LOG.info("Modbus device %s read recovered", device.id)

    async def write(
        self, device: DeviceBinding, hw: HardwareMap, register_name: str, value_canonical: float
    ) -> None:
        """Write ``value_canonical`` (canonical units) to a writable register.

        Raises
        ------
        WriteRefused
            Unknown or read-only register, value outside its valid range or not
            representable; nothing was sent.
        DeviceError
            No connection, timeout or Modbus exception response.
        """
        try:
            reg = hw.register(register_name)
        except KeyError as exc:
            raise WriteRefused(f"device {device.id}: {exc.args[0]}") from exc
        if not reg.writable:
            raise WriteRefused(f"device {device.id}: register {reg.name!r} is read-only")
        value = from_canonical(value_canonical, reg.unit)
        try:
            words = encode_register(reg, value)
        except EncodeError as exc:
            raise WriteRefused(f"device {device.id}: {exc}") from exc
        unit = device.unit_id
        if reg.table is Table.COIL:
            await self._request(
                device,
                lambda c: c.write_coil(reg.address, bool(words[0]), device_id=unit),
                force_connect=True,
            )
        else:
            await self._request(
                device,
                lambda c: c.write_registers(reg.address, words, device_id=unit),
                force_connect=True,
            )


def _reading(device: DeviceBinding, reg: Register, value: float, now_s: float) -> Reading:
    """A GOOD reading in canonical units, or BAD when outside the register's range."""
    point = f"{device.id}.{reg.name}"
    canonical_unit = to_canonical(0.0, reg.unit)[1]
    canonical, unit = to_canonical(value, reg.unit)
    if (reason := check_range(reg, value)) is not None:
        # BAD, but the value the device sent is kept: safety trips at once on a critical
        # value beyond its register's range (too hot, or a broken sensor) instead of
        # waiting for the last good value to turn stale.
        return Reading(point, canonical, canonical_unit, Quality.BAD, now_s,
                       f"out of range: {reason}")
    return Reading(point, canonical, unit, Quality.GOOD, now_s)


def _bad_block(
    device: DeviceBinding, block: ReadBlock, now_s: float, reason: str
) -> Iterable[Reading]:
    for reg in block.registers:
        unit = to_canonical(0.0, reg.unit)[1]
        yield Reading.bad(f"{device.id}.{reg.name}", unit, now_s, reason)


def hubs_for(
    site: Site,
    *,
    backoff_initial_s: float = 0.5,
    backoff_max_s: float = 60.0,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, ModbusHub]:
    """One hub per bus of ``site``, keyed by :attr:`DeviceBinding.bus_key`.

    Devices that share a bus (a gateway) share a hub; its client timeout is the
    longest of theirs. The keyword arguments go to every :class:`ModbusHub`.

    Raises
    ------
    ValueError
        Two devices name the same bus but different hosts or ports.
    """
    members: dict[str, list[DeviceBinding]] = {}
    for device in site.profile.devices:
        members.setdefault(device.bus_key, []).append(device)
    hubs: dict[str, ModbusHub] = {}
    for key, devices in members.items():
        endpoints = {(d.host, d.port) for d in devices}
        if len(endpoints) > 1:
            raise ValueError(f"bus {key!r}: devices disagree on host:port {sorted(endpoints)}")
        host, port = endpoints.pop()
        hubs[key] = ModbusHub(
            host,
            port,
            timeout_s=max(d.timeout_s for d in devices),
            backoff_initial_s=backoff_initial_s,
            backoff_max_s=backoff_max_s,
            clock=clock,
            name=key,
        )
    return hubs


async def close_hubs(hubs: dict[str, ModbusHub]) -> None:
    """Close every hub."""
    for hub in hubs.values():
        await hub.close()
