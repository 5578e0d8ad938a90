"""Modbus TCP framing for the BMS server: every frame is screened before pymodbus sees it.

pymodbus 3.16's server, left to itself, answers function 22 (mask write) and 23 with a
function code the action hook does not vet, serves 8 (diagnostics, echo), 24 (FIFO)
and 43 (device identification) itself, logs a traceback for a request to another unit
id, answers an undecodable request with exception 01 under function code 0, and leaves
a stream with a bad MBAP header stuck. :class:`BmsConnection` (one per TCP client)
therefore reads the frames itself (:func:`screen`) and answers, in the order received:

* a bad MBAP header (protocol id not 0, length outside 2..254): the connection is
  closed, since a TCP stream cannot be resynchronised after it;
* another unit id than the server's: exception 0B (gateway target failed to respond);
* a function code outside :data:`SUPPORTED_FUNCTIONS`: exception 01 (illegal function);
* a supported function with a wrong length, quantity or byte count: exception 03
  (illegal data value), as the Modbus application protocol's state diagrams ask;
* anything else goes to pymodbus' request class and the server's action hook.

Malformed and refused requests (and accepted setting changes) are logged by
:class:`ClientNoise`: the first five of a client in a minute at once (one line each, the
detail cut short), the rest counted and summarised in one line per client per minute;
never a traceback for what a client sent. A client outside the allow-list is
disconnected as it connects, logged once per address.

The client address of the request being served is in :data:`PEER` (a context
variable set by the connection's worker task) for the action hook and the audit trail.
"""

from __future__ import annotations

import asyncio
import contextvars
import enum
import ipaddress
import logging
import struct
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.pdu import ExceptionResponse, ModbusPDU
from pymodbus.server import ModbusTcpServer
from pymodbus.server.requesthandler import ServerRequestHandler

__all__ = [
    "PEER",
    "SUPPORTED_FUNCTIONS",
    "BmsConnection",
    "BmsTcpServer",
    "ClientNoise",
    "Network",
    "Screened",
    "Verdict",
    "client_allowed",
    "screen",
]

log = logging.getLogger(__name__)

#: Read coils, read discrete inputs, read holding, read input, write single coil,
#: write single register, write multiple coils, write multiple registers. The server
#: has no coils (1, 5, 15 get exception 02); every other function gets exception 01.
SUPPORTED_FUNCTIONS = frozenset({1, 2, 3, 4, 5, 6, 15, 16})
#: MBAP length field: unit id + PDU, the PDU at most 253 bytes (Modbus/TCP spec 4.1).
MIN_LENGTH, MAX_LENGTH = 2, 254
_HEADER = 7
#: Read quantity limits of the application protocol (functions 1-4) and write limits.
_READ_MAX = {1: 2000, 2: 2000, 3: 125, 4: 125}
_WRITE_COILS_MAX, _WRITE_REGISTERS_MAX = 1968, 123
#: Requests of one client taken from its receive buffer before they are served: beyond
#: it the socket is not read until the queue is down to ``_QUEUE_RESUME``.
_QUEUE_MAX, _QUEUE_RESUME = 32, 8
#: pymodbus empties a receive buffer above this size without a word; one read of an
#: asyncio socket is at most 256 KiB and a paused socket is not read, so it never is.
_BUFFER_BYTES = 1 << 20
_DETAIL_CHARS = 120

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: The client address (``"192.0.2.7"``) of the request being served, or ``""``.
PEER: contextvars.ContextVar[str] = contextvars.ContextVar("bms_peer", default="")


class Verdict(enum.Enum):
    WAIT = "wait"        # the frame is not complete yet
    CLOSE = "close"      # bad MBAP header: drop the connection
    REPLY = "reply"      # answer with ``exception`` at once
    PASS = "pass"        # a well-formed request for pymodbus


@dataclass(frozen=True, slots=True)
class Screened:
    verdict: Verdict
    used: int = 0
    tid: int = 0
    unit: int = 0
    function: int = 0
    exception: ExcCodes | None = None
    reason: str = ""


