"""Telemetry shipper: the local store's outbox to InfluxDB (v2 write API or v1 ``/write``).

Every reading, decision, alarm and ledger row is first in the local store
(:class:`~thermalctl.adapters.store.LocalStore`). :class:`OutboxShipper` reads the
rows after its *sent* cursor, table by table, turns them into line protocol
(:mod:`thermalctl.adapters.influx_lines`), writes a batch synchronously and moves
the sent cursor when the server answers 2xx. An acknowledgement is not yet storage:
VictoriaMetrics answers 204 while the rows are still in memory, and a SIGKILL in the
next ~10 s loses them. So a second, *confirmed* cursor (persisted in the store's
``cursors`` table as ``<name>.<table>``) follows only once a batch has outlived a
persistence horizon (``confirm_after_s``, 30 s by default, longer than the server's
flush to disk) on a server process that did not change in between: the shipper
asks the server which process answers (:class:`~thermalctl.adapters.influx_targets.
ServerEpoch`: its start time and request counter) before its first write and again
when a batch's horizon has passed. A changed process means a restart: every row
after the confirmed cursor is sent again. A shipper that starts resumes from the
confirmed cursor too. Rows sent twice are harmless because the writes are idempotent:
a row always becomes the same point (same series, same timestamp); InfluxDB 1.x
overwrites the point, VictoriaMetrics run with ``-dedup.minScrapeInterval=1ms`` keeps
one sample per series and millisecond (see ``docs/telemetry.md``). A server that tells
no start time ("blind") gets the horizon and a re-send after any failed write.

An outage only delays: the rows wait in the outbox, the shipper retries with
exponential back-off, logs the failure once and the recovery once, and after
``outage_alarm_s`` of failing raises the alarm ``telemetry.outage`` through
:meth:`OutboxShipper.alarms` (an alarm source for ``Controller.alarm_sources``); it
clears when the backlog has drained. :meth:`OutboxShipper.stop` tries once more
whatever the back-off timer says, bounded by its timeout.

Measurements (see ``docs/telemetry.md``)::

    reading   tags site, point, signal, quality, unit   fields value, reason
    decision  tags site, mode, policy                   fields dump_on, dump_heat_request_w,
                                                        gpu_power_cap_w_<group>,
                                                        sink_heat_request_w_<sink>,
                                                        backup_heat_w_<sink>, reasons
    alarm     tags site, code, severity                 fields active, message
    energy    tags site                                 fields <ledger counters> kWh,
                                                        pue, erf, ere (since the previous row)

Exceptions: see :mod:`thermalctl.adapters.influx_targets` (re-exported here).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from thermalctl.adapters.influx_lines import row_lines
from thermalctl.adapters.influx_targets import (
    InfluxError,
    InfluxRejected,
    InfluxUnavailable,
    LineTarget,
    ServerEpoch,
    V1Target,
    V2Target,
    make_target,
)
from thermalctl.adapters.store import LocalStore
from thermalctl.config.services import InfluxTarget
from thermalctl.points import Alarm, AlarmSeverity

__all__ = [
    "CONFIRM_AFTER_S",
    "OUTAGE_ALARM",
    "OUTAGE_ALARM_S",
    "TABLES",
    "InfluxError",
    "InfluxRejected",
    "InfluxUnavailable",
    "LineTarget",
    "OutboxShipper",
    "ServerEpoch",
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
#: Persistence horizon [s]: how long after its acknowledgement a batch counts as stored,
#: if the server process did not change. VictoriaMetrics 1.79 turns raw rows into
#: in-memory parts after 1-2 s and writes parts older than 5 s every 5 s (up to ~14 s);
#: 1.85+ saves within ``-inmemoryDataFlushInterval`` (5 s). 30 s is twice the worst case.
CONFIRM_AFTER_S = 30.0
#: Failing this long raises :data:`OUTAGE_ALARM` [s].
OUTAGE_ALARM_S = 300.0
OUTAGE_ALARM = "telemetry.outage"
#: VictoriaMetrics' raw-row stage before its in-memory flush interval counts [s].
_RAW_ROWS_FLUSH_S = 2.0


@dataclass(frozen=True, slots=True)
class _Ack:
    acked_s: float
    table: str
    last_id: int


def _iso(ts_s: float) -> str:
    return dt.datetime.fromtimestamp(ts_s, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class OutboxShipper:
    """Ships the store's outbox to one target; confirmed cursors per table in the store.

    :meth:`ship_once` is synchronous (one batch per table); :meth:`run` loops it in a
    worker thread until :meth:`stop`. ``clock`` gives wall time [s] (tests pass a
    fake); :meth:`alarms` compares it with the ``now_s`` it is called with.
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
        confirm_after_s: float = CONFIRM_AFTER_S,
        outage_alarm_s: float = OUTAGE_ALARM_S,
        clock: Callable[[], float] = time.time,
        name: str = "influx",
    ) -> None:
        self.store = store
        self.target = target
        self.site_id = site_id
        self.batch_size = batch_size
        self.flush_period_s = flush_period_s
        self.max_backoff_s = max_backoff_s
        self.initial_backoff_s = initial_backoff_s
        self.confirm_after_s = confirm_after_s
        self.outage_alarm_s = outage_alarm_s
        self.clock = clock
        self.name = name
        #: Rows acknowledged by the server (re-sends included), lines written, rows
        #: refused and skipped, rows sent again, and rewinds to the confirmed cursor.
        self.shipped_rows = 0
        self.written_lines = 0
        self.rejected_rows = 0
        self.resent_rows = 0
        self.rewinds = 0
        #: The last error while writes fail (credentials already removed), else None;
        #: ``last_error`` keeps it after a recovery.
        self.failing: str | None = None
        self.last_error: str | None = None
        #: When writes started failing, until the backlog has drained again [s].
        self.outage_since_s: float | None = None
        self._confirmed = {t: store.cursor(self.cursor_name(t)) for t in TABLES}
        self._sent = dict(self._confirmed)
        self._high = {t: max(self._confirmed[t], store.cursor(self.acked_cursor_name(t)))
                      for t in TABLES}
        self._pending: deque[_Ack] = deque()
        self._ref: ServerEpoch | None = None
        self._probed_s = -float("inf")
        self._answered = 0  # requests the server answered since the last probe
        self._blind = False  # the server tells no start time
        self._suspect = False  # (blind) a write failed since the last rewind
        self._warned: set[str] = set()
        self._alarm: Alarm | None = None
        self._limit = dict.fromkeys(TABLES, batch_size)
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._lock = threading.Lock()  # one batch in flight at a time, whoever ships
        self._task: asyncio.Task[None] | None = None
        self._flush_deadline = float("inf")

    @classmethod
    def for_target(cls, store: LocalStore, target: InfluxTarget, site_id: str,
                   **kwargs: object) -> OutboxShipper:
        """A shipper with every setting of a resolved ``target`` (``resolve_influx``)."""
        return cls(store, make_target(target), site_id, batch_size=target.batch_size,
                   flush_period_s=target.flush_period_s, max_backoff_s=target.max_backoff_s,
                   confirm_after_s=target.confirm_after_s,
                   outage_alarm_s=target.outage_alarm_s, **kwargs)  # type: ignore[arg-type]

    def cursor_name(self, table: str) -> str:
        """The confirmed cursor: rows up to it are stored on the server (retention may go)."""
        return f"{self.name}.{table}"

    def acked_cursor_name(self, table: str) -> str:
        """The highest row the server ever acknowledged (not yet necessarily stored)."""
        return f"{self.name}.{table}.acked"

    def backlog(self) -> int:
        """Rows not yet acknowledged by the server."""
        return sum(self.store.count_after(t, self._sent[t]) for t in TABLES)

    def unconfirmed(self) -> int:
        """Rows after the confirmed cursors (sent again after a restart)."""
        return sum(self.store.count_after(t, self._confirmed[t]) for t in TABLES)

    # -- synchronous core ------------------------------------------------------------------
    def ship_once(self) -> int:
        """Ship at most one batch per table; return the number of rows shipped.

        Raises :class:`InfluxUnavailable` when the target (or the local store) cannot
        take part now.
        """
        with self._lock:
            try:
                shipped = self._cycle()
            except InfluxUnavailable as exc:
                self._failed(str(exc))
                raise
            except (sqlite3.Error, OSError) as exc:
                self._failed(f"local store: {exc}")
                raise InfluxUnavailable(f"local store: {exc}") from exc
            self._succeeded(shipped)
            return shipped

    def drain(self) -> int:
        """Ship until the outbox is empty (blocking); return rows shipped."""
        total = 0
        while (n := self.ship_once()) > 0:
            total += n
        return total

    def _cycle(self) -> int:
        self._check_server()
        shipped = sum(self._ship_table(t) for t in TABLES)
        if self._blind:
            self._confirm(self.clock())
        return shipped

    def _ship_table(self, table: str) -> int:
        while True:
            after = self._sent[table]
            rows = self.store.fetch_after(table, after, self._limit[table])
            if not rows:
                return 0
            prev = self._prev_ledger(after) if table == "ledger" else None
            lines = row_lines(table, self.site_id, rows, prev)
            try:
                if lines:
                    self.target.write(lines)
                    self._answered += 1
            except InfluxRejected as exc:
                self._answered += 1
                if len(rows) > 1:
                    self._limit[table] = max(1, len(rows) // 2)
                    log.warning("%s: %s rejected a batch of %d rows (%s); splitting it",
                                self.name, table, len(rows), exc)
                    continue
                log.error("%s: %s row id %s rejected by the server, skipped: %s | %s",
                          self.name, table, rows[0][0], exc, lines[0][:300] if lines else "")
                self.rejected_rows += 1
            else:
                self.written_lines += len(lines)
            last_id = int(rows[-1][0])  # type: ignore[call-overload]
            self._acked(table, rows, last_id)
            if self._limit[table] < self.batch_size and len(rows) == self._limit[table]:
                self._limit[table] = min(self.batch_size, self._limit[table] * 2)
            return len(rows)

    def _acked(self, table: str, rows: Sequence[Sequence[object]], last_id: int) -> None:
        self._sent[table] = last_id
        self._pending.append(_Ack(self.clock(), table, last_id))
        self.shipped_rows += len(rows)
        high = self._high[table]
        ids = [int(r[0]) for r in rows]  # type: ignore[call-overload]
        if ids[0] <= high:
            self.resent_rows += sum(1 for i in ids if i <= high)
        if last_id > high:
            self._high[table] = last_id
            self.store.set_cursor(self.acked_cursor_name(table), last_id)

    def _prev_ledger(self, cursor: int) -> Sequence[object] | None:
        """The ledger row with id == cursor (for interval KPIs), if it is still in the store."""
        if cursor <= 0:
            return None
        rows = self.store.fetch_after("ledger", cursor - 1, 1)
        return rows[0] if rows and rows[0][0] == cursor else None

    # -- confirmation ------------------------------------------------------------------------
    def _check_server(self, *, force: bool = False) -> None:
        """Probe the server when a confirmation is due or a write failed; rewind if its
        process changed since the last probe (a restart may have lost acknowledged rows)."""
        if self._blind:
            if self._suspect:
                self._rewind("writes failed since the last confirmation")
                self._suspect = False
            return
        now = self.clock()
        if self._ref is not None and not self._suspect:  # after a failure: ask at once
            if not self._pending or now < self._pending[0].acked_s + self.confirm_after_s:
                return
            if not force and now - self._probed_s < self.confirm_after_s / 2:
                return
        epoch = self.target.epoch()
        if epoch is None:
            self._blind = True
            self._check_server()
            return
        self._suspect = False
        self._check_settings(epoch)
        if self._ref is not None and epoch.restarted_since(self._ref, self._answered + 1):
            self._rewind(f"{self.target.label} restarted (process start {self._ref.started} "
                         f"-> {epoch.started})")
        else:
            self._confirm(now)
        self._ref, self._probed_s, self._answered = epoch, now, 0

    def _confirm(self, now: float) -> None:
        moved: dict[str, int] = {}
        while self._pending and self._pending[0].acked_s + self.confirm_after_s <= now:
            ack = self._pending.popleft()
            moved[ack.table] = ack.last_id
        for table, last_id in moved.items():
            if last_id > self._confirmed[table]:
                self._confirmed[table] = last_id
                self.store.set_cursor(self.cursor_name(table), last_id)

    def _rewind(self, reason: str) -> None:
        again = {t: self.store.count_after(t, self._confirmed[t])
                 - self.store.count_after(t, self._sent[t]) for t in TABLES}
        self._sent = dict(self._confirmed)
        self._pending.clear()
        self.rewinds += 1
        if any(again.values()):
            log.warning("%s: %s; sending again the rows acknowledged but not yet confirmed: %s",
                        self.name, reason, ", ".join(f"{n} {t}" for t, n in again.items() if n))

    def _check_settings(self, epoch: ServerEpoch) -> None:
        if epoch.dedup_interval_s is not None and epoch.dedup_interval_s <= 0:
            self._warn_once("dedup", "%s: VictoriaMetrics at %s runs without "
                            "-dedup.minScrapeInterval: rows sent again after a restart are "
                            "stored twice; run it with -dedup.minScrapeInterval=1ms",
                            self.name, self.target.label)
        flush = epoch.flush_interval_s
        if flush is not None and self.confirm_after_s < 2 * flush + _RAW_ROWS_FLUSH_S:
            self._warn_once("horizon", "%s: confirm_after_s %.0f s is short for %s, which "
                            "saves to disk every %.0f s (-inmemoryDataFlushInterval): "
                            "rows acknowledged before a crash may be lost", self.name,
                            self.confirm_after_s, self.target.label, flush)

    def _warn_once(self, key: str, msg: str, *args: object) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(msg, *args)

    # -- failures and the outage alarm -------------------------------------------------------
    def _failed(self, message: str) -> None:
        if self.failing is None:
            log.warning("%s: write failed, telemetry waits in the outbox and is retried: %s",
                        self.name, message)
        self.failing = self.last_error = message
        self._suspect = True
        if self.outage_since_s is None:
            self.outage_since_s = self.clock()
            self._alarm = None

    def _succeeded(self, shipped: int) -> None:
        if self.failing is not None:
            log.info("%s: writes recovered; shipping the backlog", self.name)
            self.failing = None
        if shipped == 0 and self.outage_since_s is not None:
            if self._alarm is not None:
                log.info("%s: backlog drained (outage since %s)", self.name,
                         _iso(self.outage_since_s))
            self.outage_since_s = None

    def alarms(self, now_s: float) -> list[Alarm]:
        """Alarm source: ``telemetry.outage`` while failing longer than ``outage_alarm_s``.

        It stays until the backlog has drained (a pass finds the outbox empty). The
        outage is timed on the shipper's own (wall) clock, whatever the caller's clock
        is (a demo's runs faster); ``now_s`` only stamps the alarm.
        """
        since = self.outage_since_s
        if since is None or self.clock() - since < self.outage_alarm_s:
            return []
        alarm = self._alarm
        if alarm is None:
            error = self.failing or self.last_error
            alarm = Alarm(
                OUTAGE_ALARM,
                f"telemetry to {self.target.label} failing since {_iso(since)} "
                f"({(self.clock() - since) / 60.0:.0f} min): {self.backlog()} rows wait in the "
                f"local outbox; last error: {error}",
                AlarmSeverity.WARNING,
                now_s,
            )
            self._alarm = alarm
        return [alarm]

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
            except InfluxUnavailable:
                await self._sleep(backoff)
                backoff = min(backoff * 2.0, self.max_backoff_s)
                continue
            backoff = self.initial_backoff_s
            if shipped == 0:
                await self._sleep(self.flush_period_s)

    def kick(self) -> None:
        """Ship now instead of waiting for the flush period (e.g. after a restart)."""
        self._wake.set()

    async def stop(self, *, flush_timeout_s: float = 5.0) -> None:
        """Stop :meth:`run` and try once more to ship what is left, bounded in time.

        The last try happens whatever the back-off timer says: a server that came back
        during the back-off gets the rows now. A batch in flight when the time is up
        finishes within the target's timeout; the rest waits in the outbox.
        """
        self._stop.set()
        self._wake.set()
        if self._task is not None:
            await self._task  # returns once the batch in flight (if any) is answered
            self._task = None
        self._flush_deadline = time.monotonic() + flush_timeout_s
        try:
            await asyncio.wait_for(asyncio.to_thread(self._final_flush), flush_timeout_s)
        except TimeoutError:
            log.info("%s: stop: flush did not finish in %.0f s; the outbox keeps the rest",
                     self.name, flush_timeout_s)

    def _final_flush(self) -> None:
        try:
            while time.monotonic() < self._flush_deadline and self.ship_once() > 0:
                pass
            with self._lock:
                self._check_server(force=True)  # confirm what has outlived the horizon
        except InfluxUnavailable as exc:
            log.info("%s: final flush failed (%s); the outbox keeps the rest", self.name, exc)

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        if self._stop.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    def close(self, *, timeout_s: float = 15.0) -> None:
        """Close the target, after the batch in flight (if any, at most ``timeout_s``)."""
        acquired = self._lock.acquire(timeout=timeout_s)
        try:
            self.target.close()
        finally:
            if acquired:
                self._lock.release()
