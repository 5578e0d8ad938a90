"""Second-instance detection: two controllers of one site on one broker.

Two ``thermalctl run`` of the same site would both drive the plant. Each instance
announces itself on ``<root>/instance`` (retained, QoS 1)::

    {"instance": "12345-9f3a", "host": "plantroom-1", "pid": 12345,
     "started_s": 1767571200.0, "ts": 1767571230.0}

at every (re)connection and again every :data:`ANNOUNCE_S` (``ts`` is the wall time of
the announcement), and watches the topic. Evidence of another live instance is an
announcement with another instance id that is either *live* (published while we are
subscribed) or *retained but made after we started* (``ts`` not older than our start:
a predecessor that crashed before we started left an older one, which is ignored). The
first time another instance is seen we announce ourselves at once, so it sees us too.

:meth:`InstanceWatch.alarms` is an alarm source (``controller.alarm_sources``): it gives
``mqtt.second_instance`` (critical) naming the other instance while one was seen within
:data:`HOLD_S`, and sends the periodic announcement. On a clean stop the announcement is
cleared (an empty retained message) when it is still ours.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from thermalctl.adapters.mqtt.payload import PayloadError, check_size, clip, parse_json
from thermalctl.points import Alarm, AlarmSeverity

if TYPE_CHECKING:
    from thermalctl.adapters.mqtt.hub import Inbound, MqttHub

__all__ = ["ALARM_CODE", "ANNOUNCE_S", "HOLD_S", "InstanceWatch", "OtherInstance"]

log = logging.getLogger(__name__)

ALARM_CODE = "mqtt.second_instance"
#: Announce this instance again this often [s] (monotonic).
ANNOUNCE_S = 30.0
#: Keep the alarm this long after the other instance was last seen [s]: three announcements.
HOLD_S = 3 * ANNOUNCE_S


@dataclass(frozen=True)
class OtherInstance:
    instance: str
    host: str
    pid: int | None
    started_s: float | None
    seen_at: float  # our monotonic clock

    def describe(self) -> str:
        started = ""
        if self.started_s is not None:
            started = ", started " + datetime.fromtimestamp(self.started_s, UTC).strftime(
                "%Y-%m-%d %H:%M:%SZ")
        pid = f", pid {self.pid}" if self.pid is not None else ""
        return f"instance {self.instance} (host {self.host or '?'}{pid}{started})"


class InstanceWatch:
    """Announce this instance on ``<root>/instance`` and alarm on another one."""

    def __init__(self, hub: MqttHub, *, clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time) -> None:
        self.hub = hub
        self.clock = clock
        self.wall = wall
        self.started_s = wall()
        self.host = socket.gethostname()
        self.others: dict[str, OtherInstance] = {}
        self._answered: set[str] = set()
        self._last_announce: float | None = None
        self._last_seen_ours = True
        self._lock = threading.Lock()
        hub.subscribe(hub.topics.instance, self._receive)
        hub.on_connected(self.announce)
        hub.on_stopping(self._withdraw)

    @property
    def instance_id(self) -> str:
        return self.hub.instance_id

    def announce(self) -> None:
        body = {"instance": self.instance_id, "host": self.host, "pid": os.getpid(),
                "started_s": round(self.started_s, 3), "ts": round(self.wall(), 3)}
        self._last_announce = self.clock()
        self.hub.publish(self.hub.topics.instance, json.dumps(body), retain=True, qos=1)

    def _withdraw(self) -> None:
        if self._last_seen_ours:
            self.hub.publish(self.hub.topics.instance, b"", retain=True, qos=1)

    def _receive(self, msg: Inbound) -> None:
        if not msg.payload:
            return  # a withdrawn announcement
        try:
            check_size(msg.payload)
            body = parse_json(msg.payload.decode("utf-8", errors="replace"))
            if not isinstance(body, dict) or not isinstance(body.get("instance"), str):
                raise PayloadError("no instance id")
        except PayloadError as exc:
            log.debug("unusable announcement on %s: %s", msg.topic, exc)
            return
        other = clip(body["instance"], 64)
        self._last_seen_ours = other == self.instance_id
        if other == self.instance_id:
            return
        ts = _number(body.get("ts"))
        if msg.retained and (ts is None or ts < self.started_s):
            log.debug("announcement of an earlier instance %s ignored", other)
            return
        seen = OtherInstance(other, clip(str(body.get("host", "")), 64),
                             _int(body.get("pid")), _number(body.get("started_s")),
                             self.clock())
        with self._lock:
            first = other not in self.others
            self.others[other] = seen
            answer = other not in self._answered
            self._answered.add(other)
        if first:
            log.error("another thermalctl for site %s is on this broker: %s; this is "
                      "instance %s. Stop one of them.", self.hub.topics.site_id,
                      seen.describe(), self.instance_id)
        if answer:
            self.announce()

    def alarms(self, now_s: float) -> list[Alarm]:
        """The alarm source: ``mqtt.second_instance`` while another instance is seen."""
        t = self.clock()
        if self.hub.connected.is_set() and (
            self._last_announce is None or t - self._last_announce >= ANNOUNCE_S
        ):
            self.announce()
        with self._lock:
            for ident in [i for i, o in self.others.items() if t - o.seen_at > HOLD_S]:
                log.info("instance %s of site %s not seen for %.0f s", ident,
                         self.hub.topics.site_id, HOLD_S)
                del self.others[ident]
                self._answered.discard(ident)
            others = sorted(self.others.values(), key=lambda o: o.instance)
        if not others:
            return []
        names = "; ".join(o.describe() for o in others)
        return [Alarm(ALARM_CODE,
                      f"another thermalctl for site {self.hub.topics.site_id} is connected "
                      f"to the broker: {names}; this is instance {self.instance_id}. Two "
                      "controllers drive the same plant: stop one.",
                      AlarmSeverity.CRITICAL, now_s)]


def _number(node: object) -> float | None:
    if isinstance(node, bool) or not isinstance(node, int | float):
        return None
    value = float(node)
    return value if value == value and abs(value) < 1e12 else None


def _int(node: object) -> int | None:
    return node if isinstance(node, int) and not isinstance(node, bool) and node >= 0 else None
