"""Credentials of the telemetry targets: in a header, never in the query string, never in
a log line, an error or an alarm. A loopback HTTP server records what the target sends;
InfluxDB 1.x with authentication on checks that the header is accepted."""

from __future__ import annotations

import base64
import http.server
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from tests.servers import InfluxV1Server, free_port, influxd_auth_server_fixture  # noqa: F401
from thermalctl.adapters.influx import (
    InfluxUnavailable,
    OutboxShipper,
    V1Target,
    V2Target,
    make_target,
)
from thermalctl.adapters.influx_targets import Secrets, parse_epoch
from thermalctl.adapters.store import LocalStore
from thermalctl.config.services import InfluxTarget
from thermalctl.points import Quality, Reading

PASSWORD = "pw-S3CRET-1234"
TOKEN = f"writer:{PASSWORD}"


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers /write 204, /debug/vars with a start time, anything else 401; records all."""

    seen: ClassVar[list[tuple[str, str, dict[str, str]]]] = []

    def _answer(self) -> None:
        Recorder.seen.append((self.command, self.path, dict(self.headers)))
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path.startswith("/write"):
            self.send_response(204)
            self.end_headers()
        elif self.path == "/debug/vars":
            body = b'{"system": {"started": "2026-12-01T22:01:05.441270999Z"}}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            body = f"unauthorized {self.headers.get('Authorization')}".encode()
            self.send_response(401)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_v1_credentials_go_in_a_basic_auth_header_not_the_query(recorder: str) -> None:
    target = V1Target(InfluxTarget(url=recorder, bucket="tc", api="v1", token=TOKEN))
    target.write(["m,site=s v=1 1"])
    assert target.epoch() is not None
    target.close()
    (method, path, headers), *probe = Recorder.seen
    assert method == "POST" and path == "/write?db=tc&precision=ns"
    assert headers["Authorization"] == "Basic " + base64.b64encode(TOKEN.encode()).decode()
    assert all(PASSWORD not in p and "p=" not in p.split("?")[-1] for _, p, _ in Recorder.seen)
    assert probe[0][1] == "/debug/vars" and probe[0][2]["Authorization"].startswith("Basic ")


def test_credentials_in_the_url_move_to_the_header(recorder: str) -> None:
    url = recorder.replace("http://", f"http://{TOKEN}@")
    target = V1Target(InfluxTarget(url=url, bucket="tc", api="v1"))
    assert PASSWORD not in target.label
    target.write(["m v=1 1"])
    target.close()
    (_, path, headers), = Recorder.seen
    assert PASSWORD not in path and headers["Authorization"].startswith("Basic ")


def test_a_refusal_that_echoes_the_header_is_scrubbed(recorder: str) -> None:
    target = V2Target(InfluxTarget(url=recorder, bucket="b", org="o", token="tok-SECRET-99"))
    with pytest.raises(InfluxUnavailable) as err:
        target.write(["m v=1 1"])  # 401 with the Authorization header in the body
    assert "401" in str(err.value) and "tok-SECRET-99" not in str(err.value)
    assert "***" in str(err.value)
    target.close()


def test_credentials_never_in_logs_or_the_outage_alarm(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    port = free_port()  # nothing listens there: every request is refused
    store = LocalStore(tmp_path / "s.sqlite")
    store.add_readings([Reading("m.p", 1.0, "W", Quality.GOOD, 1_767_571_200.0)])
    clock = [1_767_571_200.0]
    for api, url in (("v1", f"http://{TOKEN}@127.0.0.1:{port}"),
                     ("v1", f"http://127.0.0.1:{port}"), ("v2", f"http://127.0.0.1:{port}")):
        target = InfluxTarget(url=url, api=api, token="" if "@" in url else TOKEN,  # type: ignore[arg-type]
                              timeout_s=1.0)
        shipper = OutboxShipper(store, make_target(target), "s", outage_alarm_s=60.0,
                                clock=lambda: clock[0])
        with pytest.raises(InfluxUnavailable) as err:
            shipper.ship_once()
        clock[0] += 61.0
        (alarm,) = shipper.alarms(clock[0])
        shipper.close()
        for text in (str(err.value), alarm.message, shipper.failing or ""):
            assert PASSWORD not in text and "writer:" not in text
        assert "refused" in alarm.message.lower() or "connect" in alarm.message.lower()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "write failed" in logged and PASSWORD not in logged
    store.close()


def test_scrub_removes_every_secret_and_url_passwords() -> None:
    s = Secrets(TOKEN, PASSWORD, "c2VjcmV0")
    text = f"http://writer:{PASSWORD}@h:8086 says {TOKEN} / Basic c2VjcmV0 / http://a:b@c/"
    clean = s.scrub(text)
    assert PASSWORD not in clean and "c2VjcmV0" not in clean and ":b@" not in clean


def test_parse_epoch_reads_victoria_metrics_metrics() -> None:
    text = ("process_start_time_seconds 1796162391\n"
            'vm_http_requests_total{path="/influx/write", protocol="influx"} 7\n'
            'vm_http_requests_total{path="/metrics"} 3\n'
            'vm_http_requests_total{path="/metrics/find"} 50\n'
            'vm_http_requests_total{path="/health"} 40\n'
            'flag{name="dedup.minScrapeInterval", value="0s", is_set="false"} 1\n'
            'flag{name="inmemoryDataFlushInterval", value="1m30s", is_set="true"} 1\n')
    epoch = parse_epoch(text)
    assert epoch is not None and epoch.started == "1796162391" and epoch.requests == 10.0
    assert epoch.dedup_interval_s == 0.0 and epoch.flush_interval_s == 90.0
    assert parse_epoch("go_goroutines 5\n") is None


# -- InfluxDB 1.6 with authentication on ----------------------------------------------------
@pytest.mark.integration
def test_influxdb_1x_accepts_the_header_and_refuses_a_wrong_password(
    tmp_path: Path, influxd_auth_server: InfluxV1Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    influxd_auth_server.query("CREATE DATABASE tc")
    user, password = influxd_auth_server.auth or ("", "")
    store = LocalStore(tmp_path / "s.sqlite")
    store.add_readings([Reading(f"m.p{i}", float(i), "W", Quality.GOOD, 1_767_571_200.0 + i)
                        for i in range(20)])
    good = InfluxTarget(url=influxd_auth_server.url, bucket="tc", api="v1",
                        token=f"{user}:{password}", timeout_s=5.0)
    shipper = OutboxShipper(store, make_target(good), "s")
    assert shipper.drain() == 20
    shipper.close()
    result = influxd_auth_server.query("SELECT count(value) FROM reading", db="tc")
    assert result["results"][0]["series"][0]["values"][0][1] == 20  # type: ignore[index]

    wrong = InfluxTarget(url=influxd_auth_server.url, bucket="tc", api="v1",
                         token=f"{user}:not-{password}", timeout_s=5.0)
    target = make_target(wrong)
    with pytest.raises(InfluxUnavailable) as err:
        target.write(["m v=1 1"])
    target.close()
    assert "401" in str(err.value) and password not in str(err.value)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert password not in logged
    store.close()
