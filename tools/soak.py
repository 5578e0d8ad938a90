"""Soak: the controller against the simulated site in accelerated time, faults injected at
random, invariants checked at the end.

    .venv/bin/python tools/soak.py                                   # 2 simulated hours
    .venv/bin/python tools/soak.py --hours 48 --speed 200 --faults-per-hour 20 --seed 7
    .venv/bin/python tools/soak.py --site site_profiles/harbour_hotel_dhw.yaml --json

The pieces are the real ones, wired as ``thermalctl demo`` wires them: the simulator serves
every device over Modbus TCP on 127.0.0.1, the controller runs under the runtime's
APScheduler (``run_scheduler``) on a scaled clock, and ``start_services`` starts telemetry
(the outbox shipper to VictoriaMetrics), MQTT (Mosquitto) and the BMS server from
``THERMALCTL_*`` settings. Mosquitto and VictoriaMetrics (``-dedup.minScrapeInterval=1ms``)
are started by this tool on free 127.0.0.1 ports in a temporary directory.

Faults, at random times (a Poisson process of ``--faults-per-hour`` simulated hours), in
two lanes that run side by side (one fault at a time in each lane):

* devices: ``silent`` (requests dropped), ``exception`` (Modbus exception 04),
  ``garbage`` (random words, NaN floats), ``out_of_range`` (a safety signal reported
  beyond its register's range, high or low), ``port_closed`` (the device's server
  stopped: connection refused);
* services: ``broker`` (Mosquitto stopped, started again), ``tsdb`` (VictoriaMetrics
  SIGKILLed and started again on its data), ``disk`` (the store's disk full: the store
  and its audit trail live on a small tmpfs that a ballast file fills; where mounting is
  not permitted, or with ``--disk pragma``, SQLite's ``PRAGMA max_page_count``; freed
  again).

Each fault is held until its alarm is raised (bounded), a little longer, then removed;
the alarm must then clear (bounded). Checked at the end (each failure is a violation and
the exit status is 1):

* energy balance: the plant's own (IT electricity = where its heat went), and every
  ledger counter equal to what the plant's meters served around that tick (through the
  register's own encoding, so within its resolution);
* the ledger's counters monotonic;
* telemetry exactly once: every store row that makes a sample is in VictoriaMetrics
  (``/api/v1/export``) once: none lost, none twice;
* safety: the plant's coolant never above a trip limit for longer than the
  controller's reaction (``limits.stale_after_s`` plus two ticks), no actuator value
  out of its bounds (the plant's registers and every decision), must-run load never
  capped below its last measurement except under a thermal trip;
* the audit trail's chain intact (``thermalctl.adapters.audit.verify`` with the store);
* no crash: no tick raised, no job or task died, the loop kept ticking;
* every fault raised its alarm and the alarm cleared after recovery (the broker has no
  alarm: its fault counts as seen when the controller's MQTT connection drops, and as
  cleared when it is back and ``status`` reads ``online`` on the broker again).

Exit status: 0 passed, 1 a violation, 2 the soak could not run (a server missing, bad
options). Everything is bounded in wall time (``--max-wall``) and cleaned up on exit,
Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import bisect
import contextlib
import dataclasses
import datetime as dt
import functools
import getpass
import json
import logging
import math
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from thermalctl.adapters.audit import AuditTrail, audit_path_for, verify
from thermalctl.adapters.influx import OUTAGE_ALARM, OutboxShipper
from thermalctl.adapters.influx_lines import row_lines
from thermalctl.adapters.modbus_client import hubs_for
from thermalctl.adapters.store import LEDGER_COLUMNS, SIMULATED, LocalStore
from thermalctl.config import DataType, Register, load_site
from thermalctl.config.loader import Site
from thermalctl.config.services import InfluxSettings, StoreSettings, resolve_influx
from thermalctl.control.safety import THERMAL_TRIP_CODES, THERMAL_TRIP_SUFFIXES
from thermalctl.models import signals as sig
from thermalctl.models.signals import SafetyUse
from thermalctl.runtime.app import ScaledClock, make_policy, percentile, run_scheduler
from thermalctl.runtime.controller import Controller
from thermalctl.runtime.demo import free_port, relocate_to_free_ports
from thermalctl.runtime.service import StoreUpkeep
from thermalctl.runtime.services import start_services
from thermalctl.sim.site import SimulatedSite

REPO = Path(__file__).resolve().parents[1]
log = logging.getLogger("soak")

DEVICE_FAULTS = ("silent", "exception", "garbage", "out_of_range", "port_closed")
SERVICE_FAULTS = ("broker", "tsdb", "disk")
#: Wall time a server gets to start and answer [s].
START_TIMEOUT_S = 20.0
#: The shipper's settings for the soak (wall seconds): ship often, alarm an outage soon.
SHIP_FLUSH_PERIOD_S = 0.5
SHIP_MAX_BACKOFF_S = 2.0
OUTAGE_ALARM_S = 1.0
#: Bound on waiting for a service fault's alarm or recovery [wall s] (paho's reconnect
#: back-off grows to 60 s).
SERVICE_WAIT_S = 90.0
#: At most this many messages kept per kind of violation.
MAX_MESSAGES = 5


# -- small helpers -----------------------------------------------------------------------------
def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _binary(name: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists()
                                  else None)
    if path is None:
        raise SoakSetupError(f"{name} is not installed (Debian package {name}); the soak "
                             "needs the real server")
    return path


class SoakSetupError(RuntimeError):
    """The soak cannot run here (a server missing, a mount refused, ...)."""


class Violations:
    """Every broken invariant, counted by kind, with the first few messages of each."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.messages: dict[str, list[str]] = {}

    def add(self, kind: str, message: str) -> None:
        self.counts[kind] += 1
        kept = self.messages.setdefault(kind, [])
        if len(kept) < MAX_MESSAGES:
            kept.append(message)

    def __bool__(self) -> bool:
        return bool(self.counts)


