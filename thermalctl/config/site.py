"""Site profile: one YAML file per site, the single source of truth.

It names the rack groups, the heat loop, the heat sinks, the devices and MQTT
sensors that measure them (bound to logical *signals*), the safety limits,
prices, emission factors and the reporting boundary.

Signals are the controller's vocabulary, independent of any device::

    rack.<group>.power_w              rack.<group>.coolant_out_temp_c
    rack.<group>.gpu_power_cap_w      (actuator: power cap, W)   rack.<group>.queued_kwh
    rack.<group>.must_run_w            (idle + inference power the scheduler will not defer)
    loop.supply_temp_c                loop.return_temp_c       loop.flow_m3_per_s
    sink.<sink>.temp_c                sink.<sink>.heat_w       sink.<sink>.energy_kwh
    sink.<sink>.heat_request_w        (actuator: heat to send to the sink, W)
    sink.<sink>.mean_temp_c           (hot-water tank: mean of its sensors, degC)
    dump.heat_w    dump.energy_kwh    dump.on (actuator)       dump.heat_request_w (actuator)
    facility.power_w  facility.energy_kwh  it.power_w  it.energy_kwh
    ambient.temp_c    sink.<sink>.air_temp_c
    sink.<sink>.backup_heat_w         sink.<sink>.backup_energy_kwh
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from thermalctl.config.services import BmsSettings, InfluxSettings, MqttSettings
from thermalctl.config.units import Unit

__all__ = [
    "CRITICAL_SIGNALS",
    "Backup",
    "DeviceBinding",
    "DhwSink",
    "DryCooler",
    "HeatExchanger",
    "HeatLoop",
    "Limits",
    "MqttSensor",
    "PoolSink",
    "Prices",
    "RackGroup",
    "Reporting",
    "SimulationSettings",
    "SiteInfo",
    "SiteProfile",
    "SpaceHeatingSink",
    "signal_pattern",
]

#: Signals the safety layer cannot work without (coolant supply and return temperatures).
CRITICAL_SIGNALS = ("loop.supply_temp_c", "loop.return_temp_c")

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveFloat = Annotated[float, Field(gt=0.0)]
NonNegFloat = Annotated[float, Field(ge=0.0)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SiteInfo(_Frozen):
    id: Id
    name: str
    description: str = ""
    latitude_deg: Annotated[float, Field(ge=-90, le=90)]
    longitude_deg: Annotated[float, Field(ge=-180, le=180)]
    timezone: str = "UTC"
    commissioned: dt.date = Field(
        description="Start of operation (EnEfG §11 targets depend on it)."
    )
    source: str = Field(default="", description="Where the published figures come from.")


class RackGroup(_Frozen):
    """Racks that share a cooling type and a power cap."""

    id: Id
    cooling: Literal["immersion", "direct_to_chip", "rear_door", "air"]
    capture_fraction: Fraction = Field(description="Share of IT heat captured into the liquid.")
    idle_power_w: NonNegFloat
    max_power_w: PositiveFloat = Field(description="Rack power limit (all GPUs at full load).")
    must_run_fraction: Fraction = Field(
        description="Share of the mean load that is inference/must-run and is never deferred."
    )
    mean_utilisation_fraction: Fraction = Field(
        default=0.6, description="Mean utilisation of the group over a day (workload model)."
    )
    deadline_h: PositiveFloat = Field(
        default=12.0, description="Deferred work must be done within this many hours (SLA)."
    )
    ramp_w_per_s: PositiveFloat = Field(default=1e9, description="Largest power change per second.")
    min_cap_w: NonNegFloat = Field(
        default=0.0, description="Lowest GPU power cap the racks accept."
    )

    @model_validator(mode="after")
    def _check(self) -> RackGroup:
        if self.idle_power_w >= self.max_power_w:
            raise ValueError(
                f"idle_power_w {self.idle_power_w} must be below max_power_w {self.max_power_w}"
            )
        return self


class HeatExchanger(_Frozen):
    ua_w_per_k: PositiveFloat
    arrangement: Literal["counterflow", "parallel", "crossflow_unmixed"] = "counterflow"


class DryCooler(_Frozen):
    ua_w_per_k: PositiveFloat = Field(description="UA at full fan speed.")
    rated_fan_power_w: NonNegFloat
    air_flow_m3_per_s: PositiveFloat = 10.0


class HeatLoop(_Frozen):
    """The coolant loop between racks, plate heat exchangers and the dump."""

    volume_m3: PositiveFloat = Field(description="Coolant volume (thermal mass of the loop).")
    flow_m3_per_h: PositiveFloat
    pump_rated_power_w: NonNegFloat
    supply_temp_setpoint_c: float = Field(description="Coolant supply temperature to the racks.")
    hx: HeatExchanger
    dry_cooler: DryCooler
    loss_ua_w_per_k: NonNegFloat = Field(default=20.0, description="Pipe losses to plant room.")
    plant_room_temp_c: float = 22.0


class Backup(_Frozen):
    kind: Literal["gas_boiler", "heat_pump", "electric"]
    efficiency: PositiveFloat = Field(description="Boiler efficiency (fraction) or heat-pump COP.")
    max_heat_w: PositiveFloat
    fuel: Literal["gas", "electricity"] = "gas"


class _SinkBase(_Frozen):
    id: Id
    name: str = ""
    setpoint_c: float
    band_low_c: float
    band_high_c: float
    max_heat_w: PositiveFloat = Field(description="Most heat its heat exchanger can take.")
    backup: Backup

    @model_validator(mode="after")
    def _band(self) -> _SinkBase:
        if not self.band_low_c <= self.setpoint_c <= self.band_high_c:
            raise ValueError(
                f"setpoint_c {self.setpoint_c} must lie within band_low_c {self.band_low_c} and "
                f"band_high_c {self.band_high_c}"
            )
        return self


class PoolSink(_SinkBase):
    kind: Literal["pool"]
    area_m2: PositiveFloat
    volume_m3: PositiveFloat
    hall_air_temp_c: float
    hall_relative_humidity: Fraction
    activity_factor: Annotated[float, Field(ge=0.0, le=2.0)] = 0.65
    cover_hours: tuple[int, int] | None = Field(
        default=None, description="Hours [start, end) when a cover is on, local time."
    )
    fresh_water_m3_per_day: NonNegFloat = 0.0
    mains_temp_c: float = 12.0
    ground_ua_w_per_k: NonNegFloat = 0.0

    #: Fresh water per bather that ``fresh_water_m3_per_day`` is counted in (DIN 19643:
    #: 30 l), the unit :func:`thermalctl.physics.pool.pool_heat_loss_w` takes it in [m³].
    FRESH_WATER_PER_BATHER_M3: ClassVar[float] = 0.030

    def loss_model_arguments(self, cover_on: bool) -> dict[str, float | bool]:
        """Hall air, humidity, area and options of this pool, as the physics takes them."""
        return {
            "air_temp_c": self.hall_air_temp_c,
            "relative_humidity_fraction": self.hall_relative_humidity,
            "area_m2": self.area_m2,
            "activity_factor": self.activity_factor,
            "bathers_per_day": self.fresh_water_m3_per_day / self.FRESH_WATER_PER_BATHER_M3,
            "mains_temp_c": self.mains_temp_c,
            "ground_ua_w_per_k": self.ground_ua_w_per_k,
            "cover_on": cover_on,
        }


class DhwSink(_SinkBase):
    kind: Literal["dhw"]
    volume_m3: PositiveFloat
    nodes: Annotated[int, Field(ge=1, le=50)] = 6
    loss_ua_w_per_k: NonNegFloat = 3.0
    mains_temp_c: float = 12.0
    draw_m3_per_day: PositiveFloat
    draw_temp_c: float = 45.0


class SpaceHeatingSink(_SinkBase):
    kind: Literal["space_heating"]
    design_heat_w: PositiveFloat
    design_outdoor_temp_c: float = -10.0
    indoor_temp_c: float = 20.0
    heating_limit_temp_c: float = 15.0
    thermal_mass_j_per_k: PositiveFloat = 5e8


Sink = Annotated[PoolSink | DhwSink | SpaceHeatingSink, Field(discriminator="kind")]


class DeviceBinding(_Frozen):
    """A Modbus device at the site, decoded with one hardware map."""

    id: Id
    map: str = Field(description="Hardware map file stem in hardware_maps/ (or a path).")
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 502
    unit_id: Annotated[int, Field(ge=0, le=255)] = 1
    bus: str | None = Field(
        default=None, description="Devices sharing a gateway share a bus (default host:port)."
    )
    poll_period_s: PositiveFloat = 2.0
    timeout_s: PositiveFloat = 1.0
    signals: dict[str, str] = Field(
        default_factory=dict, description="signal -> register name (readings)."
    )
    actuators: dict[str, str] = Field(
        default_factory=dict, description="signal -> writable register name."
    )

    @property
    def bus_key(self) -> str:
        return self.bus or f"{self.host}:{self.port}"


class MqttSensor(_Frozen):
    name: Id
    topic: str
    json_field: str | None = Field(default=None, description="Dotted path; None = raw payload.")
    unit: Unit
    signal: str
    stale_after_s: PositiveFloat = 300.0


class Limits(_Frozen):
    coolant_supply_alarm_c: float = Field(description="Warn above this supply temperature.")
    coolant_supply_trip_c: float = Field(description="Safe mode above this supply temperature.")
    coolant_return_trip_c: float = Field(description="Safe mode above this return temperature.")
    stale_after_s: PositiveFloat = 30.0
    plausible_temp_c: tuple[float, float] = (-30.0, 110.0)
    plausible_power_w: tuple[float, float] = (-1e3, 5e6)

    @model_validator(mode="after")
    def _order(self) -> Limits:
        if self.coolant_supply_alarm_c >= self.coolant_supply_trip_c:
            raise ValueError("coolant_supply_alarm_c must be below coolant_supply_trip_c")
        return self


class Prices(_Frozen):
    electricity_eur_per_kwh: PositiveFloat
    electricity_peak_eur_per_kwh: PositiveFloat | None = None
    peak_hours: tuple[int, int] = (17, 21)
    gas_eur_per_kwh: PositiveFloat
    grid_co2_kg_per_kwh: NonNegFloat
    gas_co2_kg_per_kwh: NonNegFloat = 0.201


class Reporting(_Frozen):
    measurement_category: Literal[1, 2, 3] = Field(
        description="ISO/IEC 30134-2 PUE category: 1 UPS output, 2 PDU output, 3 IT input."
    )
    installed_it_power_kw: PositiveFloat
    floor_area_m2: PositiveFloat | None = None
    renewable_fraction: Fraction | None = None
    overhead_power_w: NonNegFloat = Field(
        default=0.0, description="Constant non-IT load inside the boundary (lights, UPS, BMS)."
    )
    ups_loss_fraction: Fraction = 0.03
    report_dir: str = "reports"
    operator: str = ""
    address: str = ""


class SimulationSettings(_Frozen):
    """Inputs the simulated site uses when no files are given."""

    weather_mean_temp_c: float = 11.0
    weather_annual_amplitude_k: float = 8.0
    weather_daily_amplitude_k: float = 4.0
    seed: int = 7
    modbus_base_port: Annotated[int, Field(ge=1024, le=65000)] = 15020


class SiteProfile(_Frozen):
    """The whole site: the one model every part of thermalctl reads."""

    site: SiteInfo
    rack_groups: Annotated[tuple[RackGroup, ...], Field(min_length=1)]
    heat_loop: HeatLoop
    sinks: Annotated[tuple[Sink, ...], Field(min_length=1)]
    devices: tuple[DeviceBinding, ...] = ()
    mqtt_sensors: tuple[MqttSensor, ...] = ()
    limits: Limits
    prices: Prices
    reporting: Reporting
    simulation: SimulationSettings = SimulationSettings()
    influx: InfluxSettings | None = None
    mqtt: MqttSettings | None = None
    bms: BmsSettings | None = None
    fast_period_s: PositiveFloat = 2.0
    plan_period_s: PositiveFloat = 900.0
    gpu_cap_actuation: Literal["modbus", "mqtt"] = "modbus"

    @model_validator(mode="after")
    def _cross_check(self) -> SiteProfile:
        _unique("rack_groups", [g.id for g in self.rack_groups])
        _unique("sinks", [s.id for s in self.sinks])
        _unique("devices", [d.id for d in self.devices])
        _unique("mqtt_sensors", [m.name for m in self.mqtt_sensors])
        pattern = signal_pattern(self)
        for i, dev in enumerate(self.devices):
            for kind in ("signals", "actuators"):
                for sig in getattr(dev, kind):
                    if not pattern.fullmatch(sig):
                        raise ValueError(
                            f"devices.{i}.{kind}: unknown signal {sig!r} (groups: "
                            f"{[g.id for g in self.rack_groups]}, sinks: "
                            f"{[s.id for s in self.sinks]})"
                        )
        for i, sensor in enumerate(self.mqtt_sensors):
            if not pattern.fullmatch(sensor.signal):
                raise ValueError(f"mqtt_sensors.{i}.signal: unknown signal {sensor.signal!r}")
            if (
                sensor.signal in CRITICAL_SIGNALS
                and sensor.stale_after_s > self.limits.stale_after_s
            ):
                raise ValueError(
                    f"mqtt_sensors.{i}.stale_after_s: {sensor.signal} is a safety signal; its "
                    f"staleness ({sensor.stale_after_s:g} s) may not exceed "
                    f"limits.stale_after_s ({self.limits.stale_after_s:g} s)"
                )
        bound: dict[str, str] = {}
        for i, dev in enumerate(self.devices):
            for sig in dev.signals:
                if sig in bound:
                    raise ValueError(
                        f"devices.{i}.signals: {sig!r} is already bound by {bound[sig]}"
                    )
                bound[sig] = f"device {dev.id!r}"
        for i, sensor in enumerate(self.mqtt_sensors):
            if sensor.signal in bound:
                raise ValueError(
                    f"mqtt_sensors.{i}.signal: {sensor.signal!r} is already bound by "
                    f"{bound[sensor.signal]}"
                )
            bound[sensor.signal] = f"MQTT sensor {sensor.name!r}"
        missing = [sig for sig in CRITICAL_SIGNALS if sig not in bound]
        if missing:
            raise ValueError(
                f"devices: the safety interlocks need {', '.join(missing)} bound to a device "
                "or an MQTT sensor"
            )
        return self

    def rack_group(self, group_id: str) -> RackGroup:
        return next(g for g in self.rack_groups if g.id == group_id)

    def sink(self, sink_id: str) -> PoolSink | DhwSink | SpaceHeatingSink:
        return next(s for s in self.sinks if s.id == sink_id)

    @property
    def max_it_power_w(self) -> float:
        return sum(g.max_power_w for g in self.rack_groups)


def _unique(field: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if ident in seen:
            raise ValueError(f"{field}.{i}: duplicate id {ident!r}")
        seen.add(ident)


def signal_pattern(profile: SiteProfile) -> re.Pattern[str]:
    """Regular expression matching every signal name valid for ``profile``."""
    groups = "|".join(re.escape(g.id) for g in profile.rack_groups)
    sinks = "|".join(re.escape(s.id) for s in profile.sinks)
    return re.compile(
        rf"rack\.({groups})\.(power_w|coolant_out_temp_c|gpu_power_cap_w|energy_kwh|queued_kwh|must_run_w)"
        r"|loop\.(supply_temp_c|return_temp_c|flow_m3_per_s|pump_power_w|heat_path_fault)"
        rf"|sink\.({sinks})\.(temp_c|mean_temp_c|heat_w|energy_kwh|heat_request_w|air_temp_c|"
        r"backup_heat_w|backup_energy_kwh|valve_fraction)"
        r"|dump\.(heat_w|energy_kwh|on|heat_request_w|fan_power_w)"
        r"|facility\.(power_w|energy_kwh)|it\.(power_w|energy_kwh)"
        r"|ambient\.(temp_c|relative_humidity)"
    )
