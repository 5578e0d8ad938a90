"""Telemetry fault tests against real servers on 127.0.0.1 (shortened for CI).

The shipper streams rows from the local store while the server is killed with SIGKILL
and started again on the same data directory; afterwards every series is read back
(VictoriaMetrics ``/api/v1/export``, InfluxDB 1.x InfluxQL) and its samples are counted
against the store: none lost, none twice. VictoriaMetrics runs with
``-dedup.minScrapeInterval=1ms`` as docs/telemetry.md requires. The outage alarm is
checked with VictoriaMetrics stopped.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import (  # noqa: F401 - fixtures
    InfluxV1Server,
    VictoriaMetricsServer,
    influxd_server_fixture,
    victoria_metrics_dedup_fixture,
)
from thermalctl.adapters.influx import OUTAGE_ALARM, OutboxShipper, make_target
from thermalctl.adapters.store import LocalStore
from thermalctl.config.services import InfluxTarget
from thermalctl.points import Decision, Mode, Quality, Reading

pytestmark = pytest.mark.integration

SITE = "fault_site"
#: Recent enough for VictoriaMetrics' retention, fixed for the run.
T0 = math.floor(time.time() / 3600.0) * 3600.0 - 6 * 3600.0
POINTS = tuple(f"dev{i % 5}.reg{i}" for i in range(12))
#: Bounded waits [s]: they end as soon as their condition holds.
WAIT_S = 30.0


def add_tick(store: LocalStore, k: int) -> None:
    ts = T0 + 2.0 * k + 0.123
    store.add_readings([Reading(p, 100.0 * i + k, "W", Quality.GOOD, ts)
                        for i, p in enumerate(POINTS)])
    store.add_decision(Decision(ts, Mode.AUTO, "baseline", {"pod": 40000.0 + k}, {"pool": 1.0}))
    store.add_ledger(ts, {"facility_kwh": 100.0 + 0.03 * k, "it_kwh": 90.0 + 0.025 * k,
                          "reused_heat_kwh": 50.0 + 0.02 * k})


def expected_counts(store: LocalStore) -> Counter[str]:
    """Samples each series must hold: one per reading of its point, one per tick."""
    counts: Counter[str] = Counter()
    for row in store.fetch_after("readings", 0, 10**7):
        counts[f"reading_value/{row[2]}"] += 1
    counts["decision_gpu_power_cap_w_pod"] = store.count("decisions")
    counts["energy_facility_kwh"] = store.count("ledger")
    return counts


def lost_and_duplicated(expected: Counter[str], got: dict[str, list[int]]) -> tuple[int, int]:
    lost = dup = 0
    for key, n in expected.items():
        stamps = got.get(key, [])
        lost += max(0, n - len(set(stamps)))
        dup += len(stamps) - len(set(stamps))
    return lost, dup


def vm_samples(vm: VictoriaMetricsServer) -> dict[str, list[int]]:
    got: dict[str, list[int]] = {}
    match = ('{__name__=~"reading_value|decision_gpu_power_cap_w_pod|energy_facility_kwh",'
             f'site="{SITE}"}}')
    for series in vm.export(match):
        metric = series["metric"]
        assert isinstance(metric, dict)
        name = str(metric["__name__"])
        key = f"{name}/{metric['point']}" if name == "reading_value" else name
        got.setdefault(key, []).extend(series["timestamps"])  # type: ignore[arg-type]
    return got


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    s = LocalStore(tmp_path / "store.sqlite")
    yield s
    s.close()


def fast_shipper(store: LocalStore, target: InfluxTarget, **kw: object) -> OutboxShipper:
    return OutboxShipper(store, make_target(target), SITE, batch_size=300, flush_period_s=0.05,
                         initial_backoff_s=0.05, max_backoff_s=0.3, **kw)  # type: ignore[arg-type]


async def stream(store: LocalStore, start: int, ticks: int) -> int:
    """``ticks`` ticks, one every 10 ms (the store fills while the shipper ships)."""
    for k in range(start, start + ticks):
        add_tick(store, k)
        await asyncio.sleep(0.01)
    return start + ticks


async def until(predicate: object, timeout_s: float = WAIT_S) -> bool:
    assert callable(predicate)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.02)
    return bool(predicate())


# -- VictoriaMetrics ------------------------------------------------------------------------
async def test_victoria_metrics_sigkill_mid_run_loses_nothing_duplicates_nothing(
    store: LocalStore, victoria_metrics_dedup: VictoriaMetricsServer
) -> None:
    vm = victoria_metrics_dedup
    target = InfluxTarget(url=vm.url, bucket="b", org="o", timeout_s=2.0)
    shipper = fast_shipper(store, target)
    shipper.start()
    k = await stream(store, 0, 150)                  # ~1.5 s: acknowledged, still in VM's memory
    assert await until(lambda: shipper.backlog() == 0)
    acked_before_kill = shipper.shipped_rows
    vm.kill()                                        # SIGKILL: VM had no chance to flush
    k = await stream(store, k, 50)
    assert await until(lambda: shipper.failing is not None)
    vm.start()                                       # same port, data directory and flags
    k = await stream(store, k, 50)
    assert await until(lambda: shipper.failing is None and shipper.backlog() == 0)
    await shipper.stop()
    shipper.close()
    assert shipper.rewinds >= 1 and shipper.resent_rows >= acked_before_kill

    restarted = fast_shipper(store, target)          # the shipper restarts too: it sends the
    restarted.drain()                                # unconfirmed rows again
    restarted.close()

    expected = expected_counts(store)
    lost, dup = lost_and_duplicated(expected, vm_samples(vm))
    print(f"\nVictoriaMetrics SIGKILL mid-run: {sum(expected.values())} samples expected, "
          f"{lost} lost, {dup} duplicated; {shipper.resent_rows + restarted.resent_rows} rows "
          f"sent twice (absorbed by -dedup.minScrapeInterval=1ms)")
    assert (lost, dup) == (0, 0)


async def test_victoria_metrics_killed_and_back_between_two_batches(
    store: LocalStore, victoria_metrics_dedup: VictoriaMetricsServer
) -> None:
    """The shipper sees no failed request at all: only the server's process start tells."""
    vm = victoria_metrics_dedup
    offset = [0.0]  # the shipper's clock runs ahead only after the restart happened
    shipper = OutboxShipper(store, make_target(InfluxTarget(url=vm.url, timeout_s=2.0)), SITE,
                            clock=lambda: time.time() + offset[0])
    for k in range(100):
        add_tick(store, k)
    shipper.drain()                                  # acknowledged: 204
    vm.kill()
    vm.start()                                       # back before the next batch
    for k in range(100, 120):
        add_tick(store, k)
    shipper.drain()                                  # succeeds: nothing looks wrong
    offset[0] = shipper.confirm_after_s + 1.0        # the horizon has passed: the shipper asks
    shipper.drain()                                  # VM, sees a new process, sends again
    shipper.close()
    expected = expected_counts(store)
    lost, dup = lost_and_duplicated(expected, vm_samples(vm))
    print(f"\nVictoriaMetrics SIGKILL between batches: {sum(expected.values())} samples "
          f"expected, {lost} lost, {dup} duplicated; {shipper.resent_rows} rows sent twice")
    assert shipper.rewinds == 1
    assert (lost, dup) == (0, 0)