# -- servers -----------------------------------------------------------------------------------
@dataclasses.dataclass(eq=False)
class _Server:
    """A server subprocess on 127.0.0.1 that can be stopped, killed and started again."""

    name: str
    argv: list[str]
    log_path: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as out:
            # Own session: a Ctrl-C in the terminal reaches the soak, which stops it.
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        _LIVE.add(self)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-1500:]
                raise SoakSetupError(f"{self.name} exited at start: {tail}")
            if self.ready():
                return
            time.sleep(0.05)
        self.stop()
        raise SoakSetupError(f"{self.name} did not answer on 127.0.0.1:{self.port}")

    def ready(self) -> bool:
        return _port_open(self.port)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        _LIVE.discard(self)

    def kill(self) -> None:
        """SIGKILL: the server gets no chance to flush anything."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.kill()
        proc.wait(timeout=10)
        _LIVE.discard(self)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


_LIVE: set[_Server] = set()


@atexit.register
def _stop_leftovers() -> None:  # a last resort: normal paths stop their servers themselves
    for server in list(_LIVE):
        with contextlib.suppress(Exception):
            server.kill()


def mosquitto(root: Path, users: dict[str, str]) -> _Server:
    """Mosquitto on a free port with a password file and an ACL (no anonymous access)."""
    binary, passwd_tool = _binary("mosquitto"), _binary("mosquitto_passwd")
    port = free_port()
    passwd = root / "passwd"
    passwd.write_text("")
    for user, password in users.items():
        subprocess.run([passwd_tool, "-b", str(passwd), user, password], check=True,
                       capture_output=True, timeout=30)
    passwd.chmod(0o600)
    acl = root / "acl"
    acl.write_text("user observer\ntopic read #\n\n"
                   "pattern readwrite thermalctl/%u/#\npattern readwrite homeassistant/+/%u/#\n")
    acl.chmod(0o600)
    conf = root / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {passwd}\n"
        f"acl_file {acl}\npersistence false\nuser {getpass.getuser()}\n"
        "log_dest stdout\nlog_type error\nlog_type warning\n"
    )
    return _Server("mosquitto", [binary, "-c", str(conf)], root / "mosquitto.log", port)


class VictoriaMetrics(_Server):
    """VictoriaMetrics with ``-dedup.minScrapeInterval=1ms``; restarts keep its data."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ready(self) -> bool:
        return self.get("/health") == "OK"

    def get(self, path: str, timeout_s: float = 5.0) -> str | None:
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout_s) as resp:
                return str(resp.read().decode())
        except (urllib.error.URLError, OSError):
            return None

    def export(self, match: str) -> list[dict[str, Any]]:
        self.get("/internal/force_flush")
        query = urllib.parse.urlencode({"match[]": match, "start": "0"})
        text = self.get(f"/api/v1/export?{query}", timeout_s=120.0)
        if text is None:
            raise RuntimeError("VictoriaMetrics /api/v1/export failed")
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def victoria_metrics(root: Path, retention_days: int) -> VictoriaMetrics:
    binary = _binary("victoria-metrics")
    port = free_port()
    data = root / "data"
    data.mkdir(exist_ok=True)
    argv = [binary, f"-httpListenAddr=127.0.0.1:{port}", f"-storageDataPath={data}",
            f"-retentionPeriod={retention_days}d", "-loggerLevel=ERROR",
            "-search.disableCache", "-dedup.minScrapeInterval=1ms"]
    return VictoriaMetrics("victoria-metrics", argv, root / "vm.log", port)


class Observer:
    """An MQTT client (user ``observer``) that watches the site's ``status`` topic."""

    def __init__(self, port: int, password: str, status_topic: str) -> None:
        self.topic = status_topic
        self.lock = threading.Lock()
        self.online_at: list[float] = []  # wall times of "online" messages
        self.client = paho.Client(CallbackAPIVersion.VERSION2,
                                  client_id=f"soak-observer-{os.getpid()}")
        self.client.username_pw_set("observer", password)
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.connect_async("127.0.0.1", port, keepalive=30)
        self.client.loop_start()

    def _on_connect(self, client: paho.Client, _u: object, _f: object, rc: object,
                    _p: object = None) -> None:
        client.subscribe(self.topic, qos=1)

    def _on_message(self, _c: object, _u: object, msg: paho.MQTTMessage) -> None:
        if msg.payload == b"online":
            with self.lock:
                self.online_at.append(time.monotonic())

    def online_since(self, wall_s: float) -> bool:
        with self.lock:
            return any(t >= wall_s for t in self.online_at)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.disconnect()
        self.client.loop_stop()


class Disk:
    """Makes the store's disk full and frees it again.

    ``pragma``: SQLite's ``PRAGMA max_page_count`` on the store's own connection (the
    database cannot grow and answers SQLITE_FULL, the error a full disk gives).
    ``tmpfs``: the store lives on a small tmpfs (mounted here; needs root) that a ballast
    file fills; the audit trail beside the store shares the full disk.
    """

    def __init__(self, mode: str, root: Path, size_mb: int) -> None:
        self.mode = mode
        self.mount: Path | None = None
        self.ballast: Path | None = None
        self._saved_max: int | None = None
        if mode == "tmpfs":
            self.mount = root / "store-tmpfs"
            self.mount.mkdir()
            done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755",
                                   "tmpfs", str(self.mount)], capture_output=True, text=True,
                                  timeout=30)
            if done.returncode != 0:
                raise SoakSetupError(f"--disk tmpfs: mount refused: {done.stderr.strip()}")
            _MOUNTS.add(self.mount)
            self.ballast = self.mount / "ballast"

    @property
    def store_dir(self) -> Path | None:
        return self.mount

    def fill(self, store: LocalStore) -> None:
        if self.mode == "pragma":
            with store._lock:  # the store's one connection; its lock serialises users
                db = store._db
                pages = int(db.execute("PRAGMA page_count").fetchone()[0])
                if self._saved_max is None:
                    self._saved_max = int(db.execute("PRAGMA max_page_count").fetchone()[0])
                db.execute(f"PRAGMA max_page_count={pages + 1}")
            return
        assert self.ballast is not None
        fd = os.open(self.ballast, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (1 << 20, 4096, 1):  # until ENOSPC: full, as wanted
                block = b"\0" * size
                with contextlib.suppress(OSError):
                    while os.write(fd, block) == size:
                        pass
        finally:
            os.close(fd)

    def free(self, store: LocalStore) -> None:
        if self.mode == "pragma":
            if self._saved_max is not None:
                with store._lock:
                    store._db.execute(f"PRAGMA max_page_count={self._saved_max}")
            return
        if self.ballast is not None:
            self.ballast.unlink(missing_ok=True)

    def close(self) -> None:
        if self.mount is not None:
            _umount(self.mount)
            self.mount = None


_MOUNTS: set[Path] = set()


def _umount(path: Path) -> None:
    if path in _MOUNTS:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)
        _MOUNTS.discard(path)


@atexit.register
def _umount_leftovers() -> None:
    for path in list(_MOUNTS):
        with contextlib.suppress(Exception):
            _umount(path)


