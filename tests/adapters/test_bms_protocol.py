"""The BMS server's protocol edge, against the real server on 127.0.0.1: function codes
it does not serve, malformed frames, bounded logging, the listen error, the client
allow-list, the audit source of every write and the alarm registers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import struct
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.pdu import FileRecord

from tests.adapters.test_bms import Operator, T, _State, _Tick, address, mbpoll, tick
from tests.conftest import POOL_SITE, ManualClock
from tests.servers import free_port, require_binary
from thermalctl.adapters.bms import BmsListenError, BmsServer, bms_register_map
from thermalctl.adapters.bms_protocol import ClientNoise, Verdict, client_allowed, screen
from thermalctl.config.hardware import Table
from thermalctl.config.loader import load_site_profile
from thermalctl.config.services import BmsListen, BmsSettings, resolve_bms
from thermalctl.config.site import SiteProfile
from thermalctl.points import Alarm, AlarmSeverity, Decision, Mode

pytestmark = pytest.mark.integration

UNIT = 1
_LOGGERS = ("thermalctl.adapters.bms", "thermalctl.adapters.bms_protocol", "pymodbus")


def frame(pdu: bytes, *, unit: int = UNIT, tid: int = 7, pid: int = 0,
          length: int | None = None) -> bytes:
    """An MBAP frame; ``length`` overrides the header's length field."""
    return struct.pack(">HHHB", tid, pid, len(pdu) + 1 if length is None else length,
                       unit) + pdu


async def read_frame(reader: asyncio.StreamReader, timeout_s: float = 2.0) -> bytes:
    """One response frame; ``b""`` if the server closed the connection."""
    try:
        head = await asyncio.wait_for(reader.readexactly(6), timeout_s)
        rest = await asyncio.wait_for(reader.readexactly(struct.unpack(">H", head[4:])[0]),
                                      timeout_s)
    except (asyncio.IncompleteReadError, ConnectionError):
        return b""
    return head + rest


@dataclass
class Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def ask(self, data: bytes, timeout_s: float = 2.0) -> bytes:
        await self.send(data)
        return await read_frame(self.reader, timeout_s)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


async def connect(port: int) -> Conn:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    return Conn(reader, writer)


async def ask_once(port: int, data: bytes) -> bytes:
    conn = await connect(port)
    try:
        return await conn.ask(data)
    finally:
        await conn.close()


def exception_of(response: bytes) -> tuple[int, int]:
    """(function byte, exception code) of an exception response."""
    assert len(response) == 9, response.hex()
    return response[7], response[8]


@dataclass
class Rig:
    server: BmsServer
    operator: Operator
    port: int
    profile: SiteProfile
    clock: ManualClock


Start = Callable[..., Awaitable[Rig]]


@pytest.fixture
async def start_bms() -> AsyncIterator[Start]:
    servers: list[BmsServer] = []

    async def start(**listen: Any) -> Rig:
        profile = load_site_profile(POOL_SITE)
        operator = Operator(profile)
        port = free_port()
        clock = ManualClock()
        server = BmsServer(profile, BmsListen(host="127.0.0.1", port=port, unit_id=UNIT,
                                              **listen), operator, clock=clock)
        await server.start()
        servers.append(server)
        return Rig(server, operator, port, profile, clock)

    yield start
    for server in servers:
        await server.stop()


@pytest.fixture
async def rig(start_bms: Start) -> Rig:
    return await start_bms()


# -- function codes ---------------------------------------------------------------------------
@pytest.mark.parametrize("fc", [0, 7, 8, 9, 11, 12, 17, 20, 21, 22, 23, 24, 43, 65, 100, 127,
                                0x83, 0x96, 200, 255])
async def test_unsupported_function_codes_get_exception_01_raw(rig: Rig, fc: int) -> None:
    before = dict(rig.operator.values)
    # function 22 here would set the pool to 30.5 degC (and 0, or 305): a valid value
    response = await ask_once(rig.port, frame(struct.pack(">BHHH", fc, 100, 0, 305)))
    assert exception_of(response) == (fc | 0x80, 0x01)
    assert response[:2] == b"\x00\x07" and response[6] == UNIT   # transaction id, unit echoed
    assert rig.operator.values == before and not rig.operator.applied


