"""Unit tests of the bounded MQTT payload helpers, setting validation, command key files,
signature checks and second-instance detection (no broker: fakes for the hub)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.mqtt_servers import FakeOperator, site_profile
from thermalctl.adapters.mqtt import CommandHandler, Inbound, MqttHub, Topics
from thermalctl.adapters.mqtt.ingest import extract_value
from thermalctl.adapters.mqtt.instance import ALARM_CODE, HOLD_S, InstanceWatch
from thermalctl.adapters.mqtt.payload import LogLimiter, PayloadError, clip, parse_json
from thermalctl.adapters.mqtt.security import (
    CommandKeyError,
    CommandVerifier,
    SignatureRefused,
    load_command_keys,
    parse_command_keys,
    sign_command,
)
from thermalctl.config.services import (
    MqttEndpoint,
    MqttSettings,
    operator_settings,
    resolve_mqtt,
    validate_setting,
)
from thermalctl.points import Mode

KEY = bytes(range(32))
TOPIC = "thermalctl/site_a/cmd/setpoint/pool"


@pytest.mark.parametrize(("text", "why"), [
    ("1" + "0" * 400, None),  # read as a float: inf, not an int that overflows float()
    ("9" * 5001, None),  # past the int-string limit: no ValueError from json
    ("[" * 100_000 + "]" * 100_000, "nested deeper"),
    ('{"a": NaN}', "not a number JSON allows"),
    ("[Infinity]", "not a number JSON allows"),
    ('{"a": 1', "not valid JSON"),
])
def test_parse_json_is_total(text: str, why: str | None) -> None:
    if why is None:
        assert parse_json(text) == math.inf
    else:
        with pytest.raises(PayloadError, match=why):
            parse_json(text)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    assert parse_json(json.dumps({"s": "[" * 100})) == {"s": "[" * 100}


@pytest.mark.parametrize(("payload", "field_", "why"), [
    (b'{"t": ' + b"1" + b"0" * 400 + b"}", "t", "not a finite number"),
    (b'{"t": true}', "t", "not a number"),
    (b'{"t": "20"}', "t", "not a number"),
    (b"nan", None, "not a finite number"),
    (b"1" + b"0" * 400, None, "not a finite number"),
    (b"x" * 5000, None, "over the 4096-byte limit"),
    (b"\xff\xfe", None, "is not a number"),
])
def test_extract_value_refuses_with_a_reason(payload: bytes, field_: str | None,
                                             why: str) -> None:
    with pytest.raises(PayloadError, match=why):
        extract_value(payload, field_)


def test_clip_bounds_and_marks_the_cut() -> None:
    assert clip("abc") == "abc"
    cut = clip("x" * 10_000)
    assert len(cut) == 200 and cut.endswith("…(10000 chars)")


def test_log_limiter_budget_and_summary() -> None:
    now = [0.0]
    lim = LogLimiter(budget=2, window_s=60.0, clock=lambda: now[0])
    assert [lim.allow() for _ in range(5)] == [True, True, False, False, False]
    now[0] = 61.0
    assert lim.allow() and lim.suppressed_last == 3


SETTINGS = {s.key: s for s in operator_settings(site_profile("site_a"))}


@pytest.mark.parametrize(("key", "raw"), [
    ("setpoint/pool", 10 ** 400), ("setpoint/pool", True), ("setpoint/pool", [30]),
    ("setpoint/pool", {"v": 30}), ("setpoint/pool", math.nan), ("setpoint/pool", "1" * 5001),
    ("gpu_cap/pod", ""), ("gpu_cap/pod", "  "), ("gpu_cap/pod", False), ("mode", 10 ** 400),
    ("mode", math.inf), ("mode", [0]), ("mode", ""),
])
def test_validate_setting_refuses_with_value_error_only(key: str, raw: object) -> None:
    with pytest.raises(ValueError):
        validate_setting(SETTINGS[key], raw)


def test_none_still_clears_a_cap() -> None:
    assert validate_setting(SETTINGS["gpu_cap/pod"], "none") is None
    assert validate_setting(SETTINGS["gpu_cap/pod"], None) is None
    assert validate_setting(SETTINGS["mode"], 1) is Mode.MANUAL


# -- commands without a broker ------------------------------------------------------------
@dataclass
class RecordingHub:
    """What CommandHandler and InstanceWatch use of a hub, recording publications."""

    endpoint: MqttEndpoint = field(default_factory=lambda: MqttEndpoint(host="x", port=1))
    topics: Topics = field(default_factory=lambda: Topics("thermalctl", "site_a"))
    instance_id: str = "111-aaaa"
    published: list[tuple[str, bytes | str, bool]] = field(default_factory=list)
    subs: dict[str, object] = field(default_factory=dict)

    class _Event:
        def is_set(self) -> bool:
            return True

    connected: _Event = field(default_factory=_Event)

    def publish(self, topic: str, payload: str | bytes, *, retain: bool = False,
                qos: int = 0) -> None:
        self.published.append((topic, payload, retain))

    def subscribe(self, topic_filter: str, handler: object) -> None:
        self.subs[topic_filter] = handler

    def on_connected(self, _cb: object) -> None: ...
    def on_stopping(self, _cb: object) -> None: ...

    def acks(self) -> list[dict[str, object]]:
        return [json.loads(p) for t, p, _ in self.published if t.endswith("/ack")]


def handler(**kw: object) -> tuple[CommandHandler, RecordingHub, FakeOperator]:
    hub = RecordingHub()
    op = FakeOperator(site_profile("site_a"))
    ch = CommandHandler(hub, op, tuple(SETTINGS.values()), **kw)  # type: ignore[arg-type]
    return ch, hub, op


def test_a_handler_bug_is_answered_as_refused_and_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ch, hub, op = handler()

    def broken(*_a: object, **_k: object) -> None:
        raise RuntimeError("bug")

    op.apply_setting = broken  # type: ignore[method-assign]
    for _ in range(3):
        ch.handle(TOPIC, b"30.5")
    assert [a["reason"] for a in hub.acks()] == ["internal error (RuntimeError); nothing "
                                                "changed"] * 3
    assert ch.failures == 3
    assert sum("handler failed" in r.getMessage() for r in caplog.records) == 1


def test_hub_dispatch_boundary_keeps_paho_thread_alive() -> None:
    endpoint = MqttEndpoint(host="127.0.0.1", port=1)
    hub = MqttHub(endpoint, Topics("thermalctl", "site_a"))

    def boom(_m: Inbound) -> None:
        raise OverflowError("int too large to convert to float")

    hub.subscribe("x/#", boom)
    hub._guarded("x/#", lambda: boom(Inbound("x/1", b"")))
    hub._guarded("x/#", lambda: boom(Inbound("x/1", b"")))
    assert hub.handler_errors == {"x/#": 2}
    assert hub.client_id.startswith("thermalctl-site_a-") and hub.instance_id in hub.client_id


def test_signing_required_refuses_unsigned_and_accepts_signed(tmp_path: Path) -> None:
    ch, hub, op = handler(signing="required", verifier=CommandVerifier({"alice": KEY},
                                                                      clock=lambda: 1000.0))
    ch.handle(TOPIC, b"30.5")
    body = sign_command(TOPIC, "30.5", key_id="alice", key=KEY, ts=1000, ident="i1")
    ch.handle(TOPIC, json.dumps(body).encode())
    first, second = hub.acks()
    assert "unsigned command refused" in str(first["reason"])
    assert second == {"topic": TOPIC, "ok": True, "value": "30.5", "id": "i1"}
    assert op.sources == ["mqtt:alice"] and op.refused[0][2] == "mqtt:unsigned"


# -- key files and signatures ---------------------------------------------------------------
@pytest.mark.parametrize(("text", "why"), [
    ("alice 00", ":1: expected 'key_id = hex key'"),
    ("al ice = " + "00" * 16, ":1: key id must be"),
    ("alice = zz", ":1: key of 'alice' is not hexadecimal"),
    ("alice = " + "00" * 8, ":1: key of 'alice' has 8 bytes, fewer than 16"),
    (f"# c\nalice = {'00' * 16}\nalice = {'11' * 16}", ":3: key id 'alice' given twice"),
    ("# nothing\n", "no keys"),
])
def test_key_file_errors_name_the_line_and_never_the_key(text: str, why: str) -> None:
    with pytest.raises(CommandKeyError, match=why) as err:
        parse_command_keys(text, "keys")
    assert "11" * 16 not in str(err.value)


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keys"
    path.write_text(f"alice = {KEY.hex()}  # the operator\n")
    path.chmod(0o644)
    with pytest.raises(CommandKeyError, match="readable or writable by others"):
        load_command_keys(path)
    path.chmod(0o600)
    assert load_command_keys(path) == {"alice": KEY}
    with pytest.raises(CommandKeyError, match="No such file"):
        load_command_keys(tmp_path / "missing")


def test_resolve_mqtt_signing_settings(tmp_path: Path) -> None:
    env = {"THERMALCTL_MQTT_URL": "mqtt://h"}
    assert resolve_mqtt(None, env).command_signing == "off"  # type: ignore[union-attr]
    keyed = resolve_mqtt(None, {**env, "THERMALCTL_MQTT_COMMAND_KEYS": "/k"})
    assert keyed is not None and (keyed.command_keys_file, keyed.command_signing) == (
        "/k", "required")
    opt = resolve_mqtt(MqttSettings(command_keys_file="/k", command_signing="optional"), env)
    assert opt is not None and opt.command_signing == "optional"
    with pytest.raises(ValueError, match="needs a key file"):
        resolve_mqtt(MqttSettings(command_signing="required"), env)


def test_verifier_refusals() -> None:
    now = [10_000.0]
    v = CommandVerifier({"alice": KEY}, clock=lambda: now[0])
    good = sign_command(TOPIC, "30.5", key_id="alice", key=KEY, ts=10_000)
    assert v.verify(TOPIC, good) == "alice"
    with pytest.raises(SignatureRefused, match="replayed"):
        v.verify(TOPIC, good)
    with pytest.raises(SignatureRefused, match="bad signature"):
        v.verify(TOPIC, {**good, "value": "31"})
    with pytest.raises(SignatureRefused, match="bad signature"):
        v.verify("thermalctl/site_b/cmd/setpoint/pool", good)
    with pytest.raises(SignatureRefused, match="unknown key id 'bob'"):
        v.verify(TOPIC, {**good, "key_id": "bob"})
    with pytest.raises(SignatureRefused, match="outside ±60 s"):
        v.verify(TOPIC, sign_command(TOPIC, "30", key_id="alice", key=KEY, ts=10_061))
    with pytest.raises(SignatureRefused, match="ts must be integer"):
        v.verify(TOPIC, {**good, "ts": 10_000.5})
    now[0] += 1000.0  # long after: the old signature is out of the window, and forgotten
    with pytest.raises(SignatureRefused, match="outside"):
        v.verify(TOPIC, good)


# -- second instance ------------------------------------------------------------------------
def announcement(instance: str, ts: float) -> bytes:
    return json.dumps({"instance": instance, "host": "h2", "pid": 42, "started_s": ts - 5,
                       "ts": ts}).encode()


def test_instance_watch_alarms_on_a_live_other_and_clears_after_hold() -> None:
    t, wall = [0.0], [5000.0]
    hub = RecordingHub()
    watch = InstanceWatch(hub, clock=lambda: t[0], wall=lambda: wall[0])  # type: ignore[arg-type]
    watch._receive(Inbound(hub.topics.instance, announcement("111-aaaa", 5000)))
    watch._receive(Inbound(hub.topics.instance, announcement("old-1", 4000), retained=True))
    assert watch.alarms(1.0) == []  # ourselves, and a predecessor from before our start
    announced = len(hub.published)
    watch._receive(Inbound(hub.topics.instance, announcement("222-bbbb", 5001)))
    (alarm,) = watch.alarms(2.0)
    assert alarm.code == ALARM_CODE and "instance 222-bbbb (host h2, pid 42" in alarm.message
    assert len(hub.published) == announced + 1  # answered once, so the other sees us
    watch._receive(Inbound(hub.topics.instance, announcement("222-bbbb", 5002)))
    assert len(hub.published) == announced + 1  # not again: no ping-pong
    t[0] = HOLD_S + 1.0
    assert watch.alarms(3.0) == []


@pytest.mark.parametrize("payload", [b"[" * 100_000 + b"]" * 100_000, b"9" * 5001, b"{",
                                     b"[1, 2]", b""])
def test_gpu_agent_state_of_any_shape_is_not_an_exception(payload: bytes) -> None:
    from thermalctl.adapters.gpu_mqtt import MqttGpuCapActuator, cap_state_topic

    hub = RecordingHub()
    actuator = MqttGpuCapActuator(hub, ("pod",))  # type: ignore[arg-type]
    handle = hub.subs[cap_state_topic(hub.topics, "pod")]
    handle(Inbound(cap_state_topic(hub.topics, "pod"), payload))  # type: ignore[operator]
    handle(Inbound(cap_state_topic(hub.topics, "pod"), b'{"applied_w": 1000}'))  # type: ignore[operator]
    assert actuator.applied == {"pod": {"applied_w": 1000}}
