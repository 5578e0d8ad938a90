"""MQTT input that used to kill paho's network thread or slip past the checks, through a
real Mosquitto: huge numbers, long integers, deep nesting, NaN/Inf, wrong types,
oversized, retained and empty command messages; two instances of one site; a broker
restart mid-run (the hub reconnects and publishes status, discovery and state again)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from tests.mqtt_servers import (
    T_NOW,
    SiteMqtt,
    acks,
    fake_tick,
    start_site,
    wait_acks,
)
from tests.servers import (  # noqa: F401 - fixture
    Listener,
    MosquittoServer,
    mosquitto_server_fixture,
    wait_for,
)
from thermalctl.adapters.mqtt import ECHO_CHARS, InstanceWatch
from thermalctl.points import Alarm, AlarmSeverity, Mode, Quality

pytestmark = pytest.mark.integration

#: Longest log message any test here accepts: the echo limit plus the fixed text.
MAX_LOG_CHARS = 2 * ECHO_CHARS + 200


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


def publish_raw(listener: Listener, topic: str, payload: bytes, *, retain: bool = False) -> None:
    listener.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)


def assert_alive(site: SiteMqtt, admin: Listener) -> None:
    """A good command after the bad input still gets its ack: the thread is alive."""
    before = len(acks(admin, "site_a"))
    admin.publish("thermalctl/site_a/cmd/setpoint/pool", '{"value": 30.5, "id": "alive"}')
    assert wait_acks(admin, "site_a", before + 1), "no ack: paho's network thread is dead"
    assert acks(admin, "site_a")[-1] == {"topic": "thermalctl/site_a/cmd/setpoint/pool",
                                         "ok": True, "value": "30.5", "id": "alive"}


HUGE = "1" + "0" * 400  # 1e400: float() of the int overflows


@pytest.mark.parametrize("payload", [
    '{"air": {"rh": ' + HUGE + "}}",
    '{"air": {"rh": ' + "7" * 5001 + "}}",  # past Python's 4,300-digit int-string limit
    '{"air": {"rh": NaN}}',
    '{"air": {"rh": -Infinity}}',
    '{"air": {"rh": 1e400}}',
    '{"air": ' + "[" * 100_000 + "]" * 100_000 + "}",
    '{"air": {"rh": ' + "[" * 1500 + "]" * 1500 + "}}",  # deep, under the size limit
    '{"air": {"rh": true}}',
    '{"air": {"rh": "64"}}',
])
def test_sensor_message_gives_a_bad_reading_and_the_thread_lives(
    site_a: SiteMqtt, admin: Listener, payload: str
) -> None:
    topic = "thermalctl/site_a/sensors/outdoor"
    admin.publish(topic, payload)
    assert wait_for(lambda: site_a.ingest.received["outdoor_rh"] == 1)
    (bad,) = site_a.ingest.readings(T_NOW)
    assert bad.quality is Quality.BAD and bad.reason
    assert len(bad.reason) <= ECHO_CHARS
    admin.publish(topic, '{"air": {"rh": 64}}')
    assert wait_for(lambda: site_a.ingest.received["outdoor_rh"] == 2), "thread died"
    (good,) = site_a.ingest.readings(T_NOW)
    assert good.quality is Quality.GOOD and good.value == pytest.approx(0.64)
    assert_alive(site_a, admin)
    assert site_a.hub.handler_errors == {}


BAD_COMMANDS = [
    ("setpoint/pool", '{"value": ' + HUGE + "}", "not finite"),
    ("setpoint/pool", '{"value": ' + "3" * 5001 + "}", "over the 4096-byte limit"),
    ("setpoint/pool", '{"value": ' + "3" * 4000 + "}", "not finite"),
    ("setpoint/pool", "3" * 4000, "too long"),
    ("setpoint/pool", "[" * 100_000 + "]" * 100_000, "over the 4096-byte limit"),
    ("setpoint/pool", '{"value": ' + "[" * 1500 + "]" * 1500 + "}", "nested deeper"),
    ("setpoint/pool", '{"value": NaN}', "not a number JSON allows"),
    ("setpoint/pool", '{"value": Infinity}', "not a number JSON allows"),
    ("setpoint/pool", '{"value": 1e400}', "not finite"),
    ("setpoint/pool", '{"value": [30]}', "not a number"),
    ("setpoint/pool", '{"value": {"v": 30}}', "not a number"),
    ("gpu_cap/pod", '{"value": true}', "not a number"),
    ("gpu_cap/pod", '{"valeu": 20000}', "unknown field"),
    ("gpu_cap/pod", '{"id": "x"}', "needs a 'value'"),
    ("mode", '{"value": ' + HUGE + "}", "mode must be one of"),
    ("mode", '{"value": 1.5}', "mode must be one of"),
    ("mode", "[1, 2", "not a mode"),
    ("mode", '{"value": "auto"', "not valid JSON"),
    ("setpoint/pool", "\udcff", "not a number"),
]


@pytest.mark.parametrize(("key", "payload", "reason"), BAD_COMMANDS)
def test_bad_command_is_refused_with_a_reason(
    site_a: SiteMqtt, admin: Listener, key: str, payload: str, reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    data = payload.encode("utf-8", errors="surrogateescape")
    publish_raw(admin, f"thermalctl/site_a/cmd/{key}", data)
    assert wait_acks(admin, "site_a", 1), "no ack"
    (ack,) = acks(admin, "site_a")
    assert ack["ok"] is False and ack["topic"] == f"thermalctl/site_a/cmd/{key}"
    if reason != "not a mode":
        assert reason in str(ack["reason"]), ack
    assert len(json.dumps(ack)) <= 3 * ECHO_CHARS
    assert site_a.operator.applied == []
    assert [r[0] for r in site_a.operator.refused] == [key]
    assert all(len(r[1]) <= ECHO_CHARS and len(r[3]) <= ECHO_CHARS
               for r in site_a.operator.refused)
    assert site_a.operator.refused[0][2] == "mqtt:unsigned"
    assert_alive(site_a, admin)
    assert max(len(r.getMessage()) for r in caplog.records) <= MAX_LOG_CHARS


def test_three_megabyte_command_is_refused_unread_and_not_echoed(
    site_a: SiteMqtt, admin: Listener, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    publish_raw(admin, "thermalctl/site_a/cmd/setpoint/pool", b"9" * 3_000_000)
    assert wait_acks(admin, "site_a", 1, timeout_s=15.0)
    raw = admin.messages["thermalctl/site_a/ack"][0]
    assert len(raw) < 400
    assert json.loads(raw)["reason"] == "payload of 3000000 bytes is over the 4096-byte limit"
    assert max(len(r.getMessage()) for r in caplog.records) <= MAX_LOG_CHARS
    assert_alive(site_a, admin)


def test_retained_command_is_not_replayed_at_start(
    mosquitto_server: MosquittoServer, admin: Listener
) -> None:
    # an operator's 'manual' left retained on the broker (e.g. an HA entity with retain)
    publish_raw(admin, "thermalctl/site_a/cmd/mode", b"manual", retain=True)
    site = start_site(mosquitto_server, "site_a", "a-pw")
    try:
        assert wait_acks(admin, "site_a", 1)
        (ack,) = acks(admin, "site_a")
        assert ack["ok"] is False
        assert "retained command ignored" in str(ack["reason"])
        assert "mosquitto_pub -r -n -t 'thermalctl/site_a/cmd/mode'" in str(ack["reason"])
        assert site.operator.values["mode"] is Mode.AUTO and site.operator.applied == []
        assert site.operator.refused[0][:2] == ("mode", "manual")
        # the operator deletes it: an empty message, which is not a command (no ack)
        publish_raw(admin, "thermalctl/site_a/cmd/mode", b"", retain=True)
        assert_alive(site, admin)
        assert len(acks(admin, "site_a")) == 2
    finally:
        site.hub.stop()


def test_empty_payload_does_not_clear_the_gpu_cap(site_a: SiteMqtt, admin: Listener) -> None:
    admin.publish("thermalctl/site_a/cmd/gpu_cap/pod", "20000")
    assert wait_for(lambda: site_a.operator.values["gpu_cap/pod"] == 20000.0)
    assert wait_acks(admin, "site_a", 1)
    publish_raw(admin, "thermalctl/site_a/cmd/gpu_cap/pod", b"")
    assert_alive(site_a, admin)  # the marker after it
    assert site_a.operator.values["gpu_cap/pod"] == 20000.0
    assert [a["ok"] for a in acks(admin, "site_a")] == [True, True]  # no ack for the empty one
    admin.publish("thermalctl/site_a/cmd/gpu_cap/pod", "none")  # the way to clear it
    assert wait_for(lambda: site_a.operator.values["gpu_cap/pod"] is None)


def test_two_instances_of_one_site_keep_their_sessions_and_alarm(
    mosquitto_server: MosquittoServer, admin: Listener
) -> None:
    first = start_site(mosquitto_server, "site_a", "a-pw")
    second = start_site(mosquitto_server, "site_a", "a-pw")
    try:
        assert first.hub.client_id != second.hub.client_id
        assert first.hub.client_id.startswith("thermalctl-site_a-")

        def alarm_of(watch: InstanceWatch) -> Alarm | None:
            got = watch.alarms(T_NOW)
            return got[0] if got else None

        assert wait_for(lambda: alarm_of(first.hub.instance_watch) is not None)
        assert wait_for(lambda: alarm_of(second.hub.instance_watch) is not None)
        a1, a2 = alarm_of(first.hub.instance_watch), alarm_of(second.hub.instance_watch)
        assert a1 is not None and a2 is not None
        assert a1.code == "mqtt.second_instance" and a1.severity is AlarmSeverity.CRITICAL
        assert f"instance {second.hub.instance_id} " in a1.message
        assert f"instance {first.hub.instance_id} " in a2.message
        # neither took the other's session: both still connected, none dropped
        assert first.hub.connected.is_set() and second.hub.connected.is_set()
        assert first.hub.disconnects == 0 and second.hub.disconnects == 0
        assert admin.last("thermalctl/site_a/status") == b"online"
    finally:
        second.hub.stop()
        first.hub.stop()


def test_a_restart_after_a_crash_is_not_a_second_instance(
    mosquitto_server: MosquittoServer, admin: Listener
) -> None:
    dead = start_site(mosquitto_server, "site_a", "a-pw")
    assert admin.wait("thermalctl/site_a/instance")
    dead.hub.client.loop_stop()  # dies without a word; its announcement stays retained
    dead.hub.client.socket().close()  # type: ignore[union-attr]
    fresh = start_site(mosquitto_server, "site_a", "a-pw")
    try:
        assert wait_for(lambda: json.loads(admin.last("thermalctl/site_a/instance") or b"{}")
                        .get("instance") == fresh.hub.instance_id)
        assert_alive(fresh, admin)
        assert fresh.hub.instance_watch.alarms(T_NOW) == []
    finally:
        fresh.hub.stop()


def test_broker_restart_mid_run(
    mosquitto_server: MosquittoServer, site_a: SiteMqtt, admin: Listener
) -> None:
    site_a.publisher.on_tick(fake_tick(T_NOW))
    assert admin.wait("thermalctl/site_a/state/mode") == b"auto"
    assert_alive(site_a, admin)
    mosquitto_server.stop()  # persistence off: every retained message is gone
    assert wait_for(lambda: not site_a.hub.connected.is_set(), 10.0)
    with admin.lock:
        admin.messages.clear()
    mosquitto_server.start()
    assert site_a.hub.wait_connected(20.0), "hub did not reconnect"
    assert wait_for(lambda: admin.last("thermalctl/site_a/status") == b"online", 20.0)
    assert admin.wait("homeassistant/sensor/site_a/it_energy_kwh/config", 10.0)
    site_a.publisher.on_tick(fake_tick(T_NOW + 1))  # unchanged state, sent again all the same
    assert admin.wait("thermalctl/site_a/state/mode") == b"auto"
    assert admin.wait("thermalctl/site_a/state/loop/supply_temp_c")
    assert admin.wait("thermalctl/site_a/instance")
    assert wait_for(lambda: bool(admin.connack) and admin.client.is_connected(), 10.0)
    assert_alive(site_a, admin)
    assert site_a.hub.disconnects == 1