async def test_unsupported_function_codes_get_exception_01_from_pymodbus_requests(
        rig: Rig) -> None:
    client = AsyncModbusTcpClient("127.0.0.1", port=rig.port, timeout=2, retries=0)
    assert await client.connect()
    try:
        calls: dict[int, Callable[[], Awaitable[Any]]] = {
            22: lambda: client.mask_write_register(address=100, and_mask=0, or_mask=305),
            23: lambda: client.readwrite_registers(read_address=100, read_count=1,
                                                   write_address=100, values=[305]),
            8: lambda: client.diag_query_data(b"\x12\x34"),
            7: client.read_exception_status,
            11: client.diag_get_comm_event_counter,
            12: client.diag_get_comm_event_log,
            17: client.report_device_id,
            20: lambda: client.read_file_record([FileRecord(file_number=1, record_number=0,
                                                            record_length=2)]),
            21: lambda: client.write_file_record([FileRecord(file_number=1, record_number=0,
                                                             record_data=b"\x01\x2c")]),
            24: lambda: client.read_fifo_queue(address=100),
            43: client.read_device_information,
        }
        for fc, call in calls.items():
            result = await call()
            assert result.isError(), (fc, result)
            assert (result.function_code, result.exception_code) == (fc | 0x80, 1), fc
        # the connection still serves what is supported
        ok = await client.read_holding_registers(100, count=1, device_id=UNIT)
        assert not ok.isError() and ok.registers == [300]
    finally:
        client.close()
    assert rig.operator.values["setpoint/pool"] == 30.0 and not rig.operator.applied


# -- malformed frames -------------------------------------------------------------------------
@pytest.mark.parametrize(("pdu", "code"), [
    (struct.pack(">BHH", 3, 0, 0), 3),         # quantity 0
    (struct.pack(">BHH", 3, 0, 2000), 3),      # quantity above 125
    (struct.pack(">BHH", 1, 0, 2001), 3),
    (bytes([3, 0]), 3),                        # truncated
    (struct.pack(">BHHB", 3, 100, 1, 9), 3),   # a byte too many
    (struct.pack(">BHHB", 16, 100, 5, 2) + b"\x01\x2c", 3),   # quantity vs byte count
    (struct.pack(">BHHB", 16, 100, 1, 2) + b"\x01", 3),       # data short of the byte count
    (struct.pack(">BHHB", 16, 100, 200, 255) + bytes(240), 3),
    (struct.pack(">BHH", 5, 0, 0x1234), 3),    # coil value neither 0 nor 0xff00
    (struct.pack(">BHH", 3, 65535, 125), 2),   # beyond the map: illegal address
    (struct.pack(">BHH", 6, 50, 1), 2),        # not a writable register
])
async def test_malformed_pdu_gets_an_exception_and_changes_nothing(
        rig: Rig, pdu: bytes, code: int) -> None:
    response = await ask_once(rig.port, frame(pdu))
    assert exception_of(response) == (pdu[0] | 0x80, code)
    assert not rig.operator.applied


async def test_other_unit_ids_get_gateway_exception(rig: Rig) -> None:
    for unit in (0, 2, 247, 255):
        response = await ask_once(rig.port, frame(struct.pack(">BHH", 3, 100, 1), unit=unit))
        assert exception_of(response) == (0x83, 0x0B)
        assert response[6] == unit


@pytest.mark.parametrize("header", [
    struct.pack(">HHHB", 1, 1, 6, UNIT),        # protocol id 1
    struct.pack(">HHHB", 1, 0, 0, UNIT),        # length 0
    struct.pack(">HHHB", 1, 0, 1, UNIT),        # length 1: a unit id and no PDU
    struct.pack(">HHHB", 1, 0, 255, UNIT),      # longer than any PDU
    struct.pack(">HHHB", 1, 0, 65535, UNIT),
])
async def test_bad_mbap_header_closes_the_connection(rig: Rig, header: bytes) -> None:
    conn = await connect(rig.port)
    try:
        assert await conn.ask(header + b"\x03\x00\x64\x00\x01") == b""
    finally:
        await conn.close()
    assert exception_of(await ask_once(rig.port, frame(bytes([22])))) == (0x96, 1)  # still up


async def test_frames_split_across_packets_and_pipelined_are_all_answered(rig: Rig) -> None:
    conn = await connect(rig.port)
    try:
        request = frame(struct.pack(">BHH", 3, 100, 1), tid=41)
        for byte in request:                                  # one byte per packet
            await conn.send(bytes([byte]))
            await asyncio.sleep(0)
        response = await read_frame(conn.reader)
        assert response[:2] == (41).to_bytes(2, "big") and response[7:] == b"\x03\x02\x01\x2c"
        burst = b"".join(frame(struct.pack(">BHH", 3, 100, 1), tid=t) for t in range(100, 160))
        await conn.send(burst[:301])                          # pipelined, cut mid-frame
        await asyncio.sleep(0.01)
        await conn.send(burst[301:])
        tids = [int.from_bytes((await read_frame(conn.reader))[:2], "big") for _ in range(60)]
        assert tids == list(range(100, 160))                  # in order, none lost
        # 5,000 requests (60 kB) in one write: read in turn, none dropped, in order
        burst = b"".join(frame(struct.pack(">BHH", 4, 0, 2), tid=t) for t in range(5000))
        conn.writer.write(burst)
        tids = []
        for _ in range(5000):
            response = await read_frame(conn.reader)
            assert response[7:9] == b"\x04\x04", response.hex()
            tids.append(int.from_bytes(response[:2], "big"))
        await conn.writer.drain()
        assert tids == list(range(5000))
    finally:
        await conn.close()


