"""BMS Modbus server read and written by Debian's ``mbpoll`` (a real BMS-side client):
measured values, alarms, set points, refused writes and the heartbeat watchdog."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from tests.conftest import POOL_SITE
from tests.servers import free_port, require_binary
from thermalctl.adapters.bms import BmsServer, bms_register_map
from thermalctl.adapters.bms_cli import _rows
from thermalctl.config.hardware import Table
from thermalctl.config.loader import load_site_profile
from thermalctl.config.services import BmsListen, SettingValue, operator_settings
from thermalctl.config.site import SiteProfile
from thermalctl.points import Alarm, AlarmSeverity, Decision, Mode, Quality, Reading

T = 1_767_571_200.0


class Operator:
    def __init__(self, profile: SiteProfile) -> None:
        self.values: dict[str, SettingValue] = {s.key: s.default for s in
                                                operator_settings(profile)}
        self.values["mode"] = Mode.AUTO

        self.applied: list[tuple[str, SettingValue, str]] = []
        self.refused: list[tuple[str, str, str, str]] = []

    def apply_setting(self, key: str, value: SettingValue, *, source: str = "") -> None:
        self.values[key] = value
        self.applied.append((key, value, source))

    def refuse_setting(self, key: str, raw: str, *, source: str, reason: str) -> None:
        self.refused.append((key, raw, source, reason))

    def setting_value(self, key: str) -> SettingValue:
        return self.values[key]


@dataclass
class _State:
    readings: dict[str, Reading]


@dataclass
class _Tick:
    now_s: float
    state: _State
    decision: Decision
    alarms: tuple[Alarm, ...]


@dataclass
class Bms:
    server: BmsServer
    operator: Operator
    port: int
    profile: SiteProfile


@pytest.fixture
async def bms() -> AsyncIterator[Bms]:
    require_binary("mbpoll")
    profile = load_site_profile(POOL_SITE)
    operator = Operator(profile)
    port = free_port()
    server = BmsServer(profile, BmsListen(host="127.0.0.1", port=port, heartbeat_timeout_s=0.4),
                       operator)
    await server.start()
    yield Bms(server, operator, port, profile)
    await server.stop()


async def mbpoll(port: int, *args: str, write: tuple[str, ...] = ()) -> tuple[int, str]:
    cmd = ["mbpoll", "-m", "tcp", "-p", str(port), "-a", "1", "-0", "-1", "-o", "2", *args,
           "127.0.0.1"]
    if write:
        cmd += ["--", *write]
    proc = await asyncio.create_subprocess_exec(
        *cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 10)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


def values(output: str) -> dict[int, str]:
    return {int(m[1]): m[2] for m in re.finditer(r"^\[(\d+)\]:\s+(\S+)", output, re.M)}


def address(profile: SiteProfile, name: str) -> int:
    return next(p.register.address for p in bms_register_map(profile) if p.register.name == name)


def tick(supply_c: float = 35.5, alarm: bool = True) -> _Tick:
    readings = {"loop.supply_temp_c": Reading("loop.supply_temp", supply_c, "degC",
                                              Quality.GOOD, T),
                "it.energy_kwh": Reading("it_meter.import_energy", 1234.5, "kWh",
                                         Quality.GOOD, T)}
    alarms = (Alarm("coolant.supply_high", "hot", AlarmSeverity.WARNING, T),) if alarm else ()
    return _Tick(T, _State(readings), Decision(T, Mode.AUTO, "baseline", {"pod": 30000.0}),
                 alarms)


pytestmark = pytest.mark.integration


async def test_measured_values_and_alarms_read_by_mbpoll(bms: Bms) -> None:
    bms.server.on_tick(tick())
    supply = address(bms.profile, "loop_supply_temp_c")
    rc, out = await mbpoll(bms.port, "-t", "3:float", "-B", "-r", str(supply), "-c", "4")
    assert rc == 0, out
    got = values(out)
    assert float(got[supply]) == 35.5
    assert got[supply + 2] == "nan"           # return temperature: not measured -> NaN
    energy = address(bms.profile, "it_energy_kwh")
    rc, out = await mbpoll(bms.port, "-t", "3:int", "-B", "-r", str(energy))
    assert rc == 0 and int(values(out)[energy]) == 12345  # 0.1 kWh
    cap = address(bms.profile, "planned_gpu_power_cap_w_pod")
    rc, out = await mbpoll(bms.port, "-t", "3:float", "-B", "-r", str(cap))
    assert float(values(out)[cap]) == 30000.0
    rc, out = await mbpoll(bms.port, "-t", "1", "-r", "0", "-c", "5")
    assert rc == 0 and values(out) == {0: "1", 1: "0", 2: "0", 3: "0", 4: "1"}


async def test_set_point_written_and_read_back(bms: Bms) -> None:
    rc, out = await mbpoll(bms.port, "-t", "4", "-r", "100", write=("305",))
    assert rc == 0, out
    assert bms.operator.values["setpoint/pool"] == pytest.approx(30.5)
    rc, out = await mbpoll(bms.port, "-t", "4", "-r", "100")
    assert values(out)[100] == "305"
    rc, out = await mbpoll(bms.port, "-t", "4", "-r", "1", write=("1",))
    assert rc == 0 and bms.operator.values["mode"] is Mode.MANUAL


@pytest.mark.parametrize(("ref", "value", "error"), [
    ("100", "450", "Illegal data value"),     # 45.0 degC: outside the pool's band
    ("1", "7", "Illegal data value"),         # no mode 7
    ("200", "10", "Illegal data value"),      # 1000 W: below the pod's minimum cap
    ("50", "1", "Illegal data address"),      # not a listed register
])
async def test_out_of_bounds_write_is_refused(bms: Bms, ref: str, value: str, error: str) -> None:
    before = dict(bms.operator.values)
    rc, out = await mbpoll(bms.port, "-t", "4", "-r", ref, write=(value,))
    assert rc != 0
    assert error in out
    assert bms.operator.values == before


async def test_input_registers_and_coils_are_not_writable(bms: Bms) -> None:
    rc, out = await mbpoll(bms.port, "-t", "0", "-r", "0", write=("1",))
    assert rc != 0 and "Illegal data address" in out


async def test_heartbeat_watchdog_reverts_to_profile_defaults(bms: Bms) -> None:
    assert (await mbpoll(bms.port, "-t", "4", "-r", "1", write=("1",)))[0] == 0   # manual
    assert (await mbpoll(bms.port, "-t", "4", "-r", "200", write=("200",)))[0] == 0  # 20 kW
    assert not bms.server.check_heartbeat()    # not armed before the first heartbeat
    assert (await mbpoll(bms.port, "-t", "4", "-r", "0", write=("1",)))[0] == 0   # heartbeat
    assert bms.operator.values["mode"] is Mode.MANUAL
    assert bms.operator.values["gpu_cap/pod"] == 20000.0
    for _ in range(100):                       # the BMS stops writing the heartbeat
        if bms.server.heartbeat_lost:
            break
        await asyncio.sleep(0.05)
    assert bms.operator.values == {"mode": Mode.AUTO, "setpoint/pool": 30.0, "gpu_cap/pod": None}
    _rc, out = await mbpoll(bms.port, "-t", "1", "-r", "3")
    assert values(out)[3] == "1"               # heartbeat_lost
    assert (await mbpoll(bms.port, "-t", "4", "-r", "0", write=("2",)))[0] == 0
    _rc, out = await mbpoll(bms.port, "-t", "1", "-r", "3")
    assert values(out)[3] == "0"


def test_register_map_is_generated_from_the_profile() -> None:
    profile = load_site_profile(POOL_SITE)
    points = bms_register_map(profile)
    writable = [p.register.name for p in points if p.register.access == "rw"]
    assert writable == ["heartbeat", "mode", "setpoint_pool", "gpu_cap_pod"]
    assert all(p.register.table is Table.HOLDING for p in points if p.register.access == "rw")
    inputs = sorted(p.register.address for p in points if p.register.table is Table.INPUT)
    assert inputs == list(range(0, 2 * len(inputs), 2))   # two registers each, no overlap
    rows = _rows(str(POOL_SITE))
    assert rows[2]["name"] == "setpoint_pool" and rows[2]["min"] == "29"


def test_bms_units_and_encodings_come_from_the_signal_catalogue() -> None:
    from thermalctl.models.signals import Kind, spec

    points = bms_register_map(load_site_profile(POOL_SITE))
    by_source = {p.source: p.register for p in points if p.register.table is Table.INPUT}
    for source, reg in by_source.items():
        if source.startswith(("decision:", "status:")):
            continue
        name = source
        s = spec(name)
        assert reg.unit == s.unit, source
        assert (reg.data_type.value == "uint32") == (s.kind is Kind.COUNTER), source
        assert s.description in reg.description
    assert by_source["rack.pod.queued_kwh"].data_type.value == "float32"  # kWh, not a counter
    assert by_source["decision:gpu_power_cap_w:pod"].unit == "W"
