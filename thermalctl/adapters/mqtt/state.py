"""Retained state under ``<root>/state/...`` and Home Assistant discovery.

* :class:`StatePublisher` - a controller observer: every tick it publishes the state
  retained (only what changed, everything again every ``REPUBLISH_S`` and after every
  reconnection); it never blocks (paho queues, its thread sends);
* :func:`discovery_messages` - Home Assistant MQTT discovery, HA's per-entity schema as
  of 2025.10 (``default_entity_id``; never ``object_id``, deprecated in 2025.10 and
  ignored since 2026.4), for every sensor, flag, alarm, diagnostic and setting: one HA
  device for the site and one for each rack group and each sink (``via_device``: the
  site); name, unit, device class and state class from the signal catalogue
  (:mod:`thermalctl.models.signals`); flags are ``binary_sensor``\\ s; meter counters
  are ``energy`` / ``total_increasing`` in kWh (HA's energy dashboard takes them);
  availability through ``<root>/status`` (``online``; ``offline`` on a clean stop and
  by the last will), so every entity turns unavailable when the controller is gone.

docs/facilities.md ("Home Assistant") lists the entities.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from thermalctl import __version__
from thermalctl.adapters.mqtt.hub import MqttHub, Topics
from thermalctl.config.services import (
    OperatorPort,
    OperatorSetting,
    SettingValue,
    operator_settings,
)
from thermalctl.config.site import SiteProfile
from thermalctl.models.signals import (
    DUMP_ON,
    UnknownSignalError,
    parse,
    rack_signal,
    sink_signal,
    spec,
)
from thermalctl.points import Alarm, AlarmSeverity, Decision, Mode, Reading

__all__ = [
    "BACKLOG_EVERY_S",
    "REPUBLISH_S",
    "STORE_FAILURE_ALARM",
    "StatePublisher",
    "TickLike",
    "default_entity_id",
    "discovery_messages",
    "ha_unit",
    "publish_discovery",
    "setting_state",
    "setting_text",
]

#: Publish every state topic again at least this often (simulated or wall seconds).
REPUBLISH_S = 60.0
#: Count the telemetry backlog (an SQL count over the outbox) at most this often [wall s].
BACKLOG_EVERY_S = 5.0
#: The store's alarm (``SiteStore.failure_alarms``) behind the "Store write failure" flag.
STORE_FAILURE_ALARM = "store.write_failed"


# -- Home Assistant units and classes (from the signal catalogue) --------------------------------
@dataclass(frozen=True)
class _HaKind:
    device_class: str | None
    unit: str | None
    state_class: str | None
    factor: float = 1.0  # canonical value * factor = published value


def ha_unit(signal: str) -> _HaKind:
    """Home Assistant device class, unit and state class of a signal, from the catalogue.

    A name the catalogue does not know is published as a plain measurement.
    """
    try:
        s = spec(signal)
    except UnknownSignalError:
        return _HaKind(None, None, "measurement")
    return _HaKind(s.device_class, s.ha_unit, s.state_class, s.ha_factor)


# -- state publishing ----------------------------------------------------------------------------
class _StateLike(Protocol):
    @property
    def readings(self) -> Mapping[str, Reading]: ...


class TickLike(Protocol):
    """What the publisher reads from the controller's TickResult."""

    @property
    def now_s(self) -> float: ...
    @property
    def state(self) -> _StateLike: ...
    @property
    def decision(self) -> Decision: ...
    @property
    def alarms(self) -> tuple[Alarm, ...]: ...


def _round(value: float) -> float | None:
    return float(f"{value:.6g}") if math.isfinite(value) else None


def _on_off(flag: bool) -> str:
    return "ON" if flag else "OFF"


