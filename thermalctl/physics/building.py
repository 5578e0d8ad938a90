"""Buildings as heat sinks: heating curve, gains, mains-water temperature.

Pure, vectorised functions:

* :func:`heating_curve_temps_c` - weather-compensated supply and return temperature
  of a heating circuit from its design point and emitter exponent;
* :func:`heat_load_fraction` - the circuit's share of its design heat, zero at and
  above the heating limit temperature and continuous there;
* :func:`solar_gain_shape` - the daily shape of solar gains through glazing;
* :func:`mains_water_temp_c` - seasonal cold-water temperature from the climate
  (Burch & Christensen 2007, the correlation EnergyPlus uses).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "EMITTER_EXPONENT_FLOOR",
    "EMITTER_EXPONENT_RADIATOR",
    "TRV_PROPORTIONAL_BAND_K",
    "heat_load_fraction",
    "heating_curve_temps_c",
    "mains_water_temp_c",
    "solar_gain_shape",
]

FloatOrArray = Any  # float | numpy array | pandas Series

EMITTER_EXPONENT_RADIATOR: float = 1.3
"""Radiator exponent ``n`` in ``Q/Q_N = (dT/dT_N)^n`` [-] (EN 442-2:2014, typical
panel radiators 1.25-1.35; 1.3 is the value design tools assume)."""

EMITTER_EXPONENT_FLOOR: float = 1.1
"""Floor-heating exponent [-] (EN 1264-2: surface heat flux nearly linear in the
surface-to-room difference, ``q = 8.92 (theta_F - theta_i)^1.1``)."""

TRV_PROPORTIONAL_BAND_K: float = 2.0
"""Proportional band of thermostatic radiator valves [K] (EN 215: rated at
``xp = 2 K``): the valve closes this far above the room set point."""

_KELVIN_OFFSET = 273.15


def _arr(value: FloatOrArray) -> npt.NDArray[np.float64]:
    return np.asarray(value, dtype=float)


def heat_load_fraction(
    outdoor_temp_c: FloatOrArray, design_outdoor_temp_c: float, heating_limit_temp_c: float
) -> npt.NDArray[np.float64]:
    """Share of the design heat a weather-compensated circuit delivers [-].

    Parameters
    ----------
    outdoor_temp_c : float or array-like
        Outdoor air temperature [°C].
    design_outdoor_temp_c : float
        Design outdoor temperature (EN 12831-1) [°C].
    heating_limit_temp_c : float
        Heating limit temperature (Heizgrenztemperatur, VDI 2067-1 / DIN V 4108-6): at
        and above it the circuit is off [°C].

    Returns
    -------
    numpy.ndarray
        ``phi`` [-]: 1 at the design point, 0 at and above the heating limit, linear in
        between (and above 1 below the design point).

    Notes
    -----
    .. math:: \\varphi = \\max\\left(0, \\frac{T_{limit} - T_{out}}{T_{limit} - T_{design}}\\right)

    The curve's foot point is the heating limit rather than the room temperature: the
    internal and solar gains cover the building's loss down to the limit (that is what
    the heating limit means), so the circuit has no demand and no jump there.

    References
    ----------
    .. [1] VDI 2067 Blatt 1 (2012), heating limit temperature; H. Recknagel, E. Sprenger,
       E.-R. Schramek, Taschenbuch für Heizung + Klimatechnik, heating-curve chapter.

    Examples
    --------
    >>> float(heat_load_fraction(2.5, -10.0, 15.0))
    0.5
    """
    span = heating_limit_temp_c - design_outdoor_temp_c
    if span <= 0:
        raise ValueError("heating_limit_temp_c must be above design_outdoor_temp_c")
    return np.maximum(0.0, (heating_limit_temp_c - _arr(outdoor_temp_c)) / span)


def heating_curve_temps_c(
    outdoor_temp_c: FloatOrArray,
    *,
    indoor_temp_c: float,
    design_outdoor_temp_c: float,
    heating_limit_temp_c: float,
    design_supply_temp_c: float,
    design_return_temp_c: float,
    emitter_exponent: float = EMITTER_EXPONENT_RADIATOR,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Supply and return temperature of a weather-compensated heating circuit [°C].

    Parameters
    ----------
    outdoor_temp_c : float or array-like
        Outdoor air temperature [°C].
    indoor_temp_c : float
        Design room temperature [°C].
    design_outdoor_temp_c, heating_limit_temp_c : float
        As for :func:`heat_load_fraction` [°C].
    design_supply_temp_c, design_return_temp_c : float
        Supply and return at the design point [°C] (e.g. 70/55 radiators, 35/28 floor).
    emitter_exponent : float, default 1.3
        Emitter exponent ``n`` [-] (1.3 radiators, 1.1 floor heating).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Supply and return temperature [°C]; both equal the room temperature at and above
        the heating limit.

    Notes
    -----
    At constant circuit flow the spread scales with the load and the emitters' mean
    excess temperature with the load to the power ``1/n`` (EN 442-2 characteristic,
    arithmetic mean temperature difference):

    .. math::

        \\Delta T_m &= \\left(\\tfrac{T_{s,d} + T_{r,d}}{2} - T_i\\right)\\varphi^{1/n},
        \\qquad \\sigma = (T_{s,d} - T_{r,d})\\,\\varphi \\\\
        T_s &= T_i + \\Delta T_m + \\sigma/2, \\qquad T_r = T_i + \\Delta T_m - \\sigma/2

    References
    ----------
    .. [1] EN 442-2:2014, Radiators and convectors, test methods and rating
       (characteristic equation ``Q = K_m dT^n``).
    .. [2] EN 12831-1:2017, design heat load and design outdoor temperature.

    Examples
    --------
    A 35/28 floor-heating circuit at its design point and at half load:

    >>> s, r = heating_curve_temps_c([-10.0, 2.5], indoor_temp_c=20.0,
    ...     design_outdoor_temp_c=-10.0, heating_limit_temp_c=15.0,
    ...     design_supply_temp_c=35.0, design_return_temp_c=28.0, emitter_exponent=1.1)
    >>> [round(float(x), 2) for x in s], [round(float(x), 2) for x in r]
    ([35.0, 27.87], [28.0, 24.37])
    """
    phi = heat_load_fraction(outdoor_temp_c, design_outdoor_temp_c, heating_limit_temp_c)
    mean_excess_k = 0.5 * (design_supply_temp_c + design_return_temp_c) - indoor_temp_c
    if mean_excess_k <= 0:
        raise ValueError("the design mean water temperature must be above the room")
    excess = mean_excess_k * phi ** (1.0 / emitter_exponent)
    half_spread = 0.5 * (design_supply_temp_c - design_return_temp_c) * phi
    return indoor_temp_c + excess + half_spread, indoor_temp_c + excess - half_spread


