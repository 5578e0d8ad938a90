"""Indoor pool: one well-mixed water node, losses from :mod:`thermalctl.physics.pool`.

The loss model (evaporation, convection, radiation, conduction, make-up water;
ASHRAE / VDI 2089, see :func:`thermalctl.physics.pool.pool_heat_loss_w`) is not
linear in the water temperature. The plant linearises it within each step around the
present temperature; the planner around the set point. Both use
:func:`thermalctl.physics.pool.linearised_heat_loss_w` with the same step, and the
cover schedule (``cover_hours``, site local time) from :meth:`PoolModel.cover_on`.

Evaporation takes the activity factor of the pool's type while it is open
(``opening_hours``, local time) and the unoccupied 0.5 otherwise (ASHRAE Handbook -
HVAC Applications 2019, ch. 6, Table 2 and text); the water radiates to the hall
surfaces (``hall_surface_temp_c``), not to the hall air; make-up water comes in at
the seasonal mains temperature where ``mains_seasonal`` (Burch & Christensen 2007).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from thermalctl.config.site import PoolSink, SiteProfile
from thermalctl.models.localtime import in_hours
from thermalctl.models.sinks.base import CalibrationData, SinkEnvironment, SinkModel, SinkStep
from thermalctl.physics import calibration, pool

__all__ = ["POOL_SLOPE_DELTA_K", "PoolModel"]

Array = npt.NDArray[np.float64]

#: Temperature step of the pool-loss slope [K]. Within a plant step the loss is
#: linearised around the present temperature (rounded to this step, so lines can be
#: cached); the pool moves < 0.05 K per 15 min, so the error is far below 0.1 % of the
#: loss and the energy bookkeeping stays exact.
POOL_SLOPE_DELTA_K = 0.1
#: Most cached loss lines per pool before the cache is cleared [-].
_LINE_CACHE_SIZE = 4096
#: Mains temperature is rounded to this step for the loss-line cache [K] (it moves by
#: < 0.2 K a day).
_MAINS_STEP_K = 0.1


class PoolModel(SinkModel):
    """An indoor pool (:class:`~thermalctl.config.site.PoolSink`)."""

    kind: ClassVar[str] = "pool"
    calibration_signals: ClassVar[dict[str, str]] = {
        "temp": "temp_c", "heat": "heat_w", "backup": "backup_heat_w", "air": "air_temp_c",
    }
    calibration_required: ClassVar[tuple[str, ...]] = ("temp", "heat")

    sink: PoolSink

    def __init__(self, sink: PoolSink, profile: SiteProfile) -> None:
        super().__init__(sink, profile)
        self._capacity_j_per_k = self._water_capacity_j_per_k(sink.volume_m3)
        self._lines: dict[tuple[float, bool, bool, float], tuple[float, float]] = {}

    @property
    def capacity_j_per_k(self) -> float:
        return self._capacity_j_per_k

    # -- schedule and losses ---------------------------------------------------------
    def cover_on(self, times_s: float | Array) -> bool | npt.NDArray[np.bool_]:
        """Whether the cover is closed at each time (``cover_hours`` in local time)."""
        if self.sink.cover_hours is None:
            if isinstance(times_s, (float, int)):
                return False
            return np.zeros(np.shape(times_s), dtype=bool) if np.ndim(times_s) else False
        a, b = self.sink.cover_hours
        return in_hours(times_s, (float(a), float(b)), self.timezone)

    def is_open(self, times_s: float | Array) -> bool | npt.NDArray[np.bool_]:
        """Whether the pool is open at each time (``opening_hours`` in local time)."""
        if self.sink.opening_hours is None:
            if isinstance(times_s, (float, int)):
                return True
            return np.ones(np.shape(times_s), dtype=bool) if np.ndim(times_s) else True
        a, b = self.sink.opening_hours
        return in_hours(times_s, (float(a), float(b)), self.timezone)

    def loss_line_at(
        self, ref_temp_c: float, cover_on: bool, is_open: bool = True,
        mains_temp_c: float | None = None,
    ) -> tuple[float, float]:
        """Loss ``offset + slope T`` touching the model at ``ref_temp_c`` [W], [W/K]."""
        mains = self.sink.mains_temp_c if mains_temp_c is None else mains_temp_c
        mains = round(mains / _MAINS_STEP_K) * _MAINS_STEP_K
        key = (ref_temp_c, bool(cover_on), bool(is_open), mains)
        line = self._lines.get(key)
        if line is None:
            line = pool.linearised_heat_loss_w(
                ref_temp_c, delta_k=POOL_SLOPE_DELTA_K,
                **self.sink.loss_model_arguments(
                    bool(cover_on), is_open=bool(is_open), mains_temp_c=mains
                ),
            )
            if len(self._lines) > _LINE_CACHE_SIZE:
                self._lines.clear()
            self._lines[key] = line
        return line

    def loss_line_w(
        self,
        times_s: Array,
        ambient_c: Array,
        draw_m3_per_s: Array | None,
        setpoint_c: float,
    ) -> tuple[Array, Array]:
        times = np.asarray(times_s, dtype=float)
        covered = np.asarray(self.cover_on(times), dtype=bool)
        opened = np.asarray(self.is_open(times), dtype=bool)
        mains = np.asarray(self.mains_temp_c(times), dtype=float)
        lines = [
            self.loss_line_at(setpoint_c, bool(c), bool(o), float(m))
            for c, o, m in zip(covered, opened, mains, strict=True)
        ]
        offset = np.array([line[0] for line in lines], dtype=float)
        slope = np.array([line[1] for line in lines], dtype=float)
        return offset, slope

    # -- plant -----------------------------------------------------------------------
    def hx_inlet_temp_c(self, nodes_c: Sequence[float], env: SinkEnvironment) -> float:
        return nodes_c[0]

    def step(
        self, nodes_c: Sequence[float], heat_w: float, dt_s: float, env: SinkEnvironment
    ) -> SinkStep:
        temp = nodes_c[0]
        offset, slope = self.loss_line_at(
            round(temp, 1), bool(self.cover_on(env.time_s)), bool(self.is_open(env.time_s)),
            float(self.mains_temp_c(env.time_s)),
        )
        loss_w = offset + slope * temp
        backup_w = self.thermostat_backup_w(temp)
        new = temp + (heat_w + backup_w - loss_w) * dt_s / self._capacity_j_per_k
        return SinkStep([new], backup_w)

    # -- calibration -----------------------------------------------------------------
    def fit_losses(self, data: CalibrationData) -> calibration.FitResult:
        """Fit ``loss_scale`` and ``extra_ua_w_per_k``: heat in = HX heat + backup heat,
        hall air from the log where logged (else the profile's), cover from the schedule."""
        s = self.sink
        cols = data.columns
        heat = cols["heat"] + np.nan_to_num(cols["backup"], nan=0.0)
        air = np.where(np.isnan(cols["air"]), s.hall_air_temp_c, cols["air"])
        options: dict[str, Any] = dict(s.loss_model_arguments(False))
        for name in ("air_temp_c", "relative_humidity_fraction", "area_m2"):
            options.pop(name)
        options["cover_on"] = np.asarray(self.cover_on(data.times_s), dtype=bool)
        return calibration.fit_pool_loss(
            cols["temp"], air, s.hall_relative_humidity, heat, data.dt_s, s.area_m2,
            s.volume_m3, **options,
        )
