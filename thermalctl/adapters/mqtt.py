"""MQTT: sensor ingestion, retained state, Home Assistant discovery and operator commands.

One :class:`MqttHub` owns the paho-mqtt 2.x client of a site (its network thread,
``loop_start``), the last will and the reconnect back-off. On it sit:

* :class:`MqttIngest` - the profile's ``mqtt_sensors``: topic, JSON field, unit,
  staleness -> :class:`~thermalctl.points.Reading` in canonical units;
* :class:`StatePublisher` - a controller observer: every tick it publishes the state
  retained under ``<base>/<site>/state/...`` (only what changed, everything again every
  ``REPUBLISH_S``); it never blocks (paho queues, its thread sends);
* :class:`CommandHandler` - ``<base>/<site>/cmd/<setting>``: validated against the
  profile's bounds, applied through an :class:`~thermalctl.config.services.OperatorPort`,
  answered on ``<base>/<site>/ack`` with ``ok`` or a reason, and logged;
* :func:`discovery_messages` - Home Assistant MQTT discovery for every sensor and
  setting (device, unique_id, device_class, unit, state_class).

Topics (``<root>`` = ``<base_topic>/<site>``)::

    <root>/status                        online | offline (retained, last will)
    <root>/state/<signal with / for .>   {"value", "unit", "quality", "ts"} (retained)
    <root>/state/mode                    auto | manual | safe (retained)
    <root>/state/decision/<field>[/<id>] planner's targets (retained)
    <root>/state/alarms                  JSON list of active alarms (retained)
    <root>/state/setting/<setting>       the setting in force (retained)
    <root>/cmd/<setting>                 commands: mode, setpoint/<sink>, gpu_cap/<group>
    <root>/ack                           {"topic", "ok", "value" | "reason", "id"}
"""

from __future__ import annotations

import json
import logging
import math
import ssl
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from thermalctl import __version__
from thermalctl.adapters.errors import AdapterError
from thermalctl.config.services import (
    MqttEndpoint,
    OperatorPort,
    OperatorSetting,
    SettingValue,
    operator_settings,
    validate_setting,
)
from thermalctl.config.site import MqttSensor, SiteProfile
from thermalctl.config.units import to_canonical
from thermalctl.models.signals import UnknownSignalError, rack_signal, sink_signal, spec
from thermalctl.points import Alarm, Decision, Mode, Quality, Reading

__all__ = [
    "CommandHandler",
    "MqttError",
    "MqttHub",
    "MqttIngest",
    "StatePublisher",
    "Topics",
    "discovery_messages",
    "ha_unit",
]

log = logging.getLogger(__name__)

#: Publish every state topic again at least this often (simulated or wall seconds).
REPUBLISH_S = 60.0
#: Numeric change below which a value counts as unchanged (relative).
_CHANGE_REL = 1e-6


class MqttError(AdapterError):
    """The broker could not be reached or refused the connection."""


# -- topics --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Topics:
    base_topic: str
    site_id: str
    discovery_prefix: str = "homeassistant"

    @property
    def root(self) -> str:
        return f"{self.base_topic}/{self.site_id}"

    @property
    def status(self) -> str:
        return f"{self.root}/status"

    @property
    def ack(self) -> str:
        return f"{self.root}/ack"

    def state(self, name: str) -> str:
        return f"{self.root}/state/{name.replace('.', '/')}"

    def cmd(self, key: str) -> str:
        return f"{self.root}/cmd/{key}"

    def discovery(self, component: str, object_id: str) -> str:
        return f"{self.discovery_prefix}/{component}/{self.site_id}/{object_id}/config"


# -- the hub ------------------------------------------------------------------------------------
Handler = Callable[[str, bytes], None]


