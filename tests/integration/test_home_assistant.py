"""A real Home Assistant against ``thermalctl demo`` through a real Mosquitto.

HA runs from the cached venv that tools/ha_env.sh makes (a released ``homeassistant``
installed with the ``package_constraints.txt`` its wheel ships; 2025.4.4 on this
machine's Python 3.13.0), headless, from a config directory the test writes:

* ``configuration.yaml``: ``homeassistant:``, ``http:`` on 127.0.0.1 and a free port,
  ``api:`` and ``onboarding:`` (no ``default_config``; HA adds its own always-on set);
* ``.storage/core.config_entries``: the MQTT integration's config entry, written at
  storage version 1.1 and entry version 1.1, the oldest layouts HA still migrates, so
  that the file stays valid for newer HA releases too; broker: the test's Mosquitto;
* onboarding through HA's REST API (``/api/onboarding/users`` gives an auth code,
  ``/auth/token`` an access token), as HA's frontend does it on a new install.

HA starts with ``--skip-pip``: everything it loads must be in the cached venv, so the
test never installs anything while it runs.

The broker has its own ACL: the site user ``exmouth_pool`` has its topics, the
``homeassistant`` user reads ``thermalctl/#``, writes only ``thermalctl/+/cmd/#`` and
owns ``homeassistant/#``.

Asserted through HA's REST API (``/api/states``, ``/api/services``) and its websocket
registry lists (run with HA's own Python and aiohttp): every entity thermalctl
announces exists with its unit, device class, state class and category, on its device;
the energy counters are ``total_increasing`` kWh; a sink set point, a GPU cap and the
mode set in HA reach thermalctl (an ack on ``<root>/ack``, the state follows); when
the controller dies (SIGKILL: the broker sends its last will) every entity turns
unavailable. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import POOL_SITE, REPO
from tests.servers import Listener, MosquittoServer, free_port, wait_for
from thermalctl.adapters.mqtt import Topics, discovery_messages
from thermalctl.config.loader import load_site_profile
from thermalctl.models.signals import Kind, signals_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SITE = "exmouth_pool"
CACHE = Path(os.environ.get("THERMALCTL_HA_CACHE", "/var/cache/thermalctl-ci"))
HA_START_S = 240.0  # first start of a new config: HA writes its registries, loads frontend
DISCOVERY_S = 60.0
COMMAND_S = 30.0
UNAVAILABLE_S = 30.0
HA_USER, HA_PASSWORD = "ci-operator", "ci-operator-pw-3Qx"

ACL = """\
user admin
topic readwrite #

user homeassistant
topic readwrite homeassistant/#
topic read thermalctl/#
topic write thermalctl/+/cmd/#

pattern readwrite thermalctl/%u/#
pattern readwrite homeassistant/+/%u/#
"""


def ha_python() -> Path:
    """The cached HA venv's python (tools/ha_env.sh); skip, saying why, when there is none."""
    explicit = os.environ.get("THERMALCTL_HA_PYTHON")
    if explicit:
        return Path(explicit)
    done = sorted(CACHE.glob("ha-*/.thermalctl-complete"), key=lambda p: p.stat().st_mtime)
    if not done:
        pytest.skip(f"no Home Assistant venv under {CACHE}: tools/ha_env.sh makes it (it needs "
                    "a Python >= 3.13 for a current HA; tools/test.sh runs it)")
    return done[-1].parent / "bin" / "python"


