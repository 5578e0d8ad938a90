"""Hypothesis-generated payloads on the command and sensor topics through a real Mosquitto.

After each payload: the command is answered (an ack or a reasoned refusal; an empty
payload, which is not a command, is answered by nothing), no setting is outside the
profile's bounds, the sensor's reading is GOOD and finite or BAD with a reason. After the
run: a good command still gets its ack (paho's network thread is alive), no handler
failed, and every log line is short and their number bounded by the refusal log budget.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.mqtt_servers import T_NOW, SiteMqtt, acks, start_site, wait_acks
from tests.servers import (  # noqa: F401 - fixture
    Listener,
    MosquittoServer,
    mosquitto_server_fixture,
    wait_for,
)
from thermalctl.adapters.mqtt import ECHO_CHARS
from thermalctl.adapters.mqtt.payload import LogLimiter
from thermalctl.points import Quality

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXAMPLES = 300  # per topic kind
MAX_LOG_CHARS = 2 * ECHO_CHARS + 200
LOG_BUDGET = 20

json_leaf = st.one_of(
    st.none(), st.booleans(), st.text(max_size=20),
    st.integers(min_value=-(10 ** 30), max_value=10 ** 30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([30.5, 29.0, 31.0, 20000.0, 0, 1, 2, "auto", "manual", "safe", "none"]),
)
json_value = st.recursive(json_leaf, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)


def _huge_number(digits: int) -> str:
    return "1" + "0" * digits


payloads = st.one_of(
    st.binary(max_size=64),
    st.text(max_size=64).map(str.encode),
    json_value.map(lambda v: json.dumps(v).encode()),
    st.builds(lambda v, i: json.dumps({"value": v, "id": i}).encode(), json_value,
              st.one_of(st.none(), st.text(max_size=10), st.integers())),
    st.integers(min_value=300, max_value=6000).map(
        lambda n: ('{"value": ' + _huge_number(n) + "}").encode()),
    st.integers(min_value=10, max_value=3000).map(
        lambda n: ('{"value": ' + "[" * n + "]" * n + "}").encode()),
    st.integers(min_value=4000, max_value=20000).map(lambda n: b"7" * n),
    st.sampled_from([b"NaN", b"Infinity", b'{"value": NaN}', b'{"value": -Infinity}',
                     b'{"value": 1e999}', b"", b"   ", b'{"value": null}', b'{"value": true}',
                     b'{"key_id": "x", "value": "30", "ts": 1, "sig": "00"}']),
)
command_keys = st.sampled_from(["mode", "setpoint/pool", "gpu_cap/pod", "turbo",
                                "setpoint/nowhere", "gpu_cap/pod/extra"])
sensor_payloads = st.one_of(
    payloads,
    json_value.map(lambda v: json.dumps({"air": {"rh": v}}).encode()),
    st.integers(min_value=300, max_value=6000).map(
        lambda n: ('{"air": {"rh": ' + _huge_number(n) + "}}").encode()),
)


@pytest.fixture
def site(mosquitto_server: MosquittoServer) -> Iterator[SiteMqtt]:
    frozen = LogLimiter(budget=LOG_BUDGET, clock=lambda: 0.0)  # never a new window
    got = start_site(mosquitto_server, "site_a", "a-pw", log_limit=frozen)
    yield got
    got.hub.stop()


@pytest.fixture
def admin(mosquitto_server: MosquittoServer) -> Iterator[Listener]:
    listener = Listener(mosquitto_server)
    assert wait_for(lambda: bool(listener.connack), 5.0)
    yield listener
    listener.close()


def _publish(admin: Listener, topic: str, payload: bytes) -> None:
    admin.client.publish(topic, payload, qos=1).wait_for_publish(5)


def _good_command_answered(site: SiteMqtt, admin: Listener) -> None:
    before = len(acks(admin, "site_a"))
    admin.publish("thermalctl/site_a/cmd/setpoint/pool", '{"value": 30.1, "id": "after"}')
    assert wait_acks(admin, "site_a", before + 1), "no ack after the fuzz: thread dead"
    assert acks(admin, "site_a")[-1]["id"] == "after"


def _check_logs(caplog: pytest.LogCaptureFixture) -> None:
    mine = [r for r in caplog.records if r.name.startswith("thermalctl.")]
    assert max((len(r.getMessage()) for r in mine), default=0) <= MAX_LOG_CHARS
    warnings = [r for r in mine if r.levelno >= logging.WARNING]
    assert len(warnings) <= LOG_BUDGET + 2, [r.getMessage() for r in warnings[-5:]]


def test_fuzzed_commands(site: SiteMqtt, admin: Listener,
                         caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    sent = {"n": 0}

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(key=command_keys, payload=payloads)
    def one(key: str, payload: bytes) -> None:
        before = site.commands.answered
        _publish(admin, f"thermalctl/site_a/cmd/{key}", payload)
        if payload:
            assert wait_for(lambda: site.commands.answered == before + 1, 5.0), payload[:80]
            sent["n"] += 1
        assert site.operator.out_of_bounds() == []

    one()
    assert wait_acks(admin, "site_a", sent["n"])
    answers = acks(admin, "site_a")
    assert len(answers) == sent["n"]
    assert all(a["ok"] is True or a.get("reason") for a in answers)
    assert all(len(json.dumps(a)) <= 3 * ECHO_CHARS + 100 for a in answers)
    assert site.commands.failures == 0 and site.hub.handler_errors == {}
    _good_command_answered(site, admin)
    _check_logs(caplog)


def test_fuzzed_sensor_messages(site: SiteMqtt, admin: Listener,
                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    topic = "thermalctl/site_a/sensors/outdoor"

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(payload=sensor_payloads)
    def one(payload: bytes) -> None:
        before = site.ingest.received["outdoor_rh"]
        _publish(admin, topic, payload)
        assert wait_for(lambda: site.ingest.received["outdoor_rh"] == before + 1, 5.0)
        (reading,) = site.ingest.readings(T_NOW)
        if reading.quality is Quality.GOOD:
            assert math.isfinite(reading.value)
        else:
            assert reading.quality is Quality.BAD and 0 < len(reading.reason) <= ECHO_CHARS

    one()
    _publish(admin, topic, b'{"air": {"rh": 55}}')
    assert wait_for(lambda: site.ingest.readings(T_NOW)[0].quality is Quality.GOOD)
    assert site.hub.handler_errors == {}
    _good_command_answered(site, admin)
    _check_logs(caplog)
