"""MQTT test rigs on top of tests/servers.py: a site's MQTT side against a real broker,
a Mosquitto with TLS (a CA and a server certificate made by the test with the
``openssl`` CLI), a Mosquitto with any ACL, and a test operator port.

Everything listens on 127.0.0.1 only and is stopped after the test.
"""

from __future__ import annotations

import getpass
import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import POOL_SITE
from tests.servers import (
    Listener,
    MosquittoServer,
    _port_open,
    _Process,
    require_binary,
    wait_for,
)
from thermalctl.adapters.mqtt import (
    CommandHandler,
    MqttHub,
    MqttIngest,
    StatePublisher,
    Topics,
    discovery_messages,
    publish_discovery,
)
from thermalctl.config.loader import load_site_profile
from thermalctl.config.services import (
    MqttEndpoint,
    OperatorSetting,
    SettingValue,
    operator_settings,
    resolve_mqtt,
)
from thermalctl.config.site import MqttSensor, SiteProfile
from thermalctl.points import Alarm, AlarmSeverity, Decision, Mode, Quality, Reading

__all__ = [
    "FakeOperator",
    "SiteMqtt",
    "TlsFiles",
    "TlsMosquittoServer",
    "acks",
    "broker_factory_fixture",
    "fake_tick",
    "make_tls_files",
    "site_profile",
    "start_site",
    "tls_files_fixture",
    "wait_acks",
]

T_NOW = 1_767_571_200.0
SIGNALS = ["loop.supply_temp_c", "it.energy_kwh", "loop.flow_m3_per_s", "it.power_w"]


def site_profile(site_id: str) -> SiteProfile:
    """The pool site renamed ``site_id``, with one MQTT sensor (``.../sensors/outdoor``)."""
    base = load_site_profile(POOL_SITE)
    sensor = MqttSensor(name="outdoor_rh", topic=f"thermalctl/{site_id}/sensors/outdoor",
                        json_field="air.rh", unit="%", signal="ambient.relative_humidity",
                        stale_after_s=120)
    return base.model_copy(update={"site": base.site.model_copy(update={"id": site_id}),
                                   "mqtt_sensors": (sensor,)})


class FakeOperator:
    """An operator port that records what it is asked (the runtime's audits it too)."""

    def __init__(self, profile: SiteProfile) -> None:
        self.settings: dict[str, OperatorSetting] = {s.key: s for s in
                                                     operator_settings(profile)}
        self.values: dict[str, SettingValue] = {k: s.default for k, s in self.settings.items()}
        self.values["mode"] = Mode.AUTO
        self.applied: list[tuple[str, SettingValue]] = []
        self.sources: list[str] = []
        self.refused: list[tuple[str, str, str, str]] = []

    def apply_setting(self, key: str, value: SettingValue, *, source: str = "") -> None:
        self.values[key] = value
        self.applied.append((key, value))
        self.sources.append(source)

    def refuse_setting(self, key: str, raw: str, *, source: str, reason: str) -> None:
        self.refused.append((key, raw, source, reason))

    def setting_value(self, key: str) -> SettingValue:
        return self.values[key]

    def out_of_bounds(self) -> list[str]:
        """Settings whose value is outside the profile's bounds (should be none)."""
        bad = []
        for key, value in self.values.items():
            s = self.settings[key]
            if s.is_mode:
                if not isinstance(value, Mode):
                    bad.append(f"{key}={value!r}")
            elif value is None:
                if not s.clearable:
                    bad.append(f"{key}=None")
            elif not (isinstance(value, float) and s.minimum <= value <= s.maximum):
                bad.append(f"{key}={value!r}")
        return bad


@dataclass
class SiteMqtt:
    profile: SiteProfile
    hub: MqttHub
    operator: FakeOperator
    publisher: StatePublisher
    commands: CommandHandler
    ingest: MqttIngest


def start_site(server: MosquittoServer, site_id: str, password: str, *,
               url: str | None = None, wait: bool = True,
               endpoint: MqttEndpoint | None = None, **handler_kw: object) -> SiteMqtt:
    """A site's MQTT side as the runtime wires it, connected to ``server``."""
    profile = site_profile(site_id)
    if endpoint is None:
        endpoint = resolve_mqtt(None, {"THERMALCTL_MQTT_URL": url or
                                       f"mqtt://{site_id}:{password}@127.0.0.1:{server.port}"})
    assert isinstance(endpoint, MqttEndpoint)
    topics = Topics(endpoint.base_topic, site_id, endpoint.discovery_prefix)
    hub = MqttHub(endpoint, topics)
    operator = FakeOperator(profile)
    settings = operator_settings(profile)
    publisher = StatePublisher(hub, operator, settings)
    commands = CommandHandler(hub, operator, settings, **handler_kw)  # type: ignore[arg-type]
    commands.attach()
    ingest = MqttIngest(profile.mqtt_sensors, clock=lambda: T_NOW)
    ingest.attach(hub)
    messages = discovery_messages(profile, topics, SIGNALS)
    hub.on_connected(lambda: publish_discovery(hub, messages))
    hub.start()
    if wait:
        assert hub.wait_connected(5.0), f"site {site_id} did not connect: {hub.refused}"
    return SiteMqtt(profile, hub, operator, publisher, commands, ingest)


