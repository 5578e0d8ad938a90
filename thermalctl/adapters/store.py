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
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from thermalctl.points import Alarm, Decision, Reading

__all__ = ["LEDGER_COLUMNS", "LocalStore"]

LEDGER_COLUMNS = (
    "facility_kwh",
    "it_kwh",
    "reused_heat_kwh",
    "dumped_heat_kwh",
    "backup_heat_kwh",
)

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


class LocalStore:
    """Append-only local store. Thread-safe; one connection guarded by a lock."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writes ---------------------------------------------------------------------
    def add_readings(
        self, readings: Iterable[Reading], signals: dict[str, str] | None = None
    ) -> int:
        """Append readings; ``signals`` maps point name -> signal name where bound."""
        sig = signals or {}
        rows = [
            (r.timestamp_s, r.point, sig.get(r.point), r.value, r.unit, r.quality.value, r.reason)
            for r in readings
        ]
        with self._lock, self._db:
            self._db.executemany(
                "INSERT INTO readings(ts, point, signal, value, unit, quality, reason) "
                "VALUES (?,?,?,?,?,?,?)",
                rows,
            )
        return len(rows)

    def add_decision(self, decision: Decision) -> None:
        body = json.dumps(dataclasses.asdict(decision), default=str)
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO decisions(ts, mode, policy, body) VALUES (?,?,?,?)",
                (decision.timestamp_s, decision.mode.value, decision.policy, body),
            )

    def add_alarms(self, alarms: Sequence[Alarm]) -> None:
        with self._lock, self._db:
            self._db.executemany(
                "INSERT INTO alarms(ts, code, severity, message, active) VALUES (?,?,?,?,?)",
                [
                    (a.timestamp_s, a.code, a.severity.value, a.message, int(a.active))
                    for a in alarms
                ],
            )

    def add_ledger(self, ts: float, values: dict[str, float | None]) -> None:
        """Record the energy counters at ``ts`` (None for a counter not read well)."""
        unknown = set(values) - set(LEDGER_COLUMNS)
        if unknown:
            raise ValueError(f"unknown ledger columns {sorted(unknown)}")
        cols = ", ".join(LEDGER_COLUMNS)
        marks = ", ".join("?" for _ in LEDGER_COLUMNS)
        with self._lock, self._db:
            self._db.execute(
                f"INSERT OR REPLACE INTO ledger(ts, {cols}) VALUES (?, {marks})",
                (ts, *[values.get(c) for c in LEDGER_COLUMNS]),
            )

    def set_meta(self, key: str, value: str) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?,?)", (key, value))

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

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
            row = self._db.execute("SELECT last_id FROM cursors WHERE name=?", (name,)).fetchone()
        return 0 if row is None else int(row[0])

    def set_cursor(self, name: str, last_id: int) -> None:
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO cursors(name, last_id) VALUES (?,?)", (name, last_id)
            )

    def fetch_after(self, table: str, last_id: int, limit: int) -> list[tuple[object, ...]]:
        """Rows of ``table`` with ``id > last_id`` in id order (at most ``limit``)."""
        if table not in ("readings", "decisions", "alarms", "ledger"):
            raise ValueError(f"unknown table {table!r}")
        with self._lock:
            return self._db.execute(
                f"SELECT * FROM {table} WHERE id > ? ORDER BY id LIMIT ?", (last_id, limit)
            ).fetchall()
