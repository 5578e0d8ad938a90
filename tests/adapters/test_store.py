"""Local store: durable across restarts, ledger as a counters frame, outbox cursors."""

from __future__ import annotations

import math

import pytest

from thermalctl.adapters.store import (
    MEASURED,
    MIXED,
    SIMULATED,
    LocalStore,
    StoreRefused,
    store_origin,
)
from thermalctl.points import Alarm, AlarmSeverity, Decision, Mode, Quality, Reading


def test_everything_survives_a_restart(tmp_path) -> None:
    path = tmp_path / "s.sqlite"
    with LocalStore(path) as store:
        store.add_readings(
            [
                Reading("m.p", 1.5, "W", Quality.GOOD, 10.0),
                Reading.bad("m.q", "degC", 10.0, "timeout"),
            ],
            {"m.p": "it.power_w"},
        )
        store.add_decision(Decision(10.0, Mode.AUTO, "baseline", {"pod": 1e4}))
        store.add_alarms([Alarm("x", "msg", AlarmSeverity.WARNING, 10.0)])
        store.add_ledger(10.0, {"it_kwh": 1.0, "facility_kwh": 1.2})
        store.set_cursor("influx.readings", 1)
    with LocalStore(path) as store:
        frame = store.readings_frame()
        assert frame["signal"].iloc[0] == "it.power_w" and frame["signal"].isna().iloc[1]
        assert math.isnan(frame["value"].iloc[1]) and frame["reason"].iloc[1] == "timeout"
        assert store.count("decisions") == 1 and store.alarms()[0][1] == "x"
        assert store.cursor("influx.readings") == 1
        ledger = store.counters_frame()
        assert ledger.index.tz is not None and ledger.index.name == "timestamp"
        assert ledger["it_kwh"].iloc[0] == 1.0 and math.isnan(ledger["reused_heat_kwh"].iloc[0])


def test_wal_mode(tmp_path) -> None:
    with LocalStore(tmp_path / "s.sqlite") as store:
        mode = store._db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_unknown_ledger_column_is_refused(tmp_path) -> None:
    with LocalStore(tmp_path / "s.sqlite") as store, pytest.raises(ValueError, match="gas_kwh"):
        store.add_ledger(1.0, {"gas_kwh": 3.0})


def test_fetch_after_pages_in_id_order(tmp_path) -> None:
    with LocalStore(tmp_path / "s.sqlite") as store:
        store.add_readings(Reading("p", float(i), "W", Quality.GOOD, float(i)) for i in range(10))
        first = store.fetch_after("readings", 0, 4)
        rest = store.fetch_after("readings", int(first[-1][0]), 100)
        assert [r[4] for r in first + rest] == [float(i) for i in range(10)]


# -- origin: who wrote the store --------------------------------------------------------------
def test_a_new_store_records_its_origin(tmp_path) -> None:
    with LocalStore(tmp_path / "d.sqlite", origin=SIMULATED) as store:
        assert store.origin == SIMULATED
    assert store_origin(tmp_path / "d.sqlite") == SIMULATED
    with LocalStore(tmp_path / "d.sqlite") as store:  # a reader keeps it as it was
        assert store.origin == SIMULATED
    assert store_origin(tmp_path / "absent.sqlite") is None


def test_measured_data_refuses_a_simulator(tmp_path) -> None:
    path = tmp_path / "site.sqlite"
    with LocalStore(path, origin=MEASURED) as store:
        store.add_ledger(1.0, {"it_kwh": 1.0})
    with pytest.raises(StoreRefused, match="holds measured data"):
        LocalStore(path, origin=SIMULATED)
    with LocalStore(path) as store:
        assert store.count("ledger") == 1


def test_a_store_from_before_origins_with_data_counts_as_measured(tmp_path) -> None:
    path = tmp_path / "old.sqlite"
    with LocalStore(path) as store:
        store.add_ledger(1.0, {"it_kwh": 1.0})
        store._db.execute("DELETE FROM meta WHERE key='origin'")
    assert store_origin(path) == MEASURED
    with pytest.raises(StoreRefused):
        LocalStore(path, origin=SIMULATED)


def test_run_on_a_demo_store_warns_and_marks_it_mixed(tmp_path, caplog) -> None:
    path = tmp_path / "demo.sqlite"
    LocalStore(path, origin=SIMULATED).close()
    with caplog.at_level("WARNING"), LocalStore(path, origin=MEASURED) as store:
        assert store.origin == MIXED
    assert "written by the simulator" in caplog.text
    with pytest.raises(StoreRefused):  # and no demo may delete it any more
        LocalStore(path, origin=SIMULATED)


def test_a_file_that_is_not_a_store_is_refused(tmp_path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("precious\n" * 100)
    with pytest.raises(StoreRefused, match="not a thermalctl local store"):
        store_origin(other)


# -- retention --------------------------------------------------------------------------------
def _aged_store(tmp_path) -> LocalStore:
    store = LocalStore(tmp_path / "r.sqlite")
    for day in range(10):  # one batch of readings, a decision and a ledger row per day
        ts = day * 86400.0
        store.add_readings([Reading("p", float(day), "W", Quality.GOOD, ts)] * 3)
        store.add_decision(Decision(ts, Mode.AUTO, "baseline", {"pod": 1e4}))
        store.add_ledger(ts, {"it_kwh": float(day)})
        store.add_alarms([Alarm("x", "m", AlarmSeverity.WARNING, ts)])
    return store


def test_retention_without_telemetry_drops_old_readings_and_decisions_only(tmp_path) -> None:
    with _aged_store(tmp_path) as store:
        deleted = store.drop_old_rows(5 * 86400.0, shipped_only=False)
        assert deleted == {"readings": 15, "decisions": 5}
        assert store.readings_frame()["ts"].min() == 5 * 86400.0
        assert store.count("ledger") == 10 and store.count("alarms") == 10


def test_retention_keeps_what_is_not_shipped_yet(tmp_path) -> None:
    with _aged_store(tmp_path) as store:
        assert store.drop_old_rows(5 * 86400.0, shipped_only=True) == {
            "readings": 0, "decisions": 0}  # no shipper has shipped anything yet
        store.set_cursor("influx.readings", 6)  # readings shipped through id 6 (day 1)
        store.set_cursor("influx.decisions", 10)
        store.set_cursor("backup.readings", 3)  # a second shipper, further behind
        assert store.drop_old_rows(5 * 86400.0, shipped_only=True) == {
            "readings": 3, "decisions": 5}
        assert store.count("readings") == 27