# -- helpers run with HA's own Python --------------------------------------------------------------
_SCHEMA_CHECK = r"""
import json, sys
import voluptuous as vol
from homeassistant.const import __version__
from homeassistant.components.mqtt import abbreviations, const
from homeassistant.components.mqtt import binary_sensor, number, select, sensor
platforms = {"sensor": sensor, "binary_sensor": binary_sensor, "number": number,
             "select": select}
known_default_entity_id = hasattr(const, "CONF_DEFAULT_ENTITY_ID")
entity_keys = set(abbreviations.ABBREVIATIONS.values()) | {"default_entity_id"}
device_keys = set(abbreviations.DEVICE_ABBREVIATIONS.values()) | {"via_device"}
origin_keys = set(abbreviations.ORIGIN_ABBREVIATIONS.values())
import asyncio, tempfile
from homeassistant.core import HomeAssistant
from homeassistant.helpers import frame

async def make_hass():  # cv.template wants a hass (no I/O, nothing started)
    hass = HomeAssistant(tempfile.mkdtemp())
    frame.async_setup(hass)
    return hass

loop = asyncio.new_event_loop()
asyncio.set_event_loop(loop)
hass = loop.run_until_complete(make_hass())
errors = []
for topic, payload in json.load(sys.stdin):
    if payload == "":
        continue
    body = json.loads(payload)
    component = topic.split("/")[1]
    extra = set(body) - entity_keys
    extra |= {f"device.{k}" for k in set(body.get("device", {})) - device_keys}
    extra |= {f"origin.{k}" for k in set(body.get("origin", {})) - origin_keys}
    if extra:
        errors.append(f"{topic}: keys not in HA's tables: {sorted(extra)}")
    if not known_default_entity_id:
        body.pop("default_entity_id", None)  # this HA predates it (2025.10)
    try:
        platforms[component].PLATFORM_SCHEMA_MODERN(body)  # strict: no unknown key
    except vol.Invalid as exc:
        errors.append(f"{topic}: {exc}")
print(json.dumps({"version": __version__, "default_entity_id": known_default_entity_id,
                  "errors": errors}))
"""

