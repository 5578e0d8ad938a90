"""Where the outbox shipper writes: the InfluxDB v2 write API or a v1 ``/write``.

A target writes line protocol synchronously and tells, when asked, which server
*process* answers (:class:`ServerEpoch`), so the shipper can see a restart that
lost data it had acknowledged (VictoriaMetrics answers 204 before the rows are on
disk). Credentials go in the ``Authorization`` header only and never into an error
message: every message a target raises is passed through :meth:`Secrets.scrub`.

Exceptions::

    AdapterError
    └── InfluxError              a write did not go through
        ├── InfluxUnavailable    transport failure, 5xx, 401/403/404, 429: retried with back-off
        └── InfluxRejected       the server refused the data itself (400, 413, 422): the batch
                                 is split; a single line still refused is logged and skipped
"""

from __future__ import annotations

import base64
import json
import logging
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import urllib3
from influxdb_client import InfluxDBClient, WritePrecision
from influxdb_client.client.exceptions import InfluxDBError
from influxdb_client.client.write_api import SYNCHRONOUS

from thermalctl.adapters.errors import AdapterError
from thermalctl.config.services import InfluxTarget

__all__ = [
    "InfluxError",
    "InfluxRejected",
    "InfluxUnavailable",
    "LineTarget",
    "Secrets",
    "ServerEpoch",
    "V1Target",
    "V2Target",
    "make_target",
    "parse_epoch",
]

log = logging.getLogger(__name__)

#: HTTP statuses that say "this data is wrong", not "try again later".
_REJECT_STATUS = frozenset({400, 413, 422})
#: Longest server message kept in an error [characters].
_MESSAGE_CHARS = 300


class InfluxError(AdapterError):
    """A write to InfluxDB did not go through."""


class InfluxUnavailable(InfluxError):  # noqa: N818 - a state, read as 'unavailable'
    """The server could not be reached or answered with a retryable status."""


class InfluxRejected(InfluxError):  # noqa: N818 - a refusal, like WriteRefused
    """The server refused the data (bad line protocol, type conflict, too large)."""


# -- which server process answers ----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ServerEpoch:
    """What a server says about its own process, read before and after writes.

    Parameters
    ----------
    started : str
        The process start as the server reports it (VictoriaMetrics and Prometheus
        clients: ``process_start_time_seconds``, to the second; InfluxDB 1.x:
        ``/debug/vars`` ``system.started``, to the nanosecond).
    requests : float or None
        VictoriaMetrics: the influx writes and ``/metrics`` requests it served since
        that start (``vm_http_requests_total`` of ``/influx/write`` and ``/metrics``,
        the two paths a shipper uses); it only grows while the process lives.
    dedup_interval_s : float or None
        VictoriaMetrics: its ``-dedup.minScrapeInterval`` [s] (0: off).
    flush_interval_s : float or None
        VictoriaMetrics 1.85+: its ``-inmemoryDataFlushInterval`` [s].
    """

    started: str
    requests: float | None = None
    dedup_interval_s: float | None = None
    flush_interval_s: float | None = None

    def restarted_since(self, before: ServerEpoch, our_requests: int) -> bool:
        """Whether the process that answered ``before`` was replaced since.

        ``our_requests`` is how many requests this client had answered since ``before``
        (this probe included): a live process counts at least those on top.
        """
        if self.started != before.started:
            return True
        if self.requests is not None and before.requests is not None:
            return self.requests < before.requests + our_requests
        return False


_GO_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_DURATION_S = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _go_duration_s(text: str) -> float | None:
    """``1m30s`` -> 90.0 (Go's time.Duration text); None if it is not one."""
    parts = _GO_DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _DURATION_S[u] for n, u in parts)


def _flag(metrics: str, name: str) -> float | None:
    m = re.search(r'^flag\{name="' + re.escape(name) + r'", value="([^"]*)"', metrics, re.M)
    return _go_duration_s(m.group(1)) if m else None


