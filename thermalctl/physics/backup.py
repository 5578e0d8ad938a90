"""Backup heaters: the fuel or electricity that recovered heat avoids.

A heat sink served by recovered heat would otherwise be served by a boiler or
a heat pump. These functions turn heat into the energy those would have used
and into CO2. Emission factors differ by country, year and convention
(combustion only or life-cycle, net or gross calorific value); the constants
below say which one they are, and a site profile should pick its own.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "CONDENSING_GAS_BOILER_EFFICIENCY_FRACTION",
    "DEFAULT_CARNOT_EFFICIENCY_FRACTION",
    "DEFAULT_MIN_LIFT_K",
    "NATURAL_GAS_CO2E_KG_PER_KWH_GEG",
    "NATURAL_GAS_CO2_KG_PER_KWH_BAFA",
    "avoided_co2_kg",
    "boiler_fuel_w",
    "heat_pump_cop",
    "heat_pump_electricity_w",
]

FloatOrArray = Any  # float | numpy array | pandas Series

CONDENSING_GAS_BOILER_EFFICIENCY_FRACTION: float = 0.92
"""Seasonal efficiency of a condensing gas boiler on net calorific value [-].

Typical 0.90-0.95 (net); about 0.05 lower on gross calorific value. Rating
standard: EN 15502; seasonal figures as in the EU ecodesign regulation
813/2013 (which uses gross values, typically 0.86-0.94).
"""

NATURAL_GAS_CO2_KG_PER_KWH_BAFA: float = 0.201
"""CO2 from burning natural gas, per kWh of fuel on net calorific value [kg/kWh].

Combustion only (no upstream emissions). Source: BAFA, Informationsblatt
CO2-Faktoren, Bundesförderung für Energie- und Ressourceneffizienz in der
Wirtschaft (Erdgas: 0.201 kg CO2/kWh).
"""

NATURAL_GAS_CO2E_KG_PER_KWH_GEG: float = 0.240
"""Natural gas, CO2-equivalent including upstream chain, per kWh on net CV [kg/kWh].

Source: Gebäudeenergiegesetz (GEG 2020), Anlage 9 (Erdgas: 240 g CO2-eq/kWh).
"""

DEFAULT_CARNOT_EFFICIENCY_FRACTION: float = 0.45
"""Ratio of real to Carnot COP for electric heat pumps [-] (Carnot COP on the heat
sink's outlet and the heat source's inlet temperature).