def acks(listener: Listener, site_id: str) -> list[dict[str, object]]:
    """Every ack ``listener`` has seen for ``site_id``, in order."""
    with listener.lock:
        raw = list(listener.messages.get(f"thermalctl/{site_id}/ack", []))
    return [json.loads(m) for m in raw]


@dataclass
class FakeState:
    readings: dict[str, Reading]


@dataclass
class FakeTick:
    now_s: float
    state: FakeState
    decision: Decision
    alarms: tuple[Alarm, ...] = ()


def fake_tick(now_s: float = T_NOW, supply_c: float = 35.0) -> FakeTick:
    readings = {
        "loop.supply_temp_c": Reading("loop.supply_temp", supply_c, "degC", Quality.GOOD, now_s),
        "it.energy_kwh": Reading("it_meter.import_energy", 1234.5, "kWh", Quality.GOOD, now_s),
        "loop.flow_m3_per_s": Reading("loop.loop_flow", 6.0 / 3600, "m3/s", Quality.GOOD, now_s),
        "it.power_w": Reading.bad("it_meter.total_power", "W", now_s, "timeout"),
    }
    decision = Decision(now_s, Mode.AUTO, "baseline", {"pod": 60000.0}, {"pool": 80000.0})
    alarm = Alarm("coolant.supply_high", "hot", AlarmSeverity.WARNING, now_s)
    return FakeTick(now_s, FakeState(readings), decision, (alarm,))


# -- TLS ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TlsFiles:
    ca_cert: Path
    server_cert: Path
    server_key: Path
    other_ca_cert: Path  # a CA that did not sign the server's certificate


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run([require_binary("openssl"), *args], cwd=cwd, check=True,
                   capture_output=True)


def make_tls_files(root: Path) -> TlsFiles:
    """A test CA, a server certificate it signs for 127.0.0.1 / localhost, another CA."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("ca", "other-ca"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                 "-subj", f"/CN=thermalctl test {name}", "-keyout", f"{name}.key",
                 "-out", f"{name}.pem", cwd=root)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
             "-keyout", "server.key", "-out", "server.csr", cwd=root)
    (root / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                  "extendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.pem",
             cwd=root)
    return TlsFiles(root / "ca.pem", root / "server.pem", root / "server.key",
                    root / "other-ca.pem")


@dataclass
class TlsMosquittoServer(MosquittoServer):
    """A Mosquitto whose only listener speaks TLS with ``tls`` (password file and ACL
    as :class:`~tests.servers.MosquittoServer`)."""

    tls: TlsFiles | None = None
    _tls_proc: _Process | None = field(default=None, repr=False)

    def start(self) -> None:
        assert self.tls is not None
        binary = require_binary("mosquitto")
        passwd = self.root / "passwd"
        passwd.write_text("")
        for user, password in self.users.items():
            subprocess.run([require_binary("mosquitto_passwd"), "-b", str(passwd), user,
                            password], check=True, capture_output=True)
        passwd.chmod(0o600)
        acl = self.root / "acl"
        acl.write_text(self.acl)
        acl.chmod(0o600)
        conf = self.root / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"cafile {self.tls.ca_cert}\ncertfile {self.tls.server_cert}\n"
            f"keyfile {self.tls.server_key}\n"
            "allow_anonymous false\n"
            f"password_file {passwd}\nacl_file {acl}\npersistence false\n"
            f"user {getpass.getuser()}\nlog_dest stdout\n"
            "log_type error\nlog_type warning\nlog_type notice\n")
        self._tls_proc = _Process([binary, "-c", str(conf)], self.root / "mosquitto.log")
        self._tls_proc.start()
        deadline = time.monotonic() + 15.0
        while time.monotonic() < deadline:
            self._tls_proc.check_alive("mosquitto (TLS)")
            if _port_open(self.port):
                return
            time.sleep(0.05)
        raise RuntimeError(f"mosquitto (TLS) did not listen on {self.port}")

    def stop(self) -> None:
        if self._tls_proc is not None:
            self._tls_proc.stop()


@pytest.fixture(name="tls_files")
def tls_files_fixture(tmp_path: Path) -> TlsFiles:
    return make_tls_files(tmp_path / "tls")


def broker_with(tmp_path: Path, name: str, users: dict[str, str], acl: str,
                tls: TlsFiles | None = None) -> MosquittoServer:
    """A started broker (TLS when ``tls`` is given); the caller stops it."""
    root = tmp_path / f"broker-{name}"
    root.mkdir()
    server: MosquittoServer = (TlsMosquittoServer(root, users, acl, tls=tls) if tls
                               else MosquittoServer(root, users, acl))
    server.start()
    return server


@pytest.fixture(name="broker_factory")
def broker_factory_fixture(tmp_path: Path) -> Iterator[object]:
    started: list[MosquittoServer] = []

    def make(name: str, users: dict[str, str], acl: str,
             tls: TlsFiles | None = None) -> MosquittoServer:
        server = broker_with(tmp_path, name, users, acl, tls)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


def wait_acks(listener: Listener, site_id: str, count: int, timeout_s: float = 5.0) -> bool:
    return wait_for(lambda: len(acks(listener, site_id)) >= count, timeout_s)