# -- the plant, watched ------------------------------------------------------------------------
class PlantWatch:
    """Wraps the simulator's ``sync``: after each, checks the plant's coolant against the
    trip limits, the actuator values the controller wrote against their bounds, and keeps
    what the energy meters served (for the ledger check)."""

    def __init__(self, sim: SimulatedSite, site: Site, violations: Violations,
                 reaction_s: float) -> None:
        self.sim = sim
        self.profile = site.profile
        self.violations = violations
        self.reaction_s = reaction_s
        self.syncs = 0
        lim = self.profile.limits
        self.trips: dict[str, float] = {"loop.supply": lim.coolant_supply_trip_c,
                                        "loop.return": lim.coolant_return_trip_c}
        for g in self.profile.rack_groups:
            self.trips[f"rack.{g.id}.outlet"] = lim.coolant_return_trip_c
        self.max_temp_c = dict.fromkeys(self.trips, -math.inf)
        self.above_since: dict[str, float | None] = dict.fromkeys(self.trips)
        self.longest_above_s = dict.fromkeys(self.trips, 0.0)
        #: (plant time, {ledger column: the value its meters served}) after every sync.
        self.meters: list[tuple[float, dict[str, float]]] = []
        self._meter_regs = self._ledger_registers(site)

    def _ledger_registers(self, site: Site) -> dict[str, list[tuple[str, str]]]:
        """Ledger column -> the (device, register) pairs summed into it."""
        where: dict[str, tuple[str, str]] = {}
        for dev in site.profile.devices:
            for name, reg in dev.signals.items():
                where[name] = (dev.id, reg)
        sinks = [s.id for s in site.profile.sinks]
        columns = {
            "facility_kwh": [sig.FACILITY_ENERGY_KWH],
            "it_kwh": [sig.IT_ENERGY_KWH],
            "reused_heat_kwh": [sig.sink_signal(s, "energy_kwh") for s in sinks],
            "dumped_heat_kwh": [sig.DUMP_ENERGY_KWH],
            "backup_heat_kwh": [sig.sink_signal(s, "backup_energy_kwh") for s in sinks
                                if sig.sink_signal(s, "backup_energy_kwh") in where],
        }
        return {col: [where[s] for s in signals] for col, signals in columns.items()
                if signals and all(s in where for s in signals)}

    def sync(self) -> None:
        self.sim.sync()
        self.syncs += 1
        plant = self.sim.plant
        now = plant.time_s
        temps = {"loop.supply": plant.supply_temp_c(), "loop.return": plant.return_temp_c()}
        for g in self.profile.rack_groups:
            temps[f"rack.{g.id}.outlet"] = plant.group_outlet_temp_c(g.id)
        for key, temp in temps.items():
            self.max_temp_c[key] = max(self.max_temp_c[key], temp)
            since = self.above_since[key]
            if temp > self.trips[key]:
                if since is None:
                    self.above_since[key] = since = now
                self.longest_above_s[key] = max(self.longest_above_s[key], now - since)
            else:
                self.above_since[key] = None
        self._check_commands(now)
        self.record_meters()

    def record_meters(self) -> None:
        devices = self.sim.devices
        self.meters.append((self.sim.plant.time_s, {
            col: sum(devices.get_value(dev, reg) for dev, reg in regs)
            for col, regs in self._meter_regs.items()
        }))

    def _check_commands(self, now: float) -> None:
        cmd = self.sim.plant.commands
        for g in self.profile.rack_groups:
            cap = cmd.gpu_power_cap_w.get(g.id, g.max_power_w)
            if not (min(g.min_cap_w, g.idle_power_w) - 1.0 <= cap <= g.max_power_w + 1.0):
                self.violations.add("actuator_out_of_bounds",
                                    f"t={_iso(now)}: rack group {g.id} GPU cap {cap:.0f} W "
                                    f"outside {g.min_cap_w:g}..{g.max_power_w:g} W")
        for s in self.profile.sinks:
            req = cmd.sink_heat_request_w.get(s.id, 0.0)
            if not (-1.0 <= req <= s.max_heat_w + 1.0):
                self.violations.add("actuator_out_of_bounds",
                                    f"t={_iso(now)}: sink {s.id} heat request {req:.0f} W "
                                    f"outside 0..{s.max_heat_w:g} W")
        if not (math.isfinite(cmd.dump_heat_request_w) and cmd.dump_heat_request_w >= -1.0):
            self.violations.add("actuator_out_of_bounds",
                                f"t={_iso(now)}: dump heat request {cmd.dump_heat_request_w}")

    def check_coolant(self) -> None:
        for key, longest in self.longest_above_s.items():
            if longest > self.reaction_s:
                self.violations.add(
                    "coolant_above_trip",
                    f"{key} above its trip {self.trips[key]:g} degC for {longest:.0f} s "
                    f"(max {self.max_temp_c[key]:.1f} degC; reaction allowed "
                    f"{self.reaction_s:.0f} s)")


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


# -- faults ------------------------------------------------------------------------------------
@dataclasses.dataclass
class Episode:
    kind: str
    target: str
    start_s: float  # simulated
    raised: bool = False
    cleared: bool = False
    alarms: tuple[str, ...] = ()
    interrupted: bool = False  # the run was stopped (abort, SIGTERM) in the middle of it
    detect_s: float = math.nan  # simulated seconds from injection to the alarm
    recover_s: float = math.nan  # simulated seconds from removal to the all-clear


