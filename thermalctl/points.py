"""The shared vocabulary: readings, decisions, alarms and modes.

Every adapter produces :class:`Reading` objects and consumes :class:`Decision`
objects; control and KPI code only ever see these. Times are Unix seconds (UTC)
as ``float`` so that simulated (accelerated) time and wall time look the same.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

__all__ = [
    "Alarm",
    "AlarmSeverity",
    "Decision",
    "Mode",
    "Quality",
    "Reading",
]


class Quality(enum.StrEnum):
    """How far a value can be trusted.

    ``GOOD`` is a fresh, in-range value. ``STALE`` was good once but is older than
    its binding allows. ``BAD`` is a failed read (timeout, exception response,
    decode error) or a value outside the register's valid range. ``ESTIMATED`` is
    a value the controller derived or filled in, never measured.
    """

    GOOD = "good"
    STALE = "stale"
    BAD = "bad"
    ESTIMATED = "estimated"


class Mode(enum.StrEnum):
    """Controller operating mode.

    ``AUTO`` applies the policy's decisions; ``MANUAL`` computes but does not write
    (operators drive the plant); ``SAFE`` holds safe targets (dump open, deferrable
    GPU power capped) until the cause clears and an operator or the supervisor
    returns to auto.
    """

    AUTO = "auto"
    MANUAL = "manual"
    SAFE = "safe"


class AlarmSeverity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Reading:
    """One sample of one point.

    Parameters
    ----------
    point : str
        Point name, ``<device>.<register>`` for Modbus, the binding name for MQTT.
    value : float
        Value in SI-ish engineering units given by ``unit`` (NaN when ``BAD``).
    unit : str
        Unit string, e.g. ``"W"``, ``"degC"``, ``"kWh"``, ``"m3/h"``.
    quality : Quality
    timestamp_s : float
        Unix time [s] at which the value was taken.
    reason : str
        Why a value is not ``GOOD`` (empty otherwise).
    """

    point: str
    value: float
    unit: str
    quality: Quality
    timestamp_s: float
    reason: str = ""

    @property
    def usable(self) -> bool:
        """True when the value is finite and of good or estimated quality."""
        return self.quality in (Quality.GOOD, Quality.ESTIMATED) and math.isfinite(self.value)

    @classmethod
    def bad(cls, point: str, unit: str, timestamp_s: float, reason: str) -> Reading:
        return cls(point, math.nan, unit, Quality.BAD, timestamp_s, reason)


@dataclass(frozen=True, slots=True)
class Alarm:
    """A condition the safety layer or an adapter wants people to see."""

    code: str
    message: str
    severity: AlarmSeverity
    timestamp_s: float
    active: bool = True


@dataclass(frozen=True, slots=True)
class Decision:
    """What the controller wants the plant to do for the next interval.

    Parameters
    ----------
    timestamp_s : float
        When the decision was taken [s].
    mode : Mode
    policy : str
        Name of the policy that produced it (``baseline``, ``mpc``, ``safety``...).
    gpu_power_cap_w : dict[str, float]
        Power cap per rack group [W] (must-run load included).
    sink_heat_request_w : dict[str, float]
        Heat the controller wants delivered to each sink [W].
    dump_on : bool
        Dry cooler / heat dump enabled.
    dump_heat_request_w : float
        Heat the dump should reject [W] (the local loop trims it to hold the
        coolant supply temperature).
    backup_heat_w : dict[str, float]
        Backup heater output planned per sink [W].
    reasons : tuple[str, ...]
        Human-readable reasons (safety trips, fallbacks).
    """

    timestamp_s: float
    mode: Mode
    policy: str
    gpu_power_cap_w: dict[str, float] = field(default_factory=dict)
    sink_heat_request_w: dict[str, float] = field(default_factory=dict)
    dump_on: bool = True
    dump_heat_request_w: float = 0.0
    backup_heat_w: dict[str, float] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
