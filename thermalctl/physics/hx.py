"""Heat exchangers by the effectiveness-NTU method.

The effectiveness of an exchanger is the ratio of its heat duty to the
largest duty the second law allows, ``q = eps * C_min * (T_hot,in - T_cold,in)``.
It depends on the number of transfer units ``NTU = UA / C_min`` and the
capacity ratio ``C_r = C_min / C_max`` (0 <= C_r <= 1). The relations are those
of Incropera et al., Table 11.3 (also Kays & London, ch. 2).

A plate heat exchanger with the two streams in opposite directions is a
counterflow exchanger; that is the default arrangement.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "Arrangement",
    "effectiveness",
    "effectiveness_counterflow",
    "effectiveness_crossflow_unmixed",
    "effectiveness_parallel_flow",
    "ntu_from_ua",
    "plate_hx_duty_w",
    "plate_hx_outlet_temps_c",
]

FloatOrArray = Any  # float | numpy array | pandas Series
Arrangement = Literal["counterflow", "parallel", "crossflow_unmixed"]

_CR_EQUAL_TOLERANCE = 1e-9
_CR_ZERO_LIMIT = 1e-9


def _arr(value: FloatOrArray) -> npt.NDArray[np.float64]:
    return np.asarray(value, dtype=float)


def ntu_from_ua(ua_w_per_k: FloatOrArray, c_min_w_per_k: FloatOrArray) -> npt.NDArray[np.float64]:
    """Number of transfer units.

    Parameters
    ----------
    ua_w_per_k : float or array-like
        Overall conductance of the exchanger [W/K].
    c_min_w_per_k : float or array-like
        Smaller of the two stream capacity rates ``m_dot * cp`` [W/K].

    Returns
    -------
    numpy.ndarray
        NTU [-]; ``inf`` where ``c_min_w_per_k`` is zero (no flow).

    Notes
    -----
    .. math:: \\mathrm{NTU} = UA / C_{min}

    References
    ----------
    .. [1] F. P. Incropera et al., Fundamentals of Heat and Mass Transfer,
       6th ed., Wiley, 2007, eq. 11.24.
    """
    ua = _arr(ua_w_per_k)
    c_min = _arr(c_min_w_per_k)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(c_min > 0.0, ua / np.where(c_min > 0.0, c_min, 1.0), np.inf)


def effectiveness_counterflow(
    ntu: FloatOrArray, capacity_ratio: FloatOrArray
) -> npt.NDArray[np.float64]:
    """Effectiveness of a counterflow exchanger.

    Parameters
    ----------
    ntu : float or array-like
        Number of transfer units, >= 0 [-].
    capacity_ratio : float or array-like
        ``C_min / C_max``, 0 to 1 [-].

    Returns
    -------
    numpy.ndarray
        Effectiveness, 0 to 1 [-].

    Notes
    -----
    .. math::

        \\varepsilon = \\frac{1 - \\exp[-\\mathrm{NTU}(1 - C_r)]}
                            {1 - C_r \\exp[-\\mathrm{NTU}(1 - C_r)]}
        \\quad (C_r < 1), \\qquad
        \\varepsilon = \\frac{\\mathrm{NTU}}{1 + \\mathrm{NTU}} \\quad (C_r = 1)

    References
    ----------
    .. [1] F. P. Incropera et al., Fundamentals of Heat and Mass Transfer,
       6th ed., Wiley, 2007, Table 11.3, eqs. 11.29a and 11.29b.

    Examples
    --------
    >>> round(float(effectiveness_counterflow(1.0, 0.5)), 4)
    0.5647
    """
    n = _arr(ntu)
    cr = _arr(capacity_ratio)
    balanced = np.abs(1.0 - cr) < _CR_EQUAL_TOLERANCE
    cr_safe = np.where(balanced, 0.5, cr)
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(-n * (1.0 - cr_safe))
        general = (1.0 - e) / (1.0 - cr_safe * e)
        limit = np.where(np.isinf(n), 1.0, n / (1.0 + n))
    return np.where(balanced, limit, general)


def effectiveness_parallel_flow(
    ntu: FloatOrArray, capacity_ratio: FloatOrArray
) -> npt.NDArray[np.float64]:
    """Effectiveness of a parallel-flow (co-current) exchanger.

    Parameters
    ----------
    ntu : float or array-like
        Number of transfer units, >= 0 [-].
    capacity_ratio : float or array-like
        ``C_min / C_max``, 0 to 1 [-].

    Returns
    -------
    numpy.ndarray
        Effectiveness, 0 to ``1 / (1 + C_r)`` [-].

    Notes
    -----
    .. math:: \\varepsilon = \\frac{1 - \\exp[-\\mathrm{NTU}(1 + C_r)]}{1 + C_r}

    References
    ----------
    .. [1] F. P. Incropera et al., Fundamentals of Heat and Mass Transfer,
       6th ed., Wiley, 2007, Table 11.3, eq. 11.28a.

    Examples
    --------
    >>> round(float(effectiveness_parallel_flow(1.0, 1.0)), 4)
    0.4323
    """
    n = _arr(ntu)
    cr = _arr(capacity_ratio)
    return -np.expm1(-n * (1.0 + cr)) / (1.0 + cr)


def effectiveness_crossflow_unmixed(
    ntu: FloatOrArray, capacity_ratio: FloatOrArray
) -> npt.NDArray[np.float64]:
    """Effectiveness of a single-pass crossflow exchanger, both fluids unmixed.

    Parameters
    ----------
    ntu : float or array-like
        Number of transfer units, >= 0 [-].
    capacity_ratio : float or array-like
        ``C_min / C_max``, 0 to 1 [-].

    Returns
    -------
    numpy.ndarray
        Effectiveness, 0 to 1 [-].

    Notes
    -----
    The standard closed-form approximation of the exact series solution:

    .. math::

        \\varepsilon = 1 - \\exp\\left[\\frac{\\mathrm{NTU}^{0.22}}{C_r}
            \\left(\\exp(-C_r \\mathrm{NTU}^{0.78}) - 1\\right)\\right]

    At :math:`C_r = 0` (taken as :math:`C_r < 10^{-9}`, where the formula loses all
    precision) it takes its limit :math:`1 - \\exp(-\\mathrm{NTU})`. It is an
    approximation of the exact series (not re-checked against it here) and
    reads low at small NTU with :math:`C_r` near 1 (e.g. 0.191 at NTU = 0.25,
    :math:`C_r = 1`, below even the parallel-flow 0.197), where the exact value
    lies between the parallel-flow and counterflow ones.

    References
    ----------
    .. [1] F. P. Incropera et al., Fundamentals of Heat and Mass Transfer,
       6th ed., Wiley, 2007, Table 11.3, eq. 11.32.

    Examples
    --------
    >>> round(float(effectiveness_crossflow_unmixed(1.0, 0.0)), 4)
    0.6321
    """
    n = _arr(ntu)
    cr = _arr(capacity_ratio)
    zero = cr < _CR_ZERO_LIMIT
    cr_safe = np.where(zero, 1.0, cr)
    with np.errstate(over="ignore", invalid="ignore"):
        exponent = n**0.22 / cr_safe * np.expm1(-cr_safe * n**0.78)
        general = -np.expm1(exponent)
    return np.where(zero, -np.expm1(-n), general)


_EFFECTIVENESS = {
    "counterflow": effectiveness_counterflow,
    "parallel": effectiveness_parallel_flow,
    "crossflow_unmixed": effectiveness_crossflow_unmixed,
}


def effectiveness(
    ntu: FloatOrArray, capacity_ratio: FloatOrArray, arrangement: Arrangement = "counterflow"
) -> npt.NDArray[np.float64]:
    """Effectiveness for a named flow arrangement.

    Parameters
    ----------
    ntu : float or array-like
        Number of transfer units [-].
    capacity_ratio : float or array-like
        ``C_min / C_max`` [-].
    arrangement : {"counterflow", "parallel", "crossflow_unmixed"}
        Flow arrangement.

    Returns
    -------
    numpy.ndarray
        Effectiveness [-].

    Notes
    -----
    Dispatches to :func:`effectiveness_counterflow`,
    :func:`effectiveness_parallel_flow` or :func:`effectiveness_crossflow_unmixed`.

    References
    ----------
    .. [1] F. P. Incropera et al., 6th ed., Table 11.3.
    """
    try:
        func = _EFFECTIVENESS[arrangement]
    except KeyError:
        raise ValueError(
            f"unknown arrangement {arrangement!r}; expected one of {sorted(_EFFECTIVENESS)}"
        ) from None
    return func(ntu, capacity_ratio)


def plate_hx_duty_w(
    ua_w_per_k: FloatOrArray,
    hot_in_temp_c: FloatOrArray,
    cold_in_temp_c: FloatOrArray,
    hot_capacity_rate_w_per_k: FloatOrArray,
    cold_capacity_rate_w_per_k: FloatOrArray,
    arrangement: Arrangement = "counterflow",
) -> npt.NDArray[np.float64]:
    """Heat duty of a two-stream exchanger (e.g. a plate heat exchanger).

    Parameters
    ----------
    ua_w_per_k : float or array-like
        Overall conductance [W/K].
    hot_in_temp_c : float or array-like
        Hot-side inlet temperature [°C].
    cold_in_temp_c : float or array-like
        Cold-side inlet temperature [°C].
    hot_capacity_rate_w_per_k : float or array-like
        Hot-stream capacity rate ``m_dot * cp`` [W/K], >= 0.
    cold_capacity_rate_w_per_k : float or array-like
        Cold-stream capacity rate ``m_dot * cp`` [W/K], >= 0.
    arrangement : {"counterflow", "parallel", "crossflow_unmixed"}, default "counterflow"
        Flow arrangement.

    Returns
    -------
    numpy.ndarray
        Heat duty from the hot to the cold stream [W]. Negative if the
        "hot" inlet is colder than the "cold" inlet; 0 if either flow is 0.

    Notes
    -----
    .. math::

        q = \\varepsilon(\\mathrm{NTU}, C_r)\\, C_{min}\\,(T_{h,i} - T_{c,i}),\\quad
        \\mathrm{NTU} = UA / C_{min},\\quad C_r = C_{min}/C_{max}

    References
    ----------
    .. [1] F. P. Incropera et al., Fundamentals of Heat and Mass Transfer,
       6th ed., Wiley, 2007, eqs. 11.20-11.25 and Table 11.3.

    Examples
    --------
    >>> round(float(plate_hx_duty_w(2000.0, 45.0, 25.0, 2000.0, 4000.0)))
    22589
    """
    c_hot = _arr(hot_capacity_rate_w_per_k)
    c_cold = _arr(cold_capacity_rate_w_per_k)
    c_min = np.minimum(c_hot, c_cold)
    c_max = np.maximum(c_hot, c_cold)
    flowing = c_min > 0.0
    cr = np.where(flowing, c_min / np.where(flowing, c_max, 1.0), 0.0)
    ntu = ntu_from_ua(ua_w_per_k, c_min)
    eps = effectiveness(np.where(flowing, ntu, 0.0), cr, arrangement)
    return np.where(flowing, eps * c_min * (_arr(hot_in_temp_c) - _arr(cold_in_temp_c)), 0.0)


def plate_hx_outlet_temps_c(
    ua_w_per_k: FloatOrArray,
    hot_in_temp_c: FloatOrArray,
    cold_in_temp_c: FloatOrArray,
    hot_capacity_rate_w_per_k: FloatOrArray,
    cold_capacity_rate_w_per_k: FloatOrArray,
    arrangement: Arrangement = "counterflow",
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Outlet temperatures of a two-stream exchanger.

    Parameters
    ----------
    ua_w_per_k, hot_in_temp_c, cold_in_temp_c, hot_capacity_rate_w_per_k, \
cold_capacity_rate_w_per_k, arrangement
        As for :func:`plate_hx_duty_w` ([W/K], [°C], [°C], [W/K], [W/K]).

    Returns
    -------
    tuple of numpy.ndarray
        ``(hot_out_temp_c, cold_out_temp_c)`` [°C]. A stream with zero flow
        leaves at its inlet temperature.

    Notes
    -----
    .. math:: T_{h,o} = T_{h,i} - q / C_h,\\qquad T_{c,o} = T_{c,i} + q / C_c

    References
    ----------
    .. [1] F. P. Incropera et al., 6th ed., eqs. 11.6b and 11.7b.
    """
    q = plate_hx_duty_w(
        ua_w_per_k,
        hot_in_temp_c,
        cold_in_temp_c,
        hot_capacity_rate_w_per_k,
        cold_capacity_rate_w_per_k,
        arrangement,
    )
    c_hot = _arr(hot_capacity_rate_w_per_k)
    c_cold = _arr(cold_capacity_rate_w_per_k)
    hot_out = _arr(hot_in_temp_c) - np.where(c_hot > 0, q / np.where(c_hot > 0, c_hot, 1.0), 0.0)
    cold_out = _arr(cold_in_temp_c) + np.where(
        c_cold > 0, q / np.where(c_cold > 0, c_cold, 1.0), 0.0
    )
    return hot_out, cold_out
