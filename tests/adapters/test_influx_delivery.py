"""Outbox shipper logic with a fake clock and an in-memory server: confirmation behind the
persistence horizon, re-sending after a server restart, the outage alarm, the last
flush at stop. (The same against real servers: tests/integration/test_telemetry_faults.py.)"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from thermalctl.adapters.influx import (
    OUTAGE_ALARM,
    TABLES,
    InfluxUnavailable,
    OutboxShipper,
    ServerEpoch,
    row_lines,
)
from thermalctl.adapters.store import LocalStore
from thermalctl.points import AlarmSeverity, Decision, Mode, Quality, Reading

SITE = "unit_site"
T0 = 1_767_571_200.0
#: The fake server keeps acknowledged lines in memory this long before they are stored
#: [s] (VictoriaMetrics 1.79: up to ~14 s); the shipper's horizon must be longer.
SERVER_FLUSH_S = 10.0
HORIZON_S = 30.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class FakeServer:
    """Acknowledges writes at once, stores them only ``SERVER_FLUSH_S`` later, can crash.

    Points are keyed by their line (same series, same timestamp, same value): a line
    written twice is one point, as in InfluxDB or VictoriaMetrics with dedup.
    """

    label = "http://fake-vm:8428"

    def __init__(self, clock: Clock, *, tells_epoch: bool = True, dedup_s: float = 0.001) -> None:
        self.clock = clock
        self.tells_epoch = tells_epoch
        self.dedup_s = dedup_s
        self.stored: Counter[str] = Counter()
        self.memory: list[tuple[float, str]] = []
        self.process = 1
        self.requests = 0
        self.down = False
        self.refusal = "connection refused"

    def _persist(self) -> None:
        now = self.clock()
        keep = []
        for t, line in self.memory:
            if now - t >= SERVER_FLUSH_S:
                self.stored[line] += 1
            else:
                keep.append((t, line))
        self.memory = keep

    def write(self, lines: Sequence[str]) -> None:
        if self.down:
            raise InfluxUnavailable(self.refusal)
        self.requests += 1
        self._persist()
        self.memory.extend((self.clock(), line) for line in lines)

    def epoch(self) -> ServerEpoch | None:
        if self.down:
            raise InfluxUnavailable(self.refusal)
        self.requests += 1
        self._persist()
        if not self.tells_epoch:
            return None
        return ServerEpoch(str(self.process), requests=float(self.requests),
                           dedup_interval_s=self.dedup_s, flush_interval_s=20.0)

    def crash(self) -> None:
        """SIGKILL and an immediate restart: what was only in memory is gone."""
        self._persist()
        self.memory.clear()
        self.process += 1
        self.requests = 0

    def points(self) -> set[str]:
        self._persist()
        return set(self.stored) | {line for _, line in self.memory}

    def close(self) -> None:
        pass


def fill(store: LocalStore, ticks: int, start: int = 0) -> None:
    for k in range(start, start + ticks):
        ts = T0 + 2.0 * k
        store.add_readings([Reading(f"dev.p{i}", float(k + i), "W", Quality.GOOD, ts)
                            for i in range(3)])
        store.add_decision(Decision(ts, Mode.AUTO, "baseline", {"pod": 1000.0 + k},
                                    {"pool": 5.0}))
        store.add_ledger(ts, {"facility_kwh": 10.0 + k, "it_kwh": 9.0 + 0.9 * k,
                              "reused_heat_kwh": 5.0 + 0.5 * k})


def expected(store: LocalStore) -> set[str]:
    return {line for t in TABLES
            for line in row_lines(t, SITE, store.fetch_after(t, 0, 10**6))}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    s = LocalStore(tmp_path / "store.sqlite")
    yield s
    s.close()


def shipper_for(store: LocalStore, target: FakeServer, clock: Clock,
                **kw: object) -> OutboxShipper:
    return OutboxShipper(store, target, SITE, batch_size=50, confirm_after_s=HORIZON_S,
                         clock=clock, **kw)  # type: ignore[arg-type]


# -- finding 6: acknowledged, then lost by the server --------------------------------------
def test_rows_acknowledged_before_a_server_crash_are_sent_again(store: LocalStore) -> None:
    clock = Clock()
    server = FakeServer(clock)
    shipper = shipper_for(store, server, clock)
    fill(store, 20)
    shipper.drain()                       # acknowledged at T0, still in the server's memory
    clock.now += 3.0
    server.crash()                        # ... and gone; the shipper saw no failed request
    assert server.points() == set()
    fill(store, 5, start=20)
    shipper.drain()
    clock.now += HORIZON_S + 1.0          # the horizon passes: the server is asked, the
    shipper.drain()                       # process changed, everything unconfirmed again
    assert server.points() == expected(store)
    assert shipper.rewinds == 1 and shipper.resent_rows == 25 * 5


def test_confirmed_cursor_lags_by_the_horizon_on_the_same_process(store: LocalStore) -> None:
    clock = Clock()
    server = FakeServer(clock)
    shipper = shipper_for(store, server, clock)
    fill(store, 10)
    shipper.drain()
    assert shipper.backlog() == 0 and store.cursor("influx.readings.acked") == 30
    assert store.cursor("influx.readings") == 0          # acknowledged, not yet stored
    clock.now += HORIZON_S - 1.0
    shipper.drain()
    assert store.cursor("influx.readings") == 0
    clock.now += 2.0
    shipper.drain()                                       # asked again: same process
    assert store.cursor("influx.readings") == 30 and shipper.unconfirmed() == 0
    restarted = shipper_for(store, server, clock)         # nothing left to send again
    assert restarted.drain() == 0 and restarted.resent_rows == 0


def test_a_restarted_shipper_sends_the_unconfirmed_rows_again(store: LocalStore) -> None:
    clock = Clock()
    server = FakeServer(clock)
    fill(store, 10)
    first = shipper_for(store, server, clock)
    first.drain()
    clock.now += 1.0
    server.crash()                        # the host rebooted: server and shipper together
    second = shipper_for(store, server, clock)
    assert second.drain() == 10 * 5 and second.resent_rows == 10 * 5
    assert server.points() == expected(store)


def test_a_server_that_tells_no_epoch_gets_the_rows_again_after_a_failure(
    store: LocalStore,
) -> None:
    clock = Clock()
    server = FakeServer(clock, tells_epoch=False)
    shipper = shipper_for(store, server, clock)
    fill(store, 10)
    shipper.drain()
    clock.now += 2.0
    server.crash()
    server.down = True                    # the shipper sees this one
    fill(store, 2, start=10)
    with pytest.raises(InfluxUnavailable):
        shipper.ship_once()
    server.down = False
    shipper.drain()
    assert server.points() == expected(store) and shipper.rewinds == 1


def test_server_restart_is_told_by_the_request_counter_within_one_second() -> None:
    before = ServerEpoch("1796162391", requests=120.0)
    assert not ServerEpoch("1796162391", requests=125.0).restarted_since(before, 5)
    assert ServerEpoch("1796162391", requests=4.0).restarted_since(before, 5)
    assert ServerEpoch("1796162392", requests=500.0).restarted_since(before, 5)
    assert not ServerEpoch("a").restarted_since(ServerEpoch("a"), 3)


def test_a_victoria_metrics_without_dedup_or_with_a_slow_flush_is_warned_about_once(
    store: LocalStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    clock = Clock()
    shipper = shipper_for(store, FakeServer(clock, dedup_s=0.0), clock)
    for k in range(3):
        fill(store, 1, start=k)
        shipper.drain()
        clock.now += HORIZON_S
    messages = [r.getMessage() for r in caplog.records]
    assert sum("-dedup.minScrapeInterval=1ms" in m for m in messages) == 1
    assert sum("saves to disk every 20 s" in m for m in messages) == 1


# -- outage alarm --------------------------------------------------------------------------
def test_outage_alarm_after_the_stated_time_and_cleared_when_the_backlog_drains(
    store: LocalStore,
) -> None:
    clock = Clock()
    server = FakeServer(clock)
    shipper = shipper_for(store, server, clock, outage_alarm_s=300.0)
    fill(store, 4)
    shipper.drain()
    server.down = True
    fill(store, 30, start=4)
    with pytest.raises(InfluxUnavailable):
        shipper.ship_once()
    since = clock.now
    clock.now += 299.0
    with pytest.raises(InfluxUnavailable):
        shipper.ship_once()
    assert shipper.alarms(clock.now) == []
    clock.now += 2.0
    (alarm,) = shipper.alarms(clock.now)
    assert alarm.code == OUTAGE_ALARM and alarm.active
    assert shipper.alarms(T0 - 86400.0) == [alarm]  # timed on its own clock, not the caller's
    assert alarm.severity is AlarmSeverity.WARNING
    assert "2026-01-05 00:00:00 UTC" in alarm.message  # since when (T0 = since)
    assert since == T0
    assert f"{30 * 5} rows wait" in alarm.message and "connection refused" in alarm.message
    server.down = False
    shipper.ship_once()                   # one batch per table: recovered, not drained
    assert shipper.failing is None and shipper.backlog() > 0
    assert [a.code for a in shipper.alarms(clock.now)] == [OUTAGE_ALARM]
    shipper.drain()
    assert shipper.backlog() == 0 and shipper.alarms(clock.now) == []


def test_a_short_outage_raises_no_alarm(store: LocalStore) -> None:
    clock = Clock()
    server = FakeServer(clock)
    shipper = shipper_for(store, server, clock, outage_alarm_s=300.0)
    fill(store, 3)
    server.down = True
    with pytest.raises(InfluxUnavailable):
        shipper.ship_once()
    clock.now += 100.0
    server.down = False
    shipper.drain()
    clock.now += 500.0
    assert shipper.alarms(clock.now) == []


# -- stop --------------------------------------------------------------------------------
async def test_stop_flushes_even_while_backing_off(store: LocalStore) -> None:
    clock = Clock()
    server = FakeServer(clock)
    shipper = shipper_for(store, server, clock, initial_backoff_s=600.0, max_backoff_s=600.0)
    fill(store, 10)
    server.down = True
    shipper.start()
    for _ in range(500):
        if shipper.failing is not None:
            break
        await asyncio.sleep(0.01)
    assert shipper.failing is not None   # now in a 600 s back-off
    server.down = False
    await shipper.stop(flush_timeout_s=5.0)
    assert shipper.backlog() == 0 and server.points() == expected(store)


class HangingTarget(FakeServer):
    """A server that takes the connection and does not answer (until released)."""

    def __init__(self, clock: Clock) -> None:
        super().__init__(clock)
        self.release = threading.Event()
        self.in_write = threading.Event()

    def write(self, lines: Sequence[str]) -> None:
        self.in_write.set()
        self.release.wait(10.0)
        raise InfluxUnavailable("read timed out")


async def test_stop_is_bounded_by_its_timeout(store: LocalStore) -> None:
    clock = Clock()
    target = HangingTarget(clock)
    shipper = shipper_for(store, target, clock)
    fill(store, 3)
    await shipper.stop(flush_timeout_s=0.2)
    assert target.in_write.is_set() and not target.release.is_set()  # returned mid-write
    target.release.set()
    shipper.close()
    assert shipper.backlog() == 3 * 5
