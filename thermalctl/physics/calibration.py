"""Fitting model parameters to logged plant data with ``scipy.optimize.least_squares``.

Both fits are one-step-ahead: the model is started from each logged state and
advanced by one logging interval with the logged inputs, and the residual is
the difference between predicted and logged next state. This keeps the
problem well conditioned (errors do not accumulate over a long simulation)
and makes the fitted parameters directly the ones the controller's
one-step models use.

Standard errors come from the Jacobian at the solution,
:math:`\\mathrm{cov} = s^2 (J^T J)^{-1}` with :math:`s^2 = \\sum r^2 / (m - p)`;
they assume independent, equal-variance residuals and are therefore a lower
bound when residuals are autocorrelated.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.optimize import least_squares

from thermalctl.physics.pool import pool_heat_loss_w
from thermalctl.physics.tank import TankParams, step_tank
from thermalctl.physics.water import density_kg_per_m3, specific_heat_j_per_kg_k

__all__ = ["FitResult", "fit_pool_loss", "fit_tank_loss"]

FloatOrArray = Any  # float | numpy array | pandas Series


@dataclass(frozen=True)
class FitResult:
    """Outcome of a least-squares calibration.

    Attributes
    ----------
    params : Mapping[str, float]
        Fitted parameters by name (read-only).
    std_errors : Mapping[str, float]
        One-sigma standard errors of the parameters, same names and units.
    rmse : float
        Root-mean-square residual, in the unit of the fitted quantity [K].
    n_points : int
        Number of residuals used.
    success : bool
        Whether the optimiser reported convergence.
    """

    params: Mapping[str, float]
    std_errors: Mapping[str, float]
    rmse: float
    n_points: int
    success: bool


def _result(names: list[str], solution: Any) -> FitResult:
    residuals = np.asarray(solution.fun, dtype=float)
    jac = np.asarray(solution.jac, dtype=float)
    m, p = jac.shape
    dof = max(m - p, 1)
    s2 = float(residuals @ residuals) / dof
    cov = np.linalg.pinv(jac.T @ jac) * s2
    errors = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    return FitResult(
        params=MappingProxyType({n: float(v) for n, v in zip(names, solution.x, strict=True)}),
        std_errors=MappingProxyType({n: float(e) for n, e in zip(names, errors, strict=True)}),
        rmse=float(np.sqrt(np.mean(residuals**2))) if m else float("nan"),
        n_points=int(m),
        success=bool(solution.success),
    )


def _intervals(dt_s: FloatOrArray, n_samples: int) -> npt.NDArray[np.float64]:
    dt = np.broadcast_to(np.asarray(dt_s, dtype=float), (n_samples - 1,))
    if np.any(dt <= 0):
        raise ValueError("dt_s must be positive")
    return dt


def fit_pool_loss(
    water_temp_c: FloatOrArray,
    air_temp_c: FloatOrArray,
    relative_humidity_fraction: FloatOrArray,
    heat_in_w: FloatOrArray,
    dt_s: FloatOrArray,
    area_m2: float,
    volume_m3: float,
    *,
    fit_extra_ua: bool = True,
    **pool_kwargs: Any,
) -> FitResult:
    """Fit a pool's loss scale (and an extra conductance) to logged temperatures.

    Parameters
    ----------
    water_temp_c : array-like
        Logged pool water temperature, ``n`` samples [°C].
    air_temp_c : array-like
        Hall air temperature at the same instants [°C].
    relative_humidity_fraction : array-like
        Hall relative humidity, 0 to 1 [-].
    heat_in_w : array-like
        Mean heat delivered to the pool over each interval; the first
        ``n - 1`` values are used [W].
    dt_s : float or array-like
        Interval between samples, scalar or ``n - 1`` values [s].
    area_m2 : float
        Water surface area [m²].
    volume_m3 : float
        Water volume [m³].
    fit_extra_ua : bool, default True
        Also fit ``extra_ua_w_per_k``, a conductance to hall air that the
        physical model lacks (leaky covers, pipework, a cold basin wall).
    **pool_kwargs
        Options passed to :func:`thermalctl.physics.pool.pool_heat_loss_w`
        (``activity_factor``, ``cover_on`` as an ``n``-array, ...).

    Returns
    -------
    FitResult
        ``params["loss_scale"]`` [-] multiplies the modelled loss;
        ``params["extra_ua_w_per_k"]`` [W/K] if fitted. ``rmse`` is in [K].

    Notes
    -----
    One-step-ahead residuals of the lumped balance:

    .. math::

        r_k = T_k + \\frac{\\Delta t_k}{\\rho c_p V}\\left[\\dot Q_{in,k}
              - s\\, \\dot Q_{loss}(T_k, \\ldots) - UA_x (T_k - T_{a,k})\\right] - T_{k+1}

    References
    ----------
    .. [1] P. Virtanen et al., SciPy 1.0, Nature Methods 17 (2020) 261-272,
       doi:10.1038/s41592-019-0686-2 (``least_squares``, trust-region reflective).
    """
    water = np.asarray(water_temp_c, dtype=float)
    air = np.asarray(air_temp_c, dtype=float)
    n = water.size
    if n < 3:
        raise ValueError("need at least 3 samples")
    dt = _intervals(dt_s, n)
    loss = np.broadcast_to(
        pool_heat_loss_w(water, air, relative_humidity_fraction, area_m2, **pool_kwargs), (n,)
    )[:-1]
    heat = np.broadcast_to(np.asarray(heat_in_w, dtype=float), (n,))[:-1]
    capacity = density_kg_per_m3(water[:-1]) * specific_heat_j_per_kg_k(water[:-1]) * volume_m3
    delta_air = water[:-1] - air[:-1]

    def residuals(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        extra = x[1] if fit_extra_ua else 0.0
        net = heat - x[0] * loss - extra * delta_air
        return water[:-1] + dt * net / capacity - water[1:]

    names = ["loss_scale", "extra_ua_w_per_k"] if fit_extra_ua else ["loss_scale"]
    x0 = np.array([1.0, 0.0] if fit_extra_ua else [1.0])
    lower = np.array([0.0, -np.inf] if fit_extra_ua else [0.0])
    solution = least_squares(residuals, x0, bounds=(lower, np.inf), x_scale="jac")
    return _result(names, solution)


def fit_tank_loss(
    node_temps_c: FloatOrArray,
    dt_s: FloatOrArray,
    draw_m3_per_s: FloatOrArray,
    mains_temp_c: FloatOrArray,
    heat_in_w: FloatOrArray,
    ambient_temp_c: FloatOrArray,
    params: TankParams,
) -> FitResult:
    """Fit a tank's standing-loss conductance to logged node temperatures.

    Parameters
    ----------
    node_temps_c : array-like, shape (n, node_count)
        Logged node temperatures, top first [°C]. With fewer sensors than
        nodes, interpolate onto the nodes first.
    dt_s : float or array-like
        Interval between samples, scalar or ``n - 1`` values [s].
    draw_m3_per_s : float or array-like
        Mean draw over each interval [m³/s] (first ``n - 1`` values used).
    mains_temp_c : float or array-like
        Mains temperature over each interval [°C].
    heat_in_w : float or array-like
        Mean coil heat input over each interval [W].
    ambient_temp_c : float or array-like
        Temperature around the tank [°C].
    params : TankParams
        Tank description; its ``loss_ua_w_per_k`` is the starting guess.

    Returns
    -------
    FitResult
        ``params["loss_ua_w_per_k"]`` [W/K]; ``rmse`` over all nodes [K].

    Notes
    -----
    One-step-ahead residuals of :func:`thermalctl.physics.tank.step_tank`,
    all nodes stacked: :math:`r = \\mathrm{step}(T_k; UA) - T_{k+1}`.

    References
    ----------
    .. [1] P. Virtanen et al., SciPy 1.0, Nature Methods 17 (2020) 261-272,
       doi:10.1038/s41592-019-0686-2.
    """
    temps = np.asarray(node_temps_c, dtype=float)
    if temps.ndim != 2 or temps.shape[1] != params.node_count or temps.shape[0] < 3:
        raise ValueError("node_temps_c must have shape (n >= 3, params.node_count)")
    n = temps.shape[0]
    dt = _intervals(dt_s, n)
    inputs = [
        np.broadcast_to(np.asarray(v, dtype=float), (n,))[:-1]
        for v in (draw_m3_per_s, mains_temp_c, heat_in_w, ambient_temp_c)
    ]

    def residuals(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        trial = dataclasses.replace(params, loss_ua_w_per_k=float(x[0]))
        predicted = np.empty((n - 1, params.node_count))
        for k in range(n - 1):
            draw, mains, heat, ambient = (v[k] for v in inputs)
            predicted[k], _ = step_tank(temps[k], dt[k], draw, mains, heat, ambient, trial)
        return (predicted - temps[1:]).ravel()

    x0 = np.array([max(params.loss_ua_w_per_k, 1e-3)])
    solution = least_squares(residuals, x0, bounds=(0.0, np.inf), x_scale="jac")
    return _result(["loss_ua_w_per_k"], solution)