def parse_epoch(metrics: str) -> ServerEpoch | None:
    """A :class:`ServerEpoch` from a Prometheus text exposition (``/metrics``), if any.

    >>> parse_epoch('process_start_time_seconds 1796162391\\n'
    ...             'vm_http_requests_total{path="/metrics"} 4\\n'
    ...             'vm_http_requests_total{path="/health"} 9\\n'
    ...             'flag{name="dedup.minScrapeInterval", value="1ms", is_set="true"} 1\\n')
    ServerEpoch(started='1796162391', requests=4.0, dedup_interval_s=0.001, flush_interval_s=None)
    """
    start = re.search(r"^process_start_time_seconds\s+(\S+)", metrics, re.M)
    if start is None:
        return None
    counts = re.findall(r'^vm_http_requests_total\{path="/(?:influx/write|metrics)"[^}]*\}'
                        r"\s+(\S+)", metrics, re.M)
    return ServerEpoch(
        started=start.group(1),
        requests=sum(float(c) for c in counts) if counts else None,
        dedup_interval_s=_flag(metrics, "dedup.minScrapeInterval"),
        flush_interval_s=_flag(metrics, "inmemoryDataFlushInterval"),
    )


# -- credentials ---------------------------------------------------------------------------
class Secrets:
    """The secrets of one target, and the one place they are removed from text."""

    def __init__(self, *values: str) -> None:
        self._values = sorted({v for v in values if len(v) >= 3}, key=len, reverse=True)

    def scrub(self, text: str) -> str:
        """``text`` with every secret and any URL password replaced by ``***``."""
        for value in self._values:
            text = text.replace(value, "***")
        return re.sub(r"(//[^/:@\s]+):[^@/\s]*@", r"\1:***@", text)


