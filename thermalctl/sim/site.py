"""The simulated site: the plant behind real Modbus TCP devices.

:class:`SimulatedSite` steps the :class:`~thermalctl.sim.plant.Plant` to the
clock's time, publishes what every bound signal would measure into the devices'
registers, and reads back what the controller wrote to the actuator registers.
The controller talks to it only over Modbus TCP, through the same hardware maps
as a real site.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable

from thermalctl.config.loader import Site
from thermalctl.models import signals as sig
from thermalctl.sim.inputs import SyntheticWeather, Weather
from thermalctl.sim.modbus_server import SimulatedDevices
from thermalctl.sim.plant import Commands, Plant

__all__ = ["SimulatedSite", "plant_signal"]

log = logging.getLogger(__name__)


Getter = Callable[[], "float | None"]
#: Per plant, each signal's getter (None: the plant has no such quantity), built on first
#: use: the signal names are parsed once, not on every reading.
_GETTERS: weakref.WeakKeyDictionary[Plant, dict[str, Getter | None]] = (
    weakref.WeakKeyDictionary()
)


def plant_signal(plant: Plant, signal: str) -> float | None:
    """What a meter bound to ``signal`` would read from ``plant`` (None if unknown)."""
    getters = _GETTERS.get(plant)
    if getters is None:
        getters = _GETTERS[plant] = {}
    try:
        getter = getters[signal]
    except KeyError:
        getter = getters[signal] = _getter(plant, signal)
    return None if getter is None else getter()


def _getter(plant: Plant, signal: str) -> Getter | None:
    """A function reading ``signal`` from ``plant``'s live state (None if unknown)."""
    try:
        ref = sig.parse(signal)
    except sig.UnknownSignalError:
        return None
    quantity = ref.spec.quantity
    if ref.group is not None:
        gid = ref.group
        rack: dict[str, Getter] = {
            "power_w": lambda: plant.group_power_w[gid],
            "energy_kwh": lambda: plant.totals.group_it_kwh[gid],
            "coolant_out_temp_c": lambda: plant.group_outlet_temp_c(gid),
            "queued_kwh": lambda: plant.queued_kwh(gid),
            "must_run_w": lambda: _must_run_w(plant, gid),
        }
        return rack.get(quantity)
    if ref.sink is not None:
        sid = ref.sink
        sink: dict[str, Getter] = {
            "temp_c": lambda: plant.sink_temp_c[sid],
            "mean_temp_c": lambda: (
                plant.tank_mean_temp_c(sid) if sid in plant.tank_nodes_c else None
            ),
            "heat_w": lambda: plant.sink_heat_w[sid],
            "energy_kwh": lambda: plant.totals.sink_kwh[sid],
            "backup_heat_w": lambda: plant.backup_heat_w[sid],
            "backup_energy_kwh": lambda: plant.totals.backup_kwh[sid],
            "heat_pump_power_w": lambda: plant.heat_pump_w.get(sid),
            "heat_pump_energy_kwh": lambda: plant.totals.sink_heat_pump_electricity_kwh.get(sid),
        }
        return sink.get(quantity)
    site: dict[str, Getter] = {
        sig.LOOP_SUPPLY_TEMP_C: plant.supply_temp_c,
        sig.LOOP_RETURN_TEMP_C: plant.return_temp_c,
        sig.LOOP_FLOW_M3_PER_S: lambda: plant.loop_flow_m3_per_s,
        sig.LOOP_PUMP_POWER_W: lambda: plant.pump_w,
        sig.LOOP_HEAT_PATH_FAULT: lambda: float(plant.heat_path_fault),
        sig.DUMP_HEAT_W: lambda: plant.dump_heat_w,
        sig.DUMP_FAN_POWER_W: lambda: plant.dump_fan_w,
        sig.DUMP_ENERGY_KWH: lambda: plant.totals.dumped_kwh,
        sig.FACILITY_POWER_W: lambda: plant.facility_w,
        sig.FACILITY_ENERGY_KWH: lambda: plant.totals.facility_kwh,
        sig.IT_POWER_W: lambda: sum(plant.group_power_w.values()),
        sig.IT_ENERGY_KWH: lambda: plant.totals.it_kwh,
        sig.AMBIENT_TEMP_C: lambda: plant.ambient.temp_c,
    }
    return site.get(signal)


