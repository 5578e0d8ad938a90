"""Outbox shipper: line protocol, exactly-once delivery into VictoriaMetrics, outage,
restart, rejected data, and the optional InfluxDB 1.x target."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.servers import (  # noqa: F401 - fixtures
    InfluxV1Server,
    VictoriaMetricsServer,
    influxd_server_fixture,
    victoria_metrics_dedup_fixture,
    victoria_metrics_fixture,
)
from thermalctl.adapters.influx import (
    InfluxRejected,
    InfluxUnavailable,
    OutboxShipper,
    ServerEpoch,
    make_target,
    row_lines,
)
from thermalctl.adapters.store import LocalStore
from thermalctl.config.services import InfluxTarget
from thermalctl.points import Alarm, AlarmSeverity, Decision, Mode, Quality, Reading

SITE = "test_site"
#: Recent enough for VictoriaMetrics' retention window, fixed for the whole run.
T0 = math.floor(time.time() / 3600.0) * 3600.0 - 6 * 3600.0
POINTS = ("it_meter.total_power", "loop.supply_temp", "pool_heat_meter.power")


def fill(store: LocalStore, ticks: int, start_tick: int = 0, bad_every: int = 0) -> int:
    """``ticks`` ticks of readings, a decision and a ledger row; return good readings."""
    good = 0
    for k in range(start_tick, start_tick + ticks):
        ts = T0 + 2.0 * k + 0.123456
        readings = []
        for i, point in enumerate(POINTS):
            if bad_every and k % bad_every == 0 and i == 0:
                readings.append(Reading.bad(point, "W", ts, "timeout"))
            else:
                readings.append(Reading(point, 1000.0 * i + k, "W", Quality.GOOD, ts))
                good += 1
        store.add_readings(readings, {"it_meter.total_power": "it.power_w"})
        store.add_decision(Decision(ts, Mode.AUTO, "baseline", {"pod": 60000.0 - k},
                                    {"pool": 80000.0}, True, 0.0))
        store.add_ledger(ts, {"facility_kwh": 100.0 + 0.02 * k, "it_kwh": 90.0 + 0.018 * k,
                              "reused_heat_kwh": 50.0 + 0.01 * k})
    return good


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    s = LocalStore(tmp_path / "store.sqlite")
    yield s
    s.close()


def vm_target(vm: VictoriaMetricsServer, batch_size: int = 5000) -> InfluxTarget:
    return InfluxTarget(url=vm.url, org="o", bucket="b", batch_size=batch_size, timeout_s=2.0)


def assert_exactly_once(vm: VictoriaMetricsServer, ticks: int, good: int) -> None:
    series = vm.export(f'{{__name__="reading_value",site="{SITE}"}}')
    stamps = [t for s in series for t in s["timestamps"]]  # type: ignore[union-attr]
    assert len(stamps) == good
    for s in series:
        ts = s["timestamps"]
        assert len(ts) == len(set(ts)), f"duplicate samples in {s['metric']}"  # type: ignore[arg-type]
    assert vm.sample_count(f'{{__name__="decision_gpu_power_cap_w_pod",site="{SITE}"}}') == ticks
    assert vm.sample_count(f'{{__name__="energy_facility_kwh",site="{SITE}"}}') == ticks


# -- line protocol --------------------------------------------------------------------------
def test_reading_line_has_tags_field_and_microsecond_time() -> None:
    row = (1, 1_767_571_200.1234567, "loop.supply_temp", "loop.supply_temp_c", 35.5, "degC",
           "good", "")
    (line,) = row_lines("readings", "pool", [row])
    assert line == ("reading,point=loop.supply_temp,quality=good,signal=loop.supply_temp_c,"
                    "site=pool,unit=degC value=35.5 1767571200123457000")


def test_bad_reading_keeps_reason_and_drops_nan() -> None:
    row = (1, 10.0, "m.p", None, math.nan, "W", "bad", "timeout after 1 s")
    (line,) = row_lines("readings", "s", [row])
    assert "value=" not in line and 'reason="timeout after 1 s"' in line
    assert "signal=" not in line


def test_decision_alarm_energy_lines() -> None:
    body = ('{"dump_on": true, "dump_heat_request_w": 0.0, "gpu_power_cap_w": {"pod": 6e4},'
            ' "sink_heat_request_w": {"pool": 8e4}, "backup_heat_w": {}, "reasons": ["x y"]}')
    (dec,) = row_lines("decisions", "s", [(1, 1.0, "auto", "baseline", body)])
    assert dec.startswith("decision,mode=auto,policy=baseline,site=s ")
    assert "dump_on=1i" in dec and "gpu_power_cap_w_pod=60000" in dec and 'reasons="x y"' in dec
    (alarm,) = row_lines("alarms", "s", [(1, 2.0, "coolant.supply_high", "warning", "hot", 1)])
    assert alarm == ('alarm,code=coolant.supply_high,severity=warning,site=s active=1i,'
                     'message="hot" 2000000000')
    rows = [(1, 0.0, 10.0, 8.0, 5.0, None, None), (2, 3600.0, 20.0, 16.0, 11.0, None, None)]
    first, second = row_lines("ledger", "s", rows)
    assert "pue" not in first
    # interval: facility 10 kWh, IT 8 kWh, reused 6 kWh -> PUE 1.25, ERF 0.6, ERE 0.5
    assert "pue=1.25" in second and "erf=0.6" in second and "ere=0.5" in second


# -- shipper with a fake target -------------------------------------------------------------
class FakeTarget:
    label = "http://fake:8086"

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.down = False
        self.poison = "it_meter.total_power"
        self.reject_poison = False
        self.calls = 0
        self.server_epoch: ServerEpoch | None = ServerEpoch("1")

    def epoch(self) -> ServerEpoch | None:
        if self.down:
            self.calls += 1
            raise InfluxUnavailable("connection refused")
        return self.server_epoch

    def write(self, lines: Sequence[str]) -> None:
        self.calls += 1
        if self.down:
            raise InfluxUnavailable("connection refused")
        if self.reject_poison and any(self.poison in line for line in lines):
            raise InfluxRejected("HTTP 400: field type conflict")
        self.lines.extend(lines)

    def close(self) -> None:
        pass


def test_rejected_row_is_isolated_and_skipped(store: LocalStore) -> None:
    store.add_readings([Reading(p, 1.0, "W", Quality.GOOD, T0) for p in POINTS])
    target = FakeTarget()
    target.reject_poison = True
    shipper = OutboxShipper(store, target, SITE, batch_size=100)
    shipper.drain()
    assert shipper.rejected_rows == 1
    assert len([ln for ln in target.lines if ln.startswith("reading")]) == len(POINTS) - 1
    assert store.cursor("influx.readings.acked") == len(POINTS)
    assert shipper.backlog() == 0


async def test_outage_logged_once_and_recovery_once(
    store: LocalStore, caplog: pytest.LogCaptureFixture
) -> None:
    fill(store, 5)
    target = FakeTarget()
    target.down = True
    shipper = OutboxShipper(store, target, SITE, flush_period_s=0.02, initial_backoff_s=0.01,
                            max_backoff_s=0.02)
    caplog.set_level(logging.INFO, logger="thermalctl.adapters.influx")
    shipper.start()
    for _ in range(200):
        if target.calls >= 4:
            break
        await asyncio.sleep(0.01)
    assert target.calls >= 4 and shipper.backlog() > 0
    target.down = False
    for _ in range(200):
        if shipper.backlog() == 0:
            break
        await asyncio.sleep(0.01)
    await shipper.stop()
    assert shipper.backlog() == 0
    messages = [r.getMessage() for r in caplog.records]
    assert sum("write failed" in m for m in messages) == 1
    assert sum("recovered" in m for m in messages) == 1
    readings = [ln for ln in target.lines if ln.startswith("reading")]
    assert len(readings) == len(set(readings)) == 5 * len(POINTS)


# -- VictoriaMetrics -----------------------------------------------------------------------
@pytest.mark.integration
def test_every_point_arrives_exactly_once(
    store: LocalStore, victoria_metrics: VictoriaMetricsServer
) -> None:
    ticks = 400
    good = fill(store, ticks, bad_every=7)
    store.add_alarms([Alarm("coolant.supply_high", "hot", AlarmSeverity.WARNING, T0 + 1.0),
                      Alarm("coolant.supply_high", "hot", AlarmSeverity.WARNING, T0 + 9.0,
                            active=False)])
    shipper = OutboxShipper(store, make_target(vm_target(victoria_metrics)), SITE,
                            batch_size=500)
    assert shipper.drain() == ticks * (len(POINTS) + 2) + 2
    shipper.close()
    assert_exactly_once(victoria_metrics, ticks, good)
    (alarm,) = victoria_metrics.export(f'{{__name__="alarm_active",site="{SITE}"}}')
    assert alarm["values"] == [1, 0]
    assert alarm["metric"]["code"] == "coolant.supply_high"  # type: ignore[index]


@pytest.mark.integration
async def test_outage_and_restart_lose_nothing_and_duplicate_nothing(
    store: LocalStore, victoria_metrics_dedup: VictoriaMetricsServer
) -> None:
    victoria_metrics = victoria_metrics_dedup
    good = fill(store, 100)
    target = vm_target(victoria_metrics, batch_size=64)
    shipper = OutboxShipper(store, make_target(target), SITE, batch_size=64,
                            flush_period_s=0.05, initial_backoff_s=0.05, max_backoff_s=0.2)
    shipper.start()
    for _ in range(400):
        if shipper.backlog() == 0:
            break
        await asyncio.sleep(0.02)
    assert shipper.backlog() == 0

    victoria_metrics.stop()                              # outage: the store keeps filling
    good += fill(store, 100, start_tick=100)
    for _ in range(400):
        if shipper.failing is not None:
            break
        await asyncio.sleep(0.02)
    assert shipper.failing is not None
    victoria_metrics.start()                             # same port, same data directory
    for _ in range(500):
        if shipper.failing is None and shipper.backlog() == 0:
            break
        await asyncio.sleep(0.02)
    await shipper.stop()
    shipper.close()
    assert shipper.backlog() == 0

    good += fill(store, 50, start_tick=200)              # a new shipper resumes from the
    resumed = OutboxShipper(store, make_target(target), SITE, batch_size=64)  # confirmed cursor
    assert resumed.drain() >= 50 * (len(POINTS) + 2)    # and sends the unconfirmed rows again
    resumed.close()
    assert_exactly_once(victoria_metrics, 250, good)


# -- InfluxDB 1.x (optional v1 target) -----------------------------------------------------
@pytest.mark.integration
def test_v1_target_writes_to_influxdb_1x(
    store: LocalStore, influxd_server: InfluxV1Server
) -> None:
    influxd_server.query("CREATE DATABASE thermalctl")
    good = fill(store, 30, bad_every=5)
    target = InfluxTarget(url=influxd_server.url, bucket="thermalctl", api="v1", timeout_s=5.0)
    shipper = OutboxShipper(store, make_target(target), SITE)
    shipper.drain()
    shipper.drain()  # nothing left: no second copy
    shipper.close()
    resumed = OutboxShipper(store, make_target(target), SITE)
    resumed.drain()  # the unconfirmed rows again: InfluxDB overwrites the same points
    resumed.close()
    result = influxd_server.query(
        f"SELECT count(value) FROM reading WHERE site='{SITE}'", db="thermalctl")
    series = result["results"][0]["series"][0]  # type: ignore[index]
    assert series["values"][0][1] == good
    result = influxd_server.query("SELECT count(pue) FROM energy", db="thermalctl")
    assert result["results"][0]["series"][0]["values"][0][1] == 29  # type: ignore[index]