def screen(data: bytes, unit_id: int) -> Screened:
    """Judge the first frame in ``data`` (a client's receive buffer) for unit ``unit_id``.

    >>> screen(bytes.fromhex("0001 0000 0006 01 16 0064 0000 00ff"), 1).exception
    <ExcCodes.ILLEGAL_FUNCTION: 1>
    """
    if len(data) < 6:
        return Screened(Verdict.WAIT)
    tid, pid, length = struct.unpack_from(">HHH", data)
    if pid != 0:
        return Screened(Verdict.CLOSE, reason=f"protocol id {pid}, not 0")
    if not MIN_LENGTH <= length <= MAX_LENGTH:
        return Screened(Verdict.CLOSE, reason=f"MBAP length {length} outside "
                        f"{MIN_LENGTH}..{MAX_LENGTH}")
    used = 6 + length
    if len(data) < used:
        return Screened(Verdict.WAIT)
    unit, fc = data[6], data[7]
    pdu = data[_HEADER:used]

    def reply(code: ExcCodes, reason: str) -> Screened:
        return Screened(Verdict.REPLY, used, tid, unit, fc, code, reason)

    if unit != unit_id:
        return reply(ExcCodes.GATEWAY_NO_RESPONSE, f"unit id {unit}, this server is {unit_id}")
    if fc not in SUPPORTED_FUNCTIONS:
        return reply(ExcCodes.ILLEGAL_FUNCTION, f"function {fc} not supported")
    problem = _pdu_problem(fc, pdu)
    if problem:
        return reply(ExcCodes.ILLEGAL_VALUE, f"function {fc}: {problem}")
    return Screened(Verdict.PASS, used, tid, unit, fc)


def _pdu_problem(fc: int, pdu: bytes) -> str:
    """Why the PDU of a supported function is malformed, or ``""``."""
    if len(pdu) < 5:
        return f"{len(pdu)} bytes, at least 5 expected"
    _, quantity = struct.unpack_from(">HH", pdu, 1)
    if fc in _READ_MAX or fc in (5, 6):
        if len(pdu) != 5:
            return f"{len(pdu)} bytes, 5 expected"
        if fc in _READ_MAX and not 1 <= quantity <= _READ_MAX[fc]:
            return f"quantity {quantity} outside 1..{_READ_MAX[fc]}"
        if fc == 5 and quantity not in (0x0000, 0xFF00):
            return f"coil value {quantity:#06x}, not 0x0000 or 0xff00"
        return ""
    limit, need = ((_WRITE_COILS_MAX, (quantity + 7) // 8) if fc == 15
                   else (_WRITE_REGISTERS_MAX, 2 * quantity))
    if not 1 <= quantity <= limit:
        return f"quantity {quantity} outside 1..{limit}"
    if len(pdu) < 6 or pdu[5] != need or len(pdu) != 6 + need:
        return f"byte count {pdu[5] if len(pdu) > 5 else '-'} with {len(pdu) - 6} data " \
               f"bytes, {need} expected"
    return ""


# -- client addresses -------------------------------------------------------------------------
def client_ip(peername: Any) -> str:
    """The IP address of an asyncio ``peername`` (IPv4-mapped IPv6 as IPv4)."""
    host = str(peername[0]) if isinstance(peername, tuple) and peername else str(peername)
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)


def client_allowed(ip: str, allowed: Sequence[Network]) -> bool:
    """True if ``allowed`` is empty (no allow-list) or ``ip`` is in one of its networks."""
    if not allowed:
        return True
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    return any(address.version == net.version and address in net for net in allowed)


# -- bounded logging of client garbage ------------------------------------------------------------
@dataclass
class _Tally:
    first_s: float
    lines: int = 0
    counts: Counter[str] = field(default_factory=Counter)  # events not logged one by one


