"""Real servers for integration tests: Mosquitto, VictoriaMetrics, InfluxDB 1.x.

Each is started on a free 127.0.0.1 port in a temporary directory, waited for until
it answers, and stopped after the test. A test that needs a missing binary is skipped
with the reason. Servers can be stopped and started again mid-test (same port, same
data directory) to simulate an outage; VictoriaMetrics and InfluxDB can also be killed
with SIGKILL (:meth:`kill`, no chance to flush) and started again on their data.
VictoriaMetrics runs with ``-dedup.minScrapeInterval=1ms`` when made with
``dedup=True`` (fixture ``victoria_metrics_dedup``), as a production server behind
the outbox shipper should; InfluxDB 1.x with HTTP authentication when made with
``auth=(user, password)`` (fixture ``influxd_auth_server``).
"""

from __future__ import annotations

import base64
import getpass
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

__all__ = [
    "InfluxV1Server",
    "Listener",
    "MosquittoServer",
    "VictoriaMetricsServer",
    "free_port",
    "influxd_auth_server_fixture",
    "influxd_server_fixture",
    "mosquitto_server_fixture",
    "require_binary",
    "victoria_metrics_dedup_fixture",
    "victoria_metrics_fixture",
    "wait_for",
]

START_TIMEOUT_S = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_binary(name: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists()
                                  else None)
    if path is None:
        pytest.skip(f"{name} not installed (Debian package provides it); test needs a real server")
    return path


def wait_for(predicate: object, timeout_s: float = 10.0, interval_s: float = 0.05) -> bool:
    """Poll ``predicate()`` until it is true or ``timeout_s`` passes (bounded, no assert)."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return bool(predicate())


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class _Process:
    argv: list[str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to flush anything."""
        if self.proc is None:
            return
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.proc = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self, what: str) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{what} exited: {tail}")


# -- Mosquitto ------------------------------------------------------------------------------
@dataclass
class MosquittoServer:
    """A Mosquitto broker with a password file and an ACL (no anonymous access)."""

    root: Path
    users: dict[str, str]
    acl: str
    port: int = field(default_factory=free_port)
    _proc: _Process | None = None

    def start(self) -> None:
        binary = require_binary("mosquitto")
        passwd_tool = require_binary("mosquitto_passwd")
        passwd = self.root / "passwd"
        passwd.write_text("")
        for user, password in self.users.items():
            subprocess.run([passwd_tool, "-b", str(passwd), user, password], check=True,
                           capture_output=True)
        passwd.chmod(0o600)
        acl = self.root / "acl"
        acl.write_text(self.acl)
        acl.chmod(0o600)
        conf = self.root / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous false\n"
            f"password_file {passwd}\n"
            f"acl_file {acl}\n"
            "persistence false\n"
            f"user {getpass.getuser()}\n"  # as root it would drop to 'mosquitto' otherwise
            "log_dest stdout\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
        )
        self._proc = _Process([binary, "-c", str(conf)], self.root / "mosquitto.log")
        self._proc.start()
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self._proc is not None
            self._proc.check_alive("mosquitto")
            if _port_open(self.port):
                return
            time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on {self.port}")

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.stop()

    @property
    def url_for(self) -> dict[str, str]:
        return {u: f"mqtt://{u}:{p}@127.0.0.1:{self.port}" for u, p in self.users.items()}


DEFAULT_ACL = """\
user admin
topic readwrite #

pattern readwrite thermalctl/%u/#
pattern readwrite homeassistant/+/%u/#
"""