def test_screen_reads_the_mbap_header_and_the_pdu_shape() -> None:
    ok = frame(struct.pack(">BHH", 4, 0, 2))
    assert screen(ok, UNIT).verdict is Verdict.PASS and screen(ok, UNIT).used == len(ok)
    assert screen(ok[:-1], UNIT).verdict is Verdict.WAIT
    assert screen(ok[:5], UNIT).verdict is Verdict.WAIT
    assert screen(ok + ok, UNIT).used == len(ok)
    write = frame(struct.pack(">BHHB", 16, 100, 2, 4) + b"\x01\x2c\x00\x01")
    assert screen(write, UNIT).verdict is Verdict.PASS
    assert screen(frame(bytes([22])), UNIT).reason == "function 22 not supported"


# -- logging ----------------------------------------------------------------------------------
async def test_malformed_frames_log_bounded_lines_and_no_traceback(
        rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="thermalctl")
    caplog.set_level(logging.WARNING, logger="pymodbus")
    garbage = [frame(bytes([22, 0, 100, 0, 0, 1, 0x2c])), frame(bytes([3, 0])),
               frame(struct.pack(">BHH", 3, 0, 9999)), frame(bytes([100, 1])),
               frame(struct.pack(">BHH", 3, 0, 1), unit=9)]
    conn = await connect(rig.port)
    try:
        for i in range(1000):
            assert await conn.ask(garbage[i % len(garbage)])
    finally:
        await conn.close()
    for _ in range(20):                                        # bad headers: 20 connections
        await ask_once(rig.port, struct.pack(">HHHB", 1, 9, 6, UNIT) + b"\x03\x00\x00\x00\x01")
    mine = [r for r in caplog.records if r.name.startswith(_LOGGERS)
            and r.levelno >= logging.WARNING]
    assert not [r for r in caplog.records if r.exc_info], "a traceback for client garbage"
    assert len(mine) == 5, [r.getMessage() for r in mine]    # the first five at once
    assert all(len(r.getMessage()) < 300 for r in mine)
    rig.clock.now += 61.0
    rig.server.noise.flush()
    summary = [r.getMessage() for r in caplog.records if "not logged" in r.getMessage()]
    assert summary == ["BMS client 127.0.0.1: 1015 more requests not logged one by one in 61 s "
                       "(bad_header 20, malformed_pdu 398, other_unit 199, "
                       "unsupported_function 398)"]


def test_noise_keeps_at_most_max_clients_tallies(caplog: pytest.LogCaptureFixture) -> None:
    clock = ManualClock()
    noise = ClientNoise(60.0, clock=clock, max_clients=4)
    with caplog.at_level(logging.WARNING, logger="thermalctl.adapters.bms_protocol"):
        for i in range(40):
            noise.note(f"10.0.0.{i % 8}", "unsupported_function", "x" * 10_000)
    assert sum(noise.totals.values()) == 40
    assert all(len(r.getMessage()) < 300 for r in caplog.records)
    assert len(noise._tallies) <= 4


# -- listen error -----------------------------------------------------------------------------
async def test_address_in_use_raises_a_clear_adapter_error() -> None:
    profile = load_site_profile(POOL_SITE)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        server = BmsServer(profile, BmsListen(host="127.0.0.1", port=port), Operator(profile))
        with pytest.raises(BmsListenError, match=rf"127\.0\.0\.1:{port}: .*in use") as err:
            await server.start()
        assert isinstance(err.value.__cause__, OSError)
        await server.stop()


def test_run_with_the_bms_address_in_use_exits_1_without_a_traceback(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "THERMALCTL_BMS_LISTEN": f"127.0.0.1:{port}"}
        done = subprocess.run(
            [sys.executable, "-m", "thermalctl", "run", "--site", str(POOL_SITE),
             "--state-dir", str(tmp_path)], env=env, capture_output=True, text=True,
            timeout=120, check=False)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"thermalctl run: BMS server cannot listen on 127.0.0.1:{port}: Address already in use")


