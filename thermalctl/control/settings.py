"""Operator settings: inputs to the control core, never patches to the profile.

An operator (MQTT, the BMS, the CLI) changes the mode, a sink's set point or a rack
group's GPU cap override. These are kept in one immutable :class:`OperatorSettings`
value that the control core, the policies, the planner, the forecaster and the
thermostat all receive as an argument on every call, so a change reaches all of
them at once and nothing keeps an old copy. The runtime persists them in the local
store so they survive a restart.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from thermalctl.points import Mode

__all__ = ["OperatorSettings"]


class _HasSetpoint(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def setpoint_c(self) -> float: ...


def _frozen(mapping: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType({str(k): float(v) for k, v in mapping.items()})


@dataclass(frozen=True)
class OperatorSettings:
    """What operators asked for.

    Attributes
    ----------
    mode : Mode
        Requested mode (safety still wins: a latched trip is SAFE whatever is asked).
    sink_setpoint_c : mapping
        Set point per sink id that differs from the profile's [degC].
    gpu_cap_w : mapping
        GPU power cap override per rack group id [W]; it only ever lowers a cap.
    """

    mode: Mode = Mode.AUTO
    sink_setpoint_c: Mapping[str, float] = field(default_factory=dict)
    gpu_cap_w: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sink_setpoint_c", _frozen(self.sink_setpoint_c))
        object.__setattr__(self, "gpu_cap_w", _frozen(self.gpu_cap_w))

    def setpoint_c(self, sink: _HasSetpoint) -> float:
        """The set point in force for ``sink`` [degC] (the operator's, else the profile's)."""
        return self.sink_setpoint_c.get(sink.id, sink.setpoint_c)

    def with_mode(self, mode: Mode) -> OperatorSettings:
        return dataclasses.replace(self, mode=mode)

    def with_setpoint(self, sink_id: str, temp_c: float | None) -> OperatorSettings:
        """A copy with ``sink_id``'s set point changed (``None`` returns to the profile's)."""
        points = dict(self.sink_setpoint_c)
        if temp_c is None:
            points.pop(sink_id, None)
        else:
            points[sink_id] = float(temp_c)
        return dataclasses.replace(self, sink_setpoint_c=points)

    def with_gpu_cap(self, group_id: str, cap_w: float | None) -> OperatorSettings:
        """A copy with ``group_id``'s cap override set (``None`` removes it)."""
        caps = dict(self.gpu_cap_w)
        if cap_w is None:
            caps.pop(group_id, None)
        else:
            caps[group_id] = float(cap_w)
        return dataclasses.replace(self, gpu_cap_w=caps)

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode.value,
            "sink_setpoint_c": dict(self.sink_setpoint_c),
            "gpu_cap_w": dict(self.gpu_cap_w),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> OperatorSettings:
        return cls(
            mode=Mode(data.get("mode", Mode.AUTO.value)),
            sink_setpoint_c={k: float(v) for k, v in dict(data.get("sink_setpoint_c", {})).items()},
            gpu_cap_w={k: float(v) for k, v in dict(data.get("gpu_cap_w", {})).items()},
        )
