"""The audit trail: an append-only, hash-chained log of who changed what.

Every operator command (mode, set point, GPU cap override; accepted or refused, and
why), every safety trip and clear, every controller start and stop and, once a day,
a seal of the day's energy ledger is one JSON line in ``<store stem>.audit.jsonl``
beside the local store (:func:`audit_path_for`).

Record (one line, canonical JSON: keys sorted, no spaces, UTF-8)::

    {"accepted":true,"event":"setting","hash":"<sha256>","key":"mode","new":"manual",
     "old":"auto","prev":"<sha256 of the record before>","reason":"","seq":7,
     "source":"mqtt:alice","time":"2026-01-05T10:00:00.000Z","time_s":1767607200.0}

``hash`` is the SHA-256 of the record's canonical JSON without ``hash``; ``prev`` is
the ``hash`` of the record before (64 zeros for the first), ``seq`` counts from 1.
Changing, deleting or reordering a line breaks the chain at that line. Deleting the
last lines is caught with the store: every record also puts ``seq`` and ``hash`` in
the store's ``meta.audit_head``, which :func:`verify` compares. (Both live on the
same disk: the chain proves that nothing was changed by accident or in passing; an
operator with write access to both files and the knowledge to re-hash can still
forge them.)

``ledger_seal`` records carry, for one completed local day, the number of ledger rows
and the SHA-256 of those rows (canonical JSON of ``[ts, *counters]``, one per line)
and the day's totals, so :func:`verify` with the store detects a changed, added or
deleted ledger row of a sealed day. A day is sealed once no rows are held in memory
by the store (see :meth:`~thermalctl.adapters.store.LocalStore.failure`).

Credentials never enter the trail: a field whose name says it holds one (password,
token, secret, credential, API or private key, HMAC key, signature, authorization,
cookie) has its value replaced by ``"[redacted]"`` and its name listed in
``redacted``; a ``user:password@`` inside any string value is cut out; strings are cut
to :data:`MAX_TEXT_CHARS` (an MQTT payload may be megabytes).

Durability: every record is one ``write`` of a whole line to a file opened with
``O_APPEND``, then ``fsync`` (records are rare: operator actions, trips, one seal a
day), so a record that :meth:`AuditTrail.record` returned from survives a power cut. A write
that fails (disk full) never raises into the caller: the file is cut back to its last
whole line and the record is held in memory, in order, until a later record or
:meth:`AuditTrail.close` can write it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import logging
import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from thermalctl.adapters.store import LEDGER_COLUMNS, LocalStore

__all__ = [
    "GENESIS_HASH",
    "AuditTrail",
    "VerifyResult",
    "audit_path_for",
    "canonical",
    "ledger_digest",
    "read_records",
    "verify",
]

#: A day is sealed this long after it ended [s]: longer than a tick in flight, even in a
#: demo's accelerated time (a 50 ms tick at 3600x spans 180 simulated seconds).
SEAL_GRACE_S = 900.0

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
HEAD_META_KEY = "audit_head"
#: Longest string kept in a record [characters]; longer ones are cut and say so.
MAX_TEXT_CHARS = 200
REDACTED = "[redacted]"
#: Records held in memory while the trail cannot be written, at most [records].
MAX_PENDING_RECORDS = 10_000
_SECRET_NAME = re.compile(
    r"passw|passphrase|secret|token|credential|api_?key|private_?key|hmac|signature|"
    r"authorization|cookie|(^|_)key_?(material|bytes|data|value|secret)$",
    re.IGNORECASE,
)
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s:]+:[^/@\s]*@")
#: Fields a record always has (the rest come from the caller).
_RESERVED = frozenset({"seq", "time", "time_s", "event", "prev", "hash", "redacted"})


def audit_path_for(store_path: str | Path) -> Path:
    """``var/site.sqlite`` -> ``var/site.audit.jsonl`` (the documented default)."""
    p = Path(store_path)
    return p.with_name(f"{p.stem}.audit.jsonl")


def canonical(record: dict[str, Any]) -> str:
    """Canonical JSON: sorted keys, no spaces, no NaN."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def _digest(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