class ClientNoise:
    """What BMS clients send that an operator may want to know, bounded in size and rate.

    Malformed and refused requests and accepted setting changes are noted per client
    address. The first ``lines_per_interval`` events of a client in an interval are
    logged at once (WARNING, one line each, the detail cut to 120 characters); the rest
    are counted, and one summary line per client and interval gives the count by kind
    (:meth:`flush`, called by the server every second and at stop). At most
    ``max_clients`` tallies are kept. Never a traceback. ``totals`` counts every event
    by kind (for the tests and the fuzz report).
    """

    def __init__(self, interval_s: float = 60.0, *, clock: Callable[[], float] = time.monotonic,
                 lines_per_interval: int = 5, max_clients: int = 256) -> None:
        self.interval_s = interval_s
        self.clock = clock
        self.lines_per_interval = lines_per_interval
        self.max_clients = max_clients
        self._tallies: dict[str, _Tally] = {}
        self.totals: Counter[str] = Counter()
        self._refused_clients: set[str] = set()

    def note(self, client: str, kind: str, detail: str) -> None:
        self.totals[kind] += 1
        now = self.clock()
        tally = self._tallies.get(client)
        if tally is not None and now - tally.first_s >= self.interval_s:
            self._summarise(client, self._tallies.pop(client), now)
            tally = None
        if tally is None:
            if len(self._tallies) >= self.max_clients:
                self.flush(force=True)
            tally = self._tallies[client] = _Tally(now)
        if tally.lines >= self.lines_per_interval:
            tally.counts[kind] += 1
            return
        tally.lines += 1
        more = (f" (more from this client are counted: one line per {self.interval_s:.0f} s)"
                if tally.lines == self.lines_per_interval else "")
        log.warning("BMS client %s: %s: %s%s", client, kind, detail[:_DETAIL_CHARS], more)

    def refused_client(self, client: str) -> None:
        """A connection from outside the allow-list: logged once per address."""
        self.totals["client_refused"] += 1
        if client in self._refused_clients:
            return
        if len(self._refused_clients) < 4096:
            self._refused_clients.add(client)
        log.warning("BMS client %s is not in the allow-list: connection closed (logged once "
                    "per address)", client)

    def flush(self, *, force: bool = False) -> None:
        """Log the summary of every client whose interval is over (all if ``force``)."""
        now = self.clock()
        for client, tally in list(self._tallies.items()):
            if force or now - tally.first_s >= self.interval_s:
                self._summarise(client, self._tallies.pop(client), now)

    @staticmethod
    def _summarise(client: str, tally: _Tally, now: float) -> None:
        if tally.counts:
            kinds = ", ".join(f"{k} {n}" for k, n in sorted(tally.counts.items()))
            log.warning("BMS client %s: %d more requests not logged one by one in %.0f s (%s)",
                        client, sum(tally.counts.values()), now - tally.first_s, kinds)


