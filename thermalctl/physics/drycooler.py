"""Dry coolers (heat dumps): heat rejected to outdoor air and fan power.

A dry cooler is a finned-tube coil with fans; the loop fluid runs in the tubes
and outdoor air crosses them. Its duty follows from effectiveness-NTU for a
crossflow exchanger (both streams treated as unmixed). Fan speed changes the
air capacity rate in proportion and the conductance roughly as airflow to the
power 0.8 (air-side film coefficient of a finned coil, Re^0.8-like), and the
fan power with the cube of speed (affinity laws).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from thermalctl.physics.hx import effectiveness_crossflow_unmixed

__all__ = [
    "UA_AIRFLOW_EXPONENT",
    "fan_power_w",
    "fan_speed_for_duty",
    "rejection_capacity_w",
    "ua_at_speed_w_per_k",
]

FloatOrArray = Any  # float | numpy array | pandas Series

UA_AIRFLOW_EXPONENT: float = 0.8
"""Exponent of airflow in the coil conductance, ``UA ∝ V_air ** n`` [-].

Air-side resistance dominates a finned dry-cooler coil and its film coefficient
grows roughly as Re^0.8 (turbulent) down to Re^0.5 (laminar fin channels);
0.8 is the common engineering assumption. Calibrate per unit where data exist.
"""

_BISECTION_STEPS = 60


def _arr(value: FloatOrArray) -> npt.NDArray[np.float64]:
    return np.asarray(value, dtype=float)


def rejection_capacity_w(
    ua_w_per_k: FloatOrArray,
    fluid_in_temp_c: FloatOrArray,
    ambient_temp_c: FloatOrArray,
    fluid_capacity_rate_w_per_k: FloatOrArray,
    air_capacity_rate_w_per_k: FloatOrArray = np.inf,
) -> npt.NDArray[np.float64]:
    """Heat a dry cooler rejects to outdoor air.

    Parameters
    ----------
    ua_w_per_k : float or array-like
        Coil conductance at the current fan speed [W/K].
    fluid_in_temp_c : float or array-like
        Loop fluid entering the cooler [°C].
    ambient_temp_c : float or array-like
        Outdoor dry-bulb temperature at the coil inlet [°C].
    fluid_capacity_rate_w_per_k : float or array-like
        Fluid ``m_dot * cp`` [W/K].
    air_capacity_rate_w_per_k : float or array-like, default inf
        Air ``m_dot * cp`` [W/K]; ``inf`` treats the air temperature rise as
        negligible (``C_r = 0``).

    Returns
    -------
    numpy.ndarray
        Heat rejected [W], >= 0: zero when the fluid is not warmer than the air
        (a dry cooler never heats the loop in this model) or nothing flows.

    Notes
    -----
    .. math::

        \\dot Q = \\varepsilon(\\mathrm{NTU}, C_r)\\, C_{min}\\, \\max(T_{f,in} - T_{amb}, 0)

    with :math:`\\varepsilon` from
    :func:`thermalctl.physics.hx.effectiveness_crossflow_unmixed`.

    References
    ----------
    .. [1] F. P. Incropera et al., Fundamentals of Heat and Mass Transfer,
       6th ed., Wiley, 2007, Table 11.3, eq. 11.32.

    Examples
    --------
    >>> round(float(rejection_capacity_w(5000.0, 40.0, 25.0, 4000.0, 12000.0)))
    38619
    """
    c_fluid = _arr(fluid_capacity_rate_w_per_k)
    c_air = _arr(air_capacity_rate_w_per_k)
    c_min = np.minimum(c_fluid, c_air)
    c_max = np.maximum(c_fluid, c_air)
    flowing = c_min > 0.0
    c_min_safe = np.where(flowing, c_min, 1.0)
    cr = np.where(flowing & np.isfinite(c_max), c_min / np.where(flowing, c_max, 1.0), 0.0)
    ntu = _arr(ua_w_per_k) / c_min_safe
    eps = effectiveness_crossflow_unmixed(ntu, cr)
    delta = np.maximum(_arr(fluid_in_temp_c) - _arr(ambient_temp_c), 0.0)
    return np.where(flowing, eps * c_min_safe * delta, 0.0)


def ua_at_speed_w_per_k(
    rated_ua_w_per_k: FloatOrArray,
    speed_fraction: FloatOrArray,
    exponent: float = UA_AIRFLOW_EXPONENT,
) -> npt.NDArray[np.float64]:
    """Coil conductance at part fan speed.

    Parameters
    ----------
    rated_ua_w_per_k : float or array-like
        Conductance at full fan speed [W/K].
    speed_fraction : float or array-like
        Fan speed relative to full speed, 0 to 1 [-] (airflow is proportional).
    exponent : float, default 0.8
        Airflow exponent of the conductance [-].

    Returns
    -------
    numpy.ndarray
        Conductance [W/K].

    Notes
    -----
    .. math:: UA(n) = UA_{rated}\\, n^{x}

    References
    ----------
    .. [1] F. P. Incropera et al., 6th ed., eq. 7.54 (Nu ∝ Re^0.8, turbulent
       flow) as the basis of the scaling.
    """
    speed = np.clip(_arr(speed_fraction), 0.0, 1.0)
    return _arr(rated_ua_w_per_k) * speed**exponent


def fan_power_w(
    speed_fraction: FloatOrArray, rated_power_w: FloatOrArray
) -> npt.NDArray[np.float64]:
    """Fan electrical power at part speed by the affinity laws.

    Parameters
    ----------
    speed_fraction : float or array-like
        Fan speed relative to rated speed, 0 to 1 [-].
    rated_power_w : float or array-like
        Electrical power at rated speed [W].

    Returns
    -------
    numpy.ndarray
        Electrical power [W].

    Notes
    -----
    Flow scales with speed, pressure with its square, power with its cube
    (fixed system curve, constant drive efficiency):

    .. math:: P(n) = P_{rated}\\, n^3

    References
    ----------
    .. [1] ASHRAE Handbook - HVAC Systems and Equipment, 2020, ch. 21 (Fans),
       fan laws.

    Examples
    --------
    >>> float(fan_power_w(0.5, 2000.0))
    250.0
    """
    if type(speed_fraction) is float and type(rated_power_w) is float:  # scalar fast path
        return rated_power_w * min(max(speed_fraction, 0.0), 1.0) ** 3  # type: ignore[return-value]
    speed = np.clip(_arr(speed_fraction), 0.0, 1.0)
    return _arr(rated_power_w) * speed**3


def fan_speed_for_duty(
    duty_w: FloatOrArray,
    rated_ua_w_per_k: FloatOrArray,
    fluid_in_temp_c: FloatOrArray,
    ambient_temp_c: FloatOrArray,
    fluid_capacity_rate_w_per_k: FloatOrArray,
    rated_air_capacity_rate_w_per_k: FloatOrArray,
    exponent: float = UA_AIRFLOW_EXPONENT,
) -> npt.NDArray[np.float64]:
    """Smallest fan speed at which the dry cooler rejects a required duty.

    Parameters
    ----------
    duty_w : float or array-like
        Heat to reject [W].
    rated_ua_w_per_k : float or array-like
        Conductance at full speed [W/K].
    fluid_in_temp_c : float or array-like
        Loop fluid entering the cooler [°C].
    ambient_temp_c : float or array-like
        Outdoor air temperature [°C].
    fluid_capacity_rate_w_per_k : float or array-like
        Fluid ``m_dot * cp`` [W/K].
    rated_air_capacity_rate_w_per_k : float or array-like
        Air ``m_dot * cp`` at full speed [W/K].
    exponent : float, default 0.8
        Airflow exponent of the conductance [-].

    Returns
    -------
    numpy.ndarray
        Speed fraction in [0, 1]. 0 when ``duty_w <= 0``; 1 when the duty
        exceeds the full-speed capacity (check it with
        :func:`rejection_capacity_w` to detect a shortfall).

    Notes
    -----
    Capacity rises monotonically with speed (both ``UA ∝ n^x`` and
    ``C_air ∝ n``), so the speed is found by vectorised bisection on
    :func:`rejection_capacity_w` to 60 halvings (below 1e-15).

    References
    ----------
    .. [1] F. P. Incropera et al., 6th ed., Table 11.3; fan laws as in
       :func:`fan_power_w`.

    Examples
    --------
    >>> round(float(fan_speed_for_duty(20_000.0, 5000.0, 40.0, 25.0, 4000.0, 12000.0)), 3)
    0.348
    """
    duty = _arr(duty_w)
    shape = np.broadcast_shapes(
        duty.shape,
        np.shape(rated_ua_w_per_k),
        np.shape(fluid_in_temp_c),
        np.shape(ambient_temp_c),
        np.shape(fluid_capacity_rate_w_per_k),
        np.shape(rated_air_capacity_rate_w_per_k),
    )

    def capacity(speed: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return rejection_capacity_w(
            ua_at_speed_w_per_k(rated_ua_w_per_k, speed, exponent),
            fluid_in_temp_c,
            ambient_temp_c,
            fluid_capacity_rate_w_per_k,
            _arr(rated_air_capacity_rate_w_per_k) * speed,
        )

    low = np.zeros(shape)
    high = np.ones(shape)
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (low + high)
        enough = capacity(mid) >= duty
        high = np.where(enough, mid, high)
        low = np.where(enough, low, mid)
    return np.where(duty <= 0.0, 0.0, high)
