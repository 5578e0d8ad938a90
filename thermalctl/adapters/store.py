"""Local store: SQLite in WAL mode, durable across restarts.

It holds every reading, decision and alarm, and the energy ledger (cumulative
counters) that KPIs and reports read. It is also the outbox from which
telemetry is shipped to InfluxDB: each table has an integer ``id`` that only
grows, and shippers keep their own cursor in ``cursors``.

Tables::

    readings(id, ts, point, signal, value, unit, quality, reason)
    decisions(id, ts, mode, policy, body)          body: JSON of the Decision
    alarms(id, ts, code, severity, message, active)
    ledger(id, ts, facility_kwh, it_kwh, reused_heat_kwh, dumped_heat_kwh, backup_heat_kwh)
    cursors(name, last_id)
    meta(key, value)                               origin, operator settings, ...

Durability. ``journal_mode=WAL`` with ``synchronous=NORMAL``, on purpose. The SQLite
documentation (https://www.sqlite.org/pragma.html#pragma_synchronous and "Performance
Considerations" in https://www.sqlite.org/wal.html): in WAL mode NORMAL syncs the WAL
before each checkpoint and the database after it, not at every commit, and "WAL mode is
safe from corruption with synchronous=NORMAL"; what it gives up is durability of the
last transactions: a commit "might roll back following a power loss or system crash"
(never after a crash of the process alone, SIGKILL included). FULL would fsync the WAL
at every commit, three times per tick. For this store the trade is clear: on a power
loss the last seconds of readings and decisions since the last checkpoint may be gone
(the controller was down anyway; the ledger's counters are cumulative meter readings, so
a lost ledger row loses no energy: the next row counts it), the database is never
corrupted, and every tick is spared its fsyncs (measured on the 2-core test machine, 309
readings + a decision + a ledger row per tick: 0.3-0.5 ms median with NORMAL against 9-12
ms with FULL, p99 11-13 ms against 28-64 ms; ``tools/bench_tick.py``). The audit trail is
its own file with its own sync (:mod:`thermalctl.adapters.audit`).

Origin. A new store records who writes it in ``meta.origin``: ``simulated`` (the
demo), ``measured`` (a real controller), or ``mixed`` (a simulated store that a real
controller later wrote into; the demo treats it as measured). A store written before
origins were recorded that holds data counts as ``measured``.

One writer. ``run`` and ``demo`` open their store with ``exclusive=True``: an
``fcntl.flock`` on ``<store>.lock`` (which holds the owner's pid) for as long as the
store is open; the kernel drops it when the process dies, even by SIGKILL. Readers
(reports, ``audit verify``) do not lock; WAL lets them read while the controller writes.

Write failures. ``add_readings``, ``add_decision``, ``add_alarms``, ``add_ledger``,
``set_meta`` and ``set_cursor`` never raise for an I/O failure of the database (disk
full, read-only database or file system, disk I/O error, cannot open, locked): the
rows are held in memory, per table in order, and written before anything newer once
a write goes through again (each batch in its own transaction, so a batch is written
whole or not at all). At most :data:`MAX_HELD_ROWS` rows are held; beyond that the
oldest readings are dropped first, then the oldest decisions, then ledger rows, and
alarms last (:attr:`LocalStore.dropped_rows` counts them). :meth:`LocalStore.failure`
says what is wrong now. Reads see only what is in the database (and the held meta and
cursor values). Opening a store whose directory or file cannot be written raises
:class:`StoreError` naming the path and the reason.

Exceptions::

    AdapterError
    └── StoreError        the store cannot be opened or used (also an OSError)
        ├── StoreLocked   another process has it open for writing (pid in the message)
        └── StoreRefused  a demo was pointed at a store that holds measured data
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import sqlite3
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pandas as pd

from thermalctl.adapters.errors import AdapterError
from thermalctl.points import Alarm, AlarmSeverity, Decision, Reading

__all__ = [
    "LEDGER_COLUMNS",
    "MAX_HELD_ROWS",
    "MEASURED",
    "MIXED",
    "SIMULATED",
    "LocalStore",
    "StoreError",
    "StoreLock",
    "StoreLocked",
    "StoreRefused",
    "store_origin",
]

log = logging.getLogger(__name__)

LEDGER_COLUMNS = (
    "facility_kwh",
    "it_kwh",
    "reused_heat_kwh",
    "dumped_heat_kwh",
    "backup_heat_kwh",
)

#: Origins recorded in ``meta.origin``.
SIMULATED = "simulated"
MEASURED = "measured"
MIXED = "mixed"
ORIGIN_META_KEY = "origin"

#: Rows held in memory while the database cannot be written, at most [rows]. About
#: 43 MB of tuples (measured with tracemalloc, 30-point batches); on the pool site
#: (about 30 readings, one decision and one ledger row per 2 s tick) some 3.5 hours.
MAX_HELD_ROWS = 200_000
#: Rows deleted per transaction by :meth:`LocalStore.drop_old_rows` [rows]: short
#: enough that a tick waiting for the store lock waits tens of milliseconds.
RETENTION_CHUNK_ROWS = 20_000
#: Tables whose old rows retention drops (telemetry); the ledger and alarms are kept.
DROPPABLE_TABLES = ("readings", "decisions")
#: Order in which held rows are sacrificed when the hold is full (alarms kept longest).
_DROP_ORDER = ("readings", "decisions", "ledger", "alarms")

# SQLite primary result codes that mean "the database cannot be written now" (I/O),
# as opposed to a bug (constraint, misuse): https://www.sqlite.org/rescode.html
_IO_CODES = {
    5: "the database is locked by another connection",  # SQLITE_BUSY
    6: "a table is locked",  # SQLITE_LOCKED
    8: "the database, its directory or its file system is read-only",  # SQLITE_READONLY
    10: "disk I/O error",  # SQLITE_IOERR
    11: "the database file is damaged",  # SQLITE_CORRUPT
    13: "the disk is full",  # SQLITE_FULL
    14: "cannot open the database file or its journal (directory not writable?)",
    15: "locking protocol error",  # SQLITE_PROTOCOL
    22: "the file is too large for the file system",  # SQLITE_NOLFS
    26: "the file is not a SQLite database",  # SQLITE_NOTADB
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL, point TEXT NOT NULL, signal TEXT, value REAL,
    unit TEXT NOT NULL, quality TEXT NOT NULL, reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS readings_ts ON readings(ts);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL, mode TEXT NOT NULL, policy TEXT NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alarms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL, code TEXT NOT NULL, severity TEXT NOT NULL,
    message TEXT NOT NULL, active INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL UNIQUE,
    facility_kwh REAL, it_kwh REAL, reused_heat_kwh REAL,
    dumped_heat_kwh REAL, backup_heat_kwh REAL
);
CREATE TABLE IF NOT EXISTS cursors (name TEXT PRIMARY KEY, last_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_INSERT = {
    "readings": "INSERT INTO readings(ts, point, signal, value, unit, quality, reason) "
    "VALUES (?,?,?,?,?,?,?)",
    "decisions": "INSERT INTO decisions(ts, mode, policy, body) VALUES (?,?,?,?)",
    "alarms": "INSERT INTO alarms(ts, code, severity, message, active) VALUES (?,?,?,?,?)",
    "ledger": f"INSERT OR REPLACE INTO ledger(ts, {', '.join(LEDGER_COLUMNS)}) "
    f"VALUES (?, {', '.join('?' for _ in LEDGER_COLUMNS)})",
}


class StoreError(AdapterError, OSError):
    """The local store cannot be opened or used; the message names the path and why."""


class StoreLocked(StoreError):  # noqa: N818 - a state, not a failure of this process
    """Another process has the store open for writing."""


class StoreRefused(StoreError):  # noqa: N818 - a refusal
    """The store holds data this caller must not touch (a demo and measured data)."""


def _io_reason(exc: sqlite3.Error) -> str | None:
    """Why ``exc`` is an I/O failure of the database, or None if it is something else."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return str(exc) if isinstance(exc, sqlite3.OperationalError) else None
    reason = _IO_CODES.get(code & 0xFF)
    return None if reason is None else f"{exc} ({reason})"