async def test_address_not_local_raises_a_clear_adapter_error() -> None:
    profile = load_site_profile(POOL_SITE)
    server = BmsServer(profile, BmsListen(host="192.0.2.1", port=free_port()),
                       Operator(profile))
    with pytest.raises(BmsListenError, match=r"192\.0\.2\.1:\d+: .*assign"):
        await server.start()


# -- allow-list -------------------------------------------------------------------------------
async def test_client_outside_the_allow_list_is_disconnected_and_logged_once(
        start_bms: Start, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="thermalctl")
    rig = await start_bms(allowed_clients=(ip_network("10.20.0.0/16"),
                                           ip_network("2001:db8::/32")))
    for _ in range(3):
        assert await ask_once(rig.port, frame(struct.pack(">BHH", 6, 100, 305))) == b""
    rc, _out = await mbpoll(rig.port, "-t", "4", "-r", "100", write=("305",))
    assert rc != 0
    assert rig.operator.values["setpoint/pool"] == 30.0 and not rig.operator.applied
    refused = [r.getMessage() for r in caplog.records if "allow-list" in r.getMessage()]
    assert refused == ["BMS client 127.0.0.1 is not in the allow-list: connection closed "
                       "(logged once per address)"]


async def test_client_inside_the_allow_list_is_served(start_bms: Start) -> None:
    require_binary("mbpoll")
    rig = await start_bms(allowed_clients=(ip_network("10.20.0.0/16"),
                                           ip_network("127.0.0.1/32")))
    rc, out = await mbpoll(rig.port, "-t", "4", "-r", "100", write=("305",))
    assert rc == 0, out
    assert rig.operator.values["setpoint/pool"] == pytest.approx(30.5)


def test_allow_list_from_the_profile_and_the_environment() -> None:
    settings = BmsSettings(allowed_clients=("10.0.4.7", "10.0.5.0/24"))  # type: ignore[arg-type]
    listen = resolve_bms(settings, {})
    assert listen is not None
    assert [str(n) for n in listen.allowed_clients] == ["10.0.4.7/32", "10.0.5.0/24"]
    env = {"THERMALCTL_BMS_ALLOW": " 192.0.2.9, 2001:db8::/32 "}
    listen = resolve_bms(settings, env)
    assert listen is not None
    assert [str(n) for n in listen.allowed_clients] == ["192.0.2.9/32", "2001:db8::/32"]
    assert resolve_bms(None, {"THERMALCTL_BMS_LISTEN": "127.0.0.1:5020"}).allowed_clients == ()  # type: ignore[union-attr]
    with pytest.raises(ValueError, match=r"THERMALCTL_BMS_ALLOW: '10\.0\.0\.1/24' is not"):
        resolve_bms(settings, {"THERMALCTL_BMS_ALLOW": "10.0.0.1/24"})
    with pytest.raises(ValueError, match="allowed_clients"):
        BmsSettings(allowed_clients=("not-an-address",))  # type: ignore[arg-type]


@pytest.mark.parametrize(("ip", "allowed"), [
    ("10.0.5.9", True), ("10.0.6.1", False), ("2001:db8::1", True), ("::1", False),
    ("junk", False),
])
def test_client_allowed(ip: str, allowed: bool) -> None:
    networks = (ip_network("10.0.5.0/24"), ip_network("2001:db8::/32"))
    assert client_allowed(ip, networks) is allowed
    assert client_allowed(ip, ())


# -- writes: only listed registers, audited with the client's address -------------------------
def test_only_listed_writable_registers_accept_a_write() -> None:
    profile = load_site_profile(POOL_SITE)
    operator = Operator(profile)
    server = BmsServer(profile, BmsListen(host="127.0.0.1", port=1), operator)
    writable = {p.register.address for p in bms_register_map(profile)
                if p.register.access == "rw"}
    assert writable == {0, 1, 100, 200}
    accepted = set()
    for a in range(65536):
        for word in (0, 1, 300, 305, 200, 0xFFFF):
            if server._write(a, [word]) is None:
                accepted.add(a)
    assert accepted == writable
    for key, value, _source in operator.applied:    # nothing outside the profile's bounds
        bounds = {"setpoint/pool": (29.0, 31.0), "gpu_cap/pod": (4_000.0, 40_000.0)}
        if key in bounds and value is not None:
            assert isinstance(value, float)
            assert bounds[key][0] <= value <= bounds[key][1]