def iso_utc(time_s: float) -> str:
    stamp = dt.datetime.fromtimestamp(time_s, dt.UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def _clean(name: str, value: object, redacted: list[str]) -> object:
    """A JSON-safe copy of ``value`` with credentials and long text removed."""
    if name != "key" and name != "key_id" and _SECRET_NAME.search(name):
        redacted.append(name)
        return REDACTED
    if isinstance(value, dict):
        return {str(k): _clean(str(k), v, redacted) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(name, v, redacted) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    text = value if isinstance(value, str) else str(getattr(value, "value", value))
    text = _URL_CREDENTIALS.sub("***@", text)
    if len(text) > MAX_TEXT_CHARS:
        text = f"{text[:MAX_TEXT_CHARS]}...({len(text)} chars)"
    return text


def ledger_digest(rows: list[tuple[object, ...]]) -> str:
    """SHA-256 of ledger rows ``(ts, *counters)``: one canonical JSON array per line."""
    h = hashlib.sha256()
    for row in rows:
        h.update(json.dumps(list(row), separators=(",", ":")).encode("ascii"))
        h.update(b"\n")
    return h.hexdigest()


class AuditTrail:
    """Appends hash-chained records to ``path``; thread-safe.

    ``store``: the local store whose ledger is sealed and whose meta keeps the head of
    the chain. ``clock``: the time of a record that brings no ``time_s`` [Unix s].
    """

    def __init__(
        self,
        path: str | Path,
        *,
        store: LocalStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.store = store
        self.clock = clock
        self._lock = threading.Lock()
        self.seq = 0
        self.head = GENESIS_HASH
        self.sealed_days: set[str] = set()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        torn = False
        for _line_no, record, _text in read_records(self.path):
            if record is None:
                torn = True
                continue
            self.seq = int(record.get("seq", self.seq))
            self.head = str(record.get("hash", self.head))
            if record.get("event") == "ledger_seal":
                self.sealed_days.add(str(record.get("day")))
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._pending: list[bytes] = []  # lines not yet written (disk full), in order
        self._failing = False
        if torn:
            log.error("audit trail %s has an unreadable line (torn write?); "
                      "'thermalctl audit verify' names it; appending after it", self.path)
            if self.path.stat().st_size and not self.path.read_bytes().endswith(b"\n"):
                os.write(self._fd, b"\n")

    def _write_pending(self) -> None:
        """Write the held lines in order. An I/O failure (disk full) never reaches the
        caller (a controller's tick): the file is cut back to its last whole line and the
        lines are held (at most :data:`MAX_PENDING_RECORDS`) for the next record."""
        while self._pending:
            size = os.fstat(self._fd).st_size
            try:
                if os.write(self._fd, self._pending[0]) != len(self._pending[0]):
                    raise OSError(errno.ENOSPC, "short write")
                os.fsync(self._fd)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.ftruncate(self._fd, size)  # no torn line
                if not self._failing:
                    log.error("audit trail %s: cannot write (%s); holding records in memory",
                              self.path, exc.strerror or exc)
                self._failing = True
                if len(self._pending) > MAX_PENDING_RECORDS:
                    self._pending.pop(0)
                    log.error("audit trail %s: more than %d records held; oldest dropped",
                              self.path, MAX_PENDING_RECORDS)
                return
            self._pending.pop(0)
        if self._failing:
            log.warning("audit trail %s: writing again; held records written", self.path)
            self._failing = False

    def close(self) -> None:
        with self._lock:
            if self._pending:
                self._write_pending()
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def record(self, event: str, **fields: object) -> None:
        """Append one record (``Controller.audit``'s interface). Never writes a credential."""
        self.append(event, **fields)

    def append(self, event: str, **fields: object) -> dict[str, Any]:
        """Append one record and return it (with its hash)."""
        redacted: list[str] = []
        time_s = fields.pop("time_s", None)
        t = float(time_s) if isinstance(time_s, int | float) else self.clock()
        body: dict[str, Any] = {
            name: _clean(name, value, redacted)
            for name, value in fields.items()
            if name not in _RESERVED
        }
        if redacted:
            body["redacted"] = sorted(set(redacted))
            log.warning("audit %s: credential field(s) %s redacted", event, body["redacted"])
        with self._lock:
            rec = {**body, "event": str(event), "time": iso_utc(t), "time_s": t,
                   "seq": self.seq + 1, "prev": self.head}
            rec["hash"] = _digest(rec)
            self._pending.append((canonical(rec) + "\n").encode("utf-8"))
            self._write_pending()
            self.seq = int(rec["seq"])
            self.head = str(rec["hash"])
        if self.store is not None:
            self.store.set_meta(HEAD_META_KEY, f"{self.seq} {self.head}")
        return rec

    # -- ledger seals ----------------------------------------------------------------------
    def seal_ledger(self, tz: str, now_s: float | None = None) -> list[str]:
        """Seal every completed local day (in ``tz``) not sealed yet; return the days.

        Nothing is sealed while the store holds rows in memory (they may belong to the
        day), nor before :data:`SEAL_GRACE_S` after the day's end (a tick that took its
        snapshot before midnight may still be writing its row). Days without ledger
        rows are skipped.
        """
        store = self.store
        if store is None or store.failure() is not None or store.held_rows:
            return []
        first = store.first_ledger_ts()
        if first is None:
            return []
        now = self.clock() if now_s is None else now_s
        zone = ZoneInfo(tz)
        day = dt.datetime.fromtimestamp(first, zone).date()
        if self.sealed_days:
            day = max(day, dt.date.fromisoformat(max(self.sealed_days)) + dt.timedelta(days=1))
        sealed: list[str] = []
        while True:
            start, end = _day_bounds(day, zone)
            if end + SEAL_GRACE_S > now:
                return sealed
            rows = store.ledger_rows(start, end)
            if rows and day.isoformat() not in self.sealed_days:
                self.record(
                    "ledger_seal", source="controller", day=day.isoformat(), tz=tz,
                    start_s=start, end_s=end, rows=len(rows), sha256=ledger_digest(rows),
                    totals_kwh=_totals(rows), time_s=now,
                )
                self.sealed_days.add(day.isoformat())
                sealed.append(day.isoformat())
            day += dt.timedelta(days=1)


def _day_bounds(day: dt.date, zone: ZoneInfo) -> tuple[float, float]:
    start = dt.datetime.combine(day, dt.time(), zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
    return start.timestamp(), end.timestamp()


def _totals(rows: list[tuple[object, ...]]) -> dict[str, float | None]:
    totals: dict[str, float | None] = {}
    for i, col in enumerate(LEDGER_COLUMNS, start=1):
        values = [float(r[i]) for r in rows if isinstance(r[i], int | float)]  # type: ignore[arg-type]
        totals[col] = round(values[-1] - values[0], 6) if len(values) > 1 else None
    return totals


# -- reading and verifying -------------------------------------------------------------------
def read_records(path: str | Path) -> Iterator[tuple[int, dict[str, Any] | None, str]]:
    """(line number from 1, record or None when the line is not a JSON object, text)."""
    p = Path(path)
    if not p.exists():
        return
    with p.open("rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            text = raw.decode("utf-8", "replace").rstrip("\n")
            try:
                record = json.loads(text)
            except ValueError:
                record = None
            yield line_no, record if isinstance(record, dict) else None, text


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    records: int
    bad_line: int | None = None
    problem: str = ""
    seals_checked: int = 0

    def __str__(self) -> str:
        if self.ok:
            return f"intact: {self.records} records, {self.seals_checked} ledger seals checked"
        return f"line {self.bad_line}: {self.problem}"


def verify(path: str | Path, store: LocalStore | None = None) -> VerifyResult:
    """Check the chain in ``path`` (and, with ``store``, its ledger seals and its head)."""
    prev = GENESIS_HASH
    count = 0
    seals = 0
    hashes: dict[int, str] = {}
    for line_no, record, text in read_records(path):
        if record is None:
            return VerifyResult(False, count, line_no, f"not a JSON record: {text[:80]!r}")
        if record.get("seq") != line_no:
            return VerifyResult(False, count, line_no,
                                f"seq {record.get('seq')} where {line_no} was expected "
                                "(a record deleted, inserted or moved)")
        if record.get("prev") != prev:
            return VerifyResult(False, count, line_no,
                                "prev does not match the hash of the record before "
                                "(a record deleted, inserted or moved before this one)")
        if record.get("hash") != _digest(record):
            return VerifyResult(False, count, line_no, "hash does not match the record "
                                "(the record was changed)")
        if store is not None and record.get("event") == "ledger_seal":
            problem = _check_seal(record, store)
            if problem:
                return VerifyResult(False, count, line_no, problem)
            seals += 1
        prev = str(record["hash"])
        hashes[line_no] = prev
        count += 1
    if store is not None:
        head = store.get_meta(HEAD_META_KEY)
        if head is not None:
            seq_text, _, head_hash = head.partition(" ")
            seq = int(seq_text)
            if hashes.get(seq) != head_hash:
                return VerifyResult(False, count, count + 1,
                                    f"the store's last audit record is #{seq} "
                                    f"({head_hash[:12]}...) but the trail has "
                                    f"{'another record there' if seq in hashes else 'no such line'}"
                                    " (records deleted from the end?)")
    return VerifyResult(True, count, seals_checked=seals)


def _check_seal(record: dict[str, Any], store: LocalStore) -> str:
    rows = store.ledger_rows(float(record["start_s"]), float(record["end_s"]))
    digest = ledger_digest(rows)
    if len(rows) != record.get("rows") or digest != record.get("sha256"):
        return (f"ledger day {record.get('day')} no longer matches its seal: "
                f"{record.get('rows')} rows sealed, {len(rows)} now"
                f"{'' if len(rows) != record.get('rows') else ' (a row was changed)'}")
    return ""
