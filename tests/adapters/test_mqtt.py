"""MQTT against a real Mosquitto with a password file and an ACL: discovery, retained
state, last will, refused clients, commands (rejected with a reason / applied), ingestion."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import pytest

from tests.mqtt_servers import T_NOW, SiteMqtt, fake_tick, start_site
from tests.servers import (  # noqa: F401 - fixture
    Listener,
    MosquittoServer,
    mosquitto_server_fixture,
    wait_for,
)
from thermalctl.points import Mode, Quality


@pytest.fixture
def site_a(mosquitto_server: MosquittoServer) -> Iterator[SiteMqtt]:
    site = start_site(mosquitto_server, "site_a", "a-pw")
    yield site
    site.hub.stop()


@pytest.fixture
def admin(mosquitto_server: MosquittoServer) -> Iterator[Listener]:
    listener = Listener(mosquitto_server)
    assert wait_for(lambda: bool(listener.connack), 5.0)
    yield listener
    listener.close()


pytestmark = pytest.mark.integration


def test_discovery_and_retained_state_arrive(site_a: SiteMqtt, admin: Listener) -> None:
    site_a.publisher.on_tick(fake_tick())
    energy = json.loads(admin.wait("homeassistant/sensor/site_a/it_energy_kwh/config"))
    assert energy["state_class"] == "total_increasing"
    assert energy["device_class"] == "energy" and energy["unit_of_measurement"] == "kWh"
    assert energy["unique_id"] == "thermalctl_site_a_it_energy_kwh"
    assert energy["device"]["identifiers"] == ["thermalctl_site_a"]
    assert energy["availability_topic"] == "thermalctl/site_a/status"
    temp = json.loads(admin.wait("homeassistant/sensor/site_a/loop_supply_temp_c/config"))
    assert (temp["device_class"], temp["unit_of_measurement"]) == ("temperature", "°C")
    setpoint = json.loads(admin.wait("homeassistant/number/site_a/setting_setpoint_pool/config"))
    assert setpoint["command_topic"] == "thermalctl/site_a/cmd/setpoint/pool"
    assert (setpoint["min"], setpoint["max"]) == (29.0, 31.0)
    mode = json.loads(admin.wait("homeassistant/select/site_a/setting_mode/config"))
    assert mode["options"] == ["auto", "manual", "safe"]

    assert admin.wait("thermalctl/site_a/status") == b"online"
    supply = json.loads(admin.wait("thermalctl/site_a/state/loop/supply_temp_c"))
    assert supply["value"] == 35.0 and supply["quality"] == "good"
    flow = json.loads(admin.wait("thermalctl/site_a/state/loop/flow_m3_per_s"))
    assert flow["value"] == pytest.approx(6.0) and flow["unit"] == "m³/h"
    bad = json.loads(admin.wait("thermalctl/site_a/state/it/power_w"))
    assert bad["value"] is None and bad["quality"] == "bad"
    assert admin.wait("thermalctl/site_a/state/mode") == b"auto"
    assert admin.wait("thermalctl/site_a/state/alarm_active") == b"ON"
    assert admin.wait("thermalctl/site_a/state/decision/gpu_power_cap_w/pod") == b"60000.0"

    late = Listener(admin.server)  # retained: a client that connects later sees the state
    try:
        assert json.loads(late.wait("thermalctl/site_a/state/loop/supply_temp_c"))["value"] == 35
    finally:
        late.close()


def test_unchanged_state_is_not_republished_every_tick(site_a: SiteMqtt, admin: Listener) -> None:
    site_a.publisher.on_tick(fake_tick(T_NOW))
    admin.wait("thermalctl/site_a/state/loop/supply_temp_c")
    site_a.publisher.on_tick(fake_tick(T_NOW + 2, supply_c=35.0))
    site_a.publisher.on_tick(fake_tick(T_NOW + 4, supply_c=36.0))
    assert wait_for(lambda: len(admin.messages["thermalctl/site_a/state/loop/supply_temp_c"]) >= 2)
    values = [json.loads(m)["value"] for m in
              admin.messages["thermalctl/site_a/state/loop/supply_temp_c"]]
    assert values == [35.0, 36.0]


def test_last_will_says_offline(mosquitto_server: MosquittoServer, admin: Listener) -> None:
    site = start_site(mosquitto_server, "site_b", "b-pw")
    assert admin.wait("thermalctl/site_b/status") == b"online"
    site.hub.client.loop_stop()  # die without a clean disconnect
    site.hub.client.socket().close()  # type: ignore[union-attr]
    assert wait_for(lambda: admin.last("thermalctl/site_b/status") == b"offline", 10.0)


@pytest.mark.parametrize(("user", "password"), [(None, None), ("site_a", "wrong")])
def test_unauthenticated_client_is_refused(
    mosquitto_server: MosquittoServer, user: str | None, password: str | None
) -> None:
    intruder = Listener(mosquitto_server, user=user, password=password)
    try:
        assert wait_for(lambda: bool(intruder.connack), 5.0)
        assert intruder.connack[0] in ("Not authorized", "Bad user name or password")
    finally:
        intruder.close()


def test_out_of_range_command_is_rejected_with_reason(site_a: SiteMqtt, admin: Listener) -> None:
    admin.publish("thermalctl/site_a/cmd/setpoint/pool", "45")
    ack = json.loads(admin.wait("thermalctl/site_a/ack"))
    assert ack["ok"] is False
    assert "outside 29..31 degC" in ack["reason"]
    admin.publish("thermalctl/site_a/cmd/mode", '{"value": "turbo", "id": "r2"}')
    assert wait_for(lambda: len(admin.messages.get("thermalctl/site_a/ack", [])) >= 2)
    ack = json.loads(admin.messages["thermalctl/site_a/ack"][1])
    assert ack == {"topic": "thermalctl/site_a/cmd/mode", "ok": False, "id": "r2",
                   "reason": "mode must be one of auto, manual, safe, not 'turbo'"}
    assert site_a.operator.applied == []
    assert site_a.operator.values["setpoint/pool"] == 30.0


def test_good_command_is_acked_and_applied(site_a: SiteMqtt, admin: Listener) -> None:
    admin.publish("thermalctl/site_a/cmd/gpu_cap/pod", '{"value": 20000, "id": "c1"}')
    ack = json.loads(admin.wait("thermalctl/site_a/ack"))
    assert ack == {"topic": "thermalctl/site_a/cmd/gpu_cap/pod", "ok": True, "value": "20000.0",
                   "id": "c1"}
    assert site_a.operator.values["gpu_cap/pod"] == 20000.0
    assert admin.wait("thermalctl/site_a/state/setting/gpu_cap/pod") == b"20000.0"
    admin.publish("thermalctl/site_a/cmd/mode", "manual")
    assert wait_for(lambda: site_a.operator.values["mode"] is Mode.MANUAL)


def test_other_site_cannot_command_this_site(
    mosquitto_server: MosquittoServer, site_a: SiteMqtt, admin: Listener
) -> None:
    other = Listener(mosquitto_server, user="site_b", password="b-pw")
    try:
        assert wait_for(lambda: bool(other.connack), 5.0)
        other.publish("thermalctl/site_a/cmd/mode", "safe")       # the ACL drops it
        admin.publish("thermalctl/site_a/cmd/setpoint/pool", "30.5")  # a marker after it
        assert wait_for(lambda: site_a.operator.values["setpoint/pool"] == 30.5)
        assert site_a.operator.values["mode"] is Mode.AUTO
    finally:
        other.close()


def test_sensor_ingestion_converts_units_and_marks_staleness(
    site_a: SiteMqtt, admin: Listener
) -> None:
    admin.publish("thermalctl/site_a/sensors/outdoor", '{"air": {"rh": 64}}')
    assert wait_for(lambda: bool(site_a.ingest.readings(T_NOW)))
    (reading,) = site_a.ingest.readings(T_NOW + 10)
    assert reading.point == "outdoor_rh" and reading.unit == "1"
    assert reading.value == pytest.approx(0.64) and reading.quality is Quality.GOOD
    assert site_a.ingest.point_signals == {"outdoor_rh": "ambient.relative_humidity"}
    (stale,) = site_a.ingest.readings(T_NOW + 500)
    assert stale.quality is Quality.STALE and "for 500 s" in stale.reason
    admin.publish("thermalctl/site_a/sensors/outdoor", '{"air": {}}')
    assert wait_for(lambda: site_a.ingest.readings(T_NOW)[0].quality is Quality.BAD)
    (bad,) = site_a.ingest.readings(T_NOW)
    assert "not in payload" in bad.reason and math.isnan(bad.value)
