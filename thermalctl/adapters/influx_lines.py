"""Outbox rows -> InfluxDB line protocol (with ``influxdb-client``'s :class:`Point`).

A point's timestamp is the row's own time, rounded to the microsecond, never the time
of shipping: the same row always gives the same line, so a row written twice lands on
the same point (same measurement, tag set and timestamp). See ``docs/telemetry.md``
for the measurements, tags and fields.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence

from influxdb_client import Point, WritePrecision

from thermalctl.adapters.store import LEDGER_COLUMNS

__all__ = ["row_lines"]


# -- rows -> line protocol ---------------------------------------------------------------------
def _ns(ts: object) -> int:
    """Row time [s] -> integer nanoseconds, rounded to the microsecond (deterministic)."""
    return round(float(ts) * 1e6) * 1000  # type: ignore[arg-type]


def _reading(site: str, row: Sequence[object]) -> Point | None:
    _id, ts, point, signal, value, unit, quality, reason = row
    p = Point("reading").tag("site", site).tag("point", point)
    if signal:
        p.tag("signal", signal)
    p.tag("quality", quality).tag("unit", unit)
    if isinstance(value, int | float) and math.isfinite(value):
        p.field("value", float(value))
    if reason:
        p.field("reason", str(reason))
    return p.time(_ns(ts), WritePrecision.NS)


def _decision(site: str, row: Sequence[object]) -> Point | None:
    _id, ts, mode, policy, body = row
    data = json.loads(str(body))
    p = Point("decision").tag("site", site).tag("mode", mode).tag("policy", policy)
    p.field("dump_on", 1 if data.get("dump_on") else 0)
    p.field("dump_heat_request_w", float(data.get("dump_heat_request_w", 0.0)))
    for prefix in ("gpu_power_cap_w", "sink_heat_request_w", "backup_heat_w"):
        for key, value in sorted((data.get(prefix) or {}).items()):
            p.field(f"{prefix}_{key}", float(value))
    reasons = data.get("reasons") or []
    if reasons:
        p.field("reasons", "; ".join(str(r) for r in reasons))
    return p.time(_ns(ts), WritePrecision.NS)


def _alarm(site: str, row: Sequence[object]) -> Point | None:
    _id, ts, code, severity, message, active = row
    p = Point("alarm").tag("site", site).tag("code", code).tag("severity", severity)
    p.field("active", int(bool(active))).field("message", str(message))
    return p.time(_ns(ts), WritePrecision.NS)


def _delta(row: Sequence[object], prev: Sequence[object] | None, col: str) -> float | None:
    if prev is None:
        return None
    i = 2 + LEDGER_COLUMNS.index(col)
    now, before = row[i], prev[i]
    if not isinstance(now, int | float) or not isinstance(before, int | float):
        return None
    d = float(now) - float(before)
    return d if d >= 0 else None  # a counter reset is no interval


def _energy(site: str, row: Sequence[object], prev: Sequence[object] | None) -> Point | None:
    p = Point("energy").tag("site", site)
    for i, col in enumerate(LEDGER_COLUMNS):
        value = row[2 + i]
        if isinstance(value, int | float):
            p.field(col, float(value))
    d_fac = _delta(row, prev, "facility_kwh")
    d_it = _delta(row, prev, "it_kwh")
    d_reused = _delta(row, prev, "reused_heat_kwh")
    if d_fac is not None and d_it is not None and d_it > 0 and d_fac > 0:
        p.field("pue", d_fac / d_it)
        if d_reused is not None:
            p.field("erf", d_reused / d_fac)
            p.field("ere", (d_fac - d_reused) / d_it)
    return p.time(_ns(row[1]), WritePrecision.NS)


def row_lines(
    table: str, site: str, rows: Sequence[Sequence[object]], prev: Sequence[object] | None = None
) -> list[str]:
    """Line protocol for outbox ``rows`` of ``table`` (rows with no field give no line).

    ``prev`` is the ledger row before ``rows[0]`` (for interval KPIs), if known.
    """
    lines: list[str] = []
    for row in rows:
        if table == "ledger":
            point = _energy(site, row, prev)
            prev = row
        else:
            point = _CONVERT[table](site, row)
        if point is None:
            continue
        line = point.to_line_protocol()
        if line:
            lines.append(line)
    return lines


_CONVERT: dict[str, Callable[[str, Sequence[object]], Point | None]] = {
    "readings": _reading,
    "decisions": _decision,
    "alarms": _alarm,
}
