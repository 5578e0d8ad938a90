"""The local store under disk trouble: full, read-only, unwritable at start.

Disk full is produced two ways: SQLite's own ``PRAGMA max_page_count`` (the database
cannot grow past it and answers SQLITE_FULL, "database or disk is full", the very
error a full disk gives; runs everywhere) and a real 2 MB tmpfs filled up (needs
``mount``; skipped where mounting is not permitted). Read-only at start is a tmpfs
remounted ``ro`` (root ignores file modes, so ``chmod`` would prove nothing here);
read-only at run time is a read-only connection (see its test for why). The
unwritable-at-start cases that need no mount use paths no one can write as root
either: a store whose parent is a regular file, and a store path that is a directory.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import POOL_SITE, REPO
from thermalctl.adapters.errors import AdapterError
from thermalctl.adapters.store import LocalStore, StoreError
from thermalctl.points import Alarm, AlarmSeverity, Quality, Reading

BATCH = 50  # readings per write, about one tick of a small site


def _batch(start: int) -> list[Reading]:
    return [
        Reading("p", float(i), "W", Quality.GOOD, float(i)) for i in range(start, start + BATCH)
    ]


def _values(path: Path) -> list[float]:
    with sqlite3.connect(path) as db:
        return [r[0] for r in db.execute("SELECT value FROM readings ORDER BY id")]


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def _fill_until_failure(store: LocalStore, start: int = 0, max_writes: int = 5000) -> int:
    """Write batches until the store reports a failure (bounded); the next start value."""
    n = start
    for _ in range(max_writes):
        store.add_readings(_batch(n))
        n += BATCH
        if store.failure() is not None:
            return n
    raise AssertionError(f"no write failure after {max_writes} writes")


def test_sqlite_full_holds_rows_and_writes_them_in_order_later(tmp_path) -> None:
    path = tmp_path / "s.sqlite"
    store = LocalStore(path)
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count={pages + 8}")  # room for a few batches only
    end = _fill_until_failure(store)
    # a few more ticks while full: nothing raises, everything is held
    for _ in range(5):
        store.add_readings(_batch(end))
        store.add_ledger(float(end), {"it_kwh": float(end)})
        end += BATCH
    failure = store.failure()
    assert failure is not None and "full" in failure and str(path) in failure
    assert store.held_rows > 5 * BATCH and store.dropped_rows == 0
    store._db.execute("PRAGMA max_page_count=1073741823")  # space is back
    store.add_readings(_batch(end))
    end += BATCH
    assert store.failure() is None and store.held_rows == 0
    store.close()
    assert _values(path) == [float(i) for i in range(end)]  # every row, once, in order
    assert _integrity(path) == "ok"


def test_an_alarm_raised_while_full_is_written_before_its_clear(tmp_path) -> None:
    """Old code: the 'raised' row was lost to the full disk and only 'cleared' arrived."""
    store = LocalStore(tmp_path / "s.sqlite")
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count={pages + 4}")
    _fill_until_failure(store)
    store.add_alarms([Alarm("store.x", "raised", AlarmSeverity.WARNING, 1.0)])
    store._db.execute("PRAGMA max_page_count=1073741823")
    store.add_alarms([Alarm("store.x", "raised", AlarmSeverity.WARNING, 2.0, active=False)])
    assert [(row[0], row[4]) for row in store.alarms()] == [(1.0, True), (2.0, False)]
    store.close()


def test_the_hold_is_bounded_and_sacrifices_readings_first(tmp_path) -> None:
    store = LocalStore(tmp_path / "s.sqlite", max_held_rows=4 * BATCH)
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count={pages + 4}")
    start = _fill_until_failure(store)
    held_before = store.held_rows
    store.add_alarms([Alarm("a", "m", AlarmSeverity.WARNING, 1.0)])
    store.add_ledger(1.0, {"it_kwh": 1.0})
    for i in range(20):
        store.add_readings(_batch(start + i * BATCH))
    assert store.held_rows == 4 * BATCH
    assert store.dropped_rows == held_before + 2 + 20 * BATCH - 4 * BATCH
    assert len(store._held["alarms"]) == 1 and len(store._held["ledger"]) == 1  # kept
    newest = store._held["readings"][-1].rows[-1][3]
    assert newest == float(start + 20 * BATCH - 1)  # the newest readings survive
    store._db.execute("PRAGMA max_page_count=1073741823")
    assert store.flush() and store.count("alarms") == 1 and store.count("ledger") == 1
    store.close()


def test_meta_and_cursor_writes_are_held_too(tmp_path) -> None:
    store = LocalStore(tmp_path / "s.sqlite")
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count={pages + 4}")
    _fill_until_failure(store)
    store.set_meta("operator_settings", '{"mode": "manual"}')
    store.set_cursor("influx.readings", 7)
    assert store.get_meta("operator_settings") == '{"mode": "manual"}'
    assert store.cursor("influx.readings") == 7
    store._db.execute("PRAGMA max_page_count=1073741823")
    assert store.flush()
    store.close()
    with LocalStore(tmp_path / "s.sqlite") as again:
        assert again.get_meta("operator_settings") == '{"mode": "manual"}'
        assert again.cursor("influx.readings") == 7


def test_a_bug_still_raises(tmp_path) -> None:
    """Only I/O failures are held: a misuse (closed database) is not hidden."""
    store = LocalStore(tmp_path / "s.sqlite")
    store._db.close()
    with pytest.raises(sqlite3.ProgrammingError):
        store.add_readings(_batch(0))


# -- unwritable at start, without mounting anything -------------------------------------------
def test_parent_is_a_file_gives_a_store_error_naming_the_path(tmp_path) -> None:
    blocker = tmp_path / "var"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot create its directory") as info:
        LocalStore(blocker / "site.sqlite")
    assert isinstance(info.value, AdapterError) and str(blocker) in str(info.value)


def test_a_directory_as_store_gives_a_store_error(tmp_path) -> None:
    with pytest.raises(StoreError, match=f"local store {tmp_path}: cannot open for writing"):
        LocalStore(tmp_path)


def _thermalctl(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THERMALCTL_")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "thermalctl", *args], cwd=cwd, env=env, capture_output=True,
        text=True, timeout=60,
    )


@pytest.mark.parametrize("command", ["run", "demo"])
def test_cli_reports_an_unwritable_store_without_a_traceback(tmp_path, command) -> None:
    blocker = tmp_path / "var"
    blocker.write_text("not a directory")
    done = _thermalctl(command, "--site", str(POOL_SITE), "--store", str(blocker / "s.sqlite"),
                       cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert f"thermalctl {command}: local store {blocker / 's.sqlite'}" in done.stderr


# -- a real small file system -----------------------------------------------------------------
@dataclass
class Tmpfs:
    path: Path

    def remount(self, mode: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{mode}", str(self.path)], check=True,
                       capture_output=True)

    def free_bytes(self) -> int:
        st = os.statvfs(self.path)
        return st.f_bavail * st.f_frsize


@pytest.fixture
def tmpfs(tmp_path) -> Iterator[Tmpfs]:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()}); the "
                    "max_page_count tests cover SQLITE_FULL")
    try:
        yield Tmpfs(mnt)
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_real_disk_full_then_space_freed(tmpfs) -> None:
    path = tmpfs.path / "s.sqlite"
    store = LocalStore(path)
    filler = tmpfs.path / "filler"
    filler.write_bytes(b"\0" * max(0, tmpfs.free_bytes() - 256 * 1024))
    end = _fill_until_failure(store)
    for _ in range(3):
        store.add_readings(_batch(end))
        end += BATCH
    assert store.failure() is not None and store.held_rows >= 3 * BATCH
    filler.unlink()
    store.add_readings(_batch(end))
    end += BATCH
    assert store.failure() is None and store.held_rows == 0
    store.close()
    assert _values(path) == [float(i) for i in range(end)]
    assert _integrity(path) == "ok"


def test_database_turned_read_only_under_a_running_store(tmp_path) -> None:
    """Linux refuses to remount a file system read-only while a file on it is open for
    writing, so the run-time case is emulated: the store's connection is swapped for a
    read-only one (``mode=ro``), which answers every write with SQLITE_READONLY, "attempt
    to write a readonly database", the code SQLite gives for a read-only file or file
    system (and the kernel's errors=remount-ro gives an I/O error, held the same way)."""
    path = tmp_path / "s.sqlite"
    store = LocalStore(path)
    store.add_readings(_batch(0))
    rw = store._db
    store._db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, check_same_thread=False,
                                isolation_level=None)
    for i in range(1, 4):
        store.add_readings(_batch(i * BATCH))
    failure = store.failure()
    assert failure is not None and "readonly" in failure and store.held_rows == 3 * BATCH
    store._db.close()
    store._db = rw
    store.add_readings(_batch(4 * BATCH))
    assert store.failure() is None
    store.close()
    assert _values(path) == [float(i) for i in range(5 * BATCH)]


@pytest.mark.parametrize("existing", [False, True])
def test_read_only_file_system_at_start_is_a_store_error(tmpfs, existing) -> None:
    path = tmpfs.path / "s.sqlite"
    if existing:
        LocalStore(path).close()
    tmpfs.remount("ro")
    try:
        with pytest.raises(StoreError, match=f"local store {path}: cannot open for writing"):
            LocalStore(path)
        with pytest.raises(StoreError, match="lock file"):
            LocalStore(path, exclusive=True)
    finally:
        tmpfs.remount("rw")