class StatePublisher:
    """Controller observer: retained state under ``<root>/state/...``; changes only.

    ``backlog`` (the Influx shipper's ``backlog``, rows not yet acknowledged) feeds the
    "Telemetry backlog" diagnostic; it is called at most every :data:`BACKLOG_EVERY_S`.
    """

    def __init__(self, hub: MqttHub, operator: OperatorPort | None = None,
                 settings: Iterable[OperatorSetting] = (), *,
                 backlog: Callable[[], int] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.hub = hub
        self.topics = hub.topics
        self.operator = operator
        self.settings = tuple(settings)
        self.backlog = backlog
        self.clock = clock
        self._backlog_at: float | None = None
        self._sent: dict[str, tuple[str, float]] = {}
        hub.on_connected(self._sent.clear)  # a new session gets everything again

    def on_tick(self, result: TickLike) -> None:
        now = result.now_s
        for signal, reading in result.state.readings.items():
            kind = ha_unit(signal)
            value = _round(reading.value * kind.factor)
            self._put(self.topics.state(signal), json.dumps(
                {"value": value if reading.usable else None, "unit": kind.unit or reading.unit,
                 "quality": reading.quality.value, "ts": round(reading.timestamp_s, 3)}), now,
                key=f"{value}|{reading.quality.value}")
        d = result.decision
        self._put(self.topics.state("mode"), d.mode.value, now)
        self._put(self.topics.state("safe_mode"), _on_off(d.mode is Mode.SAFE), now)
        self._put(self.topics.state("decision/policy"), d.policy, now)
        self._put(self.topics.state("decision/dump_on"), _on_off(d.dump_on), now)
        for name, values in (("gpu_power_cap_w", d.gpu_power_cap_w),
                             ("sink_heat_request_w", d.sink_heat_request_w)):
            for ident, v in values.items():
                self._put(self.topics.state(f"decision/{name}/{ident}"), f"{_round(v)}", now)
        active = [a for a in result.alarms if a.active]
        alarms = [{"code": a.code, "severity": a.severity.value, "message": a.message,
                   "since": round(a.timestamp_s, 3)} for a in active]
        self._put(self.topics.state("alarms"), json.dumps(alarms), now,
                  key="|".join(a.code for a in active))
        self._put(self.topics.state("alarm_active"), _on_off(bool(active)), now)
        self._put(self.topics.state("alarm_critical"), _on_off(
            any(a.severity is AlarmSeverity.CRITICAL for a in active)), now)
        self._diagnostics(result, active, now)
        if self.operator is not None:
            for s in self.settings:
                self._put(self.topics.state(f"setting/{s.key}"),
                          setting_state(s, self.operator.setting_value(s.key)), now)

    def _diagnostics(self, result: TickLike, active: list[Alarm], now: float) -> None:
        tick = datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")
        self._put(self.topics.state("diag/tick_time"), tick, now)
        readings = result.state.readings.values()
        self._put(self.topics.state("diag/readings"), str(len(readings)), now)
        self._put(self.topics.state("diag/bad_readings"),
                  str(sum(1 for r in readings if not r.usable)), now)
        self._put(self.topics.state("diag/store_failure"), _on_off(
            any(a.code == STORE_FAILURE_ALARM for a in active)), now)
        self._put(self.topics.state("diag/instance"), self.hub.instance_id, now)
        if self.backlog is not None:
            t = self.clock()
            if self._backlog_at is None or t - self._backlog_at >= BACKLOG_EVERY_S:
                self._backlog_at = t
                self._put(self.topics.state("diag/telemetry_backlog"), str(self.backlog()), now)

    def _put(self, topic: str, payload: str, now: float, *, key: str | None = None) -> None:
        key = payload if key is None else key
        prev = self._sent.get(topic)
        if prev is not None and prev[0] == key and now - prev[1] < REPUBLISH_S:
            return
        self.hub.publish(topic, payload, retain=True)
        self._sent[topic] = (key, now)


def setting_state(setting: OperatorSetting, value: SettingValue) -> str:
    """State topic text: a cleared cap shows as the group's maximum (a number for HA)."""
    if value is None and setting.clearable:
        return f"{_round(setting.maximum)}"
    return setting_text(value)


def setting_text(value: SettingValue) -> str:
    if isinstance(value, Mode):
        return value.value
    return "none" if value is None else f"{_round(value)}"


# -- Home Assistant discovery --------------------------------------------------------------------
#: A flag's JSON state ``{"value": 0 | 1 | null, ...}`` as HA's binary_sensor payloads;
#: ``None`` (no usable reading) makes the state unknown.
_FLAG_TEMPLATE = ("{% if value_json.value is none %}None"
                  "{% elif value_json.value | float(0) > 0.5 %}ON{% else %}OFF{% endif %}")
_VALUE_TEMPLATE = "{{ value_json.value }}"
_DIAGNOSTIC = {"entity_category": "diagnostic"}


def default_entity_id(component: str, unique_id: str) -> str:
    """The entity id suggested to HA: ``<component>.<unique id>`` (HA's default_entity_id)."""
    return f"{component}.{unique_id}"


def discovery_messages(
    profile: SiteProfile, topics: Topics, signals: Iterable[str], *, telemetry: bool = False
) -> list[tuple[str, str]]:
    """(topic, payload) for every entity of the site; publish them retained.

    ``signals``: the signals the controller reads (each becomes a sensor or, for a flag,
    a binary sensor); ``telemetry``: an Influx shipper runs (adds "Telemetry backlog").
    A payload of ``""`` deletes an entity published under an older layout (a flag that
    used to be a ``sensor``), so HA drops it.
    """
    site = profile.site
    site_ident = f"thermalctl_{site.id}"
    site_device: dict[str, object] = {
        "identifiers": [site_ident], "name": site.name, "manufacturer": "thermalctl",
        "model": "waste-heat controller", "sw_version": __version__}
    devices: dict[str, dict[str, object]] = {"": site_device}
    for g in profile.rack_groups:
        devices[f"rack/{g.id}"] = {
            "identifiers": [f"{site_ident}_rack_{g.id}"], "name": f"Rack group {g.id}",
            "manufacturer": "thermalctl", "model": f"GPU rack group ({g.cooling} cooling)",
            "via_device": site_ident}
    for k in profile.sinks:
        devices[f"sink/{k.id}"] = {
            "identifiers": [f"{site_ident}_sink_{k.id}"], "name": k.name or f"Sink {k.id}",
            "manufacturer": "thermalctl", "model": f"heat sink ({k.kind})",
            "via_device": site_ident}
    common = {"availability_topic": topics.status, "payload_available": "online",
              "payload_not_available": "offline",
              "origin": {"name": "thermalctl", "sw_version": __version__}}
    out: list[tuple[str, str]] = []

    def add(component: str, object_id: str, device: str, config: Mapping[str, object]) -> None:
        uid = f"{site_ident}_{object_id}"
        body = {**config, "unique_id": uid,
                "default_entity_id": default_entity_id(component, uid),
                "device": devices[device], **common}
        out.append((topics.discovery(component, object_id), json.dumps(body, sort_keys=True)))

    signals = set(signals)
    for signal in sorted(signals):
        object_id = signal.replace(".", "_")
        try:
            ref = parse(signal)
        except UnknownSignalError:  # not in the catalogue: a plain measurement
            add("sensor", object_id, "", {"name": signal, "state_topic": topics.state(signal),
                                          "value_template": _VALUE_TEMPLATE,
                                          "state_class": "measurement"})
            continue
        sp = ref.spec
        device = (f"rack/{ref.ident}" if ref.group is not None and f"rack/{ref.ident}" in devices
                  else f"sink/{ref.ident}" if f"sink/{ref.ident}" in devices else "")
        if sp.ha_component == "binary_sensor":
            out.append((topics.discovery("sensor", object_id), ""))  # was a numeric sensor
            add("binary_sensor", object_id, device, {
                "name": sp.display_name, "state_topic": topics.state(signal),
                "value_template": _FLAG_TEMPLATE, **_present(device_class=sp.device_class)})
            continue
        add("sensor", object_id, device, {
            "name": sp.display_name, "state_topic": topics.state(signal),
            "value_template": _VALUE_TEMPLATE, **_ha_classes(signal)})

    # the planner's targets
    for g in profile.rack_groups:
        add("sensor", f"decision_gpu_power_cap_w_{g.id}", f"rack/{g.id}", {
            "name": "Planned GPU power cap",
            "state_topic": topics.state(f"decision/gpu_power_cap_w/{g.id}"),
            **_ha_classes(rack_signal(g.id, "gpu_power_cap_w"))})
    for k in profile.sinks:
        add("sensor", f"decision_sink_heat_request_w_{k.id}", f"sink/{k.id}", {
            "name": "Planned heat request",
            "state_topic": topics.state(f"decision/sink_heat_request_w/{k.id}"),
            **_ha_classes(sink_signal(k.id, "heat_request_w"))})
    add("binary_sensor", "decision_dump_on", "", {
        "name": "Dry cooler on (planned)", "device_class": "running",
        "state_topic": topics.state("decision/dump_on")})
    if DUMP_ON not in signals:  # the planned flag's topic before it was decision_dump_on
        out.append((topics.discovery("binary_sensor", "dump_on"), ""))
    add("sensor", "mode", "", {
        "name": "Operating mode", "device_class": "enum", "options": [m.value for m in Mode],
        "state_topic": topics.state("mode")})

    # alarms
    add("binary_sensor", "alarm_active", "", {
        "name": "Alarm", "device_class": "problem", "state_topic": topics.state("alarm_active"),
        "json_attributes_topic": topics.state("alarms"),
        "json_attributes_template": "{{ {'alarms': value_json} | tojson }}"})
    add("binary_sensor", "alarm_critical", "", {
        "name": "Critical alarm", "device_class": "problem",
        "state_topic": topics.state("alarm_critical")})
    add("binary_sensor", "safe_mode", "", {
        "name": "Safe mode", "device_class": "problem", "state_topic": topics.state("safe_mode")})

    # diagnostics
    add("sensor", "diag_tick_time", "", {
        "name": "Last tick", "device_class": "timestamp",
        "state_topic": topics.state("diag/tick_time"), **_DIAGNOSTIC})
    add("sensor", "diag_readings", "", {
        "name": "Signals read", "state_class": "measurement",
        "state_topic": topics.state("diag/readings"), **_DIAGNOSTIC})
    add("sensor", "diag_bad_readings", "", {
        "name": "Signals unusable", "state_class": "measurement",
        "state_topic": topics.state("diag/bad_readings"), **_DIAGNOSTIC})
    add("binary_sensor", "diag_store_failure", "", {
        "name": "Store write failure", "device_class": "problem",
        "state_topic": topics.state("diag/store_failure"), **_DIAGNOSTIC})
    add("sensor", "diag_instance", "", {
        "name": "Instance", "state_topic": topics.state("diag/instance"), **_DIAGNOSTIC})
    add("sensor", "diag_policy", "", {
        "name": "Policy", "state_topic": topics.state("decision/policy"), **_DIAGNOSTIC})
    if telemetry:
        add("sensor", "diag_telemetry_backlog", "", {
            "name": "Telemetry backlog", "unit_of_measurement": "rows",
            "state_class": "measurement",
            "state_topic": topics.state("diag/telemetry_backlog"), **_DIAGNOSTIC})

    # operator settings
    for s in operator_settings(profile):
        object_id = "setting_" + s.key.replace("/", "_")
        kind, _, ident = s.key.partition("/")
        state = {"state_topic": topics.state(f"setting/{s.key}"),
                 "command_topic": topics.cmd(s.key)}
        if s.is_mode:
            add("select", object_id, "", {"name": "Mode", "options": [m.value for m in Mode],
                                          **state})
            continue
        temp = s.unit == "degC"
        add("number", object_id, f"sink/{ident}" if kind == "setpoint" else f"rack/{ident}", {
            "name": "Set point" if kind == "setpoint" else "GPU power cap limit",
            "min": s.minimum, "max": s.maximum, "step": s.step, "mode": "box",
            "unit_of_measurement": "°C" if temp else s.unit,
            "device_class": "temperature" if temp else "power", **state})
    return out


def _present(**pairs: object) -> dict[str, object]:
    return {key: val for key, val in pairs.items() if val is not None}


def _ha_classes(signal: str) -> dict[str, object]:
    """device_class, unit_of_measurement and state_class of a signal (those it has)."""
    kind = ha_unit(signal)
    return _present(device_class=kind.device_class, unit_of_measurement=kind.unit,
                    state_class=kind.state_class)


def publish_discovery(hub: MqttHub, messages: Iterable[tuple[str, str]]) -> None:
    for topic, payload in messages:
        hub.publish(topic, payload, retain=True, qos=1)
