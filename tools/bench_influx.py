#!/usr/bin/env python3
"""Benchmark: how fast the outbox shipper drains into VictoriaMetrics (InfluxDB v2 API).

Fills a fresh local store with a backlog shaped like the pool site (5 devices,
``--readings`` readings per ``--tick-s`` tick, plus one decision and one ledger row per
tick), starts a VictoriaMetrics on a free 127.0.0.1 port in a temporary directory
(or uses ``--url``) with ``-dedup.minScrapeInterval=1ms`` as docs/telemetry.md asks,
ships everything with :class:`OutboxShipper` (the confirmed-cursor shipper: it asks the
server's ``/metrics`` for its process before the first batch and when a batch's
persistence horizon has passed) and prints points per second and the drain time of the
backlog; it then checks every point arrived exactly once.

    .venv/bin/python tools/bench_influx.py               # 24 h of the pool site
    .venv/bin/python tools/bench_influx.py --hours 1 --batch-size 5000
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from thermalctl.adapters.influx import OutboxShipper, make_target, row_lines
from thermalctl.adapters.store import LocalStore
from thermalctl.config.services import InfluxTarget
from thermalctl.points import Decision, Mode, Quality, Reading

SITE = "bench_pool"
DEVICES = ("it_meter", "facility_meter", "pool_heat_meter", "loop", "pod_ctrl")


def fill(store: LocalStore, hours: float, tick_s: float, per_tick: int, start_s: float) -> int:
    ticks = int(hours * 3600 / tick_s)
    points = [f"{DEVICES[i % len(DEVICES)]}.reg{i}" for i in range(per_tick)]
    chunk: list[Reading] = []
    for k in range(ticks):
        ts = start_s + k * tick_s
        chunk.extend(Reading(p, 20.0 + i + 0.001 * k, "W", Quality.GOOD, ts)
                     for i, p in enumerate(points))
        store.add_decision(Decision(ts, Mode.AUTO, "baseline", {"pod": 40000.0},
                                    {"pool": 80000.0}))
        store.add_ledger(ts, {"facility_kwh": 1000 + 0.03 * k, "it_kwh": 900 + 0.025 * k,
                              "reused_heat_kwh": 500 + 0.02 * k})
        if len(chunk) >= 50_000:
            store.add_readings(chunk)
            chunk = []
    store.add_readings(chunk)
    return ticks


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_vm(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("victoria-metrics")
    if binary is None:
        raise SystemExit("victoria-metrics not installed (apt install victoria-metrics) "
                         "and no --url given")
    port = free_port()
    proc = subprocess.Popen([binary, f"-httpListenAddr=127.0.0.1:{port}",
                             f"-storageDataPath={root}", "-loggerLevel=ERROR",
                             "-dedup.minScrapeInterval=1ms"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as r:
                if r.read() == b"OK":
                    return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("victoria-metrics did not start")


def count(url: str, match: str) -> int:
    urllib.request.urlopen(url + "/internal/force_flush", timeout=30).read()
    q = urllib.parse.urlencode({"match[]": match, "start": "0"})
    with urllib.request.urlopen(f"{url}/api/v1/export?{q}", timeout=120) as r:
        return sum(len(json.loads(line)["values"]) for line in r if line.strip())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--tick-s", type=float, default=2.0)
    ap.add_argument("--readings", type=int, default=30, help="readings per tick")
    ap.add_argument("--batch-size", type=int, default=5000)
    ap.add_argument("--url", help="an existing VictoriaMetrics / InfluxDB v2 URL")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = LocalStore(root / "store.sqlite")
        start_s = math.floor(time.time() / 3600) * 3600 - args.hours * 3600 - 3600
        t0 = time.perf_counter()
        ticks = fill(store, args.hours, args.tick_s, args.readings, start_s)
        rows = sum(store.count(t) for t in ("readings", "decisions", "ledger"))
        print(f"backlog: {args.hours:g} h of the pool site = {ticks} ticks, {rows} rows "
              f"(filled in {time.perf_counter() - t0:.1f} s)")

        sample = store.fetch_after("readings", 0, 10_000)
        t0 = time.perf_counter()
        row_lines("readings", SITE, sample)
        convert_us = (time.perf_counter() - t0) / len(sample) * 1e6
        print(f"conversion alone: {convert_us:.1f} us per reading (influxdb-client Point)")

        proc, url = (None, args.url) if args.url else start_vm(root / "vm")
        try:
            target = InfluxTarget(url=url, bucket="bench", batch_size=args.batch_size)
            shipper = OutboxShipper(store, make_target(target), SITE, batch_size=args.batch_size)
            t0 = time.perf_counter()
            shipped = shipper.drain()
            elapsed = time.perf_counter() - t0
            shipper.close()
            print(f"drained {shipped} rows ({shipper.written_lines} points) in {elapsed:.1f} s: "
                  f"{shipper.written_lines / elapsed:,.0f} points/s, batch {args.batch_size}")
            print(f"a 24 h backlog of this site drains in about "
                  f"{elapsed * 24.0 / args.hours:.0f} s (rows sent again: "
                  f"{shipper.resent_rows}, restarts seen: {shipper.rewinds})")
            got = count(url, f'{{__name__="reading_value",site="{SITE}"}}')
            print(f"check: {got} of {store.count('readings')} readings in the server"
                  f"{'' if got == store.count('readings') else '  MISMATCH'}")
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(10)
            store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