def _split_userinfo(url: str) -> tuple[str, str]:
    """``(url without user:password@, 'user:password' or '')``."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None:
        return url.rstrip("/"), ""
    netloc = parts.hostname or ""
    if parts.port is not None:
        netloc += f":{parts.port}"
    clean = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    user = urllib.parse.unquote(parts.username)
    password = urllib.parse.unquote(parts.password or "")
    return clean.rstrip("/"), f"{user}:{password}"


def _classify(status: int | None, message: str) -> InfluxError:
    message = message[:_MESSAGE_CHARS]
    if status in _REJECT_STATUS:
        return InfluxRejected(f"HTTP {status}: {message}")
    return InfluxUnavailable(f"HTTP {status}: {message}" if status else message)


class LineTarget(Protocol):
    """Somewhere line protocol can be written synchronously (blocking)."""

    #: The server's URL without credentials, for logs and alarms.
    label: str

    def write(self, lines: Sequence[str]) -> None:
        """Write all ``lines`` or raise :class:`InfluxError`."""

    def epoch(self) -> ServerEpoch | None:
        """Which server process answers now; None if the server does not say.

        Raises :class:`InfluxUnavailable` when the server cannot be reached.
        """

    def close(self) -> None: ...


class _Http:
    """The probes' (and the v1 writes') HTTP client: one pool, fixed headers, no retries."""

    def __init__(self, base_url: str, timeout_s: float, headers: Mapping[str, str],
                 secrets: Secrets) -> None:
        self.base_url = base_url
        self.headers = dict(headers)
        self.secrets = secrets
        self.pool = urllib3.PoolManager(timeout=urllib3.Timeout(total=timeout_s), retries=False)
        #: The probe path that answered with a start time (found on the first probe).
        self.probe_path: str | None = None
        self.probe_unsupported = False

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: Mapping[str, str] | None = None) -> urllib3.BaseHTTPResponse:
        try:
            return self.pool.request(method, self.base_url + path, body=body,
                                     headers={**self.headers, **(headers or {})})
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise InfluxUnavailable(self.secrets.scrub(f"{self.base_url}: {exc}")) from exc

    def epoch(self, paths: Sequence[str]) -> ServerEpoch | None:
        """Ask each of ``paths`` (``/metrics``, ``/debug/vars``) until one gives a start."""
        if self.probe_unsupported:
            return None
        for path in [self.probe_path] if self.probe_path else paths:
            resp = self.request("GET", path)
            if resp.status >= 500:
                raise _classify(resp.status, self.secrets.scrub(
                    resp.data.decode(errors="replace")))
            if resp.status != 200:
                continue
            text = resp.data.decode(errors="replace")
            found = _debug_vars_epoch(text) if path == "/debug/vars" else parse_epoch(text)
            if found is not None:
                self.probe_path = path
                return found
        if self.probe_path is None:
            self.probe_unsupported = True
            log.info("%s tells no process start time on %s: a server restart cannot be told "
                     "apart from an outage", self.base_url, ", ".join(paths))
        return None

    def close(self) -> None:
        self.pool.clear()


def _debug_vars_epoch(text: str) -> ServerEpoch | None:
    """InfluxDB 1.x ``/debug/vars``: ``{"system": {"started": "<RFC 3339 ns>", ...}}``."""
    try:
        started = json.loads(text)["system"]["started"]
    except (ValueError, KeyError, TypeError):
        return None
    return ServerEpoch(started=str(started)) if started else None


class V2Target:
    """The InfluxDB v2 write API (InfluxDB 2.x/3.x, 1.8+, VictoriaMetrics) via influxdb-client."""

    def __init__(self, target: InfluxTarget) -> None:
        self.target = target
        url, userinfo = _split_userinfo(target.url)
        self.label = url
        token = target.token.get_secret_value() or userinfo
        self.secrets = Secrets(token, *token.split(":", 1))
        self._client = InfluxDBClient(url=url, token=token, org=target.org,
                                      timeout=int(target.timeout_s * 1000))
        self._api = self._client.write_api(write_options=SYNCHRONOUS)
        headers = {"Authorization": f"Token {token}"} if token else {}
        self._http = _Http(url, target.timeout_s, headers, self.secrets)

    def write(self, lines: Sequence[str]) -> None:
        try:
            self._api.write(
                bucket=self.target.bucket, org=self.target.org, record=list(lines),
                write_precision=WritePrecision.NS,  # type: ignore[arg-type]
            )
        except InfluxDBError as exc:
            status = getattr(exc, "status", None) or getattr(exc.response, "status", None)
            raise _classify(status, self.secrets.scrub(exc.message or str(exc))) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise InfluxUnavailable(self.secrets.scrub(f"{self.label}: {exc}")) from exc

    def epoch(self) -> ServerEpoch | None:
        return self._http.epoch(("/metrics",))

    def close(self) -> None:
        self._client.close()
        self._http.close()


class V1Target:
    """InfluxDB 1.x ``POST /write?db=<bucket>&precision=ns``.

    The token ``user:password`` (or the URL's ``user:password@``) goes in an
    ``Authorization: Basic`` header (RFC 7617), which every InfluxDB 1.x accepts; a
    token without a colon is sent as ``Authorization: Token <token>`` (the v1
    compatibility API of InfluxDB 2.x). Nothing secret goes in the query string, so no
    proxy or server access log sees it.
    """

    def __init__(self, target: InfluxTarget) -> None:
        self.target = target
        url, userinfo = _split_userinfo(target.url)
        self.label = url
        token = target.token.get_secret_value() or userinfo
        headers = {"Content-Type": "text/plain; charset=utf-8"}
        if ":" in token:
            basic = base64.b64encode(token.encode()).decode()
            headers["Authorization"] = f"Basic {basic}"
            self.secrets = Secrets(token, token.split(":", 1)[1], basic)
        elif token:
            headers["Authorization"] = f"Token {token}"
            self.secrets = Secrets(token)
        else:
            self.secrets = Secrets()
        self._http = _Http(url, target.timeout_s, headers, self.secrets)
        self._path = "/write?" + urllib.parse.urlencode({"db": target.bucket, "precision": "ns"})

    def write(self, lines: Sequence[str]) -> None:
        resp = self._http.request("POST", self._path, body="\n".join(lines).encode())
        if resp.status >= 300:
            raise _classify(resp.status, self.secrets.scrub(resp.data.decode(errors="replace")))

    def epoch(self) -> ServerEpoch | None:
        return self._http.epoch(("/debug/vars", "/metrics"))

    def close(self) -> None:
        self._http.close()


def make_target(target: InfluxTarget) -> LineTarget:
    return V1Target(target) if target.api == "v1" else V2Target(target)
