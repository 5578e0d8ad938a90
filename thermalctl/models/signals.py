"""The signal catalogue: every signal and actuator the controller knows, declared once.

A *signal* is a logical quantity of the site, independent of the device that
measures it: ``loop.supply_temp_c``, ``rack.<group>.power_w``,
``sink.<sink>.energy_kwh``. An *actuator* is a signal the controller writes:
``rack.<group>.gpu_power_cap_w``, ``sink.<sink>.heat_request_w``, ``dump.on``.
Devices and MQTT sensors of a site profile bind registers and topics to these
names; validation, unit checks, the MQTT state and Home Assistant discovery, the
BMS register map, the simulator and the controller's actuation all read the
names, units and ranges from here instead of spelling them out.

Each :class:`SignalSpec` has a name *template* (``rack.{group}.power_w``), the
canonical unit (as :data:`thermalctl.config.units.CANONICAL` spells it), a
:class:`Kind`, what the safety layer does with it (:class:`SafetyUse`), a
plausible range in the canonical unit, its Home Assistant device class, state
class and display unit, a one-line description and a short human name
(``ha_name``, what Home Assistant shows inside the site's, rack group's or sink's
device: "Coolant supply temperature"; :attr:`SignalSpec.display_name` falls back to
the description).

Use the builders, never f-strings, to make a name::

    >>> rack_signal("pod", "gpu_power_cap_w")
    'rack.pod.gpu_power_cap_w'
    >>> spec(sink_signal("pool", "energy_kwh")).kind.value
    'counter'

:func:`signals_for` gives the concrete names valid for one site with their
ranges resolved from its profile (``limits.plausible_power_w`` and
``limits.plausible_temp_c`` for measured power and temperature, the group's
``min_cap_w``/``max_power_w`` for its cap, the sink's ``max_heat_w`` for its heat
request). :func:`required_signals` says which of them the site cannot run without.

Pure: no I/O, no adapter; the profile is only read.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from thermalctl.config.site import SiteProfile

__all__ = [
    "AMBIENT_RELATIVE_HUMIDITY",
    "AMBIENT_TEMP_C",
    "CATALOGUE",
    "CRITICAL_SIGNALS",
    "DUMP_ENERGY_KWH",
    "DUMP_FAN_POWER_W",
    "DUMP_HEAT_REQUEST_W",
    "DUMP_HEAT_W",
    "DUMP_ON",
    "FACILITY_ENERGY_KWH",
    "FACILITY_POWER_W",
    "IT_ENERGY_KWH",
    "IT_POWER_W",
    "LOOP_FLOW_M3_PER_S",
    "LOOP_HEAT_PATH_FAULT",
    "LOOP_PUMP_POWER_W",
    "LOOP_RETURN_TEMP_C",
    "LOOP_SUPPLY_TEMP_C",
    "Kind",
    "SafetyUse",
    "SignalRef",
    "SignalSpec",
    "UnknownSignalError",
    "actuators_for",
    "closest",
    "is_plausible",
    "parse",
    "rack_signal",
    "required_signals",
    "signals_for",
    "sink_signal",
    "spec",
]

Scope = Literal["site", "rack", "sink"]


class Kind(StrEnum):
    """What a signal is."""

    MEASUREMENT = "measurement"  # an instantaneous value
    COUNTER = "counter"  # a cumulative meter register (never decreases but on wrap/reset)
    FLAG = "flag"  # 0 or 1
    SETPOINT = "setpoint"  # a target the controller writes
    CAP = "cap"  # a limit the controller writes


class SafetyUse(StrEnum):
    """What the safety interlocks do with a signal."""

    NONE = ""
    READ = "read"  # checked when bound (trip, fault)
    REQUIRED = "required"  # the interlocks cannot work without it


class UnknownSignalError(KeyError):
    """A name that is not in the catalogue (or not valid for the site)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass(frozen=True)