class MqttHub:
    """One broker connection: auth, TLS, last will, reconnect, subscriptions.

    Subscriptions and the ``on_connect`` publications (discovery, ``online``) are
    replayed after every reconnect. Callbacks run on paho's network thread.
    """

    def __init__(self, endpoint: MqttEndpoint, topics: Topics) -> None:
        self.endpoint = endpoint
        self.topics = topics
        client_id = endpoint.client_id or f"thermalctl-{topics.site_id}"
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=paho.MQTTv311)
        if endpoint.username is not None:
            password = endpoint.password.get_secret_value() if endpoint.password else None
            self.client.username_pw_set(endpoint.username, password)
        if endpoint.tls:
            self.client.tls_set(ca_certs=endpoint.ca_file, cert_reqs=ssl.CERT_REQUIRED)
        self.client.will_set(topics.status, "offline", qos=1, retain=True)
        self.client.reconnect_delay_set(min_delay=1, max_delay=60)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self._subs: dict[str, Handler] = {}
        self._on_connected: list[Callable[[], None]] = []
        self.connected = threading.Event()
        self.refused: str | None = None
        self._failing: str | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background; paho's thread keeps reconnecting."""
        try:
            self.client.connect_async(self.endpoint.host, self.endpoint.port,
                                      keepalive=self.endpoint.keepalive_s)
        except (OSError, ValueError) as exc:
            raise MqttError(f"MQTT {self.endpoint.host}:{self.endpoint.port}: {exc}") from exc
        self.client.loop_start()

    def wait_connected(self, timeout_s: float) -> bool:
        return self.connected.wait(timeout_s)

    def stop(self) -> None:
        """Say ``offline`` (retained), disconnect cleanly, stop the thread."""
        if self.connected.is_set():
            info = self.client.publish(self.topics.status, "offline", qos=1, retain=True)
            info.wait_for_publish(timeout=2.0)
        self.client.disconnect()
        self.client.loop_stop()

    # -- subscriptions ---------------------------------------------------------------------
    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        self._subs[topic_filter] = handler

        def dispatch(_c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
            handler(msg.topic, bytes(msg.payload))

        self.client.message_callback_add(topic_filter, dispatch)
        if self.connected.is_set():
            self.client.subscribe(topic_filter, qos=1)

    def on_connected(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on every (re)connection, on paho's thread."""
        self._on_connected.append(callback)

    def publish(self, topic: str, payload: str, *, retain: bool = False, qos: int = 0) -> None:
        """Queue a message (never blocks; dropped with a debug log when offline)."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            log.debug("MQTT publish to %s not queued: %s", topic, paho.error_string(info.rc))

    # -- paho callbacks (network thread) ---------------------------------------------------
    def _on_connect(self, client: paho.Client, _u: object, _flags: object, rc: ReasonCode,
                    _props: object) -> None:
        if rc.is_failure:
            self.refused = str(rc)
            self._failed(f"broker refused the connection: {rc}")
            return
        self.refused = None
        for topic_filter in self._subs:
            client.subscribe(topic_filter, qos=1)
        client.publish(self.topics.status, "online", qos=1, retain=True)
        for callback in self._on_connected:
            callback()
        self.connected.set()
        if self._failing is not None:
            log.info("MQTT %s:%d connected again", self.endpoint.host, self.endpoint.port)
            self._failing = None
        else:
            log.info("MQTT connected to %s:%d", self.endpoint.host, self.endpoint.port)

    def _on_disconnect(self, _c: paho.Client, _u: object, _flags: object, rc: ReasonCode,
                       _props: object) -> None:
        self.connected.clear()
        if rc.is_failure:
            self._failed(f"connection lost: {rc}")

    def _failed(self, why: str) -> None:
        if self._failing is None:
            log.warning("MQTT %s:%d: %s; retrying", self.endpoint.host, self.endpoint.port, why)
        self._failing = why


# -- ingestion -----------------------------------------------------------------------------------
@dataclass
class _Latest:
    value: float
    unit: str
    at_s: float
    error: str = ""


class MqttIngest:
    """The profile's MQTT sensors as readings (``point`` = the sensor's name).

    :meth:`readings` gives, for each sensor, its latest value stamped ``now_s`` while it
    is fresher than the binding's ``stale_after_s``, a ``STALE`` reading once it is
    older, and a ``BAD`` reading while the last message could not be parsed.
    """

    def __init__(self, sensors: Iterable[MqttSensor], clock: Callable[[], float]) -> None:
        self.sensors = tuple(sensors)
        self.clock = clock
        self._latest: dict[str, _Latest] = {}
        self._lock = threading.Lock()
        self._warned: set[str] = set()

    @property
    def point_signals(self) -> dict[str, str]:
        return {s.name: s.signal for s in self.sensors}

    def attach(self, hub: MqttHub) -> None:
        for sensor in self.sensors:
            hub.subscribe(sensor.topic, self._handler(sensor))

    def _handler(self, sensor: MqttSensor) -> Handler:
        def handle(_topic: str, payload: bytes) -> None:
            self.receive(sensor, payload)

        return handle

    def receive(self, sensor: MqttSensor, payload: bytes) -> None:
        now = self.clock()
        try:
            raw = _extract(payload, sensor.json_field)
            value, unit = to_canonical(raw, sensor.unit)
        except ValueError as exc:
            if sensor.name not in self._warned:
                log.warning("MQTT sensor %s: unusable message on %s: %s", sensor.name,
                            sensor.topic, exc)
                self._warned.add(sensor.name)
            with self._lock:
                prev = self._latest.get(sensor.name)
                unit = to_canonical(0.0, sensor.unit)[1]
                self._latest[sensor.name] = _Latest(
                    prev.value if prev else math.nan, unit, prev.at_s if prev else now, str(exc))
            return
        if sensor.name in self._warned:
            log.info("MQTT sensor %s: messages usable again", sensor.name)
            self._warned.discard(sensor.name)
        with self._lock:
            self._latest[sensor.name] = _Latest(value, unit, now)

    def readings(self, now_s: float) -> list[Reading]:
        out: list[Reading] = []
        with self._lock:
            latest = dict(self._latest)
        for sensor in self.sensors:
            item = latest.get(sensor.name)
            if item is None:
                continue
            age = now_s - item.at_s
            if item.error:
                out.append(Reading.bad(sensor.name, item.unit, now_s, item.error))
            elif age > sensor.stale_after_s:
                out.append(Reading(sensor.name, item.value, item.unit, Quality.STALE, item.at_s,
                                   f"no message on {sensor.topic} for {age:.0f} s"))
            else:
                out.append(Reading(sensor.name, item.value, item.unit, Quality.GOOD, now_s))
        return out


def _extract(payload: bytes, json_field: str | None) -> float:
    text = payload.decode("utf-8", errors="replace").strip()
    if json_field is None:
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"payload {text[:40]!r} is not a number") from None
    try:
        node: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"payload is not JSON: {exc.msg}") from None
    for part in json_field.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ValueError(f"JSON field {json_field!r} not in payload")
        node = node[part]
    if isinstance(node, bool) or not isinstance(node, int | float):
        raise ValueError(f"JSON field {json_field!r} is {node!r}, not a number")
    return float(node)


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
                          _setting_state(s, self.operator.setting_value(s.key)), now)

    def _put(self, topic: str, payload: str, now: float, *, key: str | None = None) -> None:
        key = payload if key is None else key
        prev = self._sent.get(topic)
        if prev is not None and prev[0] == key and now - prev[1] < REPUBLISH_S:
            return
        self.hub.publish(topic, payload, retain=True)
        self._sent[topic] = (key, now)


def _setting_state(setting: OperatorSetting, value: SettingValue) -> str:
    """State topic text: a cleared cap shows as the group's maximum (a number for HA)."""
    if value is None and setting.clearable:
        return f"{_round(setting.maximum)}"
    return _setting_text(value)


def _setting_text(value: SettingValue) -> str:
    if isinstance(value, Mode):
        return value.value
    return "none" if value is None else f"{_round(value)}"


# -- commands ------------------------------------------------------------------------------------
@dataclass
class Ack:
    topic: str
    ok: bool
    value: str | None = None
    reason: str | None = None
    id: str | None = None

    def payload(self) -> str:
        body = {"topic": self.topic, "ok": self.ok}
        body.update({k: v for k, v in (("value", self.value), ("reason", self.reason),
                                       ("id", self.id)) if v is not None})
        return json.dumps(body)


@dataclass
class CommandHandler:
    """``<root>/cmd/<setting>``: validate, apply, acknowledge (or reject with a reason).

    A payload is either the bare value (``auto``, ``30.5``, ``none``) or JSON
    ``{"value": ..., "id": "..."}``; ``id`` is echoed in the answer. ``run_in_loop``
    moves the apply step onto the controller's thread (``loop.call_soon_threadsafe``).
    """

    hub: MqttHub
    operator: OperatorPort
    settings: tuple[OperatorSetting, ...]
    run_in_loop: Callable[[Callable[[], None]], None] = field(default=lambda fn: fn())
    on_applied: Callable[[str, SettingValue], None] | None = None

    def attach(self) -> None:
        self.hub.subscribe(self.hub.topics.cmd("#"), self._receive)

    def _receive(self, topic: str, payload: bytes) -> None:
        def apply() -> None:
            self.handle(topic, payload)

        self.run_in_loop(apply)

    def handle(self, topic: str, payload: bytes) -> Ack:
        prefix = self.hub.topics.cmd("")
        key = topic[len(prefix):] if topic.startswith(prefix) else topic
        raw, ident = _parse_payload(payload)
        by_key = {s.key: s for s in self.settings}
        if key not in by_key:
            ack = Ack(topic, False, reason=f"unknown setting {key!r}; known: "
                      f"{', '.join(by_key)}", id=ident)
        else:
            try:
                value = validate_setting(by_key[key], raw)
            except ValueError as exc:
                ack = Ack(topic, False, reason=str(exc), id=ident)
            else:
                self.operator.apply_setting(key, value)
                if self.on_applied is not None:
                    self.on_applied(key, value)
                ack = Ack(topic, True, value=_setting_text(value), id=ident)
                self.hub.publish(self.hub.topics.state(f"setting/{key}"),
                                 _setting_state(by_key[key], value), retain=True)
        if ack.ok:
            log.info("MQTT command %s = %s applied", key, ack.value)
        else:
            log.warning("MQTT command on %s rejected: %s", topic, ack.reason)
        self.hub.publish(self.hub.topics.ack, ack.payload(), qos=1)
        return ack


def _parse_payload(payload: bytes) -> tuple[object, str | None]:
    text = payload.decode("utf-8", errors="replace").strip()
    if text.startswith("{"):
        try:
            body = json.loads(text)
        except json.JSONDecodeError:
            return text, None
        if isinstance(body, dict):
            ident = body.get("id")
            return body.get("value"), None if ident is None else str(ident)
    return text, None


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
