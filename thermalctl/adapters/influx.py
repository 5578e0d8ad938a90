"""Telemetry shipper: the local store's outbox to InfluxDB (v2 write API or v1 ``/write``).

Every reading, decision, alarm and ledger row is first in the local store
(:class:`~thermalctl.adapters.store.LocalStore`). :class:`OutboxShipper` reads the
rows after its cursor, table by table, turns them into line protocol with
``influxdb-client``'s :class:`~influxdb_client.Point`, writes a batch synchronously
and advances the cursor only after the server said yes. A point's timestamp is the
row's own timestamp (microsecond resolution), so a batch that is written twice (the
server stored it but the answer was lost) overwrites the same points in InfluxDB
instead of adding new ones; in normal operation every row is written exactly once.
An outage only delays: the rows wait in the outbox, the shipper retries with
exponential back-off, logs the failure once and the recovery once.

Measurements (see ``docs/telemetry.md``)::

    reading   tags site, point, signal, quality, unit   fields value, reason
    decision  tags site, mode, policy                   fields dump_on, dump_heat_request_w,
                                                        gpu_power_cap_w_<group>,
                                                        sink_heat_request_w_<sink>,
                                                        backup_heat_w_<sink>, reasons
    alarm     tags site, code, severity                 fields active, message
    energy    tags site                                 fields <ledger counters> kWh,
                                                        pue, erf, ere (since the previous row)

Exceptions::

    AdapterError
    └── InfluxError              a write did not go through
        ├── InfluxUnavailable    transport failure, 5xx, 401/403/404, 429: retried with back-off
        └── InfluxRejected       the server refused the data itself (400, 413, 422): the batch
                                 is split; a single line still refused is logged and skipped
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import threading
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Protocol

import urllib3
from influxdb_client import InfluxDBClient, Point, WritePrecision
from influxdb_client.client.exceptions import InfluxDBError
from influxdb_client.client.write_api import SYNCHRONOUS

from thermalctl.adapters.errors import AdapterError
from thermalctl.adapters.store import LEDGER_COLUMNS, LocalStore
from thermalctl.config.services import InfluxTarget

__all__ = [
    "TABLES",
    "InfluxError",
    "InfluxRejected",
    "InfluxUnavailable",
    "LineTarget",
    "OutboxShipper",
    "V1Target",
    "V2Target",
    "make_target",
    "row_lines",
]

log = logging.getLogger(__name__)

#: Outbox tables in the order they are shipped.
TABLES = ("readings", "decisions", "alarms", "ledger")
#: First retry delay after a failed write [s]; doubles up to the target's max_backoff_s.
INITIAL_BACKOFF_S = 1.0
#: HTTP statuses that say "this data is wrong", not "try again later".
_REJECT_STATUS = frozenset({400, 413, 422})


class InfluxError(AdapterError):
    """A write to InfluxDB did not go through."""


class InfluxUnavailable(InfluxError):  # noqa: N818 - a state, read as 'unavailable'
    """The server could not be reached or answered with a retryable status."""


class InfluxRejected(InfluxError):  # noqa: N818 - a refusal, like WriteRefused
    """The server refused the data (bad line protocol, type conflict, too large)."""


class LineTarget(Protocol):
    """Somewhere line protocol can be written synchronously (blocking)."""

    def write(self, lines: Sequence[str]) -> None:
        """Write all ``lines`` or raise :class:`InfluxError`."""

    def close(self) -> None: ...


def _classify(status: int | None, message: str) -> InfluxError:
    if status in _REJECT_STATUS:
        return InfluxRejected(f"HTTP {status}: {message}")
    return InfluxUnavailable(f"HTTP {status}: {message}" if status else message)


class V2Target:
    """The InfluxDB v2 write API (InfluxDB 2.x/3.x, 1.8+, VictoriaMetrics) via influxdb-client."""

    def __init__(self, target: InfluxTarget) -> None:
        self.target = target
        self._client = InfluxDBClient(
            url=target.url,
            token=target.token.get_secret_value(),
            org=target.org,
            timeout=int(target.timeout_s * 1000),
        )
        self._api = self._client.write_api(write_options=SYNCHRONOUS)

    def write(self, lines: Sequence[str]) -> None:
        try:
            self._api.write(
                bucket=self.target.bucket, org=self.target.org, record=list(lines),
                write_precision=WritePrecision.NS,  # type: ignore[arg-type]
            )
        except InfluxDBError as exc:
            status = getattr(exc, "status", None) or getattr(exc.response, "status", None)
            raise _classify(status, exc.message or str(exc)) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise InfluxUnavailable(f"{self.target.url}: {exc}") from exc

    def close(self) -> None:
        self._client.close()


class V1Target:
    """InfluxDB 1.x ``POST /write?db=<bucket>&precision=ns``; token ``user:password`` if any."""

    def __init__(self, target: InfluxTarget) -> None:
        self.target = target
        self._http = urllib3.PoolManager(
            timeout=urllib3.Timeout(total=target.timeout_s), retries=False
        )
        fields = {"db": target.bucket, "precision": "ns"}
        token = target.token.get_secret_value()
        if token:
            user, _, password = token.partition(":")
            fields.update({"u": user, "p": password})
        self._url = f"{target.url}/write?{urllib.parse.urlencode(fields)}"

    def write(self, lines: Sequence[str]) -> None:
        body = "\n".join(lines).encode()
        try:
            resp = self._http.request("POST", self._url, body=body,
                                      headers={"Content-Type": "text/plain; charset=utf-8"})
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise InfluxUnavailable(f"{self.target.url}: {exc}") from exc
        if resp.status >= 300:
            raise _classify(resp.status, resp.data.decode(errors="replace")[:300])

    def close(self) -> None:
        self._http.clear()


def make_target(target: InfluxTarget) -> LineTarget:
    return V1Target(target) if target.api == "v1" else V2Target(target)


# -- rows -> line protocol ---------------------------------------------------------------------
def _ns(ts: object) -> int:
    """Row time [s] -> integer nanoseconds, rounded to the microsecond (deterministic)."""
    return round(float(ts) * 1e6) * 1000  # type: ignore[arg-type]


def _reading(site: str, row: Sequence[object]) -> Point | None:
    _id, ts, point, signal, value, unit, quality, reason = row
    p = Point("reading").tag("site", site).tag("point", point)
    if signal:
        p.tag("signal", signal)
    p.tag("quality", quality).tag("unit", unit)
    if isinstance(value, int | float) and math.isfinite(value):
        p.field("value", float(value))
    if reason:
        p.field("reason", str(reason))
    return p.time(_ns(ts), WritePrecision.NS)


def _decision(site: str, row: Sequence[object]) -> Point | None:
    _id, ts, mode, policy, body = row
    data = json.loads(str(body))
    p = Point("decision").tag("site", site).tag("mode", mode).tag("policy", policy)
    p.field("dump_on", 1 if data.get("dump_on") else 0)
    p.field("dump_heat_request_w", float(data.get("dump_heat_request_w", 0.0)))
    for prefix in ("gpu_power_cap_w", "sink_heat_request_w", "backup_heat_w"):
        for key, value in sorted((data.get(prefix) or {}).items()):
            p.field(f"{prefix}_{key}", float(value))
    reasons = data.get("reasons") or []
    if reasons:
        p.field("reasons", "; ".join(str(r) for r in reasons))
    return p.time(_ns(ts), WritePrecision.NS)


def _alarm(site: str, row: Sequence[object]) -> Point | None:
    _id, ts, code, severity, message, active = row
    p = Point("alarm").tag("site", site).tag("code", code).tag("severity", severity)
    p.field("active", int(bool(active))).field("message", str(message))
    return p.time(_ns(ts), WritePrecision.NS)


def _delta(row: Sequence[object], prev: Sequence[object] | None, col: str) -> float | None:
    if prev is None:
        return None
    i = 2 + LEDGER_COLUMNS.index(col)
    now, before = row[i], prev[i]
    if not isinstance(now, int | float) or not isinstance(before, int | float):
        return None
    d = float(now) - float(before)
    return d if d >= 0 else None  # a counter reset is no interval


def _energy(site: str, row: Sequence[object], prev: Sequence[object] | None) -> Point | None:
    p = Point("energy").tag("site", site)
    for i, col in enumerate(LEDGER_COLUMNS):
        value = row[2 + i]
        if isinstance(value, int | float):
            p.field(col, float(value))
    d_fac = _delta(row, prev, "facility_kwh")
    d_it = _delta(row, prev, "it_kwh")
    d_reused = _delta(row, prev, "reused_heat_kwh")
    if d_fac is not None and d_it is not None and d_it > 0 and d_fac > 0:
        p.field("pue", d_fac / d_it)
        if d_reused is not None:
            p.field("erf", d_reused / d_fac)
            p.field("ere", (d_fac - d_reused) / d_it)
    return p.time(_ns(row[1]), WritePrecision.NS)


def row_lines(
    table: str, site: str, rows: Sequence[Sequence[object]], prev: Sequence[object] | None = None
) -> list[str]:
    """Line protocol for outbox ``rows`` of ``table`` (rows with no field give no line).

    ``prev`` is the ledger row before ``rows[0]`` (for interval KPIs), if known.
    """
    lines: list[str] = []
    for row in rows:
        if table == "ledger":
            point = _energy(site, row, prev)
            prev = row
        else:
            point = _CONVERT[table](site, row)
        if point is None:
            continue
        line = point.to_line_protocol()
        if line:
            lines.append(line)
    return lines


_CONVERT: dict[str, Callable[[str, Sequence[object]], Point | None]] = {
    "readings": _reading,
    "decisions": _decision,
    "alarms": _alarm,
}


# -- the shipper -------------------------------------------------------------------------------
class OutboxShipper:
    """Ships the store's outbox to one target; keeps a cursor per table in the store.

    :meth:`ship_once` is synchronous (one batch per table); :meth:`run` loops it in a
    worker thread until :meth:`stop`.
    """

    def __init__(
        self,
        store: LocalStore,
        target: LineTarget,
        site_id: str,
        *,
        batch_size: int = 5000,
        flush_period_s: float = 10.0,
        max_backoff_s: float = 300.0,
        initial_backoff_s: float = INITIAL_BACKOFF_S,
        name: str = "influx",
    ) -> None:
        self.store = store
        self.target = target
        self.site_id = site_id
        self.batch_size = batch_size
        self.flush_period_s = flush_period_s
        self.max_backoff_s = max_backoff_s
        self.initial_backoff_s = initial_backoff_s
        self.name = name
        self.shipped_rows = 0
        self.written_lines = 0
        self.rejected_rows = 0
        self.failing: str | None = None
        self._limit = dict.fromkeys(TABLES, batch_size)
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._lock = threading.Lock()  # one batch in flight at a time, whoever ships
        self._task: asyncio.Task[None] | None = None

    def cursor_name(self, table: str) -> str:
        return f"{self.name}.{table}"

    def backlog(self) -> int:
        """Rows not yet shipped (counted, up to a large bound per table)."""
        return sum(
            len(self.store.fetch_after(t, self.store.cursor(self.cursor_name(t)), 10**7))
            for t in TABLES
        )

    # -- synchronous core ------------------------------------------------------------------
    def ship_once(self) -> int:
        """Ship at most one batch per table; return the number of rows shipped.

        Raises :class:`InfluxUnavailable` when the target cannot take the data now.
        """
        with self._lock:
            return sum(self._ship_table(t) for t in TABLES)

    def drain(self) -> int:
        """Ship until the outbox is empty (blocking); return rows shipped."""
        total = 0
        while (n := self.ship_once()) > 0:
            total += n
        return total

    def _ship_table(self, table: str) -> int:
        cname = self.cursor_name(table)
        while True:
            cursor = self.store.cursor(cname)
            rows = self.store.fetch_after(table, cursor, self._limit[table])
            if not rows:
                return 0
            prev = self._prev_ledger(cursor) if table == "ledger" else None
            lines = row_lines(table, self.site_id, rows, prev)
            try:
                if lines:
                    self.target.write(lines)
            except InfluxRejected as exc:
                if len(rows) > 1:
                    self._limit[table] = max(1, len(rows) // 2)
                    log.warning("%s: %s rejected a batch of %d rows (%s); splitting it",
                                self.name, table, len(rows), exc)
                    continue
                log.error("%s: %s row id %s rejected by the server, skipped: %s | %s",
                          self.name, table, rows[0][0], exc, lines[0] if lines else "")
                self.rejected_rows += 1
            else:
                self.written_lines += len(lines)
            last_id = int(rows[-1][0])  # type: ignore[call-overload]
            self.store.set_cursor(cname, last_id)
            self.shipped_rows += len(rows)
            if self._limit[table] < self.batch_size and len(rows) == self._limit[table]:
                self._limit[table] = min(self.batch_size, self._limit[table] * 2)
            return len(rows)

    def _prev_ledger(self, cursor: int) -> Sequence[object] | None:
        """The last ledger row shipped (id == cursor), if it is still in the store."""
        if cursor <= 0:
            return None
        rows = self.store.fetch_after("ledger", cursor - 1, 1)
        return rows[0] if rows and rows[0][0] == cursor else None

    # -- asynchronous loop -----------------------------------------------------------------
    def start(self) -> asyncio.Task[None]:
        """Run :meth:`run` as a task on the running loop."""
        self._stop.clear()
        self._task = asyncio.create_task(self.run(), name=f"{self.name}-shipper")
        return self._task

    async def run(self) -> None:
        """Ship until :meth:`stop`: drain, wait ``flush_period_s``, again; back off on failure."""
        backoff = self.initial_backoff_s
        while not self._stop.is_set():
            try:
                shipped = await asyncio.to_thread(self.ship_once)
            except InfluxUnavailable as exc:
                self._failed(exc)
                await self._sleep(backoff)
                backoff = min(backoff * 2.0, self.max_backoff_s)
                continue
            self._recovered()
            backoff = self.initial_backoff_s
            if shipped == 0:
                await self._sleep(self.flush_period_s)

    def kick(self) -> None:
        """Ship now instead of waiting for the flush period (e.g. after a restart)."""
        self._wake.set()

    async def stop(self, *, flush_timeout_s: float = 5.0) -> None:
        """Stop :meth:`run` and try once more to ship what is left (bounded in time)."""
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            await self._task  # returns once the batch in flight (if any) is answered
            self._task = None
        if self.failing is not None:
            return
        try:
            await asyncio.wait_for(asyncio.to_thread(self._drain_quietly), flush_timeout_s)
        except TimeoutError:
            log.info("%s: stop: flush did not finish in %.0f s; the outbox keeps the rest",
                     self.name, flush_timeout_s)

    def _drain_quietly(self) -> None:
        try:
            self.drain()
        except InfluxUnavailable as exc:
            log.info("%s: final flush failed (%s); the outbox keeps the rest", self.name, exc)

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        if self._stop.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    def _failed(self, exc: InfluxError) -> None:
        if self.failing is None:
            log.warning("%s: write failed, telemetry waits in the outbox and is retried: %s",
                        self.name, exc)
        self.failing = str(exc)

    def _recovered(self) -> None:
        if self.failing is not None:
            log.info("%s: writes recovered; shipping the backlog", self.name)
            self.failing = None

    def close(self) -> None:
        self.target.close()