async def test_writes_are_audited_with_the_client_address(rig: Rig) -> None:
    require_binary("mbpoll")
    assert (await mbpoll(rig.port, "-t", "4", "-r", "100", write=("305",)))[0] == 0
    assert rig.operator.applied == [("setpoint/pool", pytest.approx(30.5), "bms:127.0.0.1")]
    rc, out = await mbpoll(rig.port, "-t", "4", "-r", "100", write=("450",))
    assert rc != 0 and "Illegal data value" in out
    key, raw, source, reason = rig.operator.refused[-1]
    assert (key, raw, source) == ("setpoint/pool", "450", "bms:127.0.0.1")
    assert "outside 29..31" in reason
    # one bad register refuses the whole write, and each setting in it is recorded
    rc, _ = await mbpoll(rig.port, "-t", "4", "-r", "0", write=("1", "9"))
    assert rc != 0 and rig.operator.values["mode"] is Mode.AUTO
    assert rig.operator.refused[-1][:3] == ("mode", "9", "bms:127.0.0.1")


async def test_watchdog_reverts_are_audited_as_bms_watchdog(start_bms: Start) -> None:
    require_binary("mbpoll")
    rig = await start_bms(heartbeat_timeout_s=10.0)
    assert (await mbpoll(rig.port, "-t", "4", "-r", "0", write=("1", "1")))[0] == 0
    rig.clock.now += 11.0
    assert rig.server.check_heartbeat()
    assert rig.operator.applied[-1] == ("mode", Mode.AUTO, "bms:watchdog")
    assert rig.operator.values["mode"] is Mode.AUTO


# -- alarms and status reach the BMS ----------------------------------------------------------
def _alarm_tick(alarms: tuple[Alarm, ...], mode: Mode = Mode.AUTO, now_s: float = T) -> _Tick:
    return _Tick(now_s, _State({}), Decision(now_s, mode, "baseline", {}), alarms)


async def _status(rig: Rig) -> tuple[list[bool], list[int]]:
    client = AsyncModbusTcpClient("127.0.0.1", port=rig.port, timeout=2, retries=0)
    assert await client.connect()
    try:
        bits = await client.read_discrete_inputs(0, count=5, device_id=UNIT)
        first = address(rig.profile, "alarms_active_count")
        regs = await client.read_input_registers(first, count=8, device_id=UNIT)
        assert not bits.isError() and not regs.isError()
        words = []
        for i in range(0, 8, 2):
            word = client.convert_from_registers(regs.registers[i:i + 2],
                                                 client.DATATYPE.UINT32, word_order="big")
            assert isinstance(word, int)
            words.append(word)
        return list(bits.bits[:5]), words
    finally:
        client.close()


@pytest.mark.parametrize(("code", "severity"), [
    ("store.write_failed", AlarmSeverity.CRITICAL),
    ("telemetry.outage", AlarmSeverity.WARNING),
    ("mqtt.second_instance", AlarmSeverity.WARNING),
    ("device.rack_pdu.silent", AlarmSeverity.CRITICAL),
])
async def test_every_alarm_shows_on_the_bms(rig: Rig, code: str, severity: AlarmSeverity) -> None:
    critical = severity is AlarmSeverity.CRITICAL
    rig.server.on_tick(_alarm_tick((Alarm(code, "x", severity, T),), Mode.SAFE, T))
    bits, (count, n_critical, mode, tick_s) = await _status(rig)
    assert bits[:3] == [True, critical, True]
    assert (count, n_critical, mode, tick_s) == (1, int(critical), 2, int(T))
    rig.server.on_tick(_alarm_tick((), Mode.AUTO, T + 5))
    bits, (count, n_critical, mode, tick_s) = await _status(rig)
    assert bits[:3] == [False, False, False]
    assert (count, n_critical, mode, tick_s) == (0, 0, 0, int(T) + 5)


async def test_status_registers_before_any_tick_read_unknown(rig: Rig) -> None:
    bits, words = await _status(rig)
    assert bits == [False] * 5
    assert words == [0, 0, 0xFFFFFFFF, 0xFFFFFFFF]
    rig.server.on_tick(tick())
    assert (await _status(rig))[1][:2] == [1, 0]


def test_status_registers_are_documented_in_the_map() -> None:
    points = bms_register_map(load_site_profile(POOL_SITE))
    by_name = {p.register.name: p.register for p in points}
    for name in ("alarms_active_count", "alarms_critical_count", "mode_in_force",
                 "last_tick_time_s"):
        reg = by_name[name]
        assert reg.table is Table.INPUT and reg.data_type.value == "uint32" and reg.description
    assert "store.write_failed" in by_name["alarms_active_count"].description
    inputs = sorted(p.register.address for p in points if p.register.table is Table.INPUT)
    assert inputs == list(range(0, 2 * len(inputs), 2))
