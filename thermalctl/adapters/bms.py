"""BMS Modbus TCP server: the controller as a device on the building management system.

The register map is generated from the site profile by :func:`bms_register_map`
(``thermalctl registers`` prints it):

* input registers - measured values and the planner's targets: ``float32`` (two
  registers, high word first, IEEE-754; NaN when unknown), energy counters ``uint32``
  in 0.1 kWh (``0xFFFFFFFF`` when unknown); then the controller's status as ``uint32``:
  active alarms, active critical alarms, the mode in force, the time of the last tick;
* discrete inputs - any alarm, a critical alarm, safe mode, BMS heartbeat lost, dump on;
* holding registers - the heartbeat, the mode and the operator settings (sink set
  points, GPU power caps). Only these are writable; a value outside a register's
  bounds is refused with Modbus exception 3 (illegal data value), a write to any
  other address with exception 2 (illegal data address). Every accepted or refused
  setting goes to the operator port with the source ``bms:<client ip>``.

The alarm and status registers come from the :class:`TickLike` the controller hands
every observer, so every alarm the controller raises (devices, the store, telemetry,
MQTT, safety) shows here, and they keep moving when the store cannot be written.

Only the functions in :data:`~thermalctl.adapters.bms_protocol.SUPPORTED_FUNCTIONS` are
served; any other (22 mask write, 23, 8, 20, 21, 24, 43, unknown codes) is answered
with exception 01. Malformed frames are answered or the connection closed, and logged
bounded in size and rate (:mod:`thermalctl.adapters.bms_protocol`). An optional
allow-list (``bms.allowed_clients``, ``THERMALCTL_BMS_ALLOW``) closes connections from
any other address.

Heartbeat watchdog: once the BMS has written the heartbeat register, it must write it
again within ``heartbeat_timeout_s``; if it stops, every setting the BMS changed goes
back to the profile's default (mode auto, profile set points, no GPU cap override)
and discrete input ``heartbeat_lost`` is set until the next heartbeat.

The server is pymodbus' ``ModbusTcpServer`` (with the connection handler of
:mod:`~thermalctl.adapters.bms_protocol`) and a ``SimDevice`` whose action hook fills
the registers from the latest tick on every read and vets every write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from pymodbus.client import ModbusBaseClient
from pymodbus.constants import ExcCodes
from pymodbus.simulator import DataType as SimType
from pymodbus.simulator import SimData, SimDevice

from thermalctl.adapters.bms_protocol import PEER, BmsTcpServer, ClientNoise
from thermalctl.adapters.errors import AdapterError
from thermalctl.adapters.modbus_codec import decode_register, encode_register
from thermalctl.adapters.mqtt import TickLike
from thermalctl.config.hardware import DataType, Register, Table
from thermalctl.config.services import (
    BmsListen,
    OperatorPort,
    SettingValue,
    operator_settings,
    validate_setting,
)
from thermalctl.config.site import SiteProfile
from thermalctl.models import signals
from thermalctl.points import AlarmSeverity, Mode

__all__ = ["BmsListenError", "BmsPoint", "BmsServer", "bms_register_map"]

log = logging.getLogger(__name__)

MODE_CODES: dict[Mode, int] = {Mode.AUTO: 0, Mode.MANUAL: 1, Mode.SAFE: 2}
HEARTBEAT_ADDRESS = 0
MODE_ADDRESS = 1
SETPOINT_BASE = 100
GPU_CAP_BASE = 200
#: Energy counters: raw uint32 * 0.1 = kWh.
ENERGY_SCALE = 0.1
_UINT32_NA = 0xFFFFFFFF
_NAN32 = ModbusBaseClient.convert_to_registers(
    math.nan, ModbusBaseClient.DATATYPE.FLOAT32, word_order="big")
#: Source of the watchdog's reverts in the audit trail.
WATCHDOG_SOURCE = "bms:watchdog"
_RAW_CHARS = 40


class BmsListenError(AdapterError, OSError):
    """The BMS server cannot listen on its address (in use, not local, not resolvable).

    An ``OSError`` too, like the store's errors, so that the CLI prints it and exits 1.
    """


@dataclass(frozen=True)
class BmsPoint:
    """One register of the BMS map and where its value comes from.

    ``source`` is a signal (``loop.supply_temp_c``), ``decision:<field>:<id>``, a setting
    key (``mode``, ``setpoint/<sink>``, ``gpu_cap/<group>``), ``heartbeat`` or a status
    bit (``status:<name>``).
    """

    register: Register
    source: str


#: What the BMS map exposes, in address order (the order is the BMS integrator's contract:
#: append, never reorder). Units, kinds and descriptions come from the signal catalogue.
_BMS_SITE_SIGNALS = (
    signals.FACILITY_POWER_W, signals.FACILITY_ENERGY_KWH, signals.IT_POWER_W,
    signals.IT_ENERGY_KWH, signals.LOOP_SUPPLY_TEMP_C, signals.LOOP_RETURN_TEMP_C,
    signals.LOOP_FLOW_M3_PER_S, signals.LOOP_PUMP_POWER_W, signals.DUMP_HEAT_W,
    signals.DUMP_ENERGY_KWH, signals.DUMP_FAN_POWER_W, signals.AMBIENT_TEMP_C,
)
_BMS_RACK_QUANTITIES = ("power_w", "coolant_out_temp_c", "energy_kwh", "queued_kwh")
_BMS_SINK_QUANTITIES = ("temp_c", "heat_w", "energy_kwh", "backup_heat_w", "backup_energy_kwh")
#: Decision field -> (catalogue actuator it plans, builder of its name).
_DECISION_FIELDS = {
    "gpu_power_cap_w": lambda ident: signals.rack_signal(ident, "gpu_power_cap_w"),
    "sink_heat_request_w": lambda ident: signals.sink_signal(ident, "heat_request_w"),
}


#: Status input registers after the signals (uint32 each): name, unit, description.
_STATUS_INPUTS = (
    ("alarms_active_count", "1", "number of active alarms, any severity (store.write_failed, "
     "telemetry.outage, mqtt.second_instance, device.<id>.silent, safety ...)"),
    ("alarms_critical_count", "1", "number of active critical alarms"),
    ("mode_in_force", "1", "mode the controller runs in: 0 auto, 1 manual, 2 safe (safe "
     "after a safety trip too, whatever holding register 1 asks)"),
    ("last_tick_time_s", "s", "time of the last control tick, s since 1970 (UTC); "
     "stops moving when the control loop stops"),
)


def _site_signals(profile: SiteProfile) -> list[str]:
    out = list(_BMS_SITE_SIGNALS)
    for g in profile.rack_groups:
        out += [signals.rack_signal(g.id, q) for q in _BMS_RACK_QUANTITIES]
        out.append(f"decision:gpu_power_cap_w:{g.id}")
    for s in profile.sinks:
        out += [signals.sink_signal(s.id, q) for q in _BMS_SINK_QUANTITIES]
        out.append(f"decision:sink_heat_request_w:{s.id}")
    return out


def _spec(source: str) -> signals.SignalSpec:
    """The catalogue entry of a signal or of the actuator a decision field plans."""
    if source.startswith("decision:"):
        _, fld, ident = source.split(":")
        return signals.spec(_DECISION_FIELDS[fld](ident))
    return signals.spec(source)


def _name(source: str) -> str:
    if source.startswith("decision:"):
        _, fld, ident = source.split(":")
        return f"planned_{fld}_{ident}"
    return source.replace(".", "_").replace("/", "_").replace(":", "_")


def bms_register_map(profile: SiteProfile) -> tuple[BmsPoint, ...]:
    """The BMS register map of ``profile`` (stable order: holding, input, discrete)."""
    points: list[BmsPoint] = [
        BmsPoint(Register(name="heartbeat", address=HEARTBEAT_ADDRESS, table=Table.HOLDING,
                          data_type=DataType.UINT16, access="rw", min=0, max=65535,
                          description="write any value at least every heartbeat_timeout_s"),
                 "heartbeat"),
        BmsPoint(Register(name="mode", address=MODE_ADDRESS, table=Table.HOLDING,
                          data_type=DataType.UINT16, access="rw", min=0, max=2,
                          description="0 auto, 1 manual, 2 safe"), "mode"),
    ]
    for i, s in enumerate(profile.sinks):
        points.append(BmsPoint(Register(
            name=f"setpoint_{s.id}", address=SETPOINT_BASE + i, table=Table.HOLDING,
            data_type=DataType.INT16, scale=0.1, unit="degC", access="rw", min=s.band_low_c,
            max=s.band_high_c, description=f"{s.name or s.id} set point"), f"setpoint/{s.id}"))
    for i, g in enumerate(profile.rack_groups):
        scale = 100.0 if g.max_power_w <= 6.0e6 else 1000.0
        points.append(BmsPoint(Register(
            name=f"gpu_cap_{g.id}", address=GPU_CAP_BASE + i, table=Table.HOLDING,
            data_type=DataType.UINT16, scale=scale, unit="W", access="rw", min=g.min_cap_w,
            max=g.max_power_w, description="operator GPU power cap; the maximum means none"),
            f"gpu_cap/{g.id}"))
    address = 0
    for source in _site_signals(profile):
        spec = _spec(source)
        counter = spec.kind is signals.Kind.COUNTER
        planned = "planned: " if source.startswith("decision:") else ""
        reg = Register(
            name=_name(source), address=address, table=Table.INPUT,
            data_type=DataType.UINT32 if counter else DataType.FLOAT32,
            scale=ENERGY_SCALE if counter else 1.0, unit=spec.unit,  # type: ignore[arg-type]
            description=f"{planned}{spec.description}; "
            + ("counter, 0xFFFFFFFF unknown" if counter else "NaN when unknown"))
        points.append(BmsPoint(reg, source))
        address += 2
    for name, unit, text in _STATUS_INPUTS:
        points.append(BmsPoint(Register(
            name=name, address=address, table=Table.INPUT, data_type=DataType.UINT32,
            unit=unit, description=text), f"status:{name}"))  # type: ignore[arg-type]
        address += 2
    for i, (name, text) in enumerate((
            ("alarm_active", "any alarm active (every alarm the controller raises: "
             "devices, store, telemetry, MQTT, safety)"),
            ("alarm_critical", "a critical alarm active"),
            ("safe_mode", "controller in safe mode"),
            ("heartbeat_lost", "BMS heartbeat timed out; settings reverted"),
            ("dump_on", "heat dump enabled"))):
        points.append(BmsPoint(Register(name=name, address=i, table=Table.DISCRETE,
                                         data_type=DataType.BOOL, description=text),
                               f"status:{name}"))
    return tuple(points)


# -- the server ---------------------------------------------------------------------------------
@dataclass
class _Image:
    inputs: dict[int, int] = field(default_factory=dict)
    bits: dict[int, bool] = field(default_factory=dict)


class BmsServer:
    """Modbus TCP server for the BMS; a controller observer (``on_tick``)."""

    def __init__(
        self,
        profile: SiteProfile,
        listen: BmsListen,
        operator: OperatorPort,
        *,
        clock: Callable[[], float] = time.monotonic,
        noise: ClientNoise | None = None,
    ) -> None:
        self.profile = profile
        self.listen = listen
        self.operator = operator
        self.clock = clock
        self.noise = noise or ClientNoise(clock=clock)
        self.points = bms_register_map(profile)
        self._settings = {s.key: s for s in operator_settings(profile)}
        self._holding = {p.register.address: p for p in self.points
                         if p.register.table is Table.HOLDING}
        self._inputs = [p for p in self.points if p.register.table is Table.INPUT]
        self._discrete = [p for p in self.points if p.register.table is Table.DISCRETE]
        self.last_heartbeat: float | None = None
        self.heartbeat_lost = False
        self.bms_changed: set[str] = set()
        self._image = _Image()
        self._set_inputs(None)
        self._server: BmsTcpServer | None = None
        self._watchdog: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Listen; :class:`BmsListenError` naming the address and the reason if it cannot."""
        where = f"{self.listen.host}:{self.listen.port}"
        device = SimDevice(self.listen.unit_id, simdata=self._simdata(), action=self._action)
        server = BmsTcpServer(device, address=(self.listen.host, self.listen.port),
                              unit_id=self.listen.unit_id,
                              allowed_clients=self.listen.allowed_clients, noise=self.noise)
        try:
            await server.serve_forever(background=True)
        except RuntimeError as exc:  # pymodbus: "Could not start listen"; the OSError kept
            cause = server.listen_error
            if cause is None:
                reason = str(exc)
            elif isinstance(cause.errno, int) and cause.errno > 0:
                reason = os.strerror(cause.errno)   # asyncio's own text repeats the address
            else:
                reason = cause.strerror or str(cause)  # a name that does not resolve
            raise BmsListenError(f"BMS server cannot listen on {where}: {reason}") from (
                cause or exc)
        self._server = server
        self._watchdog = asyncio.create_task(self._watch(), name="bms-heartbeat-watchdog")
        allow = ", ".join(str(n) for n in self.listen.allowed_clients) or "any address"
        log.info("BMS Modbus server listening on %s (unit %d, clients: %s)", where,
                 self.listen.unit_id, allow)

    async def stop(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            self._watchdog = None
        if self._server is not None:
            await self._server.shutdown()
            self._server = None
        self.noise.flush(force=True)

    def _simdata(self) -> tuple[list[SimData], list[SimData], list[SimData], list[SimData]]:
        coils = [SimData(0, values=False, datatype=SimType.BITS)]  # refused in _action
        discrete = [SimData(0, count=16 * math.ceil(len(self._discrete) / 16), values=False,
                            datatype=SimType.BITS)]
        holding = [SimData(a, values=0, datatype=SimType.REGISTERS) for a in sorted(self._holding)]
        inputs = [SimData(p.register.address, count=p.register.register_count, values=0,
                          datatype=SimType.REGISTERS) for p in self._inputs]
        return coils, discrete, holding, inputs

    # -- observer --------------------------------------------------------------------------
    def on_tick(self, result: TickLike) -> None:
        self._set_inputs(result)

    def _set_inputs(self, result: TickLike | None) -> None:
        alarms = () if result is None else tuple(a for a in result.alarms if a.active)
        critical = sum(1 for a in alarms if a.severity is AlarmSeverity.CRITICAL)
        mode = None if result is None else result.decision.mode
        status_values = {
            "status:alarms_active_count": float(len(alarms)),
            "status:alarms_critical_count": float(critical),
            "status:mode_in_force": math.nan if mode is None else float(MODE_CODES[mode]),
            "status:last_tick_time_s": math.nan if result is None else float(result.now_s),
        }
        words: dict[int, int] = {}
        for p in self._inputs:
            if p.source in status_values:
                value = status_values[p.source]
            else:
                value = math.nan if result is None else _value_of(result, p.source)
            for i, w in enumerate(_input_words(p.register, value)):
                words[p.register.address + i] = w
        status = {
            "alarm_active": bool(alarms),
            "alarm_critical": critical > 0,
            "safe_mode": mode is Mode.SAFE,
            "heartbeat_lost": False,  # live, see _action
            "dump_on": result is not None and result.decision.dump_on,
        }
        bits = {p.register.address: status[p.source.removeprefix("status:")]
                for p in self._discrete}
        self._image = _Image(words, bits)

    # -- Modbus requests (on the server's event loop) --------------------------------------
    async def _action(self, fc: int, start: int, address: int, count: int,
                      registers: list[int], values: list[int] | list[bool] | None
                      ) -> ExcCodes | None:
        if fc in (1, 5, 15):
            return ExcCodes.ILLEGAL_ADDRESS
        if fc == 4:
            for i in range(len(registers)):
                registers[i] = self._image.inputs.get(start + i, 0)
            return None
        if fc == 2:
            for r in range(len(registers)):
                word = 0
                for b in range(16):
                    addr = (start + r) * 16 + b
                    on = (self.heartbeat_lost if self._discrete_name(addr) == "heartbeat_lost"
                          else self._image.bits.get(addr, False))
                    word |= int(on) << b
                registers[r] = word
            return None
        if fc in (6, 16):
            if values is not None:  # pymodbus reads the register back with values None
                refused = self._write(address, [int(v) for v in values])
                if refused is not None:
                    return refused
        elif fc != 3:  # the connection screens every other function code out
            return ExcCodes.ILLEGAL_FUNCTION
        self._fill_holding(start, registers)
        return None

    def _discrete_name(self, address: int) -> str | None:
        for p in self._discrete:
            if p.register.address == address:
                return p.register.name
        return None

    def _fill_holding(self, start: int, registers: list[int]) -> None:
        for i in range(len(registers)):
            p = self._holding.get(start + i)
            if p is None:
                continue
            registers[i] = self._holding_word(p)

    def _holding_word(self, p: BmsPoint) -> int:
        if p.source == "heartbeat":
            return 0 if self.last_heartbeat is None else int(self.last_heartbeat) & 0xFFFF
        value = self.operator.setting_value(p.source)
        if isinstance(value, Mode):
            return MODE_CODES[value]
        number = p.register.max if value is None else value
        try:
            return encode_register(p.register, float(number or 0.0), enforce_range=False)[0]
        except ValueError:
            return 0

    def _write(self, address: int, words: Sequence[int]) -> ExcCodes | None:
        """Vet and apply a write of ``words`` from ``address``; an exception code if refused.

        All or nothing: a write with one refused register changes nothing, and every
        setting it carried is recorded as refused (``bms:<client ip>``).
        """
        client = PEER.get() or "unknown"
        source = f"bms:{client}"
        planned: list[tuple[BmsPoint, float, int]] = []
        for i, word in enumerate(words):
            p = self._holding.get(address + i)
            if p is None or p.register.access != "rw":
                self.noise.note(client, "write_refused",
                                f"write to register {address + i}: not a writable register")
                return ExcCodes.ILLEGAL_ADDRESS
            try:
                value = decode_register(p.register, [word])
                if p.source != "heartbeat":
                    validate_setting(self._settings[p.source], value)
            except ValueError as exc:  # DecodeError too
                self._refuse(planned, p, word, source, str(exc))
                return ExcCodes.ILLEGAL_VALUE
            planned.append((p, value, word))
        for p, value, _word in planned:  # all vetted: apply
            if p.source == "heartbeat":
                self._beat()
                continue
            setting = self._settings[p.source]
            applied: SettingValue = validate_setting(setting, value)
            if setting.clearable and value >= setting.maximum:
                applied = None
            old = self.operator.setting_value(p.source)
            self.operator.apply_setting(p.source, applied, source=source)
            self.bms_changed.add(p.source)
            if old != applied:  # a BMS that writes its set points cyclically logs no repeats
                self.noise.note(client, "setting_changed",
                                f"{p.source} = {_text(applied)} (was {_text(old)})")
        return None

    def _refuse(self, planned: Sequence[tuple[BmsPoint, float, int]], bad: BmsPoint, word: int,
                source: str, reason: str) -> None:
        client = source.removeprefix("bms:")
        self.noise.note(client, "write_refused",
                        f"{bad.register.name} ({bad.register.address}) = {word}: {reason}")
        if bad.source != "heartbeat":
            self.operator.refuse_setting(bad.source, str(word)[:_RAW_CHARS], source=source,
                                         reason=reason)
        for p, _value, other in planned:
            if p.source != "heartbeat":
                self.operator.refuse_setting(
                    p.source, str(other)[:_RAW_CHARS], source=source,
                    reason=f"not applied: the same write was refused ({reason})")

    # -- heartbeat watchdog ----------------------------------------------------------------
    def _beat(self) -> None:
        self.last_heartbeat = self.clock()
        if self.heartbeat_lost:
            log.info("BMS heartbeat back")
            self.heartbeat_lost = False

    def check_heartbeat(self) -> bool:
        """Revert BMS settings if the heartbeat timed out; True if it did just now."""
        if self.last_heartbeat is None or self.heartbeat_lost:
            return False
        if self.clock() - self.last_heartbeat <= self.listen.heartbeat_timeout_s:
            return False
        self.heartbeat_lost = True
        log.warning("BMS heartbeat not written for %.0f s; reverting %s to profile defaults",
                    self.listen.heartbeat_timeout_s, ", ".join(sorted(self.bms_changed)) or
                    "nothing")
        for key in sorted(self.bms_changed):
            setting = self._settings[key]
            self.operator.apply_setting(key, Mode.AUTO if setting.is_mode else setting.default,
                                        source=WATCHDOG_SOURCE)
        self.bms_changed.clear()
        return True

    async def _watch(self) -> None:
        period = min(1.0, self.listen.heartbeat_timeout_s / 4.0)
        while True:
            await asyncio.sleep(period)
            self.check_heartbeat()
            self.noise.flush()


def _text(value: SettingValue) -> str:
    if value is None:
        return "none"
    return value.value if isinstance(value, Mode) else f"{value:g}"


def _input_words(reg: Register, value: float) -> list[int]:
    """The words of an input register; NaN (float) or 0xFFFFFFFF (integer) when unknown."""
    unknown = list(_NAN32) if reg.data_type is DataType.FLOAT32 else [0xFFFF, 0xFFFF]
    if not math.isfinite(value):
        return unknown
    try:
        return encode_register(reg, value, enforce_range=False)
    except ValueError:
        return unknown


def _value_of(result: TickLike, source: str) -> float:
    if source.startswith("decision:"):
        _, fld, ident = source.split(":")
        values: dict[str, float] = getattr(result.decision, fld)
        return float(values.get(ident, math.nan))
    reading = result.state.readings.get(source)
    if reading is None or not reading.usable:
        return math.nan
    return float(reading.value)