class Faults:
    """Injects faults in two lanes (devices, services) and watches their alarms."""

    def __init__(self, opts: argparse.Namespace, rng: random.Random, clock: ScaledClock,
                 sim: SimulatedSite, controller: Controller, store: LocalStore,
                 broker: _Server, vm: VictoriaMetrics, observer: Observer, disk: Disk,
                 end_s: float, tick_s: float) -> None:
        self.opts = opts
        #: One generator per lane: each lane's draws are the same for a seed.
        self.rngs = {lane: random.Random(f"{rng.random()}:{lane}")
                     for lane in ("devices", "services")}
        self.clock = clock
        self.sim = sim
        self.controller = controller
        self.store = store
        self.broker = broker
        self.vm = vm
        self.observer = observer
        self.disk = disk
        self.tick_s = tick_s
        self.profile = controller.profile
        self.stale_s = self.profile.limits.stale_after_s
        #: No fault starts in the last part of the run, so everything has recovered.
        self.last_start_s = end_s - max(20 * tick_s, 600.0)
        self.episodes: list[Episode] = []
        self.stopping = False
        self.active: dict[str, Callable[[], Any]] = {}  # lane -> undo, while a fault is in
        #: Safety temperatures an out-of-range fault can push past their register's range.
        self._safety = [
            (dev.id, s) for dev in self.profile.devices for s, reg in dev.signals.items()
            if _safety_signal(s) and _ranged(sim.site.maps[dev.id].register(reg))
        ]

    # -- waiting -------------------------------------------------------------------------
    async def _until(self, predicate: Callable[[], bool], sim_s: float, wall_s: float,
                     ticks: int = 0) -> bool:
        """Wait until ``predicate()``: give up once ``sim_s`` simulated seconds and ``ticks``
        controller ticks have passed (a tick stretched by device timeouts spans more
        simulated time at high speed), or after ``wall_s`` wall seconds in any case."""
        end_sim = self.clock() + sim_s
        end_tick = self.controller.ticks + ticks
        end_wall = time.monotonic() + wall_s
        while not self.stopping:
            if predicate():
                return True
            if (self.clock() >= end_sim and self.controller.ticks >= end_tick) or (
                    time.monotonic() >= end_wall):
                return predicate()
            await asyncio.sleep(0.01)
        return predicate()

    async def _sleep_sim(self, sim_s: float) -> None:
        await self._until(lambda: False, sim_s, sim_s / self.opts.speed + 1.0)

    def _alarms(self, match: Callable[[str], bool]) -> list[str]:
        return [code for code in self.controller.active_alarms if match(code)]

    # -- lanes ---------------------------------------------------------------------------
    async def lane(self, name: str, kinds: tuple[str, ...], rate_per_h: float) -> None:
        if rate_per_h <= 0 or not kinds:
            return
        rng = self.rngs[name]
        cycle: list[str] = []
        next_s = self.clock() + rng.expovariate(rate_per_h / 3600.0)
        while not self.stopping:
            if next_s > self.last_start_s:
                return
            await self._until(functools.partial(self._reached, next_s),
                              next_s - self.clock() + 1.0,
                              (next_s - self.clock()) / self.opts.speed + 5.0)
            if self.stopping or self.clock() > self.last_start_s:
                return
            if not cycle:  # every kind once per cycle, in random order: all get exercised
                cycle = list(kinds)
                rng.shuffle(cycle)
            kind = cycle.pop()
            await getattr(self, f"_{kind}")()
            next_s = max(self.clock(), next_s) + rng.expovariate(rate_per_h / 3600.0)

    def _reached(self, sim_s: float) -> bool:
        return self.clock() >= sim_s

    async def recover_all(self) -> None:
        """Undo whatever fault is still in (on stop or abort)."""
        for lane in list(self.active):
            undo = self.active.pop(lane)
            with contextlib.suppress(Exception):
                result = undo()
                if asyncio.iscoroutine(result):
                    await result

    # -- device faults -------------------------------------------------------------------
    def _device_match(self, device_id: str) -> Callable[[str], bool]:
        dev = next(d for d in self.profile.devices if d.id == device_id)
        prefixes = (f"device.{device_id}.", *(f"{s}." for s in dev.signals),
                    *(f"actuator.{s}" for s in dev.actuators))
        return lambda code: code.startswith(prefixes)

    async def _device_episode(self, kind: str, device_id: str, inject: Callable[[], Any],
                              undo: Callable[[], Any], expect: Callable[[str], bool],
                              clear: Callable[[str], bool], target: str) -> None:
        ep = Episode(kind, target, self.clock())
        self.episodes.append(ep)
        result = inject()
        if asyncio.iscoroutine(result):
            await result
        self.active["devices"] = undo
        t0 = self.clock()
        # Alarmed within two ticks of the staleness limit (at once for an implausible
        # value): the bound here leaves room for a tick stretched by a device timeout.
        ep.raised = await self._until(lambda: bool(self._alarms(expect)),
                                      self.stale_s + 2 * self.tick_s, 60.0,
                                      ticks=math.ceil(self.stale_s / self.tick_s) + 3)
        ep.detect_s = self.clock() - t0
        ep.alarms = tuple(sorted(set(self._alarms(clear))))
        await self._sleep_sim(self.rngs["devices"].uniform(0.0, 4.0 * self.tick_s))
        ep.alarms = tuple(sorted(set(ep.alarms) | set(self._alarms(clear))))
        self.active.pop("devices", None)
        result = undo()
        if asyncio.iscoroutine(result):
            await result
        t1 = self.clock()
        ep.cleared = await self._until(lambda: not self._alarms(clear), 4 * self.tick_s, 60.0,
                                       ticks=4)
        ep.recover_s = self.clock() - t1
        ep.interrupted = self.stopping

    def _pick_device(self) -> str:
        return self.rngs["devices"].choice([d.id for d in self.profile.devices])

    async def _device_fault(self, kind: str) -> None:
        dev = self._pick_device()
        devices = self.sim.devices
        silent = lambda code: code == f"device.{dev}.silent"  # noqa: E731
        match = self._device_match(dev)
        await self._device_episode(kind, dev, lambda: devices.set_fault(dev, kind),  # type: ignore[arg-type]
                                   lambda: devices.set_fault(dev, "none"),
                                   match if kind == "garbage" else silent, match, dev)

    async def _silent(self) -> None:
        await self._device_fault("silent")

    async def _exception(self) -> None:
        await self._device_fault("exception")

    async def _garbage(self) -> None:
        await self._device_fault("garbage")

    async def _port_closed(self) -> None:
        dev = self._pick_device()
        devices = self.sim.devices
        port = devices.ports[dev]
        sharing = [d for d, p in devices.ports.items() if p == port]
        matches = [self._device_match(d) for d in sharing]

        def expect(code: str) -> bool:
            return code == f"device.{dev}.silent"

        await self._device_episode("port_closed", dev, lambda: devices.stop_port(dev),
                                   lambda: devices.start_port(dev), expect,
                                   lambda code: any(m(code) for m in matches), dev)

    async def _out_of_range(self) -> None:
        dev, signal = self.rngs["devices"].choice(self._safety)
        device = next(d for d in self.profile.devices if d.id == dev)
        reg = self.sim.site.maps[dev].register(device.signals[signal])
        high = self.rngs["devices"].random() < 0.5
        assert reg.min is not None and reg.max is not None
        value = reg.max + 10.0 if high else reg.min - 5.0  # degC: canonical = register unit
        expect_code = f"{signal}.implausible_{'high' if high else 'low'}"
        match = self._device_match(dev)
        await self._device_episode(
            "out_of_range", dev, lambda: self.sim.override(signal, value),
            lambda: self.sim.overrides.pop(signal, None),
            lambda code: code == expect_code, match, f"{signal}={value:g}")

    # -- service faults ------------------------------------------------------------------
    async def _service_episode(self, kind: str, target: str, inject: Callable[[], None],
                               undo: Callable[[], None], raised: Callable[[], bool],
                               cleared: Callable[[], bool], alarm: str) -> None:
        ep = Episode(kind, target, self.clock())
        self.episodes.append(ep)
        await asyncio.to_thread(inject)
        self.active["services"] = lambda: asyncio.to_thread(undo)
        t0 = self.clock()
        ep.raised = await self._until(raised, math.inf, SERVICE_WAIT_S)
        ep.detect_s = self.clock() - t0
        ep.alarms = (alarm,) if ep.raised else ()
        await self._until(lambda: False, math.inf, self.rngs["services"].uniform(0.1, 1.0))
        self.active.pop("services", None)
        await asyncio.to_thread(undo)
        t1 = self.clock()
        ep.cleared = await self._until(cleared, math.inf, SERVICE_WAIT_S)
        ep.recover_s = self.clock() - t1
        ep.interrupted = self.stopping

    async def _broker(self) -> None:
        hub = self.controller_hub
        stopped = [0.0]

        def stop() -> None:
            self.broker.stop()
            stopped[0] = time.monotonic()

        def back() -> bool:
            return hub.connected.is_set() and self.observer.online_since(stopped[0])

        await self._service_episode("broker", "mosquitto", stop, self.broker.start,
                                    lambda: not hub.connected.is_set(), back,
                                    "mqtt connection lost")

    async def _tsdb(self) -> None:
        def outage() -> bool:
            return OUTAGE_ALARM in self.controller.active_alarms

        await self._service_episode("tsdb", "victoria-metrics", self.vm.kill, self.vm.start,
                                    outage, lambda: not outage(), OUTAGE_ALARM)

    async def _disk(self) -> None:
        def failed() -> bool:
            return "store.write_failed" in self.controller.active_alarms

        await self._service_episode("disk", self.disk.mode, lambda: self.disk.fill(self.store),
                                    lambda: self.disk.free(self.store), failed,
                                    lambda: not failed(), "store.write_failed")

    controller_hub: Any = None


def _ranged(reg: Register) -> bool:
    return reg.min is not None and reg.max is not None and reg.data_type is not DataType.BOOL


def _safety_signal(name: str) -> bool:
    try:
        return sig.spec(name).safety is not SafetyUse.NONE
    except KeyError:
        return False