class SignalSpec:
    """One signal or actuator of the catalogue.

    ``plausible`` is the range [low, high] a reading in ``unit`` can take at a
    real site; outside it a reading is implausible (a broken sensor or a wrong
    binding). ``ha_factor`` converts the canonical value to ``ha_unit``.
    """

    template: str
    unit: str
    kind: Kind
    description: str
    plausible: tuple[float, float]
    safety: SafetyUse = SafetyUse.NONE
    actuator: bool = False
    device_class: str | None = None
    state_class: str | None = "measurement"
    ha_unit: str | None = None
    ha_factor: float = 1.0
    sink_kinds: tuple[str, ...] | None = None  # None: every sink kind
    #: Short human name within its device (site, rack group or sink), for Home Assistant.
    ha_name: str = ""

    @property
    def display_name(self) -> str:
        """``ha_name``, or the description's first clause capitalised."""
        if self.ha_name:
            return self.ha_name
        head = self.description.split(" (", 1)[0].split(";", 1)[0].strip()
        return head[:1].upper() + head[1:]

    @property
    def ha_component(self) -> str:
        """The Home Assistant platform: a flag is a ``binary_sensor``, the rest ``sensor``."""
        return "binary_sensor" if self.kind is Kind.FLAG else "sensor"

    @property
    def scope(self) -> Scope:
        head = self.template.split(".", 1)[0]
        return "rack" if head == "rack" else "sink" if head == "sink" else "site"

    @property
    def quantity(self) -> str:
        """The last part of the name (``power_w``, ``temp_c``)."""
        return self.template.rsplit(".", 1)[1]

    @property
    def required_for_safety(self) -> bool:
        return self.safety is SafetyUse.REQUIRED


# -- builders of specs by quantity (unit, kind and HA classes in one place) ----------------------
_TEMP_RANGE_C = (-30.0, 110.0)  # the default of Limits.plausible_temp_c
_POWER_RANGE_W = (-1.0e3, 5.0e6)  # the default of Limits.plausible_power_w
_COUNTER_RANGE_KWH = (0.0, 1.0e12)


def _temp(template: str, description: str, safety: SafetyUse = SafetyUse.NONE,
          sink_kinds: tuple[str, ...] | None = None, name: str = "") -> SignalSpec:
    return SignalSpec(template, "degC", Kind.MEASUREMENT, description, _TEMP_RANGE_C, safety,
                      device_class="temperature", ha_unit="°C", sink_kinds=sink_kinds,
                      ha_name=name)


def _power(template: str, description: str, name: str = "") -> SignalSpec:
    return SignalSpec(template, "W", Kind.MEASUREMENT, description, _POWER_RANGE_W,
                      device_class="power", ha_unit="W", ha_name=name)


def _counter(template: str, description: str, name: str = "") -> SignalSpec:
    """A kWh meter counter: HA ``energy`` / ``total_increasing`` (its energy dashboard)."""
    return SignalSpec(template, "kWh", Kind.COUNTER, description, _COUNTER_RANGE_KWH,
                      device_class="energy", state_class="total_increasing", ha_unit="kWh",
                      ha_name=name)


def _command_w(template: str, kind: Kind, description: str, name: str = "") -> SignalSpec:
    return SignalSpec(template, "W", kind, description, (0.0, _POWER_RANGE_W[1]), actuator=True,
                      device_class="power", ha_unit="W", ha_name=name)


def _flag(template: str, description: str, safety: SafetyUse = SafetyUse.NONE,
          actuator: bool = False, device_class: str | None = None,
          name: str = "") -> SignalSpec:
    """0/1: a Home Assistant ``binary_sensor`` (no state class; ``device_class`` says
    what *on* means: ``problem``, ``running``)."""
    return SignalSpec(template, "1", Kind.FLAG, description, (0.0, 1.0), safety, actuator,
                      device_class=device_class, state_class=None, ha_name=name)


def _fraction(template: str, description: str, device_class: str | None,
              name: str = "") -> SignalSpec:
    return SignalSpec(template, "1", Kind.MEASUREMENT, description, (0.0, 1.0),
                      device_class=device_class, ha_unit="%", ha_factor=100.0, ha_name=name)