def _command(cmd: Commands, signal: str) -> float | None:
    """The plant's current command for an actuator signal (None if the plant has none)."""
    ref = sig.parse(signal)
    if ref.group is not None and ref.spec.quantity == "gpu_power_cap_w":
        return cmd.gpu_power_cap_w[ref.group]
    if ref.sink is not None and ref.spec.quantity == "heat_request_w":
        return cmd.sink_heat_request_w[ref.sink]
    if signal == sig.DUMP_ON:
        return float(cmd.dump_on)
    if signal == sig.DUMP_HEAT_REQUEST_W:
        return cmd.dump_heat_request_w
    return None


def _set_command(cmd: Commands, signal: str, value: float) -> None:
    """Apply what the controller wrote to an actuator signal to the plant's commands."""
    ref = sig.parse(signal)
    if ref.group is not None and ref.spec.quantity == "gpu_power_cap_w":
        cmd.gpu_power_cap_w[ref.group] = value
    elif ref.sink is not None and ref.spec.quantity == "heat_request_w":
        cmd.sink_heat_request_w[ref.sink] = value
    elif signal == sig.DUMP_ON:
        cmd.dump_on = bool(value)
    elif signal == sig.DUMP_HEAT_REQUEST_W:
        cmd.dump_heat_request_w = value


def _must_run_w(plant: Plant, group_id: str) -> float:
    """Idle plus inference power of a group, as its scheduler agent would report it."""
    group = plant.profile.rack_group(group_id)
    must = group.idle_power_w + plant.workloads[group_id].must_run_w(plant.time_s)
    return min(must, group.max_power_w)


class SimulatedSite:
    """Plant + simulated Modbus devices, kept in step with a clock."""

    def __init__(
        self,
        site: Site,
        clock: Callable[[], float],
        *,
        ports: dict[str, int] | None = None,
        weather: Callable[[float], Weather] | None = None,
    ) -> None:
        self.site = site
        self.clock = clock
        self.start_s = clock()
        self.plant = Plant(site.profile, start_s=self.start_s)
        self.devices = SimulatedDevices(site, ports=ports)
        self.weather = weather or SyntheticWeather(site.profile.simulation)
        self.overrides: dict[str, float] = {}

    async def start(self) -> None:
        await self.devices.start()
        self.publish()

    async def stop(self) -> None:
        await self.devices.stop()

    def sync(self) -> None:
        """Read commands, step the plant to the clock, publish measurements."""
        self.read_commands()
        now = self.clock()
        dt = now - self.plant.time_s
        if dt > 0:
            self.plant.step(dt, self.weather(self.plant.time_s))
        self.publish()

    def read_commands(self) -> None:
        cmd = self.plant.commands
        for dev in self.site.profile.devices:
            for signal, reg in dev.actuators.items():
                _set_command(cmd, signal, self.devices.get_value(dev.id, reg))

    def publish(self) -> None:
        for dev in self.site.profile.devices:
            for signal, reg in dev.signals.items():
                value = self.overrides.get(signal, plant_signal(self.plant, signal))
                if value is not None:
                    self.devices.set_value(dev.id, reg, value)

    def initialise_actuators(self) -> None:
        """Write the plant's starting commands into the actuator registers."""
        cmd = self.plant.commands
        for dev in self.site.profile.devices:
            for signal, reg in dev.actuators.items():
                value = _command(cmd, signal)
                if value is not None:
                    self.devices.set_value(dev.id, reg, value)

    # -- fault injection (tests, demos) ------------------------------------------------
    def override(self, signal: str, value: float) -> None:
        """Make the devices report ``value`` for ``signal`` (e.g. a hot coolant reading)."""
        self.overrides[signal] = value

    def clear_faults(self) -> None:
        self.overrides.clear()