# -- checks after the run ----------------------------------------------------------------------
def check_ledger(store: LocalStore, watch: PlantWatch, window_s: float, stale_s: float,
                 violations: Violations) -> dict[str, Any]:
    """Counters monotonic; each ledger value equal to what the meters served near its tick."""
    rows = store.ledger_rows(-1e18, 1e18)
    last: dict[str, float] = {}
    times = [t for t, _ in watch.meters]
    matched = 0
    worst = 0.0
    for n, row in enumerate(rows):
        ts = float(row[0])  # type: ignore[arg-type]
        # The ledger takes a meter's last good reading while it is fresh (a meter that
        # failed this poll keeps its previous value up to ``stale_after_s``), read at or
        # after its tick's time (taken before the poll) and before the next tick: so the
        # value is one served from the last sync before ts - stale_after_s until then (a
        # poll stretched by device timeouts spans many simulated seconds at high speed).
        until = float(rows[n + 1][0]) if n + 1 < len(rows) else ts + window_s  # type: ignore[arg-type]
        lo = max(0, bisect.bisect_right(times, ts - stale_s) - 1)
        hi = bisect.bisect_right(times, until)
        for i, col in enumerate(LEDGER_COLUMNS, start=1):
            value = row[i]
            if not isinstance(value, int | float):
                continue
            v = float(value)
            if col in last and v < last[col] - 1e-9:
                violations.add("ledger_not_monotonic",
                               f"{col} {last[col]:.6f} -> {v:.6f} kWh at {_iso(ts)}")
            last[col] = v
            served = [m[col] for _, m in watch.meters[lo:hi] if col in m]
            if not served:
                continue
            gap = min(abs(v - s) for s in served)
            worst = max(worst, gap)
            if gap > 1e-6 * max(1.0, abs(v)):
                violations.add("ledger_vs_plant",
                               f"{col} = {v:.6f} kWh at {_iso(ts)}: the meters served "
                               f"{min(served):.6f}..{max(served):.6f} kWh around then")
            else:
                matched += 1
    return {"ledger_rows": len(rows), "ledger_values_matched": matched,
            "ledger_worst_gap_kwh": worst}


def _ms(ts: float) -> int:
    """A row's time as VictoriaMetrics stores it [ms] (the line's ns, cut to ms)."""
    return (round(ts * 1e6) * 1000) // 1_000_000


def expected_samples(store: LocalStore, site_id: str) -> Counter[tuple[str, ...]]:
    """Every sample the store's rows make in VictoriaMetrics, keyed by series and time.

    Built from the very lines the shipper writes (``row_lines``): a numeric field is a
    sample of ``<measurement>_<field>``; text fields are not stored by VictoriaMetrics.
    """
    expected: Counter[tuple[str, ...]] = Counter()
    text_fields.clear()
    for table in ("readings", "decisions", "alarms", "ledger"):
        last = 0
        prev = None
        while True:
            rows = store.fetch_after(table, last, 20000)
            if not rows:
                break
            for line in row_lines(table, site_id, rows, prev):
                expected.update(_line_keys(line))
            if table == "ledger":
                prev = rows[-1]
            last = int(rows[-1][0])  # type: ignore[call-overload]
    return expected


#: Series of text fields (VictoriaMetrics stores a text field as 0: not compared).
text_fields: set[str] = set()


def _line_keys(line: str) -> list[tuple[str, ...]]:
    """(metric name, identifying label, ms) for each numeric field of one line."""
    head, fields, stamp = _split_line(line)
    measurement, _, tags = head.partition(",")
    labels = dict(t.split("=", 1) for t in tags.split(",") if t)
    ident = labels.get("point") or labels.get("code") or ""
    ms = int(stamp) // 1_000_000
    keys: list[tuple[str, ...]] = []
    for name, value in fields:
        if value.startswith('"'):
            text_fields.add(f"{measurement}_{name}")
            continue
        keys.append((f"{measurement}_{name}", ident.replace("\\", ""), str(ms)))
    return keys


def _split_line(line: str) -> tuple[str, list[tuple[str, str]], str]:
    """Line protocol -> (measurement+tags, [(field, raw value)], timestamp). Handles the
    escapes ``influxdb-client`` writes (``\\ `` ``\\,`` ``\\=`` in keys, ``\\"`` in strings)."""
    parts: list[str] = []
    buf: list[str] = []
    quoted = escaped = False
    for ch in line:
        if escaped:
            buf.append(ch)
            escaped = False
        elif ch == "\\":
            buf.append(ch)
            escaped = True
        elif ch == '"':
            buf.append(ch)
            quoted = not quoted
        elif ch == " " and not quoted:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    head, field_text, stamp = parts[0], " ".join(parts[1:-1]), parts[-1]
    fields: list[tuple[str, str]] = []
    buf = []
    quoted = escaped = False
    for ch in field_text + ",":
        if escaped:
            buf.append(ch)
            escaped = False
        elif ch == "\\":
            buf.append(ch)
            escaped = True
        elif ch == '"':
            buf.append(ch)
            quoted = not quoted
        elif ch == "," and not quoted:
            name, _, value = "".join(buf).partition("=")
            fields.append((name, value))
            buf = []
        else:
            buf.append(ch)
    return head, fields, stamp


def exported_samples(vm: VictoriaMetrics, site_id: str) -> Counter[tuple[str, ...]]:
    got: Counter[tuple[str, ...]] = Counter()
    match = f'{{__name__=~"reading_.*|decision_.*|alarm_.*|energy_.*",site="{site_id}"}}'
    for series in vm.export(match):
        metric = series["metric"]
        name = str(metric["__name__"])
        if name in text_fields:
            continue
        ident = str(metric.get("point") or metric.get("code") or "")
        for ms in series["timestamps"]:
            got[(name, ident, str(int(ms)))] += 1
    return got


def check_telemetry(store: LocalStore, vm: VictoriaMetrics, site_id: str,
                    violations: Violations) -> dict[str, int]:
    expected = expected_samples(store, site_id)
    got = exported_samples(vm, site_id)
    lost = sum(max(0, n - got.get(k, 0)) for k, n in expected.items())
    dup = sum(max(0, n - expected.get(k, 0)) for k, n in got.items() if k in expected)
    extra = sum(n for k, n in got.items() if k not in expected)
    if lost:
        missing = [k for k, n in expected.items() if got.get(k, 0) < n][:3]
        violations.add("telemetry_lost", f"{lost} samples not in VictoriaMetrics, e.g. {missing}")
    if dup:
        violations.add("telemetry_duplicated", f"{dup} samples stored twice")
    if extra:
        odd = [k for k in got if k not in expected][:3]
        violations.add("telemetry_unexpected", f"{extra} samples no store row makes, e.g. {odd}")
    return {"points_written": sum(expected.values()), "points_read_back": sum(got.values()),
            "points_lost": lost, "points_duplicated": dup, "points_unexpected": extra}


