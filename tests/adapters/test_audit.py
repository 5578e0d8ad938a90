"""The audit trail: hash chain, tamper detection, ledger seals, redaction, the CLI."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import WINTER_START_S, ManualClock
from thermalctl.adapters.audit import (
    GENESIS_HASH,
    SEAL_GRACE_S,
    AuditTrail,
    audit_path_for,
    canonical,
    read_records,
    verify,
)
from thermalctl.adapters.store import LocalStore
from thermalctl.cli import main

DAY_S = 86400.0


@pytest.fixture
def store(tmp_path) -> Iterator[LocalStore]:
    s = LocalStore(tmp_path / "site.sqlite")
    yield s
    s.close()


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines))


def _trail(store: LocalStore, n: int = 5) -> AuditTrail:
    trail = AuditTrail(audit_path_for(store.path), store=store)
    for i in range(n):
        trail.record("setting", key="setpoint/pool", old=29.0 + i, new=30.0 + i,
                     source=f"mqtt:op{i}", accepted=True, reason="", time_s=WINTER_START_S + i)
    return trail


def test_records_are_canonical_json_lines_chained_by_sha256(store) -> None:
    trail = _trail(store, 3)
    trail.close()
    assert trail.path == store.path.with_name("site.audit.jsonl")
    prev = GENESIS_HASH
    for n, line in enumerate(_lines(trail.path), start=1):
        rec = json.loads(line)
        assert line == canonical(rec)  # sorted keys, no spaces
        body = {k: v for k, v in rec.items() if k != "hash"}
        assert rec["hash"] == hashlib.sha256(canonical(body).encode()).hexdigest()
        assert rec["prev"] == prev and rec["seq"] == n
        assert rec["time"] == f"2026-01-05T00:00:0{n - 1}.000Z"
        assert {"event", "source", "key", "old", "new", "accepted", "reason", "time_s"} <= set(rec)
        prev = rec["hash"]
    assert verify(trail.path, store).ok


def test_the_chain_continues_after_a_restart(store) -> None:
    _trail(store, 2).close()
    again = AuditTrail(audit_path_for(store.path), store=store)
    again.record("start", source="cli")
    again.close()
    result = verify(again.path, store)
    assert result.ok and result.records == 3


@pytest.mark.parametrize(
    ("tamper", "bad_line", "why"),
    [
        ("change", 3, "hash does not match"),
        ("delete", 3, "seq 4 where 3"),
        ("reorder", 2, "seq 3 where 2"),
        ("rehash", 4, "prev does not match"),  # a changed record with its hash recomputed
        ("garbage", 2, "not a JSON record"),
    ],
)
def test_a_changed_deleted_or_reordered_record_names_the_first_bad_line(
    store, tamper, bad_line, why
) -> None:
    trail = _trail(store)
    trail.close()
    lines = _lines(trail.path)
    if tamper == "change":
        lines[2] = lines[2].replace('"accepted":true', '"accepted":false')
    elif tamper == "delete":
        del lines[2]
    elif tamper == "reorder":
        lines[1], lines[2] = lines[2], lines[1]
    elif tamper == "rehash":
        rec = json.loads(lines[2])
        rec["new"] = 99.0
        body = {k: v for k, v in rec.items() if k != "hash"}
        rec["hash"] = hashlib.sha256(canonical(body).encode()).hexdigest()
        lines[2] = canonical(rec)
    else:
        lines[1] = "{not json"
    _write(trail.path, lines)
    result = verify(trail.path)
    assert not result.ok and result.bad_line == bad_line and why in result.problem


def test_records_deleted_from_the_end_are_found_with_the_store(store) -> None:
    trail = _trail(store)
    trail.close()
    _write(trail.path, _lines(trail.path)[:-2])
    assert verify(trail.path).ok  # the chain alone cannot see a cut tail
    result = verify(trail.path, store)
    assert not result.ok and "#5" in result.problem and "records deleted from the end" in (
        result.problem)


def test_credentials_never_reach_the_trail(store) -> None:
    trail = AuditTrail(audit_path_for(store.path), store=store)
    trail.record("setting", key="mode", new="manual", source="mqtt:alice", accepted=True,
                 password="hunter2", mqtt_token="tok-123", hmac_key="00ff" * 8,
                 details={"api_key": "k-456", "broker": "mqtt://bob:s3cret@broker:1883"},
                 key_id="alice-2026")
    trail.close()
    text = trail.path.read_text()
    for secret in ("hunter2", "tok-123", "00ff00ff", "k-456", "s3cret"):
        assert secret not in text
    rec = json.loads(_lines(trail.path)[0])
    assert rec["key"] == "mode" and rec["key_id"] == "alice-2026"  # not credentials
    assert rec["redacted"] == ["api_key", "hmac_key", "mqtt_token", "password"]
    assert rec["details"]["broker"] == "mqtt://***@broker:1883"
    assert verify(trail.path).ok


def test_a_huge_payload_is_cut(store) -> None:
    trail = AuditTrail(audit_path_for(store.path), store=store)
    trail.record("setting", key="mode", new="x" * 3_000_000, source="mqtt:?", accepted=False,
                 reason="not a mode", old=float("nan"))
    trail.close()
    assert trail.path.stat().st_size < 2000
    rec = json.loads(_lines(trail.path)[0])
    assert rec["new"].endswith("(3000000 chars)") and rec["old"] == "nan"


def _ledger_days(store: LocalStore, days: int, step_s: float = 3600.0) -> None:
    for i in range(int(days * DAY_S / step_s)):
        store.add_ledger(WINTER_START_S + i * step_s,
                         {"it_kwh": i * 10.0, "facility_kwh": i * 11.0})


def test_completed_days_are_sealed_once(store) -> None:
    _ledger_days(store, 3)
    clock = ManualClock(WINTER_START_S + 2.5 * DAY_S)
    trail = AuditTrail(audit_path_for(store.path), store=store, clock=clock)
    assert trail.seal_ledger("Europe/London") == ["2026-01-05", "2026-01-06"]
    assert trail.seal_ledger("Europe/London") == []
    clock.now += DAY_S
    assert trail.seal_ledger("Europe/London") == ["2026-01-07"]
    trail.close()
    seal = next(r for _, r, _ in read_records(trail.path) if r and r["event"] == "ledger_seal")
    assert seal["rows"] == 24 and seal["totals_kwh"]["it_kwh"] == 230.0
    reopened = AuditTrail(trail.path, store=store, clock=clock)  # knows what it sealed
    assert reopened.seal_ledger("Europe/London") == []
    reopened.close()
    assert verify(trail.path, store).seals_checked == 3


def test_a_day_is_sealed_only_after_its_grace(store) -> None:
    # A tick that took its snapshot just before midnight may still be writing its row.
    _ledger_days(store, 1)
    clock = ManualClock(WINTER_START_S + DAY_S + SEAL_GRACE_S - 1.0)
    trail = AuditTrail(audit_path_for(store.path), store=store, clock=clock)
    assert trail.seal_ledger("UTC") == []
    store.add_ledger(WINTER_START_S + DAY_S - 1.0, {"it_kwh": 999.0})  # the late row
    clock.now += 1.0
    assert trail.seal_ledger("UTC") == ["2026-01-05"]
    trail.close()
    assert verify(trail.path, store).ok


@pytest.mark.parametrize("change", ["halve", "delete", "insert"])
def test_a_changed_ledger_row_of_a_sealed_day_fails_verify(store, change) -> None:
    _ledger_days(store, 2)
    trail = AuditTrail(audit_path_for(store.path), store=store,
                       clock=ManualClock(WINTER_START_S + 2 * DAY_S + SEAL_GRACE_S))
    trail.record("start", source="cli")
    trail.seal_ledger("UTC")
    trail.close()
    assert verify(trail.path, store).ok
    ts = WINTER_START_S + DAY_S + 5 * 3600.0  # a row of the second day (line 3 of the trail)
    if change == "halve":
        store._db.execute("UPDATE ledger SET it_kwh = it_kwh / 2 WHERE ts = ?", (ts,))
    elif change == "delete":
        store._db.execute("DELETE FROM ledger WHERE ts = ?", (ts,))
    else:
        store.add_ledger(ts + 1.0, {"it_kwh": 1.0})
    result = verify(trail.path, store)
    assert not result.ok and result.bad_line == 3 and "2026-01-06" in result.problem


def test_no_seal_while_rows_are_held(store) -> None:
    _ledger_days(store, 2)
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count={pages}")
    for i in range(200):
        store.add_ledger(WINTER_START_S + 2 * DAY_S + i, {"it_kwh": 1.0})
        if store.failure():
            break
    assert store.failure() is not None
    trail = AuditTrail(audit_path_for(store.path), store=store,
                       clock=ManualClock(WINTER_START_S + 3 * DAY_S + SEAL_GRACE_S))
    assert trail.seal_ledger("UTC") == []
    store._db.execute("PRAGMA max_page_count=1073741823")
    assert store.flush()
    assert trail.seal_ledger("UTC") == ["2026-01-05", "2026-01-06", "2026-01-07"]
    trail.close()


# -- the command ------------------------------------------------------------------------------
def test_cli_verify_and_show(store, capsys) -> None:
    trail = _trail(store)
    trail.close()
    assert main(["audit", "verify", "--store", str(store.path)]) == 0
    assert "intact: 5 records" in capsys.readouterr().out
    assert main(["audit", "show", "--file", str(trail.path), "--since",
                 "2026-01-05T00:00:03", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [r["seq"] for r in shown] == [4, 5] and shown[0]["source"] == "mqtt:op3"
    assert main(["audit", "show", "--file", str(trail.path)]) == 0
    assert "key=setpoint/pool old=29.0 new=30.0" in capsys.readouterr().out
    lines = _lines(trail.path)
    lines[1] = lines[1].replace("mqtt:op1", "mqtt:root")
    _write(trail.path, lines)
    assert main(["audit", "verify", "--file", str(trail.path)]) == 1
    assert f"{trail.path}:line 2: hash does not match" in capsys.readouterr().err
    assert main(["audit", "verify", "--file", str(trail.path), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["bad_line"] == 2


def test_cli_needs_a_file_or_a_store(capsys, tmp_path) -> None:
    assert main(["audit", "verify"]) == 1
    assert "give --file" in capsys.readouterr().err
    assert main(["audit", "show", "--file", str(tmp_path / "none.jsonl")]) == 1
    assert "does not exist" in capsys.readouterr().err
