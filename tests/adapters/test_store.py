"""Local store: durable across restarts, ledger as a counters frame, outbox cursors."""

from __future__ import annotations

import math

import pytest

from thermalctl.adapters.store import LocalStore
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