class StoreLock:
    """An exclusive ``fcntl.flock`` on ``<store>.lock``, with the holder's pid inside."""

    def __init__(self, store_path: str | Path) -> None:
        self.store_path = Path(store_path)
        self.path = Path(f"{store_path}.lock")
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> StoreLock:
        if self._fd is not None:
            return self
        _make_parent(self.store_path)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(
                f"local store {self.store_path}: cannot open its lock file {self.path}: "
                f"{exc.strerror or exc}"
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise StoreLocked(
                f"local store {self.store_path} is in use by another thermalctl process "
                f"(pid {holder}, lock {self.path}); one instance per store: stop it or "
                "give this one its own --store"
            ) from exc
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        # The file stays: unlinking it would let a third process lock a new inode
        # while a second still waits on the old one.
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _make_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"local store {path}: cannot create its directory {path.parent}: "
            f"{exc.strerror or exc}"
        ) from exc


def store_origin(path: str | Path) -> str | None:
    """Who wrote the store at ``path``: None when there is no file or it is empty,
    else ``simulated`` / ``measured`` / ``mixed``. A file that is not a thermalctl
    store raises :class:`StoreRefused` (nothing may delete or overwrite it)."""
    p = Path(path)
    if not p.exists() or p.stat().st_size == 0:
        return None
    try:
        db = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True)
        try:
            row = db.execute("SELECT value FROM meta WHERE key=?", (ORIGIN_META_KEY,)).fetchone()
            filled = any(
                db.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone() for t in ("ledger", "readings")
            )
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise StoreRefused(f"{p} is not a thermalctl local store ({exc}); left untouched") from exc
    if row is not None:
        return str(row[0])
    return MEASURED if filled else None