_REGISTRY = r"""
import asyncio, json, sys
import aiohttp
async def main(url, token):
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url, timeout=10) as ws:
            await ws.receive_json(timeout=10)
            await ws.send_json({"type": "auth", "access_token": token})
            ok = await ws.receive_json(timeout=10)
            assert ok["type"] == "auth_ok", ok
            out = {}
            for i, kind in enumerate(("config/entity_registry/list",
                                      "config/device_registry/list"), start=1):
                await ws.send_json({"id": i, "type": kind})
                msg = await ws.receive_json(timeout=30)
                assert msg["success"], msg
                out[kind.split("/")[1]] = msg["result"]
            print(json.dumps(out))
asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def run_ha_python(python: Path, script: str, *args: str, stdin: str = "") -> Any:
    done = subprocess.run([str(python), "-c", script, *args], input=stdin, text=True,
                          capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


# -- the Home Assistant process ------------------------------------------------------------------
@dataclass
class HomeAssistant:
    python: Path
    config: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None
    token: str = ""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        path = self.config / "ha.out"
        return path.read_text(errors="replace") if path.exists() else ""

    def write_config(self, broker_port: int) -> None:
        storage = self.config / ".storage"
        storage.mkdir(parents=True)
        (self.config / "configuration.yaml").write_text(
            "homeassistant:\n"
            "  name: thermalctl CI\n"
            "  latitude: 50.62\n  longitude: -3.41\n  elevation: 10\n"
            "  unit_system: metric\n  time_zone: UTC\n  country: GB\n  currency: GBP\n"
            "http:\n"
            "  server_host: 127.0.0.1\n"
            f"  server_port: {self.port}\n"
            "api:\n"
            "onboarding:\n"
            "logger:\n"
            "  default: warning\n"
            "  logs:\n"
            "    homeassistant.components.mqtt: info\n")
        entry = {
            "entry_id": "thermalctlcimqtt0000000000000001", "domain": "mqtt",
            "title": "127.0.0.1", "source": "user", "version": 1, "minor_version": 1,
            "unique_id": None, "options": {}, "disabled_by": None,
            "data": {"broker": "127.0.0.1", "port": broker_port, "username": "homeassistant",
                     "password": "ha-pw-7Kd", "discovery": True,
                     "discovery_prefix": "homeassistant"},
        }
        (storage / "core.config_entries").write_text(json.dumps(
            {"version": 1, "minor_version": 1, "key": "core.config_entries",
             "data": {"entries": [entry]}}, indent=2))

    def start(self) -> None:
        out = (self.config / "ha.out").open("ab")
        self.proc = subprocess.Popen(
            [str(self.python), "-m", "homeassistant", "--config", str(self.config),
             "--skip-pip", "--log-file", str(self.config / "home-assistant.log")],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        out.close()

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    # -- HTTP ----------------------------------------------------------------------------------
    def request(self, method: str, path: str, body: object = None, *,
                form: dict[str, str] | None = None, auth: bool = True) -> Any:
        headers = {}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers=headers)
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read().decode()
        return json.loads(text) if text else None

    def wait_ready(self) -> None:
        deadline = time.monotonic() + HA_START_S
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"Home Assistant exited: {self.log[-4000:]}")
            try:
                steps = self.request("GET", "/api/onboarding", auth=False)
                if isinstance(steps, list):
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        raise AssertionError(f"Home Assistant not up in {HA_START_S:.0f} s: {self.log[-4000:]}")

    def onboard(self) -> None:
        """Create the owner through the onboarding API and log in (auth code -> token)."""
        client_id = f"{self.base}/"
        user = self.request("POST", "/api/onboarding/users", {
            "client_id": client_id, "name": "CI operator", "username": HA_USER,
            "password": HA_PASSWORD, "language": "en"}, auth=False)
        token = self.request("POST", "/auth/token", form={
            "grant_type": "authorization_code", "code": user["auth_code"],
            "client_id": client_id}, auth=False)
        self.token = token["access_token"]

    def states(self) -> dict[str, dict[str, Any]]:
        return {s["entity_id"]: s for s in self.request("GET", "/api/states")}

    def call(self, domain: str, service: str, data: dict[str, object]) -> None:
        self.request("POST", f"/api/services/{domain}/{service}", data)

    def registry(self) -> dict[str, Any]:
        url = f"ws://127.0.0.1:{self.port}/api/websocket"
        return run_ha_python(self.python, _REGISTRY, url, self.token)  # type: ignore[no-any-return]


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoServer]:
    root = tmp_path / "mosquitto"
    root.mkdir()
    server = MosquittoServer(root, users={"admin": "admin-pw", SITE: "site-pw-4Rz",
                                          "homeassistant": "ha-pw-7Kd"}, acl=ACL)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def home_assistant(tmp_path: Path, broker: MosquittoServer) -> Iterator[HomeAssistant]:
    python = ha_python()
    ha = HomeAssistant(python, tmp_path / "ha-config", free_port())
    ha.write_config(broker.port)
    ha.start()
    try:
        ha.wait_ready()
        ha.onboard()
        yield ha
    finally:
        ha.stop()


@dataclass
class Demo:
    proc: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def demo(tmp_path: Path, broker: MosquittoServer) -> Iterator[Demo]:
    """``thermalctl demo`` of the pool site, 60x accelerated, long enough for the test."""
    env = {**os.environ, "THERMALCTL_MQTT_URL":
           f"mqtt://{SITE}:site-pw-4Rz@127.0.0.1:{broker.port}"}
    env.pop("THERMALCTL_INFLUX_URL", None)
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "thermalctl", "demo", "--site", str(POOL_SITE),
             "--hours", "12", "--speed", "60", "--no-report", "-q",
             "--state-dir", str(tmp_path / "demo-state")],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    running = Demo(proc, log)
    try:
        yield running
    finally:
        running.kill()


# -- tests -------------------------------------------------------------------------------------
def test_discovery_payloads_pass_home_assistants_own_schema() -> None:
    """Every payload, for every shipped site, through HA's strict platform schemas."""
    python = ha_python()
    from tests.conftest import SITE_PROFILES

    messages: list[tuple[str, str]] = []
    for path in SITE_PROFILES:
        profile = load_site_profile(path)
        messages += discovery_messages(profile, Topics("thermalctl", profile.site.id),
                                       signals_for(profile), telemetry=True)
    result = run_ha_python(python, _SCHEMA_CHECK, stdin=json.dumps(messages))
    assert result["errors"] == [], "\n".join(result["errors"])


