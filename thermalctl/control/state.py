"""SiteState: the latest value of every signal, with its age and quality.

Control reads this snapshot, never the bus. It is rebuilt by the runtime from
readings; it is a plain value object so policies and safety can be tested with
numbers.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from thermalctl.points import Mode, Quality, Reading

__all__ = ["SiteState"]


@dataclass
class SiteState:
    """Latest reading per signal at time ``now_s``."""

    now_s: float
    readings: dict[str, Reading] = field(default_factory=dict)
    last_failure: dict[str, Reading] = field(default_factory=dict)
    mode: Mode = Mode.AUTO

    def update(self, signal_readings: Iterable[tuple[str, Reading]]) -> None:
        """Take new readings.

        A bad reading does not overwrite the last good one: that value stays and ages,
        and turns stale after the profile's ``stale_after_s`` (one lost poll must not
        trip the site). The failure is kept in ``last_failure`` to say why.
        """
        for signal, reading in signal_readings:
            if reading.quality is Quality.BAD:
                self.last_failure[signal] = reading
                if signal in self.readings and self.readings[signal].quality is not Quality.BAD:
                    continue
            else:
                self.last_failure.pop(signal, None)
            self.readings[signal] = reading

    def age_s(self, signal: str) -> float:
        r = self.readings.get(signal)
        return math.inf if r is None else self.now_s - r.timestamp_s

    def quality(self, signal: str, stale_after_s: float) -> Quality:
        r = self.readings.get(signal)
        if r is None:
            return Quality.BAD
        if r.quality is Quality.GOOD and self.age_s(signal) > stale_after_s:
            return Quality.STALE
        return r.quality

    def value(self, signal: str, stale_after_s: float = math.inf) -> float | None:
        """The value if usable and not older than ``stale_after_s``, else None."""
        r = self.readings.get(signal)
        if r is None or not r.usable or self.age_s(signal) > stale_after_s:
            return None
        return r.value

    def value_or(self, signal: str, default: float, stale_after_s: float = math.inf) -> float:
        v = self.value(signal, stale_after_s)
        return default if v is None else v

    def snapshot(self) -> Mapping[str, float]:
        return {s: r.value for s, r in self.readings.items() if r.usable}