@dataclasses.dataclass
class _Batch:
    rows: list[tuple[object, ...]]


class LocalStore:
    """Append-only local store. Thread-safe; one connection guarded by a lock.

    ``origin``: what this process writes (``simulated`` or ``measured``), recorded in a
    new store. ``exclusive``: take the one-writer lock (or pass a :class:`StoreLock`
    already held). ``readonly``: open for reading only (no schema, no lock, no writes).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        origin: str | None = None,
        exclusive: bool | StoreLock = False,
        readonly: bool = False,
        max_held_rows: int = MAX_HELD_ROWS,
    ) -> None:
        self.path = Path(path)
        self.max_held_rows = max_held_rows
        self.held_rows = 0
        self.dropped_rows = 0
        self.origin: str | None = None
        self._failure: str | None = None
        self._held: dict[str, deque[_Batch]] = {t: deque() for t in _INSERT}
        self._held_meta: dict[str, str] = {}
        self._held_cursors: dict[str, int] = {}
        self._lock = threading.Lock()
        memory = str(path) == ":memory:"
        self._file_lock: StoreLock | None = None
        if isinstance(exclusive, StoreLock):
            self._file_lock = exclusive.acquire()
        elif exclusive and not memory:
            self._file_lock = StoreLock(self.path).acquire()
        try:
            self._db = self._connect(memory, readonly)
            if not readonly:
                self._settle_origin(origin)
        except BaseException:
            if self._file_lock is not None:
                self._file_lock.release()
            raise

    def _connect(self, memory: bool, readonly: bool) -> sqlite3.Connection:
        if readonly:
            target, uri = f"{self.path.resolve().as_uri()}?mode=ro", True
        else:
            if not memory:
                _make_parent(self.path)
            target, uri = str(self.path), False
        db: sqlite3.Connection | None = None
        try:
            db = sqlite3.connect(
                target, uri=uri, check_same_thread=False, isolation_level=None
            )
            if readonly:
                db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
                return db
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            # A real write, so that a read-only file, directory or file system is found
            # now, at start, rather than at the first tick.
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('opened_by_pid', ?)",
                       (str(os.getpid()),))
            db.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            if db is not None:
                db.close()
            why = _io_reason(exc) or str(exc)
            mode = "for reading" if readonly else "for writing"
            raise StoreError(f"local store {self.path}: cannot open {mode}: {why}") from exc
        return db

    def _settle_origin(self, origin: str | None) -> None:
        existing = self.get_meta(ORIGIN_META_KEY)
        if existing is None and (self.count("ledger") or self.count("readings")):
            existing = MEASURED  # written before origins were recorded: assume it is real
        if origin == SIMULATED and existing not in (None, SIMULATED):
            self.close()
            raise StoreRefused(
                f"local store {self.path} holds measured data (origin {existing}): a demo "
                "never writes into it; give the demo its own --store"
            )
        if origin == MEASURED and existing == SIMULATED:
            log.warning(
                "local store %s was written by the simulator (thermalctl demo); from now on "
                "it mixes simulated and measured energy, so its reports are not the site's "
                "figures: give 'run' a store of its own", self.path)
            existing = MIXED
        final = existing or origin
        if final is not None and final != self.get_meta(ORIGIN_META_KEY):
            self.set_meta(ORIGIN_META_KEY, final)
        self.origin = final

    def close(self) -> None:
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                self._flush_locked()
            if self.held_rows or self._held_meta or self._held_cursors:
                log.error("local store %s closed with %d rows not written (%s)", self.path,
                          self.held_rows, self._failure)
            self._db.close()
        if self._file_lock is not None:
            self._file_lock.release()
            self._file_lock = None

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- health ---------------------------------------------------------------------
    def failure(self) -> str | None:
        """What stops the store from writing now (None when healthy)."""
        if self._failure is None:
            return None
        dropped = f", {self.dropped_rows} dropped" if self.dropped_rows else ""
        return (
            f"local store {self.path}: {self._failure}; {self.held_rows} rows held in "
            f"memory (at most {self.max_held_rows}){dropped}"
        )

    def failure_alarms(self, now_s: float) -> list[Alarm]:
        """An alarm source for ``Controller.alarm_sources``: ``store.write_failed``."""
        text = self.failure()
        if text is None:
            return []
        return [Alarm("store.write_failed", text, AlarmSeverity.CRITICAL, now_s)]

    def flush(self) -> bool:
        """Try to write what is held now; True when nothing is held any more."""
        with self._lock:
            self._flush_locked()
            return self._failure is None

    # -- writes ---------------------------------------------------------------------
    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            if self._db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _failed(self, exc: sqlite3.Error) -> bool:
        """Record an I/O failure (True), or say that ``exc`` is something else (False)."""
        reason = _io_reason(exc)
        if reason is None:
            return False
        if self._db.in_transaction:  # COMMIT failed: end the transaction
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
        if self._failure is None:
            log.error("local store %s: cannot write: %s; holding rows in memory (at most %d)",
                      self.path, reason, self.max_held_rows)
        self._failure = reason
        return True

    def _flush_locked(self) -> None:
        if self._failure is None and not self.held_rows:
            return
        try:
            for table, batches in self._held.items():
                while batches:
                    with self._transaction() as db:
                        db.executemany(_INSERT[table], batches[0].rows)
                    self.held_rows -= len(batches.popleft().rows)
            with self._transaction() as db:
                db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?,?)",
                               list(self._held_meta.items()))
                db.executemany("INSERT OR REPLACE INTO cursors(name, last_id) VALUES (?,?)",
                               list(self._held_cursors.items()))
        except sqlite3.DatabaseError as exc:
            if not self._failed(exc):
                raise
            return
        self._held_meta.clear()
        self._held_cursors.clear()
        if self._failure is not None:
            log.warning("local store %s: writing again; held rows written (%d dropped so far)",
                        self.path, self.dropped_rows)
            self._failure = None

    def _write(self, table: str, rows: list[tuple[object, ...]]) -> None:
        if not rows:
            return
        with self._lock:
            self._flush_locked()
            if self._failure is None:
                try:
                    with self._transaction() as db:
                        db.executemany(_INSERT[table], rows)
                    return
                except sqlite3.DatabaseError as exc:
                    if not self._failed(exc):
                        raise
            self._held[table].append(_Batch(rows))
            self.held_rows += len(rows)
            self._enforce_bound()

    def _enforce_bound(self) -> None:
        excess = self.held_rows - self.max_held_rows
        for table in _DROP_ORDER:
            batches = self._held[table]
            while excess > 0 and batches:
                oldest = batches[0]
                n = min(excess, len(oldest.rows))
                del oldest.rows[:n]
                if not oldest.rows:
                    batches.popleft()
                if self.dropped_rows == 0:
                    log.error("local store %s: more than %d rows held; dropping the oldest "
                              "%s first", self.path, self.max_held_rows, table)
                self.held_rows -= n
                self.dropped_rows += n
                excess -= n

    def _set_kv(self, table: str, key: str, value: object) -> None:
        held = self._held_meta if table == "meta" else self._held_cursors
        column = "value" if table == "meta" else "last_id"
        keycol = "key" if table == "meta" else "name"
        with self._lock:
            self._flush_locked()
            if self._failure is None:
                try:
                    with self._transaction() as db:
                        db.execute(f"INSERT OR REPLACE INTO {table}({keycol}, {column}) "
                                   "VALUES (?,?)", (key, value))
                    return
                except sqlite3.DatabaseError as exc:
                    if not self._failed(exc):
                        raise
            held[key] = value  # type: ignore[assignment]

    def add_readings(
        self, readings: Iterable[Reading], signals: dict[str, str] | None = None
    ) -> int:
        """Append readings; ``signals`` maps point name -> signal name where bound."""
        sig = signals or {}
        rows: list[tuple[object, ...]] = [
            (r.timestamp_s, r.point, sig.get(r.point), r.value, r.unit, r.quality.value, r.reason)
            for r in readings
        ]
        self._write("readings", rows)
        return len(rows)

    def add_decision(self, decision: Decision) -> None:
        body = json.dumps(dataclasses.asdict(decision), default=str)
        self._write(
            "decisions", [(decision.timestamp_s, decision.mode.value, decision.policy, body)]
        )

    def add_alarms(self, alarms: Sequence[Alarm]) -> None:
        self._write(
            "alarms",
            [(a.timestamp_s, a.code, a.severity.value, a.message, int(a.active)) for a in alarms],
        )

    def add_ledger(self, ts: float, values: dict[str, float | None]) -> None:
        """Record the energy counters at ``ts`` (None for a counter not read well)."""
        unknown = set(values) - set(LEDGER_COLUMNS)
        if unknown:
            raise ValueError(f"unknown ledger columns {sorted(unknown)}")
        self._write("ledger", [(ts, *[values.get(c) for c in LEDGER_COLUMNS])])

    def set_meta(self, key: str, value: str) -> None:
        self._set_kv("meta", key, value)

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            if key in self._held_meta:
                return self._held_meta[key]
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    # -- retention ------------------------------------------------------------------
    def drop_old_rows(
        self, older_than_s: float, *, shipped_only: bool, max_chunks: int = 10_000
    ) -> dict[str, int]:
        """Delete readings and decisions with ``ts < older_than_s``; return rows deleted.

        With ``shipped_only`` a row goes only once every outbox cursor that follows its
        table (a cursor named ``<shipper>.<table>`` or ``<shipper>.<table>.<more>``) has
        passed it; a table no cursor follows yet loses nothing. The ledger, alarms,
        cursors and meta are never touched. Deletes run in chunks of
        :data:`RETENTION_CHUNK_ROWS`, each its own transaction; an I/O failure stops the
        run quietly (the next one goes on).
        """
        deleted = dict.fromkeys(DROPPABLE_TABLES, 0)
        for table in DROPPABLE_TABLES:
            limit_id = self._shipped_through(table) if shipped_only else None
            if shipped_only and limit_id is None:
                continue
            for _ in range(max_chunks):
                with self._lock:
                    try:
                        with self._transaction() as db:
                            n = db.execute(
                                f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} "
                                "WHERE ts < ? AND id <= ? ORDER BY id LIMIT ?)",
                                (older_than_s, limit_id if limit_id is not None else 2**62,
                                 RETENTION_CHUNK_ROWS),
                            ).rowcount
                    except sqlite3.DatabaseError as exc:
                        if not self._failed(exc):
                            raise
                        return deleted
                deleted[table] += n
                if n < RETENTION_CHUNK_ROWS:
                    break
        return deleted

    def _shipped_through(self, table: str) -> int | None:
        with self._lock:
            names = [str(r[0]) for r in self._db.execute("SELECT name FROM cursors")]
            names += list(self._held_cursors)
        following = [n for n in set(names) if table in n.split(".")[1:]]
        if not following:
            return None
        return min(self.cursor(n) for n in following)

    # -- reads ----------------------------------------------------------------------
    def counters_frame(
        self, start_s: float | None = None, end_s: float | None = None
    ) -> pd.DataFrame:
        """The energy ledger as cumulative counters, UTC-indexed (``timestamp``)."""
        cols = ", ".join(LEDGER_COLUMNS)
        query = f"SELECT ts, {cols} FROM ledger WHERE ts >= ? AND ts <= ? ORDER BY ts"
        lo = -1e18 if start_s is None else start_s
        hi = 1e18 if end_s is None else end_s
        with self._lock:
            rows = self._db.execute(query, (lo, hi)).fetchall()
        frame = pd.DataFrame(rows, columns=["ts", *LEDGER_COLUMNS], dtype="float64")
        index = pd.to_datetime(frame.pop("ts"), unit="s", utc=True)
        frame.index = pd.DatetimeIndex(index, name="timestamp")
        return frame

    def ledger_rows(self, start_s: float, end_s: float) -> list[tuple[object, ...]]:
        """Ledger rows ``(ts, *LEDGER_COLUMNS)`` with ``start_s <= ts < end_s``, by ts."""
        cols = ", ".join(LEDGER_COLUMNS)
        with self._lock:
            return self._db.execute(
                f"SELECT ts, {cols} FROM ledger WHERE ts >= ? AND ts < ? ORDER BY ts",
                (start_s, end_s),
            ).fetchall()

    def first_ledger_ts(self) -> float | None:
        with self._lock:
            row = self._db.execute("SELECT MIN(ts) FROM ledger").fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def readings_frame(
        self, start_s: float | None = None, end_s: float | None = None, signal: str | None = None
    ) -> pd.DataFrame:
        query = (
            "SELECT ts, point, signal, value, unit, quality, reason FROM readings "
            "WHERE ts >= ? AND ts <= ?"
        )
        args: list[object] = [
            -1e18 if start_s is None else start_s,
            1e18 if end_s is None else end_s,
        ]
        if signal is not None:
            query += " AND signal = ?"
            args.append(signal)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id", args).fetchall()
        return pd.DataFrame(
            rows, columns=["ts", "point", "signal", "value", "unit", "quality", "reason"]
        )

    def alarms(self) -> list[tuple[float, str, str, str, bool]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT ts, code, severity, message, active FROM alarms ORDER BY id"
            ).fetchall()
        return [(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]

    def count(self, table: str) -> int:
        if table not in ("readings", "decisions", "alarms", "ledger"):
            raise ValueError(f"unknown table {table!r}")
        with self._lock:
            return int(self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    # -- outbox ---------------------------------------------------------------------
    def cursor(self, name: str) -> int:
        with self._lock:
            if name in self._held_cursors:
                return self._held_cursors[name]
            row = self._db.execute("SELECT last_id FROM cursors WHERE name=?", (name,)).fetchone()
        return 0 if row is None else int(row[0])

    def set_cursor(self, name: str, last_id: int) -> None:
        self._set_kv("cursors", name, last_id)

    def fetch_after(self, table: str, last_id: int, limit: int) -> list[tuple[object, ...]]:
        """Rows of ``table`` with ``id > last_id`` in id order (at most ``limit``)."""
        if table not in ("readings", "decisions", "alarms", "ledger"):
            raise ValueError(f"unknown table {table!r}")
        with self._lock:
            return self._db.execute(
                f"SELECT * FROM {table} WHERE id > ? ORDER BY id LIMIT ?", (last_id, limit)
            ).fetchall()

    def count_after(self, table: str, last_id: int) -> int:
        """How many rows of ``table`` have ``id > last_id`` (an outbox's backlog)."""
        if table not in ("readings", "decisions", "alarms", "ledger"):
            raise ValueError(f"unknown table {table!r}")
        with self._lock:
            row = self._db.execute(f"SELECT COUNT(*) FROM {table} WHERE id > ?", (last_id,))
            return int(row.fetchone()[0])