#: Every signal and actuator, in the order ``thermalctl signals`` lists them.
CATALOGUE: tuple[SignalSpec, ...] = (
    # racks (one set per rack group)
    _power("rack.{group}.power_w", "IT power of the rack group", "IT power"),
    _counter("rack.{group}.energy_kwh", "IT energy meter of the rack group", "IT energy"),
    _temp("rack.{group}.coolant_out_temp_c",
          "coolant temperature leaving the racks (outlet trip at coolant_return_trip_c)",
          SafetyUse.READ, name="Coolant outlet temperature"),
    SignalSpec("rack.{group}.queued_kwh", "kWh", Kind.MEASUREMENT,
               "deferrable GPU work waiting in the scheduler's queue", (0.0, 1.0e6),
               device_class="energy_storage", ha_unit="kWh",
               ha_name="Deferred work queued"),
    _power("rack.{group}.must_run_w",
           "idle + inference power the scheduler will not defer", "Must-run power"),
    _command_w("rack.{group}.gpu_power_cap_w", Kind.CAP,
               "GPU power cap written to the rack controller or scheduler agent",
               "GPU power cap"),
    # the heat loop
    _temp("loop.supply_temp_c", "coolant supply temperature to the racks", SafetyUse.REQUIRED,
          name="Coolant supply temperature"),
    _temp("loop.return_temp_c", "coolant return temperature from the racks", SafetyUse.REQUIRED,
          name="Coolant return temperature"),
    SignalSpec("loop.flow_m3_per_s", "m3/s", Kind.MEASUREMENT, "coolant volume flow",
               (0.0, 1.0), device_class="volume_flow_rate", ha_unit="m³/h", ha_factor=3600.0,
               ha_name="Coolant flow"),
    _power("loop.pump_power_w", "electrical power of the loop pump", "Loop pump power"),
    _flag("loop.heat_path_fault", "heat exchanger path fault (1 = fault; trips safe mode)",
          SafetyUse.READ, device_class="problem", name="Heat path fault"),
    # heat sinks (one set per sink)
    _temp("sink.{sink}.temp_c", "sink temperature (pool water, tank top, heating flow)",
          name="Temperature"),
    _temp("sink.{sink}.mean_temp_c", "hot-water tank: mean of its stratification sensors",
          sink_kinds=("dhw",), name="Mean tank temperature"),
    _temp("sink.{sink}.air_temp_c", "air over the sink (pool hall, heated room)",
          name="Air temperature"),
    _power("sink.{sink}.heat_w", "heat delivered to the sink (heat meter)", "Heat delivered"),
    _counter("sink.{sink}.energy_kwh", "heat delivered to the sink (heat meter counter)",
             "Heat delivered energy"),
    _power("sink.{sink}.backup_heat_w", "heat from the sink's backup heater", "Backup heat"),
    _counter("sink.{sink}.backup_energy_kwh", "heat from the sink's backup heater (counter)",
             "Backup heat energy"),
    _fraction("sink.{sink}.valve_fraction", "valve position to the sink's heat exchanger", None,
              "Valve position"),
    _power("sink.{sink}.heat_pump_power_w",
           "electrical power of the heat pump lifting loop water for the sink (kept out of "
           "the PUE: EnEfG §11)", "Heat pump power"),
    _counter("sink.{sink}.heat_pump_energy_kwh",
             "electricity of the heat pump lifting loop water for the sink (counter)",
             "Heat pump energy"),
    _command_w("sink.{sink}.heat_request_w", Kind.SETPOINT,
               "heat the loop controller should send to the sink", "Heat request"),
    # the heat dump (dry cooler)
    _power("dump.heat_w", "heat rejected by the dry cooler", "Dry cooler heat"),
    _counter("dump.energy_kwh", "heat rejected by the dry cooler (counter)",
             "Dry cooler heat energy"),
    _power("dump.fan_power_w", "electrical power of the dry cooler's fans",
           "Dry cooler fan power"),
    _flag("dump.on", "dry cooler enabled (written by the controller)", actuator=True,
          device_class="running", name="Dry cooler on"),
    _command_w("dump.heat_request_w", Kind.SETPOINT, "heat the dry cooler should reject",
               "Dry cooler heat request"),
    # the boundary meters and the weather
    _power("facility.power_w", "total facility power (ISO/IEC 30134-2 boundary)",
           "Facility power"),
    _counter("facility.energy_kwh", "total facility energy (PUE numerator)", "Facility energy"),
    _power("it.power_w", "IT power at the measurement category's point", "IT power"),
    _counter("it.energy_kwh", "IT energy (PUE denominator)", "IT energy"),
    _temp("ambient.temp_c", "outdoor air temperature at the dry cooler",
          name="Outdoor temperature"),
    _fraction("ambient.relative_humidity", "outdoor relative humidity", "humidity",
              "Outdoor humidity"),
)

