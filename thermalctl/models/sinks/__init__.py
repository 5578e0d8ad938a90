"""One model per sink kind, and the registry from a profile's ``kind`` to its model.

This registry is the only place that tells sink kinds apart: everything else asks
:func:`model_for` (or :func:`models_for`) and uses the :class:`SinkModel` interface.
A new kind is a new module here, a pydantic class in :mod:`thermalctl.config.site`
and one line in :data:`REGISTRY`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from thermalctl.config.site import DhwSink, PoolSink, SiteProfile, SpaceHeatingSink
from thermalctl.models.sinks.base import (
    BACKUP_BAND_K,
    BACKUP_START_BELOW_SETPOINT_K,
    CalibrationData,
    SinkEnvironment,
    SinkModel,
    SinkStep,
)
from thermalctl.models.sinks.dhw import DhwModel
from thermalctl.models.sinks.pool import PoolModel
from thermalctl.models.sinks.space_heating import SpaceHeatingModel

__all__ = [
    "BACKUP_BAND_K",
    "BACKUP_START_BELOW_SETPOINT_K",
    "REGISTRY",
    "CalibrationData",
    "DhwModel",
    "PoolModel",
    "SinkEnvironment",
    "SinkModel",
    "SinkStep",
    "SpaceHeatingModel",
    "model_for",
    "models_for",
]

AnySink = PoolSink | DhwSink | SpaceHeatingSink

#: Profile ``kind`` -> model class.
REGISTRY: dict[str, Callable[[Any, SiteProfile], SinkModel]] = {
    PoolModel.kind: PoolModel,
    DhwModel.kind: DhwModel,
    SpaceHeatingModel.kind: SpaceHeatingModel,
}


def model_for(sink: AnySink, profile: SiteProfile) -> SinkModel:
    """The model of ``sink`` (a sink of ``profile``)."""
    try:
        factory = REGISTRY[sink.kind]
    except KeyError as exc:
        raise ValueError(
            f"no model for sink kind {sink.kind!r} (known: {sorted(REGISTRY)})"
        ) from exc
    return factory(sink, profile)


def models_for(profile: SiteProfile) -> dict[str, SinkModel]:
    """A model per sink of ``profile``, by sink id, in profile order."""
    return {sink.id: model_for(sink, profile) for sink in profile.sinks}
