"""Site profile: one YAML file per site, the single source of truth.

It names the rack groups, the heat loop, the heat sinks, the devices and MQTT
sensors that measure them (bound to logical *signals*), the safety limits,
prices, emission factors and the reporting boundary.

Signals are the controller's vocabulary, independent of any device
(``rack.<group>.power_w``, ``loop.supply_temp_c``, ``sink.<sink>.energy_kwh``, ...).
They are declared once, in :mod:`thermalctl.models.signals` (``thermalctl signals``
lists them); this module checks a profile's bindings against that catalogue.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from thermalctl.config.problems import Problem, raise_if_any
from thermalctl.config.services import BmsSettings, InfluxSettings, MqttSettings, StoreSettings
from thermalctl.config.units import Unit, to_canonical
from thermalctl.models.signals import (
    CRITICAL_SIGNALS,
    SignalSpec,
    UnknownSignalError,
    closest,
    parse,
    required_signals,
    signals_for,
)

__all__ = [
    "CRITICAL_SIGNALS",
    "Backup",
    "Climate",
    "DeviceBinding",
    "DhwSink",
    "DryCooler",
    "HeatExchanger",
    "HeatLoop",
    "HeatPump",
    "HeatingCurve",
    "LegionellaCycle",
    "Limits",
    "MqttSensor",
    "NightSetback",
    "PoolSink",
    "Prices",
    "RackGroup",
    "Reporting",
    "SimulationSettings",
    "SiteInfo",
    "SiteProfile",
    "SpaceHeatingSink",
]

#: Longest device poll period [s]: an hour (a slower device is not a controller input).
MAX_PERIOD_S = 3600.0
#: Longest staleness of a safety signal [s]; above it staleness would never trip in practice.
MAX_SAFETY_STALE_S = 600.0
#: Longest staleness of any MQTT sensor [s] (a day: weather and daily meters).
MAX_SENSOR_STALE_S = 86400.0
#: Longest control tick [s]: the interlocks run once a tick (DESIGN: 1-5 s).
MAX_TICK_S = 60.0
#: Longest re-planning period [s] (a day; DESIGN: 5-15 min).
MAX_PLAN_PERIOD_S = 86400.0
#: No coolant loop or its sensors reach outside this range [degC] (PT100/NTC probes on an
#: unpressurised water or glycol loop); a plausible range beyond it checks nothing.
PLAUSIBLE_TEMP_BOUNDS_C = (-50.0, 150.0)
#: Largest plausible power [W] (1 GW: far beyond a small data centre).
MAX_PLAUSIBLE_POWER_W = 1e9

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveFloat = Annotated[float, Field(gt=0.0)]
NonNegFloat = Annotated[float, Field(ge=0.0)]


class _Frozen(BaseModel):
    # NaN and infinity are refused everywhere: an infinite staleness or period, or a NaN
    # limit, would silently disable a safety check.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Climate(_Frozen):
    """Climate normals of the site: what a seasonal mains-water temperature needs
    (:func:`thermalctl.physics.water.mains_temp_c`, Burch & Christensen 2007)."""

    annual_mean_air_temp_c: float = Field(description="Annual mean outdoor air temperature.")
    monthly_mean_air_temp_range_k: Annotated[float, Field(ge=0.0, le=60.0)] = Field(
        description="Warmest minus coldest monthly mean outdoor air temperature."
    )
    southern_hemisphere: bool = False


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
    climate: Climate | None = Field(
        default=None,
        description="The site's climate normals (seasonal mains-water temperature).",
    )


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
    max_inlet_temp_c: float | None = Field(
        default=None,
        description="Highest coolant temperature the racks accept at their inlet; default "
        "by cooling type (thermalctl.physics.rack.COOLANT_LIMITS_BY_COOLING_TYPE).",
    )
    max_outlet_temp_c: float | None = Field(
        default=None,
        description="Highest coolant temperature the racks may return at their outlet; "
        "default by cooling type.",
    )

    @property
    def coolant_inlet_limit_c(self) -> float:
        """Highest coolant inlet temperature [degC] (the profile's, else its cooling type's)."""
        from thermalctl.physics.rack import COOLANT_LIMITS_BY_COOLING_TYPE

        if self.max_inlet_temp_c is not None:
            return self.max_inlet_temp_c
        return COOLANT_LIMITS_BY_COOLING_TYPE[self.cooling][0]

    @property
    def coolant_outlet_limit_c(self) -> float:
        """Highest coolant outlet temperature [degC] (the profile's, else its type's)."""
        from thermalctl.physics.rack import COOLANT_LIMITS_BY_COOLING_TYPE

        if self.max_outlet_temp_c is not None:
            return self.max_outlet_temp_c
        return COOLANT_LIMITS_BY_COOLING_TYPE[self.cooling][1]

    @model_validator(mode="after")
    def _check(self) -> RackGroup:
        # Ranges of the capture fraction by cooling type, with their sources (ASHRAE TC 9.9):
        # thermalctl.physics.rack.CAPTURE_FRACTION_RANGE_BY_COOLING_TYPE. Imported here so
        # that loading a profile does not load the physics package.
        from thermalctl.physics.rack import CAPTURE_FRACTION_RANGE_BY_COOLING_TYPE

        problems: list[Problem] = []
        if self.idle_power_w >= self.max_power_w:
            problems.append(((), f"idle_power_w {self.idle_power_w:g} must be below max_power_w "
                                 f"{self.max_power_w:g}"))
        low, high = CAPTURE_FRACTION_RANGE_BY_COOLING_TYPE[self.cooling]
        if not low <= self.capture_fraction <= high:
            problems.append((("capture_fraction",), (
                f"{self.capture_fraction:g} is outside the plausible range {low:g}-{high:g} for "
                f"{self.cooling} cooling (ASHRAE TC 9.9 Liquid Cooling Guidelines, 2nd ed. 2014; "
                "see thermalctl.physics.rack); measure it or check the cooling type")))
        if self.min_cap_w > self.max_power_w:
            problems.append((("min_cap_w",), f"{self.min_cap_w:g} is above max_power_w "
                                             f"{self.max_power_w:g}"))
        if self.coolant_inlet_limit_c >= self.coolant_outlet_limit_c:
            problems.append((("max_outlet_temp_c",), (
                f"{self.coolant_outlet_limit_c:g} degC must be above the inlet limit "
                f"{self.coolant_inlet_limit_c:g} degC: the racks warm the coolant")))
        raise_if_any(problems)
        return self


class HeatPump(_Frozen):
    """A water-to-water heat pump that lifts loop water for one sink: its evaporator is
    the sink's heat exchanger (refrigerant evaporating at ``evaporating_temp_c``), its
    condenser delivers at the sink's supply temperature. COP = eta T_hot / (T_hot - T_cold)
    (:func:`thermalctl.physics.backup.heat_pump_cop`)."""

    carnot_efficiency: Annotated[float, Field(gt=0.0, le=0.8)] | None = Field(
        default=None,
        description="Real over Carnot COP, sink outlet over source inlet (default: "
        "thermalctl.physics.backup.DEFAULT_CARNOT_EFFICIENCY_FRACTION, 0.45).",
    )
    max_heat_w: PositiveFloat = Field(description="Condenser heat at full output.")
    evaporating_temp_c: float = Field(
        default=10.0, description="Refrigerant evaporating temperature (evaporator duty)."
    )


class HeatExchanger(_Frozen):
    """A plate heat exchanger between the loop and one sink (or between the loop and a
    heat pump's evaporator when ``heat_pump`` is given)."""

    ua_w_per_k: PositiveFloat
    arrangement: Literal["counterflow", "parallel", "crossflow_unmixed"] = "counterflow"
    sink_flow_m3_per_h: PositiveFloat | None = Field(
        default=None,
        description="Flow on the sink side at full duty (default: the loop's flow).",
    )
    loop_flow_m3_per_h: PositiveFloat | None = Field(
        default=None,
        description="Loop-side flow through this exchanger: in series the whole loop flow "
        "(must be unset or equal); in parallel its branch at the valve fully open "
        "(default: the loop flow shared equally).",
    )
    order: Annotated[int, Field(ge=0)] | None = Field(
        default=None,
        description="Position on the loop in series (0 first after the racks; default: the "
        "order of the sinks in the profile).",
    )
    heat_pump: HeatPump | None = None


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
    topology: Literal["series", "parallel"] = Field(
        default="series",
        description="Rack outlet -> sink heat exchangers (one after another in their order, "
        "or side by side on valved branches) -> dry cooler -> rack inlet.",
    )
    hx: HeatExchanger | None = Field(
        default=None,
        description="Default heat exchanger of every sink that states none of its own.",
    )
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
    hx: HeatExchanger | None = Field(
        default=None, description="This sink's heat exchanger (default: heat_loop.hx)."
    )

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
    pool_type: Literal[
        "residential", "condominium", "therapy", "hotel", "public_school", "whirlpool_spa",
        "wave_pool_water_slide",
    ] | None = Field(
        default=None,
        description="ASHRAE pool type; its activity factor applies while the pool is open "
        "(thermalctl.physics.pool.ACTIVITY_FACTOR_BY_POOL_TYPE).",
    )
    activity_factor: Annotated[float, Field(ge=0.0, le=2.0)] | None = Field(
        default=None,
        description="Activity factor while open; overrides the pool type's (default 0.65 "
        "when neither is given).",
    )
    opening_hours: tuple[int, int] | None = Field(
        default=None,
        description="Hours [start, end) the pool is open, local time; outside them the "
        "unoccupied factor 0.5 applies (default: always open).",
    )
    hall_surface_temp_c: float | None = Field(
        default=None,
        description="Mean temperature of the hall surfaces the water radiates to "
        "(default: hall air less 2 K, thermalctl.models.sinks.pool).",
    )
    cover_hours: tuple[int, int] | None = Field(
        default=None, description="Hours [start, end) when a cover is on, local time."
    )
    fresh_water_m3_per_day: NonNegFloat = 0.0
    mains_temp_c: float = 12.0
    mains_seasonal: bool = Field(
        default=False,
        description="Make-up water at the seasonal mains temperature from site.climate "
        "(else the constant mains_temp_c).",
    )
    ground_ua_w_per_k: NonNegFloat = 0.0

    #: Fresh water per bather that ``fresh_water_m3_per_day`` is counted in (DIN 19643:
    #: 30 l), the unit :func:`thermalctl.physics.pool.pool_heat_loss_w` takes it in [m³].
    FRESH_WATER_PER_BATHER_M3: ClassVar[float] = 0.030

    #: Activity factor of an unoccupied pool [-] (ASHRAE Handbook - HVAC Applications
    #: 2019, ch. 6: "0.5 for an unoccupied pool").
    UNOCCUPIED_ACTIVITY_FACTOR: ClassVar[float] = 0.5
    #: Activity factor when neither a pool type nor a factor is given [-].
    DEFAULT_ACTIVITY_FACTOR: ClassVar[float] = 0.65
    #: Hall surfaces (walls, glazing, roof) below the hall air when none is given [K]
    #: (assumed: a well-insulated hall in winter; ASHRAE ch. 6 requires them above the
    #: dew point, about 6-8 K below 30 degC air at 60 % rh).
    SURFACE_BELOW_AIR_K: ClassVar[float] = 2.0

    @property
    def open_activity_factor(self) -> float:
        """Activity factor while open [-]: the profile's, else its pool type's."""
        if self.activity_factor is not None:
            return self.activity_factor
        if self.pool_type is not None:
            from thermalctl.physics.pool import ACTIVITY_FACTOR_BY_POOL_TYPE

            return ACTIVITY_FACTOR_BY_POOL_TYPE[self.pool_type]
        return self.DEFAULT_ACTIVITY_FACTOR

    @property
    def surface_temp_c(self) -> float:
        """Mean hall surface temperature for radiation [degC]."""
        if self.hall_surface_temp_c is not None:
            return self.hall_surface_temp_c
        return self.hall_air_temp_c - self.SURFACE_BELOW_AIR_K

    def loss_model_arguments(
        self, cover_on: bool, *, is_open: bool = True, mains_temp_c: float | None = None
    ) -> dict[str, float | bool]:
        """Hall air, humidity, area and options of this pool, as the physics takes them."""
        return {
            "air_temp_c": self.hall_air_temp_c,
            "relative_humidity_fraction": self.hall_relative_humidity,
            "area_m2": self.area_m2,
            "activity_factor": (
                self.open_activity_factor if is_open else self.UNOCCUPIED_ACTIVITY_FACTOR
            ),
            "surface_temp_c": self.surface_temp_c,
            "bathers_per_day": self.fresh_water_m3_per_day / self.FRESH_WATER_PER_BATHER_M3,
            "mains_temp_c": self.mains_temp_c if mains_temp_c is None else mains_temp_c,
            "ground_ua_w_per_k": self.ground_ua_w_per_k,
            "cover_on": cover_on,
        }


class LegionellaCycle(_Frozen):
    """A daily thermal disinfection of a preheat stage (DVGW W 551: in large systems a
    preheat stage is heated to at least 60 degC once a day), paid by the backup heater."""

    temp_c: Annotated[float, Field(ge=55.0, le=80.0)] = 60.0
    start_hour: Annotated[int, Field(ge=0, le=23)] = Field(
        default=2, description="Local hour at which the cycle starts (if not yet done today)."
    )


class DhwSink(_SinkBase):
    kind: Literal["dhw"]
    volume_m3: PositiveFloat
    nodes: Annotated[int, Field(ge=1, le=50)] = 6
    loss_ua_w_per_k: NonNegFloat = 3.0
    mains_temp_c: float = 12.0
    mains_seasonal: bool = Field(
        default=False,
        description="Cold water at the seasonal mains temperature from site.climate.",
    )
    draw_m3_per_day: PositiveFloat
    draw_temp_c: float = 45.0
    legionella: LegionellaCycle | None = Field(
        default=None, description="Daily thermal disinfection of this stage, if it needs one."
    )
    circulation_loss_w: NonNegFloat = Field(
        default=0.0,
        description="Heat lost by the hot-water circulation loop, made up by the heater "
        "downstream of this preheat stage.",
    )


class HeatingCurve(_Frozen):
    """Weather-compensated heating curve from its design point (EN 12831-1 design
    outdoor temperature): supply and return at design, and the emitter exponent
    (EN 442-2 radiators about 1.3, EN 1264 floor heating about 1.1)."""

    design_supply_temp_c: float = 55.0
    design_return_temp_c: float = 45.0
    emitter_exponent: Annotated[float, Field(ge=1.0, le=2.0)] = 1.3

    @model_validator(mode="after")
    def _order(self) -> HeatingCurve:
        if self.design_return_temp_c >= self.design_supply_temp_c:
            raise ValueError("design_return_temp_c must be below design_supply_temp_c")
        return self


class NightSetback(_Frozen):
    """Lower room set point in local hours [start, end) (and the band with it)."""

    hours: tuple[int, int] = (22, 6)
    setback_k: Annotated[float, Field(ge=0.0, le=10.0)] = 3.0


class SpaceHeatingSink(_SinkBase):
    kind: Literal["space_heating"]
    design_heat_w: PositiveFloat
    design_outdoor_temp_c: float = -10.0
    indoor_temp_c: float = 20.0
    heating_limit_temp_c: float = 15.0
    thermal_mass_j_per_k: PositiveFloat = 5e8
    heating_curve: HeatingCurve = HeatingCurve()
    heated_area_m2: NonNegFloat = Field(
        default=0.0, description="Heated floor area the gains are counted on."
    )
    internal_gains_w_per_m2: NonNegFloat = Field(
        default=0.0,
        description="Internal gains while occupied (DIN V 18599-10 usage profiles).",
    )
    unoccupied_gains_w_per_m2: NonNegFloat = Field(
        default=0.0, description="Internal gains outside occupied hours."
    )
    occupied_hours: tuple[int, int] = Field(
        default=(0, 24), description="Local hours [start, end) the building is in use."
    )
    solar_gains_w_per_m2: NonNegFloat = Field(
        default=0.0,
        description="Solar gains through the glazing at noon in midwinter per m2 of floor "
        "(scaled by a daily and a seasonal cycle, thermalctl.physics.building).",
    )
    night_setback: NightSetback | None = None


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
    poll_period_s: Annotated[float, Field(gt=0.0, le=MAX_PERIOD_S)] = Field(
        default=2.0, description="Poll this device every so many seconds (at most an hour)."
    )
    timeout_s: Annotated[float, Field(gt=0.0, le=60.0)] = 1.0
    signals: dict[str, str] = Field(
        default_factory=dict, description="signal -> register name (readings)."
    )
    actuators: dict[str, str] = Field(
        default_factory=dict, description="signal -> writable register name."
    )
    serial: str | None = Field(default=None, description="Serial number (listed in reports).")
    calibrated: dt.date | None = Field(
        default=None, description="Date of the last calibration or verification (reports)."
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
    stale_after_s: Annotated[float, Field(gt=0.0, le=MAX_SENSOR_STALE_S)] = 300.0


class Limits(_Frozen):
    coolant_supply_alarm_c: float = Field(description="Warn above this supply temperature.")
    coolant_supply_trip_c: float = Field(description="Safe mode above this supply temperature.")
    coolant_return_trip_c: float = Field(description="Safe mode above this return temperature.")
    stale_after_s: Annotated[float, Field(gt=0.0, le=MAX_SAFETY_STALE_S)] = Field(
        default=30.0, description="A safety signal older than this is stale (safe mode)."
    )
    plausible_temp_c: tuple[float, float] = Field(
        default=(-30.0, 110.0),
        description="Temperatures outside this range are implausible (a broken sensor).",
    )
    plausible_power_w: tuple[float, float] = Field(
        default=(-1e3, 5e6),
        description="Measured power outside this range is implausible (the signal catalogue's "
        "range for every power signal).",
    )

    @model_validator(mode="after")
    def _order(self) -> Limits:
        problems: list[Problem] = []
        if self.coolant_supply_alarm_c >= self.coolant_supply_trip_c:
            problems.append(((), "coolant_supply_alarm_c must be below coolant_supply_trip_c"))
        t_low, t_high = self.plausible_temp_c
        p_low, p_high = self.plausible_power_w
        if t_low >= t_high:
            problems.append((("plausible_temp_c",), f"[{t_low:g}, {t_high:g}] is reversed or "
                                                    "empty: the low end must come first"))
        elif t_low < PLAUSIBLE_TEMP_BOUNDS_C[0] or t_high > PLAUSIBLE_TEMP_BOUNDS_C[1]:
            problems.append((("plausible_temp_c",), (
                f"[{t_low:g}, {t_high:g}] reaches beyond {PLAUSIBLE_TEMP_BOUNDS_C[0]:g}.."
                f"{PLAUSIBLE_TEMP_BOUNDS_C[1]:g} degC, which no liquid-cooling loop or its "
                "sensors reach: a broken sensor would pass as plausible")))
        if p_low >= p_high:
            problems.append((("plausible_power_w",), f"[{p_low:g}, {p_high:g}] is reversed or "
                                                     "empty: the low end must come first"))
        elif p_low > 0.0 or p_low < -MAX_PLAUSIBLE_POWER_W or p_high > MAX_PLAUSIBLE_POWER_W:
            problems.append((("plausible_power_w",), (
                f"[{p_low:g}, {p_high:g}] must include 0 W and stay within "
                f"±{MAX_PLAUSIBLE_POWER_W:g} W")))
        for name in ("coolant_supply_alarm_c", "coolant_supply_trip_c", "coolant_return_trip_c"):
            value = getattr(self, name)
            if t_low < t_high and not t_low <= value <= t_high:
                problems.append(((name,), (
                    f"{value:g} degC lies outside plausible_temp_c [{t_low:g}, {t_high:g}]: a "
                    "reading that high is discarded as implausible before it can trip")))
        raise_if_any(problems)
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
    store: StoreSettings = StoreSettings()
    fast_period_s: Annotated[float, Field(gt=0.0, le=MAX_TICK_S)] = Field(
        default=2.0, description="Control tick: poll snapshot, safety, local loops [s]."
    )
    plan_period_s: Annotated[float, Field(gt=0.0, le=MAX_PLAN_PERIOD_S)] = Field(
        default=900.0, description="Re-plan every so many seconds."
    )
    gpu_cap_actuation: Literal["modbus", "mqtt"] = "modbus"

    @model_validator(mode="after")
    def _cross_check(self) -> SiteProfile:
        problems: list[Problem] = self._loop_problems()
        problems += _unique("rack_groups", [g.id for g in self.rack_groups])
        problems += _unique("sinks", [s.id for s in self.sinks])
        problems += _unique("devices", [d.id for d in self.devices])
        problems += _unique("mqtt_sensors", [m.name for m in self.mqtt_sensors])
        valid = signals_for(self)
        bound: dict[str, str] = {}
        for i, dev in enumerate(self.devices):
            for kind in ("signals", "actuators"):
                for sig in getattr(dev, kind):
                    loc = ("devices", i, kind, sig)
                    why = self._signal_problem(sig, valid, actuator=kind == "actuators")
                    if why:
                        problems.append((loc, why))
                    elif kind == "signals":
                        if sig in bound:
                            problems.append((loc, f"{sig!r} is already bound by {bound[sig]}"))
                        bound.setdefault(sig, f"device {dev.id!r}")
            critical = sorted(set(dev.signals) & set(CRITICAL_SIGNALS))
            if critical and dev.poll_period_s > self.limits.stale_after_s:
                problems.append((("devices", i, "poll_period_s"), (
                    f"{dev.poll_period_s:g} s is longer than limits.stale_after_s "
                    f"({self.limits.stale_after_s:g} s) but the device measures "
                    f"{', '.join(critical)}: the safety interlocks would see it stale")))
        for i, sensor in enumerate(self.mqtt_sensors):
            sensor_loc = ("mqtt_sensors", i, "signal")
            why = self._signal_problem(sensor.signal, valid, actuator=False)
            if why:
                problems.append((sensor_loc, why))
                continue
            canonical = to_canonical(0.0, sensor.unit)[1]
            if canonical != valid[sensor.signal].unit:
                problems.append((("mqtt_sensors", i, "unit"), (
                    f"{sensor.unit} ({canonical}) does not fit {sensor.signal}, which is in "
                    f"{valid[sensor.signal].unit}")))
            if sensor.signal in CRITICAL_SIGNALS and (
                sensor.stale_after_s > self.limits.stale_after_s
            ):
                problems.append((("mqtt_sensors", i, "stale_after_s"), (
                    f"{sensor.signal} is a safety signal; its staleness "
                    f"({sensor.stale_after_s:g} s) may not exceed limits.stale_after_s "
                    f"({self.limits.stale_after_s:g} s)")))
            if sensor.signal in bound:
                problems.append((sensor_loc, f"{sensor.signal!r} is already bound by "
                                      f"{bound[sensor.signal]}"))
            bound.setdefault(sensor.signal, f"MQTT sensor {sensor.name!r}")
        for sig, why in required_signals(self).items():
            if sig not in bound:
                problems.append((("devices",), (
                    f"{sig} must be bound to a device or an MQTT sensor: {why}")))
        inlet = self.coolant_inlet_limit_c
        if self.limits.coolant_supply_alarm_c > inlet:
            coldest = min(self.rack_groups, key=lambda g: g.coolant_inlet_limit_c)
            problems.append((("limits", "coolant_supply_alarm_c"), (
                f"{self.limits.coolant_supply_alarm_c:g} degC is above the highest inlet "
                f"temperature rack group {coldest.id!r} accepts ({inlet:g} degC): the alarm "
                "must come before the racks' limit (safety trips just past it)")))
        high = self.limits.plausible_power_w[1]
        if self.max_it_power_w > high:
            problems.append((("limits", "plausible_power_w"), (
                f"the high end {high:g} W is below the rack groups' max_power_w total "
                f"{self.max_it_power_w:g} W: full load would read as implausible")))
        if self.fast_period_s > self.limits.stale_after_s:
            problems.append((("fast_period_s",), (
                f"{self.fast_period_s:g} s is longer than limits.stale_after_s "
                f"({self.limits.stale_after_s:g} s): the interlocks run once a tick")))
        if self.plan_period_s < self.fast_period_s:
            problems.append((("plan_period_s",), (
                f"{self.plan_period_s:g} s is shorter than fast_period_s "
                f"({self.fast_period_s:g} s)")))
        raise_if_any(problems)
        return self

    def _signal_problem(self, sig: str, valid: dict[str, SignalSpec], *, actuator: bool) -> str:
        """Why ``sig`` cannot be bound here ('' when it can)."""
        if sig in valid:
            s = valid[sig]
            if actuator and not s.actuator:
                return f"{sig} is a {s.kind.value}, not an actuator: bind it under signals"
            if not actuator and s.actuator:
                return f"{sig} is an actuator ({s.kind.value}): bind it under actuators"
            return ""
        try:
            ref = parse(sig)
        except UnknownSignalError:
            ref = None
        if ref is not None and ref.group is not None:
            return (f"unknown signal {sig!r}: no rack group {ref.group!r} (rack_groups: "
                    f"{', '.join(g.id for g in self.rack_groups)})")
        if ref is not None and ref.sink is not None:
            if ref.sink in {k.id for k in self.sinks}:
                kinds = ", ".join(ref.spec.sink_kinds or ())
                return (f"unknown signal {sig!r}: {ref.spec.quantity} is only for {kinds} sinks; "
                        f"sink {ref.sink!r} is a {self.sink(ref.sink).kind}")
            return (f"unknown signal {sig!r}: no sink {ref.sink!r} (sinks: "
                    f"{', '.join(k.id for k in self.sinks)})")
        wanted = [n for n, s in valid.items() if s.actuator == actuator]
        near = closest(sig, wanted)
        if near:
            return f"unknown signal {sig!r}; did you mean {' or '.join(near)}?"
        return (f"unknown signal {sig!r}; valid {'actuators' if actuator else 'signals'} here: "
                f"{', '.join(wanted)} (thermalctl signals --site FILE)")

    def _loop_problems(self) -> list[Problem]:
        """Every sink has an exchanger; series orders are distinct; parallel branches fit
        the loop's flow; a pool with a seasonal mains temperature has a climate."""
        problems: list[Problem] = []
        loop = self.heat_loop
        for i, sink in enumerate(self.sinks):
            hx = sink.hx or loop.hx
            if hx is None:
                problems.append((("sinks", i, "hx"), (
                    "no heat exchanger: give sinks[].hx or a default heat_loop.hx")))
                continue
            if (loop.topology == "series" and hx.loop_flow_m3_per_h is not None
                    and abs(hx.loop_flow_m3_per_h - loop.flow_m3_per_h) > 1e-9):
                problems.append((("sinks", i, "hx", "loop_flow_m3_per_h"), (
                    f"{hx.loop_flow_m3_per_h:g} m3/h differs from heat_loop.flow_m3_per_h "
                    f"{loop.flow_m3_per_h:g}: in series the whole loop flow passes each "
                    "exchanger")))
            if getattr(sink, "mains_seasonal", False) and self.site.climate is None:
                problems.append((("sinks", i, "mains_seasonal"), (
                    "needs site.climate (annual mean and monthly range of the air "
                    "temperature) for the seasonal mains-water temperature")))
        if loop.topology == "series":
            orders = [s.hx.order for s in self.sinks if s.hx is not None and s.hx.order is not None]
            if len(orders) != len(set(orders)):
                problems.append((("sinks",), f"two sinks share a series position ({orders})"))
        else:
            total = sum(self.branch_flow_m3_per_h(s.id) for s in self.sinks
                        if (s.hx or loop.hx) is not None)
            if total > loop.flow_m3_per_h * (1 + 1e-9):
                problems.append((("heat_loop", "flow_m3_per_h"), (
                    f"the parallel branches take {total:g} m3/h, more than the loop's "
                    f"{loop.flow_m3_per_h:g}")))
        return problems

    def sink_hx(self, sink_id: str) -> HeatExchanger:
        """The heat exchanger of a sink: its own, else the loop's default."""
        sink = self.sink(sink_id)
        hx = sink.hx or self.heat_loop.hx
        if hx is None:  # refused by validation
            raise ValueError(f"sink {sink_id!r} has no heat exchanger")
        return hx

    def branch_flow_m3_per_h(self, sink_id: str) -> float:
        """Loop-side flow through a sink's exchanger [m3/h]: the whole loop in series,
        its branch (default: an equal share) in parallel."""
        loop = self.heat_loop
        if loop.topology == "series":
            return loop.flow_m3_per_h
        hx = self.sink(sink_id).hx or loop.hx
        if hx is not None and hx.loop_flow_m3_per_h is not None:
            return hx.loop_flow_m3_per_h
        return loop.flow_m3_per_h / len(self.sinks)

    def sink_order(self) -> tuple[str, ...]:
        """Sink ids in the order the loop water reaches their exchangers (series), or in
        profile order (parallel: all see the rack outlet)."""
        if self.heat_loop.topology == "parallel":
            return tuple(s.id for s in self.sinks)
        keyed = [
            ((s.hx.order if s.hx is not None and s.hx.order is not None else i), i, s.id)
            for i, s in enumerate(self.sinks)
        ]
        return tuple(sid for _, _, sid in sorted(keyed))

    @property
    def coolant_inlet_limit_c(self) -> float:
        """Highest rack inlet (loop supply) temperature every rack group accepts [degC]."""
        return min(g.coolant_inlet_limit_c for g in self.rack_groups)

    def rack_group(self, group_id: str) -> RackGroup:
        return next(g for g in self.rack_groups if g.id == group_id)

    def sink(self, sink_id: str) -> PoolSink | DhwSink | SpaceHeatingSink:
        return next(s for s in self.sinks if s.id == sink_id)

    @property
    def max_it_power_w(self) -> float:
        return sum(g.max_power_w for g in self.rack_groups)


def _unique(field: str, ids: list[str]) -> list[Problem]:
    seen: set[str] = set()
    problems: list[Problem] = []
    for i, ident in enumerate(ids):
        if ident in seen:
            problems.append(((field, i), f"duplicate id {ident!r}"))
        seen.add(ident)
    return problems