def test_home_assistant_sees_controls_and_loses_the_controller(
    home_assistant: HomeAssistant, broker: MosquittoServer, demo: Demo, tmp_path: Path
) -> None:
    ha = home_assistant
    profile = load_site_profile(POOL_SITE)
    admin = Listener(broker)
    try:
        assert admin.wait(f"thermalctl/{SITE}/status", 30.0) == b"online", demo.log.read_text()
        announced = {}
        for topic, payload in discovery_messages(
                profile, Topics("thermalctl", SITE), signals_for(profile)):
            if payload:
                announced[json.loads(payload)["unique_id"]] = (topic.split("/")[1],
                                                                json.loads(payload))

        # 1. every entity the controller published is in HA's registry
        def registered() -> dict[str, dict[str, Any]]:
            entries = ha.registry()["entity_registry"]
            return {e["unique_id"]: e for e in entries if e["platform"] == "mqtt"}

        def seen_configs() -> dict[str, tuple[str, dict[str, Any]]]:
            with admin.lock:
                items = [(t, p[-1]) for t, p in admin.messages.items()]
            out = {}
            for topic, payload in items:
                if topic.startswith("homeassistant/") and topic.endswith("/config") and payload:
                    body = json.loads(payload)
                    out[body["unique_id"]] = (topic.split("/")[1], body)
            return out

        # the site-wide entities are announced whatever is bound: wait for them all
        fixed = {uid for uid, (_, body) in announced.items()
                 if "/state/diag/" in body["state_topic"] or "/state/setting/" in
                 body["state_topic"] or body["state_topic"].endswith(("/alarm_active", "/mode"))}
        assert wait_for(lambda: fixed <= set(seen_configs()), DISCOVERY_S, 0.2), (
            sorted(fixed - set(seen_configs())))
        admin.wait(f"thermalctl/{SITE}/state/diag/tick_time", DISCOVERY_S)  # after discovery
        published = seen_configs()
        assert set(published) <= set(announced)
        assert wait_for(lambda: set(published) <= set(registered()), DISCOVERY_S, 1.0), (
            f"not in HA: {sorted(set(published) - set(registered()))}\n{ha.log[-3000:]}")
        reg = registered()
        devices = {d["id"]: d for d in ha.registry()["device_registry"]}
        schema = run_ha_python(ha.python, _SCHEMA_CHECK, stdin="[]")
        by_uid = {uid: reg[uid]["entity_id"] for uid in published}
        if schema["default_entity_id"]:  # HA >= 2025.10 takes the suggested entity ids
            for uid, (_, body) in published.items():
                assert by_uid[uid] == body["default_entity_id"], uid

        # 2. units, device classes, state classes, categories, devices
        def settled() -> bool:
            states = ha.states()
            return all(states.get(by_uid[u], {}).get("state") not in (None, "unavailable")
                       for u in published)

        assert wait_for(settled, DISCOVERY_S, 1.0), [
            (by_uid[u], ha.states().get(by_uid[u], {}).get("state")) for u in published]
        states = ha.states()
        for uid, (component, body) in published.items():
            entity_id = by_uid[uid]
            assert entity_id.startswith(f"{component}."), entity_id
            attrs = states[entity_id]["attributes"]
            for key in ("device_class", "unit_of_measurement", "state_class"):
                assert attrs.get(key) == body.get(key), (entity_id, key, attrs)
            assert reg[uid]["entity_category"] == body.get("entity_category"), entity_id
            device = devices[reg[uid]["device_id"]]
            assert [list(i) for i in device["identifiers"]] == [
                ["mqtt", i] for i in body["device"]["identifiers"]], entity_id
            if "via_device" in body["device"]:
                parent = devices[device["via_device_id"]]
                assert ["mqtt", body["device"]["via_device"]] in [list(i) for i in
                                                                  parent["identifiers"]]
        specs = signals_for(profile)
        counters = [u for u in published if published[u][1]["state_topic"].endswith(
            "_kwh") and specs.get(published[u][1]["state_topic"].split("/state/")[1]
                                  .replace("/", ".")) is not None
                    and specs[published[u][1]["state_topic"].split("/state/")[1]
                              .replace("/", ".")].kind is Kind.COUNTER]
        assert counters, "no energy counter announced"
        for uid in counters:
            attrs = states[by_uid[uid]]["attributes"]
            assert (attrs["device_class"], attrs["state_class"],
                    attrs["unit_of_measurement"]) == ("energy", "total_increasing", "kWh")
            float(states[by_uid[uid]]["state"])
        fault = f"thermalctl_{SITE}_loop_heat_path_fault"
        if fault in published:
            assert by_uid[fault].startswith("binary_sensor.")
            assert states[by_uid[fault]]["state"] in ("on", "off")
            assert states[by_uid[fault]]["attributes"]["device_class"] == "problem"
        assert states[by_uid[f"thermalctl_{SITE}_alarm_active"]]["state"] in ("on", "off")
        supply = states[by_uid[f"thermalctl_{SITE}_loop_supply_temp_c"]]
        assert supply["attributes"]["friendly_name"].endswith("Coolant supply temperature")
        assert 0.0 < float(supply["state"]) < 100.0

        # 3. commands from HA reach thermalctl: ack, and the state follows
        def ack_for(topic: str, start: int) -> dict[str, Any] | None:
            for raw in admin.messages.get(f"thermalctl/{SITE}/ack", [])[start:]:
                ack = json.loads(raw)
                if ack["topic"] == topic:
                    return ack  # type: ignore[no-any-return]
            return None

        def command(domain: str, service: str, uid: str, data: dict[str, object],
                    key: str, expect_state: str) -> None:
            start = len(admin.messages.get(f"thermalctl/{SITE}/ack", []))
            ha.call(domain, service, {"entity_id": by_uid[uid], **data})
            topic = f"thermalctl/{SITE}/cmd/{key}"
            assert wait_for(lambda: ack_for(topic, start) is not None, COMMAND_S, 0.2), (
                f"no ack for {topic}: {demo.log.read_text()[-2000:]}")
            ack = ack_for(topic, start)
            assert ack is not None and ack["ok"], ack
            assert wait_for(lambda: ha.states()[by_uid[uid]]["state"] == expect_state,
                            COMMAND_S, 0.5), (by_uid[uid], ha.states()[by_uid[uid]])

        sink, group = profile.sinks[0], profile.rack_groups[0]
        target = round(sink.band_low_c + 0.5, 1)
        command("number", "set_value", f"thermalctl_{SITE}_setting_setpoint_{sink.id}",
                {"value": target}, f"setpoint/{sink.id}", f"{target}")
        cap = float(group.min_cap_w + 1000)
        command("number", "set_value", f"thermalctl_{SITE}_setting_gpu_cap_{group.id}",
                {"value": cap}, f"gpu_cap/{group.id}", f"{cap}")
        command("select", "select_option", f"thermalctl_{SITE}_setting_mode",
                {"option": "manual"}, "mode", "manual")
        assert wait_for(lambda: ha.states()[by_uid[f"thermalctl_{SITE}_mode"]]["state"]
                        == "manual", COMMAND_S, 0.5)  # the controller's mode follows
        assert demo.alive(), demo.log.read_text()[-3000:]

        # 4. the controller dies: the broker sends its last will, HA marks all unavailable
        demo.kill()
        assert admin.wait(f"thermalctl/{SITE}/status", 5.0) is not None
        assert wait_for(lambda: admin.last(f"thermalctl/{SITE}/status") == b"offline",
                        UNAVAILABLE_S, 0.2)
        still = []

        def all_unavailable() -> bool:
            states = ha.states()
            still[:] = [by_uid[u] for u in published
                        if states[by_uid[u]]["state"] != "unavailable"]
            return not still

        assert wait_for(all_unavailable, UNAVAILABLE_S, 0.5), still

        # 5. HA had nothing to complain about in what thermalctl sent
        complaints = [line for line in (ha.config / "home-assistant.log").read_text(
            errors="replace").splitlines() if "[homeassistant.components.mqtt" in line
            and (" WARNING " in line or " ERROR " in line)]
        assert not complaints, "\n".join(complaints[:20])
    finally:
        admin.close()