_BY_TEMPLATE: dict[str, SignalSpec] = {s.template: s for s in CATALOGUE}
_BY_SCOPE_QUANTITY: dict[tuple[Scope, str], SignalSpec] = {
    (s.scope, s.quantity): s for s in CATALOGUE if s.scope != "site"
}

LOOP_SUPPLY_TEMP_C = "loop.supply_temp_c"
LOOP_RETURN_TEMP_C = "loop.return_temp_c"
LOOP_FLOW_M3_PER_S = "loop.flow_m3_per_s"
LOOP_PUMP_POWER_W = "loop.pump_power_w"
LOOP_HEAT_PATH_FAULT = "loop.heat_path_fault"
DUMP_HEAT_W = "dump.heat_w"
DUMP_ENERGY_KWH = "dump.energy_kwh"
DUMP_FAN_POWER_W = "dump.fan_power_w"
DUMP_ON = "dump.on"
DUMP_HEAT_REQUEST_W = "dump.heat_request_w"
FACILITY_POWER_W = "facility.power_w"
FACILITY_ENERGY_KWH = "facility.energy_kwh"
IT_POWER_W = "it.power_w"
IT_ENERGY_KWH = "it.energy_kwh"
AMBIENT_TEMP_C = "ambient.temp_c"
AMBIENT_RELATIVE_HUMIDITY = "ambient.relative_humidity"

#: Signals the safety layer cannot work without (coolant supply and return temperatures).
CRITICAL_SIGNALS: tuple[str, ...] = tuple(s.template for s in CATALOGUE
                                          if s.safety is SafetyUse.REQUIRED)


# -- names ---------------------------------------------------------------------------------------
def _scoped(scope: Scope, ident: str, quantity: str) -> str:
    spec_ = _BY_SCOPE_QUANTITY.get((scope, quantity))
    if spec_ is None:
        known = sorted(q for s, q in _BY_SCOPE_QUANTITY if s == scope)
        raise UnknownSignalError(f"no {scope} signal {quantity!r}; known: {', '.join(known)}")
    return spec_.template.format(group=ident, sink=ident)


def rack_signal(group_id: str, quantity: str) -> str:
    """``rack.<group_id>.<quantity>``, checked against the catalogue.

    >>> rack_signal("pod", "power_w")
    'rack.pod.power_w'
    """
    return _scoped("rack", group_id, quantity)


def sink_signal(sink_id: str, quantity: str) -> str:
    """``sink.<sink_id>.<quantity>``, checked against the catalogue.

    >>> sink_signal("pool", "heat_request_w")
    'sink.pool.heat_request_w'
    """
    return _scoped("sink", sink_id, quantity)


@dataclass(frozen=True)
class SignalRef:
    """A concrete name taken apart: its spec and the group or sink it belongs to."""

    name: str
    spec: SignalSpec
    ident: str | None = None  # the rack group or sink id

    @property
    def group(self) -> str | None:
        return self.ident if self.spec.scope == "rack" else None

    @property
    def sink(self) -> str | None:
        return self.ident if self.spec.scope == "sink" else None


def parse(name: str) -> SignalRef:
    """Take a concrete name apart; :class:`UnknownSignalError` if no template fits.

    >>> parse("rack.pod.gpu_power_cap_w").group
    'pod'
    """
    site_spec = _BY_TEMPLATE.get(name)
    if site_spec is not None and site_spec.scope == "site":
        return SignalRef(name, site_spec)
    parts = name.split(".")
    if len(parts) == 3 and parts[0] in ("rack", "sink") and parts[1]:
        scope: Scope = "rack" if parts[0] == "rack" else "sink"
        scoped = _BY_SCOPE_QUANTITY.get((scope, parts[2]))
        if scoped is not None:
            return SignalRef(name, scoped, parts[1])
    raise UnknownSignalError(f"unknown signal {name!r}")


