"""The simulated site: the plant behind real Modbus TCP devices.

:class:`SimulatedSite` steps the :class:`~thermalctl.sim.plant.Plant` to the
clock's time, publishes what every bound signal would measure into the devices'
registers, and reads back what the controller wrote to the actuator registers.
The controller talks to it only over Modbus TCP, through the same hardware maps
as a real site.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from thermalctl.config.loader import Site
from thermalctl.sim.inputs import SyntheticWeather, Weather
from thermalctl.sim.modbus_server import SimulatedDevices
from thermalctl.sim.plant import Plant

__all__ = ["SimulatedSite", "plant_signal"]

log = logging.getLogger(__name__)


def plant_signal(plant: Plant, signal: str) -> float | None:
    """What a meter bound to ``signal`` would read from ``plant`` (None if unknown)."""
    parts = signal.split(".")
    head, name = parts[0], parts[-1]
    t = plant.totals
    if head == "rack":
        gid = parts[1]
        return {
            "power_w": plant.group_power_w[gid],
            "energy_kwh": t.group_it_kwh[gid],
            "coolant_out_temp_c": plant.return_temp_c(),
            "queued_kwh": plant.queued_kwh(gid),
            "must_run_w": _must_run_w(plant, gid),
        }.get(name)
    if head == "sink":
        sid = parts[1]
        return {
            "temp_c": plant.sink_temp_c[sid],
            "mean_temp_c": plant.tank_mean_temp_c(sid) if sid in plant.tank_nodes_c else None,
            "heat_w": plant.sink_heat_w[sid],
            "energy_kwh": t.sink_kwh[sid],
            "backup_heat_w": plant.backup_heat_w[sid],
            "backup_energy_kwh": t.backup_kwh[sid],
        }.get(name)
    table: dict[str, float] = {
        "loop.supply_temp_c": plant.supply_temp_c(),
        "loop.return_temp_c": plant.return_temp_c(),
        "loop.flow_m3_per_s": plant.loop_flow_m3_per_s,
        "loop.pump_power_w": plant.pump_w,
        "loop.heat_path_fault": float(plant.heat_path_fault),
        "dump.heat_w": plant.dump_heat_w,
        "dump.fan_power_w": plant.dump_fan_w,
        "dump.energy_kwh": t.dumped_kwh,
        "facility.power_w": plant.facility_w,
        "facility.energy_kwh": t.facility_kwh,
        "it.power_w": sum(plant.group_power_w.values()),
        "it.energy_kwh": t.it_kwh,
        "ambient.temp_c": plant.ambient.temp_c,
    }
    return table.get(signal)


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
                value = self.devices.get_value(dev.id, reg)
                parts = signal.split(".")
                if signal.endswith("gpu_power_cap_w"):
                    cmd.gpu_power_cap_w[parts[1]] = value
                elif signal.endswith("heat_request_w") and parts[0] == "sink":
                    cmd.sink_heat_request_w[parts[1]] = value
                elif signal == "dump.on":
                    cmd.dump_on = bool(value)
                elif signal == "dump.heat_request_w":
                    cmd.dump_heat_request_w = value

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
                parts = signal.split(".")
                value: float | None = None
                if signal.endswith("gpu_power_cap_w"):
                    value = cmd.gpu_power_cap_w[parts[1]]
                elif signal.endswith("heat_request_w") and parts[0] == "sink":
                    value = cmd.sink_heat_request_w[parts[1]]
                elif signal == "dump.on":
                    value = float(cmd.dump_on)
                elif signal == "dump.heat_request_w":
                    value = cmd.dump_heat_request_w
                if value is not None:
                    self.devices.set_value(dev.id, reg, value)

    # -- fault injection (tests, demos) ------------------------------------------------
    def override(self, signal: str, value: float) -> None:
        """Make the devices report ``value`` for ``signal`` (e.g. a hot coolant reading)."""
        self.overrides[signal] = value

    def clear_faults(self) -> None:
        self.overrides.clear()