# -- the connection and the server --------------------------------------------------------------
class BmsConnection(ServerRequestHandler):
    """One BMS client: screens its frames, serves them in order on one worker task."""

    server: BmsTcpServer

    def __init__(self, owner: BmsTcpServer) -> None:
        super().__init__(owner, owner.trace_packet, owner.trace_pdu, owner.trace_connect)
        self.max_buffer_size = _BUFFER_BYTES
        self.peer = ""
        self._queue: deque[ModbusPDU] = deque()
        self._worker: asyncio.Task[None] | None = None
        self._paused = False
        self._closing_after = False

    def callback_connected(self) -> None:
        super().callback_connected()
        self.peer = client_ip(self.transport.get_extra_info("peername"))
        if not client_allowed(self.peer, self.server.allowed_clients):
            self.server.noise.refused_client(self.peer)
            self.close()

    def callback_data(self, data: bytes, addr: tuple[Any, ...] | None = None) -> int:
        used = 0
        while used < len(data):
            if len(self._queue) >= _QUEUE_MAX:  # the rest waits in the receive buffer
                self._pause()
                break
            s = screen(data[used:], self.server.unit_id)
            if s.verdict is Verdict.WAIT:
                break
            if s.verdict is Verdict.CLOSE:
                self.server.noise.note(self.peer, "bad_header", s.reason + "; disconnected")
                self._hang_up()
                return len(data)
            frame = data[used + _HEADER:used + s.used]
            used += s.used
            if s.verdict is Verdict.REPLY:
                assert s.exception is not None
                kind = {ExcCodes.ILLEGAL_FUNCTION: "unsupported_function",
                        ExcCodes.GATEWAY_NO_RESPONSE: "other_unit"}.get(s.exception,
                                                                        "malformed_pdu")
                self.server.noise.note(self.peer, kind, s.reason)
                self._enqueue(ExceptionResponse(s.function, s.exception, s.unit, s.tid))
                continue
            pdu = self.framer.decoder.decode(frame)
            if pdu is None:  # screened well-formed, so not expected; answered all the same
                self.server.noise.note(self.peer, "malformed_pdu", f"function {s.function}")
                pdu = ExceptionResponse(s.function, ExcCodes.ILLEGAL_VALUE, s.unit, s.tid)
            pdu.dev_id, pdu.transaction_id = s.unit, s.tid
            self._enqueue(pdu)
        return used

    def _pause(self) -> None:
        if not self._paused and self.transport:
            self.transport.pause_reading()  # type: ignore[attr-defined]
            self._paused = True

    def _hang_up(self) -> None:
        """Close the connection once the requests before the bad frame are answered."""
        self.recv_buffer = b""
        if not self._queue and (self._worker is None or self._worker.done()):
            self.close()
            return
        self._closing_after = True
        self._pause()

    def _enqueue(self, pdu: ModbusPDU) -> None:
        self._queue.append(pdu)
        if self._worker is None or self._worker.done():
            self._worker = self.loop.create_task(self._serve(), name=f"bms-client-{self.peer}")

    def _take_backlog(self) -> None:
        """Screen what waits in the receive buffer; read the socket again when it is taken."""
        if self._closing_after or not self.transport:
            return
        if self.recv_buffer:
            cut = self.callback_data(self.recv_buffer)
            self.recv_buffer = self.recv_buffer[cut:]
        if self._paused and not self._closing_after and len(self._queue) < _QUEUE_MAX \
                and self.transport:
            self.transport.resume_reading()  # type: ignore[attr-defined]
            self._paused = False

    async def _serve(self) -> None:
        PEER.set(self.peer)
        while self.transport:
            if self._paused and len(self._queue) <= _QUEUE_RESUME:
                self._take_backlog()
            if not self._queue:
                break
            request = self._queue.popleft()
            response = await self._answer(request)
            response.transaction_id, response.dev_id = request.transaction_id, request.dev_id
            if self.transport:
                self.pdu_send(response)
        self._queue.clear()
        if self._closing_after:
            self.close()

    async def _answer(self, request: ModbusPDU) -> ModbusPDU:
        if isinstance(request, ExceptionResponse):
            return request
        context: Any = self.server.context
        try:
            return await request.datastore_update(context, request.dev_id)
        except Exception as exc:  # a bug of ours must not stop the server answering
            fc = request.function_code
            if fc in self.server.failed_functions:  # traceback once per function code
                self.server.noise.note(self.peer, "server_error", f"function {fc}: {exc!r}")
            else:
                self.server.failed_functions.add(fc)
                log.exception("BMS server failed on function %d from %s (answered exception "
                              "04; later failures are counted)", fc, self.peer)
            return ExceptionResponse(fc, ExcCodes.DEVICE_FAILURE)

    def send(self, data: bytes, addr: tuple[Any, ...] | None = None) -> None:
        # pymodbus empties the receive buffer on every send: a request that is half
        # received while an earlier one is answered would be cut. Keep it.
        pending = self.recv_buffer
        super().send(data, addr)
        self.recv_buffer = pending

    def callback_disconnected(self, exc: Exception | None) -> None:
        super().callback_disconnected(exc)
        self._queue.clear()


class BmsTcpServer(ModbusTcpServer):
    """pymodbus' TCP server with :class:`BmsConnection` handlers and the listen error kept."""

    def __init__(self, *args: Any, unit_id: int, allowed_clients: Sequence[Network],
                 noise: ClientNoise, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unit_id = unit_id
        self.allowed_clients = tuple(allowed_clients)
        self.noise = noise
        self.listen_error: OSError | None = None
        self.failed_functions: set[int] = set()
        create = self.call_create

        async def create_and_keep_error() -> Any:
            try:
                return await create()
            except OSError as exc:  # pymodbus logs and drops it; the adapter reports it
                self.listen_error = exc
                raise

        self.call_create = create_and_keep_error

    def callback_new_connection(self) -> BmsConnection:
        return BmsConnection(self)