def solar_gain_shape(local_hour: FloatOrArray) -> npt.NDArray[np.float64]:
    """Daily shape of solar gains through glazing, 1 at solar noon [-].

    Parameters
    ----------
    local_hour : float or array-like
        Hour of the day in local (mean solar) time [h].

    Returns
    -------
    numpy.ndarray
        ``max(0, sin(pi (h - 6) / 12))``: a half sine from 06:00 to 18:00 (mean over a
        day ``1/pi``).

    Notes
    -----
    ISO 52016-1:2017 takes solar gains as glazing area x g-value x the irradiance on
    the glazing; without irradiance data this shape stands in for the irradiance's daily
    course (an assumption; a site with measured irradiance should replace it).

    Examples
    --------
    >>> [round(float(x), 3) for x in solar_gain_shape([6.0, 12.0, 15.0, 20.0])]
    [0.0, 1.0, 0.707, 0.0]
    """
    if type(local_hour) is float:  # scalar fast path (the same formula)
        shape: float = max(0.0, math.sin(math.pi * (local_hour % 24.0 - 6.0) / 12.0))
        return shape  # type: ignore[return-value]
    hour = _arr(local_hour) % 24.0
    return np.maximum(0.0, np.sin(np.pi * (hour - 6.0) / 12.0))


def mains_water_temp_c(
    day_of_year: FloatOrArray,
    annual_mean_air_temp_c: float,
    monthly_mean_air_temp_range_k: float,
    southern_hemisphere: bool = False,
) -> npt.NDArray[np.float64]:
    """Cold-water (mains) temperature over the year [°C] (Burch & Christensen 2007).

    Parameters
    ----------
    day_of_year : float or array-like
        Day of the year, 1 = 1 January [-].
    annual_mean_air_temp_c : float
        Annual mean outdoor air temperature [°C].
    monthly_mean_air_temp_range_k : float
        Warmest minus coldest monthly mean outdoor air temperature [K].
    southern_hemisphere : bool, default False
        Shift the cycle by half a year.

    Returns
    -------
    numpy.ndarray
        Mains water temperature [°C].

    Notes
    -----
    In degrees Fahrenheit, with ``T`` the annual mean and ``dT`` the monthly range:

    .. math::

        T_{mains} &= (T + 6) + r \\frac{dT}{2}
                     \\sin\\big(0.986 (d - 15 - \\ell) - 90\\big) \\quad [°]\\\\
        r &= 0.4 + 0.01 (T - 44), \\qquad \\ell = 35 - 1.0 (T - 44)\\ \\text{days}

    References
    ----------
    .. [1] J. Burch, C. Christensen, "Towards development of an algorithm for mains
       water temperature", Proc. ASES Solar 2007, NREL; used by EnergyPlus
       (Site:WaterMainsTemperature, method Correlation) and the Building America
       House Simulation Protocols.

    Examples
    --------
    Annual mean 44 °F (6.67 °C), range 40 °F (22.2 K): the peak 58 °F (14.44 °C) on
    day 232.6:

    >>> round(float(mains_water_temp_c(50.0 + 90.0 / 0.986 * 2, 6.6667, 22.2222)), 2)
    14.44
    """
    mean_f = annual_mean_air_temp_c * 1.8 + 32.0
    range_f = monthly_mean_air_temp_range_k * 1.8
    ratio = 0.4 + 0.01 * (mean_f - 44.0)
    lag_days = 35.0 - 1.0 * (mean_f - 44.0)
    if type(day_of_year) is float:  # scalar fast path (the same formula)
        day_f = day_of_year + (182.5 if southern_hemisphere else 0.0)
        angle = 0.986 * (day_f - 15.0 - lag_days) - 90.0
        temp = mean_f + 6.0 + ratio * range_f / 2.0 * math.sin(math.radians(angle))
        return (temp - 32.0) / 1.8  # type: ignore[return-value]
    day = _arr(day_of_year) + (182.5 if southern_hemisphere else 0.0)
    angle_deg = 0.986 * (day - 15.0 - lag_days) - 90.0
    temp_f = mean_f + 6.0 + ratio * range_f / 2.0 * np.sin(np.radians(angle_deg))
    return (temp_f - 32.0) / 1.8
