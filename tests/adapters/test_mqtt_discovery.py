"""Home Assistant discovery payloads against HA's MQTT schema (unit tests, no broker).

The accepted keys per platform are HA's own: the keys of ``PLATFORM_SCHEMA_MODERN`` of
``homeassistant.components.mqtt.{sensor,binary_sensor,number,select}`` (read from HA
2025.4.4, the newest release for this machine's Python 3.13.0), with ``object_id``
removed (deprecated in 2025.10, ignored since 2026.4: home-assistant/core#151775,
#164460) and ``default_entity_id`` added (2025.10). A key outside these is one HA drops
without a word (its discovery schemas remove extra keys), so a typo would go unseen in
HA: here it fails. tests/integration/test_home_assistant.py validates the same payloads
with HA's voluptuous schemas in HA's own venv, and then through a running HA.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from tests.conftest import POOL_SITE, SITE_PROFILES
from tests.mqtt_servers import FakeOperator, fake_tick
from thermalctl.adapters.mqtt import StatePublisher, Topics, discovery_messages
from thermalctl.adapters.mqtt.state import default_entity_id
from thermalctl.config.loader import load_site_profile
from thermalctl.config.site import SiteProfile
from thermalctl.models.signals import Kind, signals_for

_COMMON = {
    "availability", "availability_mode", "availability_template", "availability_topic",
    "default_entity_id", "device", "enabled_by_default", "encoding", "entity_category",
    "entity_picture", "icon", "json_attributes_template", "json_attributes_topic", "name",
    "origin", "payload_available", "payload_not_available", "qos", "unique_id",
}
HA_KEYS: dict[str, set[str]] = {
    "sensor": _COMMON | {"device_class", "expire_after", "force_update",
                         "last_reset_value_template", "options", "state_class", "state_topic",
                         "suggested_display_precision", "unit_of_measurement",
                         "value_template"},
    "binary_sensor": _COMMON | {"device_class", "expire_after", "force_update", "off_delay",
                                "payload_off", "payload_on", "state_topic", "value_template"},
    "number": _COMMON | {"command_template", "command_topic", "device_class", "max", "min",
                         "mode", "optimistic", "payload_reset", "retain", "state_topic", "step",
                         "unit_of_measurement", "value_template"},
    "select": _COMMON | {"command_template", "command_topic", "optimistic", "options", "retain",
                         "state_topic", "value_template"},
}
DEVICE_KEYS = {"identifiers", "connections", "manufacturer", "model", "model_id", "name",
               "hw_version", "serial_number", "sw_version", "via_device", "suggested_area",
               "configuration_url"}
ORIGIN_KEYS = {"name", "sw_version", "support_url"}
#: HA's sensor rule: a diagnostic or config category, and only diagnostic for sensors.
SENSOR_CATEGORIES = {"diagnostic"}


@dataclass(frozen=True)
class Entity:
    topic: str
    component: str
    body: dict[str, object]

    @property
    def device(self) -> dict[str, object]:
        device = self.body["device"]
        assert isinstance(device, dict)
        return device


def entities(profile: SiteProfile, *, telemetry: bool = False,
             signals: object = None) -> tuple[dict[str, Entity], list[str]]:
    """unique_id -> entity, and the topics that are deleted (empty payload)."""
    topics = Topics("thermalctl", profile.site.id)
    names = signals_for(profile) if signals is None else signals
    out: dict[str, Entity] = {}
    deleted: list[str] = []
    for topic, payload in discovery_messages(profile, topics, names,  # type: ignore[arg-type]
                                             telemetry=telemetry):
        if payload == "":
            deleted.append(topic)
            continue
        body = json.loads(payload)
        component = topic.split("/")[1]
        assert body["unique_id"] not in out, body["unique_id"]
        out[body["unique_id"]] = Entity(topic, component, body)
    return out, deleted


@pytest.fixture(scope="module")
def pool() -> SiteProfile:
    return load_site_profile(POOL_SITE)


@pytest.mark.parametrize("path", SITE_PROFILES, ids=lambda p: p.stem)
def test_every_payload_has_only_keys_ha_accepts(path: object) -> None:
    profile = load_site_profile(path)  # type: ignore[arg-type]
    found, _ = entities(profile, telemetry=True)
    assert found
    for uid, e in found.items():
        unknown = set(e.body) - HA_KEYS[e.component]
        assert not unknown, f"{uid}: keys HA would drop: {sorted(unknown)}"
        assert set(e.device) <= DEVICE_KEYS, uid
        assert set(e.body["origin"]) <= ORIGIN_KEYS, uid  # type: ignore[arg-type]
        assert "object_id" not in e.body
        assert e.body["default_entity_id"] == default_entity_id(e.component, uid)
        assert e.body["default_entity_id"] == f"{e.component}.{uid}"
        assert uid.startswith(f"thermalctl_{profile.site.id}_")
        assert e.body["availability_topic"] == f"thermalctl/{profile.site.id}/status"
        assert (e.body["payload_available"], e.body["payload_not_available"]) == (
            "online", "offline")
        if e.component == "sensor" and "entity_category" in e.body:
            assert e.body["entity_category"] in SENSOR_CATEGORIES, uid
        if e.body.get("device_class") == "enum":
            assert "state_class" not in e.body and "unit_of_measurement" not in e.body
        assert e.topic == f"homeassistant/{e.component}/{profile.site.id}/" \
                          f"{uid.removeprefix(f'thermalctl_{profile.site.id}_')}/config"


def test_units_classes_and_platform_come_from_the_catalogue(pool: SiteProfile) -> None:
    found, deleted = entities(pool)
    for name, s in signals_for(pool).items():
        e = found[f"thermalctl_{pool.site.id}_{name.replace('.', '_')}"]
        assert e.body["state_topic"] == f"thermalctl/{pool.site.id}/state/{name.replace('.', '/')}"
        assert e.body["name"] == s.display_name
        if s.kind is Kind.FLAG:
            assert e.component == "binary_sensor", name
            assert e.body.get("device_class") == s.device_class
            assert "unit_of_measurement" not in e.body and "state_class" not in e.body
            assert e.topic.replace("/binary_sensor/", "/sensor/") in deleted  # old layout gone
            continue
        assert e.component == "sensor", name
        assert e.body.get("device_class") == s.device_class, name
        assert e.body.get("unit_of_measurement") == s.ha_unit, name
        assert e.body.get("state_class") == s.state_class, name


def test_issue_10_entities(pool: SiteProfile) -> None:
    """What the issue found wrong with a real HA: the must-run power, the heat path fault."""
    found, _ = entities(pool)
    must_run = found["thermalctl_exmouth_pool_rack_pod_must_run_w"].body
    assert (must_run["unit_of_measurement"], must_run["device_class"]) == ("W", "power")
    assert must_run["state_class"] == "measurement"
    fault = found["thermalctl_exmouth_pool_loop_heat_path_fault"]
    assert fault.component == "binary_sensor" and fault.body["device_class"] == "problem"
    assert fault.body["name"] == "Heat path fault"
    assert found["thermalctl_exmouth_pool_loop_supply_temp_c"].body["name"] == \
        "Coolant supply temperature"


def test_every_energy_counter_suits_the_energy_dashboard(pool: SiteProfile) -> None:
    found, _ = entities(pool)
    counters = [n for n, s in signals_for(pool).items() if s.kind is Kind.COUNTER]
    assert {"it.energy_kwh", "facility.energy_kwh", "sink.pool.energy_kwh"} <= set(counters)
    for name in counters:
        body = found[f"thermalctl_exmouth_pool_{name.replace('.', '_')}"].body
        assert (body["device_class"], body["state_class"], body["unit_of_measurement"]) == (
            "energy", "total_increasing", "kWh"), name


def test_names_are_human_and_unique_within_each_device(pool: SiteProfile) -> None:
    found, _ = entities(pool, telemetry=True)
    seen: dict[tuple[str, str], str] = {}
    for uid, e in found.items():
        name = e.body["name"]
        assert isinstance(name, str) and name and name[0].isupper(), uid
        assert "." not in name and "_" not in name, f"{uid}: {name!r} looks like a signal id"
        key = (json.dumps(e.device["identifiers"]), name)
        assert key not in seen, f"{uid} and {seen.get(key)} are both {name!r}"
        seen[key] = uid


def test_one_device_per_site_rack_group_and_sink(pool: SiteProfile) -> None:
    found, _ = entities(pool)
    devices = {json.dumps(e.device, sort_keys=True) for e in found.values()}
    by_id = {tuple(json.loads(d)["identifiers"]): json.loads(d) for d in devices}
    site = ("thermalctl_exmouth_pool",)
    assert set(by_id) == {site, ("thermalctl_exmouth_pool_rack_pod",),
                          ("thermalctl_exmouth_pool_sink_pool",)}
    assert by_id[site]["name"] == pool.site.name and "via_device" not in by_id[site]
    for ident, device in by_id.items():
        if ident != site:
            assert device["via_device"] == site[0]
    assert by_id[("thermalctl_exmouth_pool_sink_pool",)]["name"] == pool.sinks[0].name
    # each quantity on the device it belongs to
    assert found["thermalctl_exmouth_pool_sink_pool_temp_c"].device["identifiers"] == [
        "thermalctl_exmouth_pool_sink_pool"]
    assert found["thermalctl_exmouth_pool_rack_pod_power_w"].device["identifiers"] == [
        "thermalctl_exmouth_pool_rack_pod"]
    assert found["thermalctl_exmouth_pool_setting_gpu_cap_pod"].device["identifiers"] == [
        "thermalctl_exmouth_pool_rack_pod"]


def test_alarms_modes_diagnostics_and_settings(pool: SiteProfile) -> None:
    found, _ = entities(pool, telemetry=True)

    def get(suffix: str) -> Entity:
        return found[f"thermalctl_exmouth_pool_{suffix}"]

    for suffix in ("alarm_active", "alarm_critical", "safe_mode"):
        assert (get(suffix).component, get(suffix).body["device_class"]) == (
            "binary_sensor", "problem")
    assert get("alarm_active").body["json_attributes_topic"] == \
        "thermalctl/exmouth_pool/state/alarms"
    diagnostics = {uid for uid, e in found.items()
                   if e.body.get("entity_category") == "diagnostic"}
    assert diagnostics == {f"thermalctl_exmouth_pool_diag_{n}" for n in (
        "tick_time", "readings", "bad_readings", "store_failure", "instance", "policy",
        "telemetry_backlog")}
    assert get("diag_tick_time").body["device_class"] == "timestamp"
    assert get("diag_store_failure").component == "binary_sensor"
    assert "thermalctl_exmouth_pool_diag_telemetry_backlog" not in entities(pool)[0]
    mode = get("setting_mode")
    assert mode.component == "select" and mode.body["options"] == ["auto", "manual", "safe"]
    assert mode.body["command_topic"] == "thermalctl/exmouth_pool/cmd/mode"
    setpoint = get("setting_setpoint_pool").body
    assert (setpoint["unit_of_measurement"], setpoint["device_class"]) == ("°C", "temperature")
    assert (setpoint["min"], setpoint["max"], setpoint["step"]) == (29.0, 31.0, 0.1)
    cap = get("setting_gpu_cap_pod").body
    assert (cap["unit_of_measurement"], cap["device_class"], cap["max"]) == ("W", "power", 40000)
    assert get("mode").body["options"] == ["auto", "manual", "safe"]


def test_an_unknown_signal_is_a_plain_measurement(pool: SiteProfile) -> None:
    found, _ = entities(pool, signals=["plant.mystery"])
    body = found["thermalctl_exmouth_pool_plant_mystery"].body
    assert body["state_class"] == "measurement" and "device_class" not in body


# -- the state topics behind every entity are published ------------------------------------------
@dataclass
class RecordingHub:
    topics: Topics
    instance_id: str = "1234-abcd"
    published: dict[str, str] = field(default_factory=dict)
    callbacks: list[Callable[[], None]] = field(default_factory=list)

    def publish(self, topic: str, payload: str | bytes, *, retain: bool = False,
                qos: int = 0) -> None:
        assert retain
        self.published[topic] = payload if isinstance(payload, str) else payload.decode()

    def on_connected(self, callback: Callable[[], None]) -> None:
        self.callbacks.append(callback)


def test_every_entity_state_topic_gets_a_state(pool: SiteProfile) -> None:
    profile = pool.model_copy(update={"site": pool.site.model_copy(update={"id": "site_a"})})
    topics = Topics("thermalctl", "site_a")
    hub = RecordingHub(topics)
    operator = FakeOperator(profile)
    from thermalctl.config.services import operator_settings

    publisher = StatePublisher(hub, operator, operator_settings(profile),  # type: ignore[arg-type]
                               backlog=lambda: 17)
    tick = fake_tick()
    publisher.on_tick(tick)
    signals = set(tick.state.readings)
    found, _ = entities(profile, telemetry=True, signals=signals)
    for uid, e in found.items():
        assert e.body["state_topic"] in hub.published, f"{uid}: nothing on its state topic"
    assert hub.published["thermalctl/site_a/state/diag/telemetry_backlog"] == "17"
    assert hub.published["thermalctl/site_a/state/diag/instance"] == "1234-abcd"
    assert hub.published["thermalctl/site_a/state/diag/tick_time"] == "2026-01-05T00:00:00+00:00"
    assert hub.published["thermalctl/site_a/state/safe_mode"] == "OFF"
    assert hub.published["thermalctl/site_a/state/alarm_critical"] == "OFF"  # a warning only
    assert hub.published["thermalctl/site_a/state/alarm_active"] == "ON"
    for e in found.values():
        if e.component == "number":
            float(hub.published[str(e.body["state_topic"])])  # a number HA can show
        if e.component == "select":
            assert hub.published[str(e.body["state_topic"])] in e.body["options"]  # type: ignore[operator]

