"""The profile's MQTT sensors as :class:`~thermalctl.points.Reading` s.

Every payload gives a reading: a message that cannot be used (over the size limit, not
JSON, the field missing, not a finite number, a value that overflows its unit's
conversion) makes the sensor ``BAD`` with the reason, never an exception on paho's
thread. The first unusable message of a sensor is logged, and its recovery.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from thermalctl.adapters.mqtt.hub import Handler, Inbound, MqttHub
from thermalctl.adapters.mqtt.payload import (
    PayloadError,
    check_size,
    clip,
    finite_number,
    parse_json,
)
from thermalctl.config.site import MqttSensor
from thermalctl.config.units import to_canonical
from thermalctl.points import Quality, Reading

__all__ = ["MqttIngest", "extract_value"]

log = logging.getLogger(__name__)


@dataclass
class _Latest:
    value: float
    unit: str
    at_s: float
    error: str = ""


class MqttIngest:
    """The profile's MQTT sensors as readings (``point`` = the sensor's name).

    :meth:`readings` gives, for each sensor, its latest value stamped ``now_s`` while it
    is fresher than the binding's ``stale_after_s``, a ``STALE`` reading once it is
    older, and a ``BAD`` reading while the last message could not be used.
    :attr:`received` counts the messages handled, per sensor.
    """

    def __init__(self, sensors: Iterable[MqttSensor], clock: Callable[[], float]) -> None:
        self.sensors = tuple(sensors)
        self.clock = clock
        self._latest: dict[str, _Latest] = {}
        self._lock = threading.Lock()
        self._warned: set[str] = set()
        self.received: dict[str, int] = {s.name: 0 for s in self.sensors}

    @property
    def point_signals(self) -> dict[str, str]:
        return {s.name: s.signal for s in self.sensors}

    def attach(self, hub: MqttHub) -> None:
        for sensor in self.sensors:
            hub.subscribe(sensor.topic, self._handler(sensor))

    def _handler(self, sensor: MqttSensor) -> Handler:
        def handle(msg: Inbound) -> None:
            self.receive(sensor, msg.payload)

        return handle

    def receive(self, sensor: MqttSensor, payload: bytes) -> None:
        now = self.clock()
        unit = to_canonical(0.0, sensor.unit)[1]
        try:
            value = _canonical(extract_value(payload, sensor.json_field), sensor.unit)
        except PayloadError as exc:
            reason = clip(str(exc))
            if sensor.name not in self._warned:
                log.warning("MQTT sensor %s: unusable message on %s: %s", sensor.name,
                            clip(sensor.topic), reason)
                self._warned.add(sensor.name)
            with self._lock:
                prev = self._latest.get(sensor.name)
                self._latest[sensor.name] = _Latest(
                    prev.value if prev else math.nan, unit, prev.at_s if prev else now, reason)
                self.received[sensor.name] += 1
            return
        if sensor.name in self._warned:
            log.info("MQTT sensor %s: messages usable again", sensor.name)
            self._warned.discard(sensor.name)
        with self._lock:
            self._latest[sensor.name] = _Latest(value, unit, now)
            self.received[sensor.name] += 1

    def readings(self, now_s: float) -> list[Reading]:
        out: list[Reading] = []
        with self._lock:
            latest = dict(self._latest)
        for sensor in self.sensors:
            item = latest.get(sensor.name)
            if item is None:
                continue
            age = now_s - item.at_s
            if item.error:
                out.append(Reading.bad(sensor.name, item.unit, now_s, item.error))
            elif age > sensor.stale_after_s:
                out.append(Reading(sensor.name, item.value, item.unit, Quality.STALE, item.at_s,
                                   f"no message on {sensor.topic} for {age:.0f} s"))
            else:
                out.append(Reading(sensor.name, item.value, item.unit, Quality.GOOD, now_s))
        return out


def _canonical(raw: float, unit: str) -> float:
    value, _ = to_canonical(raw, unit)
    if not math.isfinite(value):
        raise PayloadError(f"{raw:g} {unit} is out of range once converted")
    return value


def extract_value(payload: bytes, json_field: str | None) -> float:
    """The finite number a sensor message carries, or ``PayloadError`` saying why not.

    ``json_field`` is a dotted path into a JSON object; None: the payload is a bare number.
    """
    check_size(payload)
    text = payload.decode("utf-8", errors="replace").strip()
    if json_field is None:
        try:
            value = float(text)
        except ValueError:
            raise PayloadError(f"payload {clip(text, 40)!r} is not a number") from None
        return finite_number(value, "payload")
    node: Any = parse_json(text)
    for part in json_field.split("."):
        if not isinstance(node, dict) or part not in node:
            raise PayloadError(f"JSON field {json_field!r} not in payload")
        node = node[part]
    return finite_number(node, f"JSON field {json_field!r}")