async def test_outage_alarm_with_victoria_metrics_stopped(
    store: LocalStore, victoria_metrics_dedup: VictoriaMetricsServer
) -> None:
    vm = victoria_metrics_dedup
    shipper = fast_shipper(store, InfluxTarget(url=vm.url, timeout_s=2.0), outage_alarm_s=1.0)
    shipper.start()
    k = await stream(store, 0, 20)
    assert await until(lambda: shipper.backlog() == 0)
    assert shipper.alarms(time.time()) == []
    vm.stop()
    k = await stream(store, k, 20)
    assert await until(lambda: shipper.alarms(time.time()) != [])
    (alarm,) = shipper.alarms(time.time())
    assert alarm.code == OUTAGE_ALARM
    assert "rows wait in the local outbox" in alarm.message and vm.url in alarm.message
    vm.start()
    assert await until(lambda: shipper.alarms(time.time()) == [])
    assert shipper.backlog() == 0
    await shipper.stop()
    shipper.close()
    lost, dup = lost_and_duplicated(expected_counts(store), vm_samples(vm))
    assert (lost, dup) == (0, 0)


# -- InfluxDB 1.x ---------------------------------------------------------------------------
def influx_samples(server: InfluxV1Server) -> dict[str, list[int]]:
    got: dict[str, list[int]] = {}
    queries = {
        "reading": f"SELECT value FROM reading WHERE site='{SITE}' GROUP BY point",
        "decision": f"SELECT gpu_power_cap_w_pod FROM decision WHERE site='{SITE}'",
        "energy": f"SELECT facility_kwh FROM energy WHERE site='{SITE}'",
    }
    for kind, q in queries.items():
        result = server.query(q + " LIMIT 1000000", db="tc")
        for series in result["results"][0].get("series", []):  # type: ignore[index]
            tags = series.get("tags") or {}
            key = {"reading": f"reading_value/{tags.get('point')}",
                   "decision": "decision_gpu_power_cap_w_pod",
                   "energy": "energy_facility_kwh"}[kind]
            got.setdefault(key, []).extend(v[0] for v in series["values"])
    return got


async def test_influxdb_1x_sigkill_mid_run_loses_nothing_duplicates_nothing(
    store: LocalStore, influxd_server: InfluxV1Server
) -> None:
    server = influxd_server
    server.query("CREATE DATABASE tc")
    target = InfluxTarget(url=server.url, bucket="tc", api="v1", timeout_s=3.0)
    shipper = fast_shipper(store, target)
    shipper.start()
    k = await stream(store, 0, 150)
    assert await until(lambda: shipper.backlog() == 0)
    server.kill()                                    # InfluxDB fsyncs its WAL before the 204
    k = await stream(store, k, 50)
    assert await until(lambda: shipper.failing is not None)
    await asyncio.to_thread(server.start)
    k = await stream(store, k, 50)
    assert await until(lambda: shipper.failing is None and shipper.backlog() == 0)
    await shipper.stop()
    shipper.close()
    restarted = fast_shipper(store, target)
    restarted.drain()
    restarted.close()
    expected = expected_counts(store)
    lost, dup = lost_and_duplicated(expected, influx_samples(server))
    print(f"\nInfluxDB 1.x SIGKILL mid-run: {sum(expected.values())} samples expected, "
          f"{lost} lost, {dup} duplicated; {shipper.resent_rows + restarted.resent_rows} rows "
          f"sent twice (overwritten: same series and timestamp)")
    assert (lost, dup) == (0, 0)