def check_decisions(store: LocalStore, site: Site, violations: Violations) -> dict[str, int]:
    """Every decision's targets within bounds; caps never below the last measured must-run
    power of a group except while a thermal trip is active."""
    profile = site.profile
    groups = {g.id: g for g in profile.rack_groups}
    sinks = {s.id: s for s in profile.sinks}
    db = sqlite3.connect(f"{store.path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        events: list[tuple[float, int, str, Any]] = []
        for ts, code, on in db.execute("SELECT ts, code, active FROM alarms"):
            events.append((ts, 0, code, bool(on)))
        for g in groups:
            signal = sig.rack_signal(g, "must_run_w")
            for ts, value in db.execute(
                    "SELECT ts, value FROM readings WHERE signal=? AND quality='good' "
                    "ORDER BY id", (signal,)):
                if value is not None and math.isfinite(value):
                    events.append((ts, 1, g, float(value)))
        for ts, body in db.execute("SELECT ts, body FROM decisions"):
            events.append((ts, 2, "", body))
    finally:
        db.close()
    events.sort(key=lambda e: (e[0], e[1]))
    active: set[str] = set()
    must: dict[str, float] = {}
    checked = cut = thermal_cut = 0
    for ts, kind, key, value in events:
        if kind == 0:
            (active.add if value else active.discard)(key)
        elif kind == 1:
            must[key] = value
        else:
            data = json.loads(value)
            checked += 1
            thermal = any(c in THERMAL_TRIP_CODES or c.endswith(THERMAL_TRIP_SUFFIXES)
                          for c in active)
            for gid, cap in (data.get("gpu_power_cap_w") or {}).items():
                group = groups[gid]
                if not (group.min_cap_w - 1.0 <= cap <= group.max_power_w + 1.0):
                    violations.add("decision_out_of_bounds",
                                   f"{_iso(ts)}: cap {gid} {cap:.0f} W outside "
                                   f"{group.min_cap_w:g}..{group.max_power_w:g} W")
                floor = min(must.get(gid, 0.0), group.max_power_w)
                if cap < floor - 1.0:
                    if thermal:
                        thermal_cut += 1
                    else:
                        cut += 1
                        violations.add("must_run_cut",
                                       f"{_iso(ts)}: {gid} capped at {cap:.0f} W below its "
                                       f"must-run {floor:.0f} W with no thermal trip "
                                       f"(mode {data.get('mode')}, alarms {sorted(active)[:6]})")
            for sid, req in (data.get("sink_heat_request_w") or {}).items():
                if not (-1.0 <= req <= sinks[sid].max_heat_w + 1.0):
                    violations.add("decision_out_of_bounds",
                                   f"{_iso(ts)}: sink {sid} request {req:.0f} W")
    return {"decisions_checked": checked, "must_run_cut": cut,
            "must_run_cut_by_thermal_trip": thermal_cut}


# -- the run -----------------------------------------------------------------------------------
class _Errors(logging.Handler):
    """Counts log records that mean something died: a job raised (APScheduler), a task's
    exception was never retrieved (asyncio), a tick or plan failed (the supervisor)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        name = record.name
        text = record.getMessage()
        if name.startswith("apscheduler") or name == "asyncio" or (
                name.startswith("thermalctl.runtime.app") and "job failed" in text):
            self.records.append(f"{name}: {text[:200]}")


def _start_s(opts: argparse.Namespace) -> float:
    if opts.start:
        return dt.datetime.fromisoformat(opts.start).replace(tzinfo=dt.UTC).timestamp()
    # Recent and in the past: VictoriaMetrics keeps it, and the run never writes the future.
    now = time.time()
    return math.floor((now - opts.hours * 3600.0 - 7200.0) / 3600.0) * 3600.0


def _profile_for_soak(site: Site, opts: argparse.Namespace) -> Site:
    p = site.profile
    devices = tuple(d.model_copy(update={"timeout_s": opts.device_timeout}) for d in p.devices)
    influx = (p.influx or InfluxSettings()).model_copy(update={
        "flush_period_s": SHIP_FLUSH_PERIOD_S, "max_backoff_s": SHIP_MAX_BACKOFF_S,
        "outage_alarm_s": OUTAGE_ALARM_S})
    retention = max(p.store.readings_retention_days, opts.hours / 24.0 + 2.0)
    profile = p.model_copy(update={
        "devices": devices, "influx": influx, "fast_period_s": opts.tick,
        "store": StoreSettings(readings_retention_days=retention)})
    return relocate_to_free_ports(Site(profile, site.maps, site.path))


async def run_soak(opts: argparse.Namespace, work: Path) -> dict[str, Any]:
    violations = Violations()
    rng = random.Random(opts.seed)
    site = _profile_for_soak(load_site(opts.site), opts)
    site_id = site.profile.site.id
    start_s = _start_s(opts)
    end_s = start_s + opts.hours * 3600.0
    planned_wall_s = opts.hours * 3600.0 / opts.speed
    max_wall_s = opts.max_wall or planned_wall_s * 2.0 + 180.0
    wall0 = time.monotonic()
    errors = _Errors()
    logging.getLogger().addHandler(errors)

    # Servers first (blocking starts, before the clock runs).
    (work / "mosquitto").mkdir()
    (work / "vm").mkdir()
    passwords = {site_id: "site-pw", "observer": "observer-pw"}
    broker = mosquitto(work / "mosquitto", passwords)
    broker.start()
    vm = victoria_metrics(work / "vm", int(opts.hours / 24.0) + 40)
    disk: Disk | None = None
    store: LocalStore | None = None
    observer: Observer | None = None
    try:
        vm.start()
        size_mb = opts.tmpfs_mb or max(256, int(opts.hours * 4))
        if opts.disk == "auto":
            try:
                disk = Disk("tmpfs", work, size_mb)
            except SoakSetupError as exc:
                log.warning("%s; the disk fault uses PRAGMA max_page_count instead", exc)
                disk = Disk("pragma", work, size_mb)
        else:
            disk = Disk(opts.disk, work, size_mb)
        store_dir = disk.store_dir or work
        store_path = store_dir / f"soak-{site_id}.sqlite"
        store = LocalStore(store_path, origin=SIMULATED, exclusive=True)
        observer = Observer(broker.port, passwords["observer"], f"thermalctl/{site_id}/status")
        return await _run(opts, work, site, store, store_path, broker, vm, observer, disk,
                          rng, start_s, end_s, violations, errors, wall0, max_wall_s)
    finally:
        if observer is not None:
            observer.close()
        if store is not None:
            if disk is not None:
                with contextlib.suppress(Exception):
                    disk.free(store)
            store.close()
        vm.stop()
        broker.stop()
        if disk is not None:
            disk.close()
        logging.getLogger().removeHandler(errors)


async def _run(opts: argparse.Namespace, work: Path, site: Site, store: LocalStore,
               store_path: Path, broker: _Server, vm: VictoriaMetrics, observer: Observer,
               disk: Disk, rng: random.Random, start_s: float, end_s: float,
               violations: Violations, errors: _Errors, wall0: float,
               max_wall_s: float) -> dict[str, Any]:
    site_id = site.profile.site.id
    tick_s = opts.tick
    clock = ScaledClock(start_s, opts.speed)
    audit = AuditTrail(audit_path_for(store_path), store=store, clock=clock)
    sim = SimulatedSite(site, clock)
    await sim.start()
    sim.initialise_actuators()
    hubs = hubs_for(site, clock=clock)  # reconnect back-off in simulated seconds
    controller = Controller(site, store, make_policy(opts.policy, site), clock, hubs=hubs)
    controller.audit = audit
    env = {
        "THERMALCTL_INFLUX_URL": vm.url,
        "THERMALCTL_INFLUX_BUCKET": "soak",
        "THERMALCTL_MQTT_URL": f"mqtt://{site_id}:site-pw@127.0.0.1:{broker.port}",
        "THERMALCTL_BMS_LISTEN": f"127.0.0.1:{free_port()}",
    }
    loop = asyncio.get_running_loop()
    loop_errors: list[str] = []
    loop.set_exception_handler(lambda _l, ctx: loop_errors.append(str(ctx.get("message"))[:200]))
    services = await start_services(controller, env=env)
    if services.hub is None or services.shipper is None:
        raise SoakSetupError("start_services started no MQTT hub or no shipper")
    upkeep = StoreUpkeep(site.profile, store, audit, clock, lambda: services.shipper is not None)
    audit.record("start", source="cli", site=site_id, policy=opts.policy, soak=True,
                 store=str(store_path))
    reaction_s = site.profile.limits.stale_after_s + 2 * tick_s
    watch = PlantWatch(sim, site, violations, reaction_s)
    watch.record_meters()  # what the devices serve before the first sync
    faults = Faults(opts, rng, clock, sim, controller, store, broker, vm, observer, disk,
                    end_s, tick_s)
    faults.controller_hub = services.hub
    rate = opts.faults_per_hour
    kinds_d = tuple(k for k in DEVICE_FAULTS if k in opts.kinds)
    kinds_s = tuple(k for k in SERVICE_FAULTS if k in opts.kinds)
    n_kinds = len(kinds_d) + len(kinds_s) or 1
    lanes = [
        asyncio.create_task(faults.lane("devices", kinds_d, rate * len(kinds_d) / n_kinds)),
        asyncio.create_task(faults.lane("services", kinds_s, rate * len(kinds_s) / n_kinds)),
    ]
    stop_event = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop_event.set)
    aborted: list[str] = []
    last_ticks = [0, time.monotonic()]
    next_report = [0.1]

    def progress() -> None:
        now_wall = time.monotonic()
        if controller.ticks != last_ticks[0]:
            last_ticks[:] = [controller.ticks, now_wall]
        elif now_wall - last_ticks[1] > max(30.0, 20 * tick_s / opts.speed) and not aborted:
            violations.add("loop_stalled", f"no tick for {now_wall - last_ticks[1]:.0f} s "
                           f"wall after tick {controller.ticks}")
            aborted.append("stalled")
        if now_wall - wall0 > max_wall_s and not aborted:
            violations.add("wall_time", f"run exceeded --max-wall {max_wall_s:.0f} s")
            aborted.append("wall")
        done = (clock() - start_s) / (end_s - start_s)
        if not opts.quiet and done >= next_report[0]:
            print(f"  {min(done, 1.0):4.0%} simulated {(clock() - start_s) / 3600.0:5.1f} h, "
                  f"{len(faults.episodes)} faults, mode {controller.mode.value}, "
                  f"{controller.ticks} ticks", file=sys.stderr, flush=True)
            next_report[0] += 0.1

    def finished() -> bool:
        return bool(aborted) or stop_event.is_set() or (
            clock() >= end_s and all(t.done() for t in lanes))

    sup = None
    try:
        sup = await run_scheduler(
            controller, speed=opts.speed, fast_period_s=tick_s, plan_period_s=opts.plan,
            until=finished,
            extra_jobs=[(watch.sync, tick_s / 2.0), *upkeep.jobs()],
            progress=progress,
        )
    finally:
        faults.stopping = True
        await asyncio.gather(*lanes, return_exceptions=True)
        await faults.recover_all()
        for t in lanes:
            if t.done() and not t.cancelled() and t.exception() is not None:
                violations.add("fault_lane_died", repr(t.exception()))
        mqtt_alive = services.hub.connected.is_set()
        handler_errors = getattr(services.hub, "handler_errors", 0)
        await services.stop(flush_timeout_s=15.0)
        await controller.close()
        await sim.stop()
        await upkeep.finish()
    wall_s = time.monotonic() - wall0
    if stop_event.is_set():
        violations.add("interrupted", "SIGTERM: the run stopped early; checks ran on what it did")
    sim.sync()
    upkeep.seal()
    audit.record("stop", source="cli", site=site_id)
    audit.close()

    # Telemetry: a shipper started afresh resumes from the confirmed cursors and sends
    # again what is not yet confirmed (as after a restart), then everything is read back.
    target = resolve_influx(site.profile.influx, env)
    assert target is not None
    final = OutboxShipper.for_target(store, target, site_id)
    try:
        await asyncio.to_thread(final.drain)
    finally:
        final.close()
    figures: dict[str, Any] = {}
    figures.update(check_telemetry(store, vm, site_id, violations))
    figures.update(check_ledger(store, watch, 2.0 * tick_s,
                                site.profile.limits.stale_after_s, violations))
    figures.update(check_decisions(store, site, violations))
    watch.check_coolant()

    plant = sim.plant
    residual = plant.balance_residual_kwh()
    if abs(residual) > 1e-6 * max(1.0, plant.totals.it_kwh) + 1e-6:
        violations.add("plant_energy_balance", f"residual {residual:.6f} kWh of "
                       f"{plant.totals.it_kwh:.1f} kWh IT")
    result = verify(audit.path, store)
    if not result.ok:
        violations.add("audit_chain", str(result))

    # No crash: the loop ticked throughout, nothing raised.
    failing = sup.failing if sup is not None else {}
    tick_failures = [a for a in store.alarms() if a[1].startswith("runtime.") and a[4]]
    for code in {a[1] for a in tick_failures}:
        violations.add("job_failed", f"{code} raised")
    for text in errors.records:
        violations.add("error_logged", text)
    for text in loop_errors:
        violations.add("loop_exception", text)
    if failing:
        violations.add("job_failed", f"failing at the end: {failing}")
    if not mqtt_alive:
        violations.add("mqtt_dead", "the controller's MQTT connection was down at the end")
    if handler_errors:
        violations.add("mqtt_handler_errors", f"{handler_errors} MQTT handler errors")

    # Every fault raised its alarm and cleared.
    for ep in faults.episodes:
        if ep.interrupted:
            continue
        if not ep.raised:
            violations.add("fault_not_alarmed", f"{ep.kind} {ep.target} at {_iso(ep.start_s)}")
        elif not ep.cleared:
            violations.add("alarm_not_cleared", f"{ep.kind} {ep.target} at {_iso(ep.start_s)}: "
                           f"{', '.join(ep.alarms) or '?'}")
    lingering = sorted(c for c in controller.active_alarms
                       if c.startswith(("device.", "store.", "telemetry.", "actuator."))
                       or "implausible" in c)
    if lingering:
        violations.add("alarm_active_at_end", ", ".join(lingering))

    ticks_ms = [x * 1000.0 for x in (sup.tick_wall_s if sup is not None else [])]
    rows = store.alarms()
    raised = sum(1 for r in rows if r[4])
    cleared = sum(1 for r in rows if not r[4])
    by_kind = Counter(ep.kind for ep in faults.episodes)
    detect = {k: round(max((e.detect_s for e in faults.episodes if e.kind == k
                            and math.isfinite(e.detect_s)), default=math.nan), 1)
              for k in by_kind}
    summary: dict[str, Any] = {
        "site": site_id,
        "policy": opts.policy,
        "seed": opts.seed,
        "simulated_hours": round((plant.time_s - start_s) / 3600.0, 3),
        "speed": opts.speed,
        "tick_s": tick_s,
        "disk_mode": disk.mode,
        "wall_s": round(wall_s, 1),
        "ticks": controller.ticks,
        "tick_ms_median": round(percentile(ticks_ms, 50), 1),
        "tick_ms_p99": round(percentile(ticks_ms, 99), 1),
        "tick_ms_max": round(max(ticks_ms, default=math.nan), 1),
        "faults": dict(sorted(by_kind.items())),
        "faults_total": len(faults.episodes),
        "faults_alarmed": sum(1 for e in faults.episodes if e.raised),
        "faults_cleared": sum(1 for e in faults.episodes if e.cleared),
        "max_detect_s_by_kind": detect,
        "alarms_raised": raised,
        "alarms_cleared": cleared,
        "alarm_codes": sorted({r[1] for r in rows}),
        **figures,
        "store_dropped_rows": store.dropped_rows,
        "plant_energy_residual_kwh": round(residual, 9),
        "it_energy_kwh": round(plant.totals.it_kwh, 3),
        "max_coolant_c": {k: round(v, 2) for k, v in watch.max_temp_c.items()},
        "longest_above_trip_s": {k: round(v, 1) for k, v in watch.longest_above_s.items()},
        "rack_coolant_limit_violations": plant.totals.rack_coolant_limit_violations,
        "audit": {"ok": result.ok, "records": result.records, "seals": result.seals_checked},
        "violations": dict(violations.counts),
        "violation_messages": violations.messages,
        "passed": not violations,
    }
    return summary


def print_summary(s: dict[str, Any], out: Any = sys.stdout) -> None:
    p = lambda *a: print(*a, file=out)  # noqa: E731
    p(f"soak {s['site']} ({s['policy']}, seed {s['seed']}): {s['simulated_hours']:g} simulated h "
      f"at {s['speed']:g}x, tick {s['tick_s']:g} s, disk fault by {s['disk_mode']}")
    p(f"  wall {s['wall_s']:.1f} s, {s['ticks']} ticks, tick median {s['tick_ms_median']} ms, "
      f"p99 {s['tick_ms_p99']} ms, max {s['tick_ms_max']} ms")
    faults = ", ".join(f"{k} {n}" for k, n in s["faults"].items()) or "none"
    p(f"  faults injected {s['faults_total']}: {faults}")
    p(f"  faults alarmed {s['faults_alarmed']}/{s['faults_total']}, cleared "
      f"{s['faults_cleared']}/{s['faults_total']}; alarms raised {s['alarms_raised']}, "
      f"cleared {s['alarms_cleared']}")
    p(f"  telemetry: {s['points_written']} points written, {s['points_read_back']} read back, "
      f"{s['points_lost']} lost, {s['points_duplicated']} duplicated, "
      f"{s['points_unexpected']} unexpected")
    p(f"  ledger: {s['ledger_rows']} rows, {s['ledger_values_matched']} values matched the "
      f"plant's meters (worst gap {s['ledger_worst_gap_kwh']:.2e} kWh); plant energy "
      f"residual {s['plant_energy_residual_kwh']:.2e} kWh of {s['it_energy_kwh']:.1f} kWh IT")
    p(f"  safety: {s['decisions_checked']} decisions checked, must-run cut "
      f"{s['must_run_cut']} (by a thermal trip {s['must_run_cut_by_thermal_trip']}); max "
      f"coolant {s['max_coolant_c']}, longest above trip {s['longest_above_trip_s']} s")
    p(f"  audit: {'intact' if s['audit']['ok'] else 'BROKEN'}, {s['audit']['records']} records, "
      f"{s['audit']['seals']} seals; store rows dropped {s['store_dropped_rows']}")
    if s["passed"]:
        p("  PASSED: no violation")
    else:
        p(f"  FAILED: {sum(s['violations'].values())} violations")
        for kind, messages in s["violation_messages"].items():
            p(f"    {kind} ({s['violations'][kind]}):")
            for m in messages:
                p(f"      {m}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--site", type=Path, default=REPO / "site_profiles" / "exmouth_pool.yaml")
    ap.add_argument("--hours", type=float, default=2.0, help="simulated hours (default 2)")
    ap.add_argument("--speed", type=float, default=200.0,
                    help="simulated seconds per wall second (default 200)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--faults-per-hour", type=float, default=20.0,
                    help="faults per simulated hour, over both lanes (default 20)")
    ap.add_argument("--kinds", default=",".join(DEVICE_FAULTS + SERVICE_FAULTS),
                    help="fault kinds to inject, comma-separated (default: all)")
    ap.add_argument("--tick", type=float, default=20.0,
                    help="control tick [simulated s] (default 20)")
    ap.add_argument("--plan", type=float, default=900.0,
                    help="re-plan period [simulated s] (default 900)")
    ap.add_argument("--policy", default="mpc")
    ap.add_argument("--device-timeout", type=float, default=0.2,
                    help="Modbus response timeout [wall s] (default 0.2)")
    ap.add_argument("--disk", choices=("auto", "tmpfs", "pragma"), default="auto",
                    help="how the store's disk is made full: a tmpfs filled up, or SQLite's "
                    "max_page_count (default auto: tmpfs where mounting is permitted)")
    ap.add_argument("--tmpfs-mb", type=int, default=0,
                    help="size of the tmpfs [MB] (default max(256, 4 per simulated hour))")
    ap.add_argument("--start", help="simulated start, UTC ISO (default: recent past)")
    ap.add_argument("--max-wall", type=float, default=None,
                    help="give up after this many wall seconds (default 2x planned + 180)")
    ap.add_argument("--json", action="store_true",
                    help="print the summary as JSON (one line, the last of the output)")
    ap.add_argument("--log", type=Path, default=None,
                    help="controller log file (default: soak.log in the work directory)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    args = ap.parse_args(argv)
    args.kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    unknown = set(args.kinds) - set(DEVICE_FAULTS + SERVICE_FAULTS)
    if unknown:
        ap.error(f"--kinds: unknown {sorted(unknown)}; choose from "
                 f"{', '.join(DEVICE_FAULTS + SERVICE_FAULTS)}")
    for name in ("hours", "speed", "tick", "plan", "device_timeout"):
        if not getattr(args, name) > 0:
            ap.error(f"--{name.replace('_', '-')} must be > 0")
    if args.faults_per_hour < 0:
        ap.error("--faults-per-hour must be >= 0")
    return args


def _terminate(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM outside the run cleans up as Ctrl-C does


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)  # the run itself stops gracefully on it
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started with it ignored
    work = Path(tempfile.mkdtemp(prefix="thermalctl-soak-"))
    log_path = args.log or work / "soak.log"
    handler = logging.FileHandler(log_path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per job run
    summary: dict[str, Any] | None = None
    code = 2
    try:
        summary = asyncio.run(run_soak(args, work))
        code = 0 if summary["passed"] else 1
    except SoakSetupError as exc:
        print(f"soak: cannot run: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("soak: interrupted; servers stopped, work directory removed", file=sys.stderr)
        code = 130
    finally:
        root.removeHandler(handler)
        handler.close()
        keep = args.keep or code == 1
        if keep:
            print(f"soak: work directory kept: {work} (log {log_path})", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if summary is not None:
        if args.json:
            print(json.dumps(summary, sort_keys=True))  # one line, the last one
        else:
            print_summary(summary)
    return code


if __name__ == "__main__":
    sys.exit(main())
