"""Retained state under ``<root>/state/...`` and Home Assistant discovery.

* :class:`StatePublisher` - a controller observer: every tick it publishes the state
  retained (only what changed, everything again every ``REPUBLISH_S`` and after every
  reconnection); it never blocks (paho queues, its thread sends);
* :func:`discovery_messages` - Home Assistant MQTT discovery for every sensor and
  setting (device, unique_id, device_class, unit, state_class).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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
from thermalctl.models.signals import UnknownSignalError, rack_signal, sink_signal, spec
from thermalctl.points import Alarm, Decision, Mode, Reading

__all__ = [
    "REPUBLISH_S",
    "StatePublisher",
    "TickLike",
    "discovery_messages",
    "ha_unit",
    "publish_discovery",
    "setting_state",
    "setting_text",
]

#: Publish every state topic again at least this often (simulated or wall seconds).
REPUBLISH_S = 60.0


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


class StatePublisher:
    """Controller observer: retained state under ``<root>/state/...``; changes only."""

    def __init__(self, hub: MqttHub, operator: OperatorPort | None = None,
                 settings: Iterable[OperatorSetting] = ()) -> None:
        self.hub = hub
        self.topics = hub.topics
        self.operator = operator
        self.settings = tuple(settings)
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
        self._put(self.topics.state("decision/policy"), d.policy, now)
        self._put(self.topics.state("decision/dump_on"), "ON" if d.dump_on else "OFF", now)
        for name, values in (("gpu_power_cap_w", d.gpu_power_cap_w),
                             ("sink_heat_request_w", d.sink_heat_request_w)):
            for ident, v in values.items():
                self._put(self.topics.state(f"decision/{name}/{ident}"), f"{_round(v)}", now)
        alarms = [{"code": a.code, "severity": a.severity.value, "message": a.message,
                   "since": round(a.timestamp_s, 3)} for a in result.alarms if a.active]
        self._put(self.topics.state("alarms"), json.dumps(alarms), now,
                  key="|".join(a["code"] for a in alarms))  # type: ignore[misc]
        self._put(self.topics.state("alarm_active"), "ON" if alarms else "OFF", now)
        if self.operator is not None:
            for s in self.settings:
                self._put(self.topics.state(f"setting/{s.key}"),
                          setting_state(s, self.operator.setting_value(s.key)), now)

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
def discovery_messages(
    profile: SiteProfile, topics: Topics, signals: Iterable[str]
) -> list[tuple[str, str]]:
    """(topic, JSON payload) for every sensor and setting; publish them retained."""
    site = profile.site
    device = {"identifiers": [f"thermalctl_{site.id}"], "name": site.name,
              "manufacturer": "thermalctl", "model": "waste-heat controller",
              "sw_version": __version__}
    common = {"availability_topic": topics.status, "device": device}
    out: list[tuple[str, str]] = []

    def add(component: str, object_id: str, config: dict[str, object]) -> None:
        uid = f"thermalctl_{site.id}_{object_id}"
        body = {**config, "unique_id": uid, "object_id": uid, **common}
        out.append((topics.discovery(component, object_id), json.dumps(body, sort_keys=True)))

    for signal in sorted(set(signals)):
        add("sensor", signal.replace(".", "_"), {
            "name": signal, "state_topic": topics.state(signal),
            "value_template": "{{ value_json.value }}", **_ha_classes(signal)})
    for group in profile.rack_groups:
        add("sensor", f"decision_gpu_power_cap_w_{group.id}", {
            "name": f"{group.id} planned GPU power cap",
            "state_topic": topics.state(f"decision/gpu_power_cap_w/{group.id}"),
            **_ha_classes(rack_signal(group.id, "gpu_power_cap_w"))})
    for sink in profile.sinks:
        add("sensor", f"decision_sink_heat_request_w_{sink.id}", {
            "name": f"{sink.id} heat request",
            "state_topic": topics.state(f"decision/sink_heat_request_w/{sink.id}"),
            **_ha_classes(sink_signal(sink.id, "heat_request_w"))})
    add("binary_sensor", "alarm_active", {
        "name": "alarm", "device_class": "problem", "state_topic": topics.state("alarm_active"),
        "json_attributes_topic": topics.state("alarms"),
        "json_attributes_template": "{{ {'alarms': value_json} | tojson }}"})
    add("binary_sensor", "dump_on", {"name": "heat dump on", "device_class": "running",
                                     "state_topic": topics.state("decision/dump_on")})
    for s in operator_settings(profile):
        object_id = "setting_" + s.key.replace("/", "_")
        if s.is_mode:
            add("select", object_id, {
                "name": "mode", "options": [m.value for m in Mode],
                "state_topic": topics.state("setting/mode"), "command_topic": topics.cmd("mode")})
            continue
        cfg = {"name": s.name, "min": s.minimum, "max": s.maximum, "step": s.step,
               "mode": "box", "unit_of_measurement": "°C" if s.unit == "degC" else s.unit,
               "device_class": "temperature" if s.unit == "degC" else "power",
               "state_topic": topics.state(f"setting/{s.key}"),
               "command_topic": topics.cmd(s.key)}
        add("number", object_id, cfg)
    return out


def _ha_classes(signal: str) -> dict[str, object]:
    """device_class, unit_of_measurement and state_class of a signal (those it has)."""
    kind = ha_unit(signal)
    pairs = (("device_class", kind.device_class), ("unit_of_measurement", kind.unit),
             ("state_class", kind.state_class))
    return {key: val for key, val in pairs if val is not None}


def publish_discovery(hub: MqttHub, messages: Iterable[tuple[str, str]]) -> None:
    for topic, payload in messages:
        hub.publish(topic, payload, retain=True, qos=1)