def spec(name: str) -> SignalSpec:
    """The catalogue entry of a concrete name (``rack.pod.power_w``) or a template."""
    found = _BY_TEMPLATE.get(name)
    return found if found is not None else parse(name).spec


# -- a site's signals ----------------------------------------------------------------------------
def _resolved(s: SignalSpec, profile: SiteProfile, ident: str | None) -> SignalSpec:
    lim = profile.limits
    if s.unit == "degC":
        return replace(s, plausible=tuple(lim.plausible_temp_c))  # type: ignore[arg-type]
    if s.kind is Kind.MEASUREMENT and s.unit == "W":
        return replace(s, plausible=tuple(lim.plausible_power_w))  # type: ignore[arg-type]
    if s.kind is Kind.CAP and ident is not None:
        group = profile.rack_group(ident)
        return replace(s, plausible=(group.min_cap_w, group.max_power_w))
    if s.template == "sink.{sink}.heat_request_w" and ident is not None:
        return replace(s, plausible=(0.0, profile.sink(ident).max_heat_w))
    if s.template == DUMP_HEAT_REQUEST_W:
        return replace(s, plausible=(0.0, max(lim.plausible_power_w)))
    return s


def signals_for(profile: SiteProfile) -> dict[str, SignalSpec]:
    """Every concrete name valid for ``profile``, with its ranges resolved from the profile.

    Measured power takes ``limits.plausible_power_w``, temperatures
    ``limits.plausible_temp_c``; a group's cap ``[min_cap_w, max_power_w]``; a
    sink's heat request ``[0, max_heat_w]``.
    """
    out: dict[str, SignalSpec] = {}
    for s in CATALOGUE:
        if s.scope == "rack":
            for g in profile.rack_groups:
                out[s.template.format(group=g.id)] = _resolved(s, profile, g.id)
        elif s.scope == "sink":
            for k in profile.sinks:
                if s.sink_kinds is None or k.kind in s.sink_kinds:
                    out[s.template.format(sink=k.id)] = _resolved(s, profile, k.id)
        else:
            out[s.template] = _resolved(s, profile, None)
    return out


def actuators_for(profile: SiteProfile) -> dict[str, SignalSpec]:
    """The concrete actuators of ``profile`` (what the controller may write)."""
    return {n: s for n, s in signals_for(profile).items() if s.actuator}


def required_signals(profile: SiteProfile) -> dict[str, str]:
    """Signal -> why ``profile`` cannot run without it bound to a device or MQTT sensor.

    The safety interlocks need the coolant supply and return temperatures; PUE
    (ISO/IEC 30134-2) needs the IT and facility energy counters; every sink needs its
    temperature (control) and its heat meter counter (reused energy, ERF per
    ISO/IEC 30134-6).
    """
    out = {sig: "the safety interlocks need it" for sig in CRITICAL_SIGNALS}
    out[IT_ENERGY_KWH] = "PUE (ISO/IEC 30134-2) needs the IT energy counter"
    out[FACILITY_ENERGY_KWH] = "PUE (ISO/IEC 30134-2) needs the facility energy counter"
    for k in profile.sinks:
        out[sink_signal(k.id, "temp_c")] = f"the control of sink {k.id!r} needs its temperature"
        out[sink_signal(k.id, "energy_kwh")] = (
            f"the reused heat (ERF, ISO/IEC 30134-6) of sink {k.id!r} needs its heat meter counter"
        )
    return out


def closest(name: str, valid: Iterable[str], n: int = 3) -> list[str]:
    """The valid names nearest to a misspelt ``name`` (difflib ratio, best first)."""
    return difflib.get_close_matches(name, list(valid), n=n, cutoff=0.6)


def is_plausible(name: str, value: float, specs: Mapping[str, SignalSpec]) -> bool:
    """Whether ``value`` (canonical unit) lies in the plausible range of ``name``."""
    s = specs.get(name)
    if s is None or not math.isfinite(value):
        return False
    low, high = s.plausible
    return low <= value <= high
