"""MQTT security against a real Mosquitto: the ACL of docs/facilities.md (operators
command, nobody else does), TLS with a CA made by the test (the client verifies the
broker), no password in any log line, ack or audit source, and signed commands (HMAC,
replay, time window) end to end, including the shell recipe of the docs."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from tests.conftest import REPO
from tests.mqtt_servers import (  # noqa: F401 - fixtures
    TlsFiles,
    acks,
    broker_factory_fixture,
    start_site,
    tls_files_fixture,
    wait_acks,
)
from tests.servers import DEFAULT_ACL, Listener, MosquittoServer, require_binary, wait_for
from thermalctl.adapters.mqtt import sign_command
from thermalctl.config.services import MqttSettings, resolve_mqtt
from thermalctl.points import Mode

pytestmark = pytest.mark.integration

Factory = Callable[..., MosquittoServer]
DOCS = REPO / "docs" / "facilities.md"
USERS = {"site_a": "a-pw-7Qx", "site_b": "b-pw-3Kd", "alice": "alice-pw-9Zr",
         "homeassistant": "ha-pw-2Lm", "viewer": "viewer-pw-5Tn", "zigbee": "zb-pw-8Wq"}
ALICE_KEY = bytes.fromhex("6b1f0e1c9a6d4e2f8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f")


def documented_acl() -> str:
    """The ACL block of docs/facilities.md (the one that starts '# thermalctl broker ACL')."""
    text = DOCS.read_text()
    match = re.search(r"```\n((?:[ \t]*)# thermalctl broker ACL\n.*?)```", text, re.S)
    assert match, "docs/facilities.md has no '# thermalctl broker ACL' block"
    lines = [line.strip() for line in match.group(1).splitlines()]
    return "\n".join(lines) + "\n"


def listener(server: MosquittoServer, user: str) -> Listener:
    got = Listener(server, user=user, password=USERS[user])
    assert wait_for(lambda: bool(got.connack), 5.0)
    assert got.connack[0] == "Success", got.connack
    return got


def test_documented_acl_keeps_commands_to_operators(broker_factory: Factory) -> None:
    acl = documented_acl() + ("user site_a\ntopic read thermalctl/site_a/sensors/#\n"
                              "user zigbee\ntopic write thermalctl/site_a/sensors/#\n")
    server = broker_factory("acl", USERS, acl)
    site = start_site(server, "site_a", USERS["site_a"])
    alice, viewer = listener(server, "alice"), listener(server, "viewer")
    other_site, itself = listener(server, "site_b"), listener(server, "site_a")
    ha, sensor = listener(server, "homeassistant"), listener(server, "zigbee")
    try:
        # the controller can publish what it must: status, instance, discovery
        assert viewer.wait("thermalctl/site_a/status") == b"online"
        assert viewer.wait("thermalctl/site_a/instance")
        assert ha.wait("homeassistant/select/site_a/setting_mode/config")
        # refused by the broker: a viewer, another site, the controller's own user
        viewer.publish("thermalctl/site_a/cmd/mode", "safe")
        other_site.publish("thermalctl/site_a/cmd/mode", "safe")
        itself.publish("thermalctl/site_a/cmd/mode", "safe")
        # an operator and Home Assistant get through, and everyone may read the answer
        alice.publish("thermalctl/site_a/cmd/setpoint/pool", '{"value": 30.5, "id": "a"}')
        ha.publish("thermalctl/site_a/cmd/gpu_cap/pod", '{"value": 20000, "id": "h"}')
        assert wait_acks(viewer, "site_a", 2)
        time.sleep(0.2)  # not an assertion on time: lets a wrongly admitted command show
        assert [a["id"] for a in acks(viewer, "site_a")] == ["a", "h"]
        assert site.operator.values["mode"] is Mode.AUTO
        assert site.operator.values["setpoint/pool"] == 30.5
        # sensors reach the controller (its own read grant)
        sensor.publish("thermalctl/site_a/sensors/outdoor", '{"air": {"rh": 50}}')
        assert wait_for(lambda: site.ingest.received["outdoor_rh"] == 1)
        # the other site cannot read this site's topics
        assert other_site.last("thermalctl/site_a/ack") is None
    finally:
        for client in (alice, viewer, other_site, itself, ha, sensor):
            client.close()
        site.hub.stop()


def _tls_client(server: MosquittoServer, ca: Path, user: str, password: str) -> paho.Client:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"tls-test-{user}")
    client.username_pw_set(user, password)
    client.tls_set(ca_certs=str(ca))
    client.connect("127.0.0.1", server.port)
    client.loop_start()
    return client


def test_tls_with_a_test_ca_and_no_password_in_logs(
    broker_factory: Factory, tls_files: TlsFiles, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    users = {"admin": "admin-pw-Secret1", "site_a": "site-a-Secret-42"}
    server = broker_factory("tls", users, DEFAULT_ACL, tls=tls_files)
    url = f"mqtts://site_a:{users['site_a']}@127.0.0.1:{server.port}"
    endpoint = resolve_mqtt(MqttSettings(ca_file=str(tls_files.ca_cert)),
                            {"THERMALCTL_MQTT_URL": url})
    assert endpoint is not None and endpoint.tls
    site = start_site(server, "site_a", "", endpoint=endpoint)
    seen: list[bytes] = []
    admin = _tls_client(server, tls_files.ca_cert, "admin", users["admin"])
    admin.on_message = lambda _c, _u, msg: seen.append(msg.payload)
    try:
        admin.subscribe("thermalctl/site_a/ack", qos=1)
        time.sleep(0.2)  # subscription in place before the command (not an assertion)
        admin.publish("thermalctl/site_a/cmd/mode", "manual", qos=1).wait_for_publish(5)
        assert wait_for(lambda: site.operator.values["mode"] is Mode.MANUAL)
        assert wait_for(lambda: bool(seen))
        assert json.loads(seen[0])["ok"] is True
        assert site.operator.sources == ["mqtt:unsigned"]
    finally:
        admin.disconnect()
        admin.loop_stop()
        site.hub.stop()
    # a broker whose certificate the client cannot verify: no connection, said once
    wrong = resolve_mqtt(MqttSettings(ca_file=str(tls_files.other_ca_cert)),
                         {"THERMALCTL_MQTT_URL": url})
    assert wrong is not None
    unverified = start_site(server, "site_a", "", endpoint=wrong, wait=False)
    try:
        assert not unverified.hub.wait_connected(3.0)
        assert wait_for(lambda: any("could not connect" in r.getMessage()
                                    for r in caplog.records))
    finally:
        unverified.hub.stop()
    # a wrong password: refused by the broker, said once, the password nowhere
    bad_url = f"mqtts://site_a:not-{users['site_a']}@127.0.0.1:{server.port}"
    refused = start_site(server, "site_a", "", wait=False, endpoint=resolve_mqtt(
        MqttSettings(ca_file=str(tls_files.ca_cert)), {"THERMALCTL_MQTT_URL": bad_url}))
    try:
        assert wait_for(lambda: refused.hub.refused is not None, 5.0)
    finally:
        refused.hub.stop()
    text = caplog.text + "".join(repr(r.args) for r in caplog.records)
    assert "connected" in text  # the log did capture the sessions
    for secret in users.values():
        assert secret not in text
        assert all(secret not in s for s in site.operator.sources)
        assert all(secret not in p.decode() for p in seen)
    assert users["site_a"] not in repr(endpoint) and users["site_a"] not in str(endpoint)


def _keys_file(tmp_path: Path) -> Path:
    path = tmp_path / "command-keys"
    path.write_text(f"# operators\nalice = {ALICE_KEY.hex()}\n")
    path.chmod(0o600)
    return path


def test_signed_commands_end_to_end(
    broker_factory: Factory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    users = {"admin": "admin-pw", "site_a": "a-pw"}
    server = broker_factory("signed", users, DEFAULT_ACL)
    endpoint = resolve_mqtt(
        MqttSettings(command_keys_file=str(_keys_file(tmp_path))),
        {"THERMALCTL_MQTT_URL": f"mqtt://site_a:a-pw@127.0.0.1:{server.port}"})
    assert endpoint is not None and endpoint.command_signing == "required"
    site = start_site(server, "site_a", "", endpoint=endpoint)
    admin = Listener(server)
    try:
        assert wait_for(lambda: bool(admin.connack), 5.0)
        topic = "thermalctl/site_a/cmd/setpoint/pool"
        signed = json.dumps(sign_command(topic, "30.5", key_id="alice", key=ALICE_KEY,
                                         ts=int(time.time()), ident="t1"))
        admin.publish(topic, signed)
        assert wait_acks(admin, "site_a", 1)
        admin.publish(topic, signed)  # the same message again: a replay
        admin.publish(topic, "30.2")  # unsigned
        moved = json.loads(signed)  # a signature made for another topic
        admin.publish("thermalctl/site_a/cmd/gpu_cap/pod", json.dumps(moved))
        stale = sign_command(topic, "29.5", key_id="alice", key=ALICE_KEY,
                             ts=int(time.time()) - 3600)
        admin.publish(topic, json.dumps(stale))
        assert wait_acks(admin, "site_a", 5)
        answers = acks(admin, "site_a")
        assert answers[0] == {"topic": topic, "ok": True, "value": "30.5", "id": "t1"}
        reasons = [str(a.get("reason")) for a in answers[1:]]
        assert "replayed" in reasons[0]
        assert "unsigned command refused" in reasons[1]
        assert "bad signature" in reasons[2]
        assert "outside ±60 s" in reasons[3]
        assert site.operator.applied == [("setpoint/pool", 30.5)]
        assert site.operator.sources == ["mqtt:alice"]
        assert ALICE_KEY.hex() not in caplog.text
    finally:
        admin.close()
        site.hub.stop()


def test_documented_shell_recipe_signs_like_thermalctl() -> None:
    require_binary("openssl")
    topic, ts = "thermalctl/exmouth_pool/cmd/setpoint/pool", 1767571200
    script = (
        "sig=$(printf 'thermalctl-cmd-v1\\n%s\\n%s\\n%s\\n%s\\n%s' \"$topic\" alice \"$ts\" "
        "\"$id\" \"$value\" | openssl dgst -sha256 -mac HMAC -macopt \"hexkey:$KEY\" -r "
        "| cut -d' ' -f1); printf %s \"$sig\"")
    assert "openssl dgst -sha256 -mac HMAC -macopt \"hexkey:$KEY\" -r" in DOCS.read_text()
    out = subprocess.run(["bash", "-c", script], check=True, capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin", "topic": topic, "ts": str(ts),
                              "id": "ticket-42", "value": "30.5", "KEY": ALICE_KEY.hex()})
    expected = sign_command(topic, "30.5", key_id="alice", key=ALICE_KEY, ts=ts,
                            ident="ticket-42")
    assert out.stdout == expected["sig"]