@pytest.fixture(name="mosquitto_server")
def mosquitto_server_fixture(tmp_path: Path) -> Iterator[MosquittoServer]:
    """Broker with users ``admin`` (everything) and one user per site id (its own topics)."""
    root = tmp_path / "mosquitto"
    root.mkdir()
    server = MosquittoServer(
        root,
        users={"admin": "admin-pw", "site_a": "a-pw", "site_b": "b-pw"},
        acl=DEFAULT_ACL,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Listener:
    """An MQTT test client (paho) that subscribes to ``#`` and records every message."""

    server: MosquittoServer
    user: str | None = "admin"
    password: str | None = "admin-pw"
    messages: dict[str, list[bytes]] = field(default_factory=dict)
    connack: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{id(self)}")
        if self.user is not None:
            self.client.username_pw_set(self.user, self.password)
        self.client.on_connect = lambda c, u, f, rc, p: (self.connack.append(str(rc)),
                                                         None if rc.is_failure else
                                                         c.subscribe("#", qos=1))
        self.client.on_message = self._on_message
        self.client.connect_async("127.0.0.1", self.server.port)
        self.client.loop_start()

    def _on_message(self, _c: object, _u: object, msg: paho.MQTTMessage) -> None:
        with self.lock:
            self.messages.setdefault(msg.topic, []).append(msg.payload)

    def last(self, topic: str) -> bytes | None:
        with self.lock:
            got = self.messages.get(topic)
            return got[-1] if got else None

    def wait(self, topic: str, timeout_s: float = 5.0) -> bytes:
        assert wait_for(lambda: self.last(topic) is not None, timeout_s), f"nothing on {topic}"
        payload = self.last(topic)
        assert payload is not None
        return payload

    def publish(self, topic: str, payload: str) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# -- VictoriaMetrics ------------------------------------------------------------------------
@dataclass
class VictoriaMetricsServer:
    root: Path
    port: int = field(default_factory=free_port)
    #: Run with ``-dedup.minScrapeInterval=1ms`` (one sample per series and millisecond).
    dedup: bool = False
    _proc: _Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = require_binary("victoria-metrics")
        data = self.root / "data"
        data.mkdir(exist_ok=True)
        self._proc = _Process(
            [binary, f"-httpListenAddr=127.0.0.1:{self.port}", f"-storageDataPath={data}",
             "-retentionPeriod=2y", "-loggerLevel=ERROR", "-search.disableCache",
             *(["-dedup.minScrapeInterval=1ms"] if self.dedup else [])],
            self.root / "vm.log",
        )
        self._proc.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            self._proc.check_alive("victoria-metrics")
            if self._get("/health") == "OK":
                return
            time.sleep(0.05)
        raise RuntimeError("victoria-metrics did not become healthy")

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.stop()

    def kill(self) -> None:
        """SIGKILL: whatever VictoriaMetrics holds in memory (the last seconds) is lost."""
        if self._proc is not None:
            self._proc.kill()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.running

    def _get(self, path: str) -> str | None:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as resp:
                return resp.read().decode()
        except (urllib.error.URLError, OSError):
            return None

    def export(self, match: str) -> list[dict[str, object]]:
        """Raw samples of every series matching ``match`` (``/api/v1/export``)."""
        self._get("/internal/force_flush")
        query = urllib.parse.urlencode({"match[]": match, "start": "0"})
        text = self._get(f"/api/v1/export?{query}")
        if text is None:
            raise RuntimeError("export failed")
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def sample_count(self, match: str) -> int:
        return sum(len(s["values"]) for s in self.export(match))  # type: ignore[arg-type]


@pytest.fixture(name="victoria_metrics")
def victoria_metrics_fixture(tmp_path: Path) -> Iterator[VictoriaMetricsServer]:
    root = tmp_path / "vm"
    root.mkdir()
    server = VictoriaMetricsServer(root)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(name="victoria_metrics_dedup")
def victoria_metrics_dedup_fixture(tmp_path: Path) -> Iterator[VictoriaMetricsServer]:
    """VictoriaMetrics with ``-dedup.minScrapeInterval=1ms`` (restartable, killable)."""
    root = tmp_path / "vm-dedup"
    root.mkdir()
    server = VictoriaMetricsServer(root, dedup=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# -- InfluxDB 1.x ---------------------------------------------------------------------------
@dataclass
class InfluxV1Server:
    root: Path
    port: int = field(default_factory=free_port)
    rpc_port: int = field(default_factory=free_port)
    #: ``(user, password)``: HTTP authentication on, that admin user created at first start.
    auth: tuple[str, str] | None = None
    _proc: _Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = require_binary("influxd")
        conf = self.root / "influxdb.conf"
        conf.write_text(
            "reporting-disabled = true\n"
            f'bind-address = "127.0.0.1:{self.rpc_port}"\n'
            f'[meta]\n  dir = "{self.root}/meta"\n'
            f'[data]\n  dir = "{self.root}/data"\n  wal-dir = "{self.root}/wal"\n'
            '  query-log-enabled = false\n'
            f'[http]\n  bind-address = "127.0.0.1:{self.port}"\n  log-enabled = false\n'
            f"  auth-enabled = {'true' if self.auth else 'false'}\n"
            "[monitor]\n  store-enabled = false\n"
            "[continuous_queries]\n  enabled = false\n"
        )
        self._proc = _Process([binary, "-config", str(conf)], self.root / "influxd.log")
        self._proc.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            self._proc.check_alive("influxd")
            try:
                with urllib.request.urlopen(self.url + "/ping", timeout=1) as resp:
                    if resp.status == 204:
                        self._create_admin()
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError("influxd did not answer /ping")

    def _create_admin(self) -> None:
        """The first admin user may be created without credentials (InfluxDB 1.x rule)."""
        if self.auth is None or (self.root / "meta" / ".admin").exists():
            return
        user, password = self.auth
        self.query(f"CREATE USER \"{user}\" WITH PASSWORD '{password}' WITH ALL PRIVILEGES",
                   authenticate=False)
        (self.root / "meta" / ".admin").write_text(user)

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.stop()

    def kill(self) -> None:
        """SIGKILL (InfluxDB replays its WAL at the next start)."""
        if self._proc is not None:
            self._proc.kill()

    def query(self, q: str, db: str | None = None, *,
              authenticate: bool = True) -> dict[str, object]:
        params = {"q": q, **({"db": db} if db else {})}
        data = urllib.parse.urlencode(params).encode()
        request = urllib.request.Request(self.url + "/query", data=data)
        if self.auth is not None and authenticate:
            basic = base64.b64encode(":".join(self.auth).encode()).decode()
            request.add_header("Authorization", f"Basic {basic}")
        with urllib.request.urlopen(request, timeout=10) as resp:
            result: dict[str, object] = json.loads(resp.read())
        return result


@pytest.fixture(name="influxd_server")
def influxd_server_fixture(tmp_path: Path) -> Iterator[InfluxV1Server]:
    root = tmp_path / "influxd"
    root.mkdir()
    server = InfluxV1Server(root)
    try:
        server.start()
    except RuntimeError as exc:
        server.stop()
        pytest.skip(f"Debian influxd 1.x did not start here: {exc}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(name="influxd_auth_server")
def influxd_auth_server_fixture(tmp_path: Path) -> Iterator[InfluxV1Server]:
    """InfluxDB 1.x with ``auth-enabled = true`` and the admin ``admin`` / ``adm1n-s3cret``."""
    root = tmp_path / "influxd-auth"
    root.mkdir()
    server = InfluxV1Server(root, auth=("admin", "adm1n-s3cret"))
    try:
        server.start()
    except RuntimeError as exc:
        server.stop()
        pytest.skip(f"Debian influxd 1.x did not start here: {exc}")
    try:
        yield server
    finally:
        server.stop()
