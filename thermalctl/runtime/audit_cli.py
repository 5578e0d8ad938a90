"""``thermalctl audit verify|show``: check and list the audit trail.

``verify [--file F] [--store S] [--json]`` exits 0 when the chain is intact (and,
with the store, every sealed ledger day still matches its seal and no record is
missing from the end), 1 naming the first bad line otherwise. ``show [--file F]
[--store S] [--since ISO] [--event E] [--json]`` lists the records. The trail's
default path is ``<store stem>.audit.jsonl`` beside the store; give ``--file`` or
``--store`` (or both).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from thermalctl.adapters.audit import audit_path_for, read_records, verify
from thermalctl.adapters.store import LocalStore

__all__ = ["add_arguments", "run"]

#: Fields ``show`` prints in its own columns; the rest follow as key=value.
_SHOWN = ("seq", "time", "event", "source", "key", "old", "new", "accepted", "reason")
_HIDDEN = frozenset({*_SHOWN, "time_s", "prev", "hash"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="audit_command", required=True)
    for name, text in (("verify", "check the hash chain (and the ledger seals with --store)"),
                       ("show", "list the records")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--file", help="the trail (default: <store stem>.audit.jsonl)")
        p.add_argument("--store", help="the local store the trail belongs to")
        p.add_argument("--json", action="store_true", help="print one JSON document")
        if name == "show":
            p.add_argument("--since", help="only records at or after this ISO time (UTC "
                           "unless it has an offset)")
            p.add_argument("--event", help="only records of this event (setting, "
                           "safety_trip, ledger_seal, ...)")


def _paths(args: argparse.Namespace) -> tuple[Path, Path | None]:
    store = Path(args.store) if args.store else None
    if args.file:
        return Path(args.file), store
    if store is None:
        raise ValueError("give --file (the trail) or --store (the trail is beside it)")
    return audit_path_for(store), store


def run(args: argparse.Namespace) -> int:
    trail, store_path = _paths(args)
    if not trail.exists():
        raise ValueError(f"audit trail {trail} does not exist")
    if args.audit_command == "verify":
        return _verify(trail, store_path, args.json)
    return _show(trail, args)


def _verify(trail: Path, store_path: Path | None, as_json: bool) -> int:
    if store_path is not None:
        with LocalStore(store_path, readonly=True) as store:
            result = verify(trail, store)
    else:
        result = verify(trail)
    if as_json:
        print(json.dumps({"file": str(trail), "ok": result.ok, "records": result.records,
                          "bad_line": result.bad_line, "problem": result.problem,
                          "seals_checked": result.seals_checked}, indent=2))
    elif result.ok:
        print(f"{trail}: {result}")
    else:
        print(f"{trail}:{result}", file=sys.stderr)
    return 0 if result.ok else 1


def _since_s(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"--since {text!r}: not an ISO 8601 time ({exc})") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


def _show(trail: Path, args: argparse.Namespace) -> int:
    since = _since_s(args.since)
    records: list[dict[str, Any]] = []
    for line_no, record, text in read_records(trail):
        if record is None:
            print(f"{trail}:{line_no}: not a JSON record: {text[:80]!r}", file=sys.stderr)
            continue
        time_s = record.get("time_s")
        if since is not None and isinstance(time_s, int | float) and time_s < since:
            continue
        if args.event and record.get("event") != args.event:
            continue
        records.append(record)
    if args.json:
        print(json.dumps(records, indent=2))
        return 0
    for rec in records:
        head = " ".join(
            f"{rec[k]}" if k in ("seq", "time", "event") else f"{k}={rec[k]}"
            for k in _SHOWN if k in rec and rec[k] not in ("", None)
        )
        rest = " ".join(f"{k}={json.dumps(v)}" for k, v in sorted(rec.items())
                        if k not in _HIDDEN)
        print(f"{head} {rest}".rstrip())
    return 0
