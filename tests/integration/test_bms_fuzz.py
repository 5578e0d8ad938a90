"""Fuzz the real BMS Modbus server on 127.0.0.1 with 10,000+ random and malformed frames.

Raw TCP from asyncio streams: random MBAP headers, every function code 0-255, bad
lengths, huge counts, a sweep over every address 0-65535, other unit ids, truncated
frames and frames split across packets. Every frame is judged by a small oracle from
its own bytes (complete or not, header valid or not, function supported or not), and
every wait is bounded by a short timeout. Afterwards: the server still answers, no
setting outside the profile's bounds was applied, every unsupported function got
exception 01, the log stayed bounded; and Debian's ``mbpoll`` makes a valid and a
refused write. Run with ``-s`` to see the counts by response kind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import struct
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from tests.adapters.test_bms import Operator, mbpoll, values
from tests.conftest import POOL_SITE, ManualClock
from tests.servers import free_port, require_binary
from thermalctl.adapters.bms import BmsServer
from thermalctl.adapters.bms_protocol import SUPPORTED_FUNCTIONS
from thermalctl.config.loader import load_site_profile
from thermalctl.config.services import MODES, BmsListen, operator_settings
from thermalctl.config.site import SiteProfile

pytestmark = pytest.mark.integration

SEED = 20260111
UNIT = 1
#: Bound on every wait for an answer (not a timing assertion: a frame that gets no
#: answer in time is counted as such and the connection is opened again).
ANSWER_TIMEOUT_S = 2.0
_LOGGERS = ("thermalctl.adapters.bms", "thermalctl.adapters.bms_protocol", "pymodbus")


@dataclass(frozen=True)
class Case:
    kind: str
    chunks: tuple[bytes, ...]        # sent one after the other, each its own TCP segment

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)


def _mbap(pdu: bytes, *, tid: int, unit: int = UNIT, pid: int = 0,
          length: int | None = None) -> bytes:
    return struct.pack(">HHHB", tid, pid, len(pdu) + 1 if length is None else length,
                       unit) + pdu


def _cases(rng: random.Random) -> Iterator[Case]:
    tid = 0

    def next_tid() -> int:
        nonlocal tid
        tid = (tid + 1) & 0xFFFF
        return tid

    def body(n: int) -> bytes:
        return rng.randbytes(n)

    # every function code, twice: once with a register-shaped body, once random
    for fc in range(256):
        yield Case("every_fc", (_mbap(bytes([fc]) + struct.pack(">HH", 100, 1),
                                      tid=next_tid()),))
        yield Case("every_fc", (_mbap(bytes([fc]) + body(rng.randint(0, 20)), tid=next_tid()),))
    # every address 0-65535: reads of the widest span, writes of 123 registers
    for fc, span in ((3, 125), (4, 125), (2, 2000)):
        for start in range(0, 65536, span):
            yield Case("address_sweep", (_mbap(struct.pack(">BHH", fc, start,
                                                           min(span, 65536 - start)),
                                               tid=next_tid()),))
    for start in range(0, 65536, 123):
        count = min(123, 65536 - start)
        words = [rng.randrange(65536) for _ in range(count)]
        yield Case("address_sweep", (_mbap(struct.pack(f">BHHB{count}H", 16, start, count,
                                                       2 * count, *words), tid=next_tid()),))
    for _ in range(8500):
        roll = rng.random()
        t = next_tid()
        if roll < 0.15:       # random MBAP header, random body
            pdu = body(rng.randint(0, 30))
            yield Case("random_header", (struct.pack(
                ">HHHB", rng.randrange(65536), rng.choice((0, 0, 0, rng.randrange(65536))),
                rng.randrange(65536) if rng.random() < 0.5 else len(pdu) + 1,
                rng.randrange(256)) + pdu,))
        elif roll < 0.30:     # bad lengths: the length field disagrees with the body
            pdu = struct.pack(">BHH", rng.choice((3, 4, 6, 16)), rng.randrange(65536),
                              rng.randrange(65536)) + body(rng.randint(0, 8))
            yield Case("bad_length", (_mbap(pdu, tid=t, length=rng.choice((
                0, 1, 2, len(pdu), len(pdu) + 2, 255, 300, 65535, rng.randrange(65536)))),))
        elif roll < 0.45:     # huge counts and byte counts on the supported functions
            fc = rng.choice(sorted(SUPPORTED_FUNCTIONS))
            count = rng.choice((0, 126, 2001, 65535, rng.randrange(65536)))
            extra = bytes([rng.randrange(256)]) + body(rng.randint(0, 40)) if fc in (15, 16) \
                else b""
            yield Case("huge_count", (_mbap(struct.pack(">BHH", fc, rng.randrange(65536),
                                                        count) + extra, tid=t),))
        elif roll < 0.60:     # writes to the writable registers and around them
            address = rng.choice((0, 1, 2, 99, 100, 101, 199, 200, 201, rng.randrange(65536)))
            word = rng.choice((0, 1, 2, 3, 290, 300, 305, 310, 311, 39, 40, 400, 401,
                               0x7FFF, 0x8000, 0xFFFF, rng.randrange(65536)))
            if rng.random() < 0.5:
                pdu = struct.pack(">BHH", 6, address, word)
            else:
                n = rng.randint(1, 4)
                pdu = struct.pack(f">BHHB{n}H", 16, address, n, 2 * n,
                                  *[rng.choice((word, 1, 305, 200)) for _ in range(n)])
            yield Case("write", (_mbap(pdu, tid=t),))
        elif roll < 0.70:     # other unit ids
            yield Case("other_unit", (_mbap(struct.pack(">BHH", rng.choice((1, 2, 3, 4, 6)),
                                                        rng.randrange(300), 1),
                                            tid=t, unit=rng.choice((0, 2, 17, 247, 255))),))
        elif roll < 0.85:     # truncated: a valid frame cut short, then the connection closes
            full = _mbap(struct.pack(">BHH", rng.choice((2, 3, 4)), 0, 2), tid=t)
            yield Case("truncated", (full[:rng.randint(1, len(full) - 1)],))
        else:                 # split across packets at random points
            full = _mbap(struct.pack(">BHH", rng.choice((2, 3, 4)), rng.choice((0, 100, 1)),
                                     1), tid=t)
            cuts = sorted(rng.sample(range(1, len(full)), rng.randint(1, 4)))
            parts = [full[a:b] for a, b in zip([0, *cuts], [*cuts, len(full)], strict=True)]
            yield Case("split", tuple(parts))


def _expect(data: bytes) -> str:
    """What the server must do with ``data``, from its bytes alone."""
    if len(data) < 6:
        return "nothing"
    _tid, pid, length = struct.unpack_from(">HHH", data)
    if pid != 0 or not 2 <= length <= 254:
        return "close"
    if len(data) < 6 + length:
        return "nothing"
    return "answer"


@dataclass
class Client:
    port: int
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    connections: int = 0

    async def open(self) -> None:
        await self.close()
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        sock = self.writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connections += 1

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def send(self, chunks: tuple[bytes, ...]) -> None:
        if self.writer is None:
            await self.open()
        assert self.writer is not None
        for chunk in chunks:
            self.writer.write(chunk)
            await self.writer.drain()
            if len(chunks) > 1:
                await asyncio.sleep(0.001)   # let the server read each part on its own

    async def answer(self) -> bytes | None:
        """One frame; b"" if the server closed; None on timeout."""
        assert self.reader is not None
        try:
            head = await asyncio.wait_for(self.reader.readexactly(6), ANSWER_TIMEOUT_S)
            length = struct.unpack(">H", head[4:])[0]
            return head + await asyncio.wait_for(self.reader.readexactly(length),
                                                 ANSWER_TIMEOUT_S)
        except (asyncio.IncompleteReadError, ConnectionError):
            return b""
        except TimeoutError:
            return None


@dataclass
class Rig:
    server: BmsServer
    operator: Operator
    port: int
    profile: SiteProfile
    clock: ManualClock


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    require_binary("mbpoll")
    profile = load_site_profile(POOL_SITE)
    operator = Operator(profile)
    port = free_port()
    clock = ManualClock()
    server = BmsServer(profile, BmsListen(host="127.0.0.1", port=port, unit_id=UNIT,
                                          heartbeat_timeout_s=3600.0), operator, clock=clock)
    await server.start()
    try:
        yield Rig(server, operator, port, profile, clock)
    finally:
        await server.stop()


def _kind(response: bytes) -> str:
    fc = response[7]
    return f"exception_{response[8]:02x}" if fc & 0x80 and len(response) == 9 else "normal"


async def test_ten_thousand_malformed_frames(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="thermalctl")
    caplog.set_level(logging.WARNING, logger="pymodbus")
    rng = random.Random(SEED)
    client = Client(rig.port)
    sent = 0
    outcomes: Counter[str] = Counter()
    wrong: list[str] = []
    for case in _cases(rng):
        sent += 1
        data = case.data
        expect = _expect(data)
        await client.send(case.chunks)
        if expect == "nothing":               # incomplete: the client gives up and hangs up
            outcomes["incomplete_hung_up"] += 1
            await client.close()
            continue
        response = await client.answer()
        if response is None:
            outcomes["no_answer"] += 1
            wrong.append(f"{case.kind} {data.hex()}: no answer")
            await client.close()
            continue
        if not response:
            outcomes["closed"] += 1
            if expect != "close":
                wrong.append(f"{case.kind} {data.hex()}: closed")
            await client.close()
            continue
        kind = _kind(response)
        outcomes[kind] += 1
        if expect == "close":
            wrong.append(f"{case.kind} {data.hex()}: answered {response.hex()}, not closed")
        unit, fc = data[6], data[7]
        if response[:2] != data[:2] or response[6] != unit:
            wrong.append(f"{case.kind} {data.hex()}: tid/unit not echoed in {response.hex()}")
        if unit == UNIT and fc not in SUPPORTED_FUNCTIONS and kind != "exception_01":
            wrong.append(f"unsupported function {fc}: {response.hex()}")
        if unit != UNIT and kind != "exception_0b":
            wrong.append(f"unit {unit}: {response.hex()}")
        if kind == "normal" and fc in (1, 5, 15):
            wrong.append(f"coil function {fc} answered {response.hex()}")
        length = struct.unpack_from(">H", data, 4)[0]
        if len(data) > 6 + length:            # trailing bytes: start clean on a new connection
            await client.close()
    await client.close()
    print(f"\nBMS fuzz: {sent} frames on {client.connections} connections, seed {SEED}; "
          f"outcomes {dict(sorted(outcomes.items()))}; noted {dict(rig.server.noise.totals)}")
    assert sent >= 10_000
    assert not wrong, wrong[:10]
    assert outcomes["exception_01"] >= 2 * (256 - len(SUPPORTED_FUNCTIONS))

    # the server still answers a valid read
    await client.open()
    await client.send((struct.pack(">HHHBBHH", 9, 0, 6, UNIT, 4, 0, 2),))
    response = await client.answer()
    assert response is not None and response[7:9] == b"\x04\x04"
    await client.close()

    # nothing outside the profile's bounds got in
    settings = {s.key: s for s in operator_settings(rig.profile)}
    for key, value, source in rig.operator.applied:
        assert source == "bms:127.0.0.1"
        setting = settings[key]
        if setting.is_mode:
            assert value in MODES
        elif value is not None:
            assert isinstance(value, float)
            assert setting.minimum <= value <= setting.maximum, (key, value)
        else:
            assert setting.clearable, key
    assert rig.operator.applied, "no valid write got through: the fuzz missed the happy path"
    assert rig.operator.refused

    # the log stayed bounded: a few lines at once, then one summary per client per minute
    rig.clock.now += 61.0
    rig.server.noise.flush()
    lines = [r for r in caplog.records if r.name.startswith(_LOGGERS)]
    print(f"BMS fuzz: {len(lines)} log lines, longest {max(len(r.getMessage()) for r in lines)}"
          " characters")
    assert not [r for r in caplog.records if r.exc_info], "a traceback for client garbage"
    assert len(lines) <= rig.server.noise.lines_per_interval + 2
    assert all(len(r.getMessage()) < 400 for r in lines)

    # a real BMS client after the fuzz: a valid write and a refused one
    rc, out = await mbpoll(rig.port, "-t", "4", "-r", "100", write=("302",))
    assert rc == 0, out
    assert rig.operator.values["setpoint/pool"] == pytest.approx(30.2)
    rc, out = await mbpoll(rig.port, "-t", "4", "-r", "100", write=("320",))
    assert rc != 0 and "Illegal data value" in out
    rc, out = await mbpoll(rig.port, "-t", "4", "-r", "100")
    assert rc == 0 and values(out)[100] == "302"