Typical 0.4-0.55 for current vapour-compression units: C. Arpagaus et al., "High
temperature heat pumps: Market overview, state of the art, research status,
refrigerants, and application potentials", Energy 152 (2018) 985-1010,
doi:10.1016/j.energy.2018.03.166 (Carnot efficiencies of the surveyed industrial
units mostly 0.4-0.6); see also VDI 4650 Part 1 and the IEA HPT programme's
comparisons of rated COPs. 0.45 is the cautious end.
"""

DEFAULT_MIN_LIFT_K: float = 5.0
"""Smallest temperature lift used in the Carnot COP [K], to keep it finite."""


def _arr(value: FloatOrArray) -> npt.NDArray[np.float64]:
    return np.asarray(value, dtype=float)


def boiler_fuel_w(
    heat_w: FloatOrArray, efficiency_fraction: FloatOrArray
) -> npt.NDArray[np.float64]:
    """Fuel power a boiler burns to deliver a heat load.

    Parameters
    ----------
    heat_w : float or array-like
        Heat delivered [W].
    efficiency_fraction : float or array-like
        Boiler efficiency, on the same calorific-value basis as the emission
        factor later applied (0, 1.1] [-].

    Returns
    -------
    numpy.ndarray
        Fuel power [W].

    Notes
    -----
    .. math:: P_{fuel} = \\dot Q / \\eta

    References
    ----------
    .. [1] EN 15316-4-1:2017, Heating systems in buildings, space heating
       generation systems, combustion systems (boilers).

    Examples
    --------
    >>> float(boiler_fuel_w(9200.0, 0.92))
    10000.0
    """
    eta = _arr(efficiency_fraction)
    if np.any((eta <= 0.0) | (eta > 1.1)):
        raise ValueError("efficiency_fraction must be in (0, 1.1]")
    return _arr(heat_w) / eta


def heat_pump_electricity_w(heat_w: FloatOrArray, cop: FloatOrArray) -> npt.NDArray[np.float64]:
    """Electric power a heat pump draws to deliver a heat load.

    Parameters
    ----------
    heat_w : float or array-like
        Heat delivered [W].
    cop : float or array-like
        Coefficient of performance, > 0 [-].

    Returns
    -------
    numpy.ndarray
        Electric power [W].

    Notes
    -----
    .. math:: P_{el} = \\dot Q / \\mathrm{COP}

    References
    ----------
    .. [1] EN 14511-1:2018, definition of COP.

    Examples
    --------
    >>> float(heat_pump_electricity_w(12_000.0, 3.0))
    4000.0
    """
    cop_arr = _arr(cop)
    if np.any(cop_arr <= 0.0):
        raise ValueError("cop must be positive")
    return _arr(heat_w) / cop_arr


def heat_pump_cop(
    sink_temp_c: FloatOrArray,
    source_temp_c: FloatOrArray,
    carnot_efficiency_fraction: FloatOrArray = DEFAULT_CARNOT_EFFICIENCY_FRACTION,
    min_lift_k: float = DEFAULT_MIN_LIFT_K,
) -> npt.NDArray[np.float64]:
    """Heating COP estimated as a fraction of the Carnot COP.

    Parameters
    ----------
    sink_temp_c : float or array-like
        Temperature at which heat is delivered (flow temperature) [°C].
    source_temp_c : float or array-like
        Temperature of the heat source (outdoor air, ground, waste water) [°C].
    carnot_efficiency_fraction : float or array-like, default 0.45
        Real COP divided by Carnot COP [-].
    min_lift_k : float, default 5.0
        Lift below which the lift is held at this value, so that the COP stays
        finite when source and sink temperatures meet [K].

    Returns
    -------
    numpy.ndarray
        COP [-].

    Notes
    -----
    .. math::

        \\mathrm{COP} = \\eta_{C} \\frac{T_{sink}}{\\max(T_{sink} - T_{source}, \\Delta T_{min})}
        \\quad (T \\text{ in K})

    References
    ----------
    .. [1] Y. A. Cengel, M. A. Boles, Thermodynamics: An Engineering Approach,
       8th ed., McGraw-Hill, 2015, eq. 6-10 (Carnot heat pump).

    Examples
    --------
    >>> round(float(heat_pump_cop(55.0, 5.0)), 2)
    2.95
    """
    sink_k = _arr(sink_temp_c) + 273.15
    lift_k = np.maximum(sink_k - (_arr(source_temp_c) + 273.15), min_lift_k)
    return _arr(carnot_efficiency_fraction) * sink_k / lift_k


def avoided_co2_kg(
    energy_kwh: FloatOrArray, emission_factor_kg_per_kwh: FloatOrArray
) -> npt.NDArray[np.float64]:
    """CO2 avoided by not using an amount of fuel or electricity.

    Parameters
    ----------
    energy_kwh : float or array-like
        Fuel or electricity not used [kWh].
    emission_factor_kg_per_kwh : float or array-like
        Emission factor of that energy carrier [kg CO2/kWh].

    Returns
    -------
    numpy.ndarray
        Avoided emissions [kg CO2].

    Notes
    -----
    .. math:: m_{CO_2} = E \\cdot f

    References
    ----------
    .. [1] GHG Protocol, Corporate Standard, ch. 4 (emission factors).

    Examples
    --------
    >>> round(float(avoided_co2_kg(1000.0, NATURAL_GAS_CO2_KG_PER_KWH_BAFA)), 1)
    201.0
    """
    return _arr(energy_kwh) * _arr(emission_factor_kg_per_kwh)
