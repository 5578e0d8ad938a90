"""Every panel of both Grafana dashboards returns data from the real servers.

A short ``thermalctl demo`` (the pool site, two simulated hours) ships its telemetry to a
VictoriaMetrics on loopback through the v2 write API, configured the way an operator
does it: ``THERMALCTL_INFLUX_URL`` in the environment, which ``start_services`` resolves.
One alarm is then added to the demo's store and the outbox shipper sends the rest: the
same store to VictoriaMetrics (the demo's own cursor) and to an InfluxDB 1.x (``/write``,
v1 line protocol, a cursor of its own). Each panel query of ``tools/grafana_influxql.json``
and ``tools/grafana_promql.json`` then runs against its server with Grafana's template
variables and macros replaced the way Grafana replaces them for that time range, and
must return at least one value.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import POOL_SITE, REPO
from tests.servers import InfluxV1Server, VictoriaMetricsServer, require_binary
from thermalctl.adapters.influx import OutboxShipper
from thermalctl.adapters.influx_targets import LineTarget, V1Target, V2Target
from thermalctl.adapters.store import LocalStore
from thermalctl.config import load_site
from thermalctl.config.services import InfluxTarget
from thermalctl.points import Alarm, AlarmSeverity
from thermalctl.runtime.demo import DEMO_START, DemoOptions, run_demo

INFLUXQL = REPO / "tools" / "grafana_influxql.json"
PROMQL = REPO / "tools" / "grafana_promql.json"
DEMO_HOURS = 2.0
BUCKET = "thermalctl"
#: Grafana asks for about one point per pixel: a half-width panel is some 1,000 wide.
MAX_DATA_POINTS = 1000
#: Grafana's lower bound of $__interval: the InfluxDB data source's "min time interval"
#: (10 s) and the Prometheus data source's "scrape interval" (15 s) by default.
MIN_INTERVAL_MS = {"influxql": 10_000, "promql": 15_000}
SHIP_ROUNDS = 200  # bounded: each round ships a batch per table


@dataclass(frozen=True)
class Telemetry:
    vm: VictoriaMetricsServer
    influx: InfluxV1Server | None
    site_id: str
    start_ms: int
    end_ms: int
    alarm_code: str


def _ship(store: LocalStore, target: LineTarget, site_id: str, name: str) -> None:
    shipper = OutboxShipper(store, target, site_id, name=name, confirm_after_s=0.0)
    try:
        for _ in range(SHIP_ROUNDS):
            if shipper.ship_once() == 0 and shipper.backlog() == 0:
                break
        assert shipper.backlog() == 0, f"{name}: {shipper.backlog()} rows not shipped"
    finally:
        shipper.close()


@pytest.fixture(scope="module")
def telemetry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Telemetry]:
    require_binary("victoria-metrics")
    root = tmp_path_factory.mktemp("dashboards")
    (root / "vm").mkdir()
    # dedup: the shipper may send the last rows of the demo again (at-least-once cursor)
    vm = VictoriaMetricsServer(root / "vm", dedup=True)
    influx: InfluxV1Server | None = None
    vm.start()
    try:
        site = load_site(POOL_SITE)
        store_path = root / "demo.sqlite"
        with pytest.MonkeyPatch.context() as env:
            for key in [k for k in os.environ if k.startswith("THERMALCTL_")]:
                env.delenv(key)
            env.setenv("THERMALCTL_INFLUX_URL", vm.url)
            env.setenv("THERMALCTL_INFLUX_BUCKET", BUCKET)
            env.chdir(root)
            options = DemoOptions(hours=DEMO_HOURS, speed=1800.0, store_path=store_path,
                                  progress=False, report=False)  # fmt: skip
            summary = asyncio.run(run_demo(site, options))
        assert summary["ticks"] > 10
        # the demo shipped on its own, to the URL the environment gave start_services
        assert vm.sample_count("energy_it_kwh") >= summary["ticks"] // 2
        start_s = DEMO_START.timestamp()
        code = "dashboard.test"
        store = LocalStore(store_path)
        try:
            store.add_alarms([Alarm(code, "raised for the dashboard test", AlarmSeverity.WARNING,
                                    start_s + 3600.0)])  # fmt: skip
            _ship(store, V2Target(InfluxTarget(url=vm.url, bucket=BUCKET)), site.profile.site.id,
                  "influx")  # fmt: skip
            if _influxd_available():
                (root / "influxd").mkdir()
                influx = InfluxV1Server(root / "influxd")
                influx.start()
                influx.query(f"CREATE DATABASE {BUCKET}")
                target = V1Target(InfluxTarget(url=influx.url, bucket=BUCKET, api="v1"))
                _ship(store, target, site.profile.site.id, "influx_v1")
        finally:
            store.close()
        vm.export("energy_it_kwh")  # forces VictoriaMetrics to flush what it holds
        yield Telemetry(vm, influx, site.profile.site.id, int(start_s * 1000),
                        int((start_s + DEMO_HOURS * 3600.0 + 120.0) * 1000), code)  # fmt: skip
    finally:
        vm.stop()
        if influx is not None:
            influx.stop()


def _influxd_available() -> bool:
    try:
        require_binary("influxd")
    except pytest.skip.Exception:
        return False
    return True


# -- Grafana's substitutions ----------------------------------------------------------------
#: Grafana's rangeutil.roundInterval: (upper bound [ms], interval it rounds to [ms]).
_ROUND_INTERVALS = (
    (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1_500, 1_000),
    (3_500, 2_000), (7_500, 5_000), (12_500, 10_000), (17_500, 15_000), (25_000, 20_000),
    (45_000, 30_000), (90_000, 60_000), (210_000, 120_000), (450_000, 300_000),
    (780_000, 600_000), (1_350_000, 900_000), (2_700_000, 1_800_000), (5_400_000, 3_600_000),
    (9_000_000, 7_200_000), (16_200_000, 10_800_000), (32_400_000, 21_600_000),
    (86_400_000, 43_200_000),
)  # fmt: skip


def grafana_interval_ms(range_ms: int, min_ms: int, target_min: str | None = None) -> int:
    """$__interval as Grafana computes it: range / max data points, rounded to a nice
    interval, no shorter than the data source's (or the query's own) minimum."""
    raw = range_ms / MAX_DATA_POINTS
    rounded = next((to for bound, to in _ROUND_INTERVALS if raw <= bound), 86_400_000)
    low = max(min_ms, _duration_ms(target_min) if target_min else 0)
    return max(rounded, low)


def _duration_ms(text: str) -> int:
    match = re.fullmatch(r"(\d+)(ms|s|m|h|d)", text)
    assert match, text
    return int(match[1]) * {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}[
        match[2]
    ]


def _duration_text(ms: int) -> str:
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def influxql_query(query: str, t: Telemetry) -> str:
    """The InfluxQL Grafana sends: $timeFilter, $__interval and $site replaced (a regex
    context gets the value regex-escaped, as Grafana's InfluxDB data source does)."""
    interval = grafana_interval_ms(t.end_ms - t.start_ms, MIN_INTERVAL_MS["influxql"])
    text = query.replace("$timeFilter", f"time >= {t.start_ms}ms and time <= {t.end_ms}ms")
    text = text.replace("$__interval", _duration_text(interval))
    text = text.replace("/^$site$/", f"/^{re.escape(t.site_id)}$/").replace("$site", t.site_id)
    assert "$" not in text.replace("$/", ""), text
    return text


def promql_query(expr: str, t: Telemetry, interval_ms: int) -> str:
    """The PromQL Grafana sends: $__rate_interval, $__interval, $__range, $site and $db
    (its "All" value ``.*``) replaced."""
    range_ms = t.end_ms - t.start_ms
    scrape_ms = MIN_INTERVAL_MS["promql"]
    rate_ms = max(interval_ms + scrape_ms, 4 * scrape_ms)
    text = expr.replace("$__rate_interval", _duration_text(rate_ms))
    text = text.replace("$__interval", _duration_text(interval_ms))
    text = text.replace("$__range", _duration_text(range_ms // 1000 * 1000))
    text = text.replace("$site", t.site_id).replace("$db", ".*")
    assert "$" not in text, text
    return text


# -- the panels ---------------------------------------------------------------------------
def _targets(path: Path, key: str) -> list[tuple[str, dict[str, object]]]:
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    return [
        (f"{panel['title']}/{target['refId']}", target)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        if key in target
    ]


INFLUX_TARGETS = _targets(INFLUXQL, "query")
PROM_TARGETS = _targets(PROMQL, "expr")


def _get(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=20) as response:
        result: dict[str, object] = json.loads(response.read())
    return result


def test_both_dashboards_have_the_same_panels() -> None:
    titles = [[p["title"] for p in json.loads(path.read_text())["panels"]]
              for path in (INFLUXQL, PROMQL)]  # fmt: skip
    assert titles[0] == titles[1] and len(titles[0]) >= 10
    assert len(INFLUX_TARGETS) == len(PROM_TARGETS) >= 12
    assert all("$timeFilter" in str(t["query"]) for _, t in INFLUX_TARGETS)


@pytest.mark.parametrize(("name", "target"), INFLUX_TARGETS, ids=[n for n, _ in INFLUX_TARGETS])
def test_influxql_panel_returns_data(telemetry: Telemetry, name: str,
                                     target: dict[str, object]) -> None:  # fmt: skip
    if telemetry.influx is None:
        pytest.skip("influxd (Debian influxdb) is not installed")
    query = influxql_query(str(target["query"]), telemetry)
    params = urllib.parse.urlencode({"db": BUCKET, "q": query, "epoch": "ms"})
    answer = _get(f"{telemetry.influx.url}/query?{params}")
    result = answer["results"][0]  # type: ignore[index]
    assert "error" not in result, (query, result)
    series = result.get("series", [])
    values = [v for s in series for row in s["values"] for v in row[1:] if v is not None]
    assert values, f"{name}: no data for {query}"


@pytest.mark.parametrize(("name", "target"), PROM_TARGETS, ids=[n for n, _ in PROM_TARGETS])
def test_promql_panel_returns_data(telemetry: Telemetry, name: str,
                                   target: dict[str, object]) -> None:  # fmt: skip
    interval = grafana_interval_ms(telemetry.end_ms - telemetry.start_ms,
                                   MIN_INTERVAL_MS["promql"],
                                   target.get("interval") or None)  # type: ignore[arg-type]
    expr = promql_query(str(target["expr"]), telemetry, interval)
    if target.get("instant"):
        params = {"query": expr, "time": f"{telemetry.end_ms / 1000:.3f}"}
        url = f"{telemetry.vm.url}/api/v1/query?{urllib.parse.urlencode(params)}"
    else:
        params = {"query": expr, "start": f"{telemetry.start_ms / 1000:.3f}",
                  "end": f"{telemetry.end_ms / 1000:.3f}", "step": f"{interval / 1000:g}s"}
        url = f"{telemetry.vm.url}/api/v1/query_range?{urllib.parse.urlencode(params)}"
    answer = _get(url)
    assert answer["status"] == "success", (expr, answer)
    data = answer["data"]
    results = data["result"]  # type: ignore[index]
    if data["resultType"] == "matrix":  # type: ignore[index]
        values = [float(v) for r in results for _, v in r["values"]]
    else:
        values = [float(r["value"][1]) for r in results]
    assert [v for v in values if math.isfinite(v)], f"{name}: no data for {expr}"


def test_template_variables_find_the_site(telemetry: Telemetry) -> None:
    """$site's own queries: InfluxQL SHOW TAG VALUES, and label_values() in Grafana's
    Prometheus data source (``/api/v1/label/<name>/values?match[]=...``)."""
    match = urllib.parse.urlencode({"match[]": "energy_it_kwh"})
    sites = _get(f"{telemetry.vm.url}/api/v1/label/site/values?{match}")["data"]
    assert sites == [telemetry.site_id]
    if telemetry.influx is not None:
        influx = json.loads(INFLUXQL.read_text())["templating"]["list"][0]["query"]
        answer = telemetry.influx.query(influx, db=BUCKET)
        values = answer["results"][0]["series"][0]["values"]  # type: ignore[index]
        assert [row[1] for row in values] == [telemetry.site_id]


def test_the_alarm_panels_show_the_raised_alarm(telemetry: Telemetry) -> None:
    expr = promql_query(
        'last_over_time(alarm_active{site="$site", db=~"$db"}[$__range])', telemetry, 15_000
    )
    params = urllib.parse.urlencode({"query": expr, "time": telemetry.end_ms / 1000})
    results = _get(f"{telemetry.vm.url}/api/v1/query?{params}")["data"]["result"]  # type: ignore[index]
    raised = {r["metric"]["code"]: float(r["value"][1]) for r in results}
    assert raised.get(telemetry.alarm_code) == 1.0
