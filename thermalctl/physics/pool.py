"""Indoor swimming pool heat balance.

The pool water loses heat by evaporation (usually the largest term), by
convection and long-wave radiation to the hall, by conduction through the
basin to the ground, and by heating the fresh water that replaces evaporated
and discharged water. The hall is assumed to be held at its set point by its
own air handling.

Evaporation uses the ASHRAE Handbook equation (HVAC Applications, ch. 6
"Places of assembly", Natatoriums) with its activity factor. It is the
default because it is the design method facilities engineers and
dehumidifier vendors use, its activity factors are tabulated per pool type, and
its single scale factor is what :mod:`thermalctl.physics.calibration` fits to
site data anyway. Shah's correlations, which track occupancy and the
density-driven natural convection better, are not implemented yet: their
forced-convection branch (which governs the usual case of a hall warmer than
the water) could not be checked against the papers' text.

Sign convention: every loss term is positive when heat leaves the water.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.constants import Stefan_Boltzmann, g

from thermalctl.physics.water import (
    density_kg_per_m3,
    latent_heat_vaporisation_j_per_kg,
    saturation_vapour_pressure_pa,
    specific_heat_j_per_kg_k,
)

__all__ = [
    "ACTIVITY_FACTOR_BY_POOL_TYPE",
    "ASHRAE_EVAPORATION_COEFFICIENT_KG_PER_S_M2_PA",
    "COVER_EVAPORATION_REDUCTION_FRACTION",
    "DEFAULT_ACTIVITY_FACTOR",
    "FRESH_WATER_PER_BATHER_M3",
    "WATER_EMISSIVITY",
    "PoolHeatLoss",
    "convection_coefficient_w_per_m2_k",
    "evaporation_ashrae_kg_per_s",
    "linearised_heat_loss_w",
    "pool_heat_loss_breakdown",
    "pool_heat_loss_w",
    "pool_temp_derivative_k_per_s",
    "saturation_vapour_pressure_magnus_pa",
    "saturation_vapour_pressure_pa",
]

FloatOrArray = Any  # float | numpy array | pandas Series

ASHRAE_EVAPORATION_COEFFICIENT_KG_PER_S_M2_PA: float = 4.0e-8
"""ASHRAE natatorium evaporation coefficient [kg/(s m² Pa)].

The Handbook prints it as ``4.0e-5`` with pressures in kPa (SI edition) and
as ``0.1`` lb/(h ft² inHg) (I-P edition); both equal 4.0e-8 kg/(s m² Pa).
"""

ACTIVITY_FACTOR_BY_POOL_TYPE: dict[str, float] = {
    "residential": 0.5,
    "condominium": 0.65,
    "therapy": 0.65,
    "hotel": 0.8,
    "public_school": 1.0,
    "whirlpool_spa": 1.0,
    "wave_pool_water_slide": 1.5,
}
"""ASHRAE activity factors ``F_a`` by pool type [-].

Source: ASHRAE Handbook - HVAC Applications (2019), ch. 6, Table 2 (the
wave-pool value is the table's lower bound, "1.5 (minimum)"). An unoccupied,
undisturbed pool is commonly taken as 0.5.
"""

DEFAULT_ACTIVITY_FACTOR: float = ACTIVITY_FACTOR_BY_POOL_TYPE["condominium"]
"""Default activity factor (0.65, a lightly used pool) [-]."""

WATER_EMISSIVITY: float = 0.95
"""Long-wave emissivity of a water surface [-] (Incropera et al., Table A.11: 0.95-0.96)."""

COVER_EVAPORATION_REDUCTION_FRACTION: float = 0.9
"""Share of evaporation a closed pool cover prevents [-].

US DOE, Energy Saver, "Swimming pool covers": covers cut evaporation by
90-95 %; the lower figure is used.
"""

FRESH_WATER_PER_BATHER_M3: float = 0.030
"""Fresh (fill) water added per bather [m³]: 30 L, DIN 19643-1:2012, 4.6."""

# Dry air near 300 K, Incropera et al., Table A.4 (constant properties are adequate
# for the few-kelvin differences over a pool).
_AIR_KINEMATIC_VISCOSITY_M2_PER_S = 15.89e-6
_AIR_THERMAL_DIFFUSIVITY_M2_PER_S = 22.5e-6
_AIR_CONDUCTIVITY_W_PER_M_K = 0.0263
_KELVIN_OFFSET = 273.15


def _arr(value: FloatOrArray) -> npt.NDArray[np.float64]:
    return np.asarray(value, dtype=float)


def saturation_vapour_pressure_magnus_pa(temp_c: FloatOrArray) -> npt.NDArray[np.float64]:
    """Saturation vapour pressure over water by the Magnus formula.

    Parameters
    ----------
    temp_c : float or array-like
        Temperature, -40 to 50 [°C].

    Returns
    -------
    numpy.ndarray
        Saturation vapour pressure [Pa].

    Notes
    -----
    A cheap alternative to :func:`saturation_vapour_pressure_pa` (IAPWS-IF97)
    for psychrometric inputs; within 0.26 % of IAPWS-IF97 between 0 and 50 °C.

    .. math:: p_s = 610.94\\,\\exp\\left(\\frac{17.625\\, t}{t + 243.04}\\right)

    References
    ----------
    .. [1] O. A. Alduchov, R. E. Eskridge, Improved Magnus form approximation
       of saturation vapor pressure, J. Appl. Meteor. 35 (1996) 601-609,
       doi:10.1175/1520-0450(1996)035<0601:IMFAOS>2.0.CO;2.

    Examples
    --------
    >>> round(float(saturation_vapour_pressure_magnus_pa(30.0)))
    4237
    """
    t = _arr(temp_c)
    return 610.94 * np.exp(17.625 * t / (t + 243.04))


def evaporation_ashrae_kg_per_s(
    area_m2: FloatOrArray,
    water_temp_c: FloatOrArray,
    air_temp_c: FloatOrArray,
    relative_humidity_fraction: FloatOrArray,
    activity_factor: FloatOrArray = DEFAULT_ACTIVITY_FACTOR,
) -> npt.NDArray[np.float64]:
    """Evaporation from an indoor pool by the ASHRAE natatorium equation.

    Parameters
    ----------
    area_m2 : float or array-like
        Water surface area [m²].
    water_temp_c : float or array-like
        Pool water temperature [°C].
    air_temp_c : float or array-like
        Hall air dry-bulb temperature [°C].
    relative_humidity_fraction : float or array-like
        Hall relative humidity, 0 to 1 [-].
    activity_factor : float or array-like, default 0.65
        ASHRAE activity factor ``F_a`` [-]; see :data:`ACTIVITY_FACTOR_BY_POOL_TYPE`.

    Returns
    -------
    numpy.ndarray
        Evaporation [kg/s]; negative (condensation) if the hall dew point is
        above the water temperature.

    Notes
    -----
    .. math:: w_p = 4.0\\times10^{-8}\\, A\\, (p_w - p_a)\\, F_a

    with :math:`p_w` the saturation pressure at the water temperature and
    :math:`p_a = \\phi\\, p_s(t_{air})` the partial vapour pressure of the hall
    air, both in Pa (the Handbook's SI form is :math:`4.0\\times10^{-5}` with kPa).

    References
    ----------
    .. [1] ASHRAE Handbook - HVAC Applications, SI ed., ASHRAE, 2019, ch. 6
       "Places of Assembly", Natatoriums, eq. 2 and Table 2.

    Examples
    --------
    >>> round(float(evaporation_ashrae_kg_per_s(312.5, 28.0, 30.0, 0.6)) * 3600, 1)
    36.1
    """
    p_water = saturation_vapour_pressure_pa(water_temp_c)
    p_air = _arr(relative_humidity_fraction) * saturation_vapour_pressure_pa(air_temp_c)
    return (
        ASHRAE_EVAPORATION_COEFFICIENT_KG_PER_S_M2_PA
        * _arr(area_m2)
        * (p_water - p_air)
        * _arr(activity_factor)
    )


def convection_coefficient_w_per_m2_k(
    water_temp_c: FloatOrArray,
    air_temp_c: FloatOrArray,
    characteristic_length_m: FloatOrArray,
) -> npt.NDArray[np.float64]:
    """Natural-convection coefficient between a pool surface and still hall air.

    Parameters
    ----------
    water_temp_c : float or array-like
        Water surface temperature [°C].
    air_temp_c : float or array-like
        Hall air temperature [°C].
    characteristic_length_m : float or array-like
        Surface area divided by perimeter, ``A / P`` [m].

    Returns
    -------
    numpy.ndarray
        Heat transfer coefficient [W/(m² K)], >= 0.

    Notes
    -----
    Horizontal plate correlations with air properties at 300 K and
    :math:`\\mathrm{Ra} = g \\beta |\\Delta T| L^3 / (\\nu \\alpha)`,
    :math:`\\beta = 1/T_{film}`:

    * water warmer than air (unstable): :math:`\\mathrm{Nu} = 0.54\\,\\mathrm{Ra}^{1/4}`
      for Ra < 1e7, :math:`0.15\\,\\mathrm{Ra}^{1/3}` above;
    * water colder than air (stable): :math:`\\mathrm{Nu} = 0.52\\,\\mathrm{Ra}^{1/5}`.

    References
    ----------
    .. [1] F. P. Incropera et al., Fundamentals of Heat and Mass Transfer,
       6th ed., Wiley, 2007, eqs. 9.30, 9.31 and 9.32, Table A.4.

    Examples
    --------
    >>> round(float(convection_coefficient_w_per_m2_k(30.0, 26.0, 4.0)), 2)
    2.82
    """
    water = _arr(water_temp_c)
    air = _arr(air_temp_c)
    length = _arr(characteristic_length_m)
    delta = np.abs(water - air)
    film_k = 0.5 * (water + air) + _KELVIN_OFFSET
    ra = (
        g
        / film_k
        * delta
        * length**3
        / (_AIR_KINEMATIC_VISCOSITY_M2_PER_S * _AIR_THERMAL_DIFFUSIVITY_M2_PER_S)
    )
    nu_unstable = np.where(ra < 1e7, 0.54 * ra**0.25, 0.15 * np.cbrt(ra))
    nu_stable = 0.52 * ra**0.2
    nu = np.where(water >= air, nu_unstable, nu_stable)
    return nu * _AIR_CONDUCTIVITY_W_PER_M_K / length


@dataclass(frozen=True)
class PoolHeatLoss:
    """Heat loss of a pool split by mechanism, each [W] (positive = heat leaves water).

    Attributes
    ----------
    evaporation_w, convection_w, radiation_w, conduction_w, makeup_water_w : numpy.ndarray
        The five loss terms [W].
    evaporation_kg_per_s : numpy.ndarray
        Water evaporated [kg/s].
    makeup_water_kg_per_s : numpy.ndarray
        Fresh water added (evaporation plus bather dilution) [kg/s].
    """

    evaporation_w: npt.NDArray[np.float64]
    convection_w: npt.NDArray[np.float64]
    radiation_w: npt.NDArray[np.float64]
    conduction_w: npt.NDArray[np.float64]
    makeup_water_w: npt.NDArray[np.float64]
    evaporation_kg_per_s: npt.NDArray[np.float64]
    makeup_water_kg_per_s: npt.NDArray[np.float64]

    @property
    def total_w(self) -> npt.NDArray[np.float64]:
        """Sum of the five loss terms [W]."""
        return (
            self.evaporation_w
            + self.convection_w
            + self.radiation_w
            + self.conduction_w
            + self.makeup_water_w
        )


def pool_heat_loss_breakdown(
    water_temp_c: FloatOrArray,
    air_temp_c: FloatOrArray,
    relative_humidity_fraction: FloatOrArray,
    area_m2: float,
    *,
    activity_factor: FloatOrArray = DEFAULT_ACTIVITY_FACTOR,
    cover_on: FloatOrArray = False,
    cover_evaporation_reduction_fraction: float = COVER_EVAPORATION_REDUCTION_FRACTION,
    surface_temp_c: FloatOrArray | None = None,
    emissivity: float = WATER_EMISSIVITY,
    characteristic_length_m: float | None = None,
    ground_ua_w_per_k: float = 0.0,
    ground_temp_c: FloatOrArray = 10.0,
    mains_temp_c: FloatOrArray = 10.0,
    bathers_per_day: FloatOrArray = 0.0,
    fresh_water_per_bather_m3: float = FRESH_WATER_PER_BATHER_M3,
) -> PoolHeatLoss:
    """Heat loss of an indoor pool, term by term.

    Parameters
    ----------
    water_temp_c : float or array-like
        Pool water temperature [°C].
    air_temp_c : float or array-like
        Hall air temperature [°C].
    relative_humidity_fraction : float or array-like
        Hall relative humidity, 0 to 1 [-].
    area_m2 : float
        Water surface area [m²].
    activity_factor : float or array-like, default 0.65
        ASHRAE activity factor [-].
    cover_on : bool or array-like of bool, default False
        Whether a pool cover is closed.
    cover_evaporation_reduction_fraction : float, default 0.9
        Share of evaporation the closed cover prevents [-]. The cover is
        assumed not to change convection or radiation.
    surface_temp_c : float or array-like, optional
        Mean temperature of the hall surfaces the water sees [°C]; defaults to
        the air temperature.
    emissivity : float, default 0.95
        Water surface emissivity [-].
    characteristic_length_m : float, optional
        ``A / P`` for convection [m]; defaults to that of a square, ``sqrt(A)/4``.
    ground_ua_w_per_k : float, default 0.0
        Conductance from the water through the basin to the ground [W/K].
    ground_temp_c : float or array-like, default 10.0
        Ground temperature behind the basin [°C].
    mains_temp_c : float or array-like, default 10.0
        Temperature of the fresh water [°C].
    bathers_per_day : float or array-like, default 0.0
        Bathers per day; each brings ``fresh_water_per_bather_m3`` of fresh water.
    fresh_water_per_bather_m3 : float, default 0.030
        Fresh water per bather [m³] (DIN 19643-1).

    Returns
    -------
    PoolHeatLoss
        The loss terms [W] and water flows [kg/s].

    Notes
    -----
    .. math::

        \\dot Q_{evap} &= w_p\\, h_{fg}(t_w)\\, (1 - r_{cover})\\\\
        \\dot Q_{conv} &= h_c A (t_w - t_a)\\\\
        \\dot Q_{rad}  &= \\varepsilon \\sigma A (T_w^4 - T_s^4)\\\\
        \\dot Q_{cond} &= UA_{ground} (t_w - t_{ground})\\\\
        \\dot Q_{makeup} &= (\\dot m_{evap} + \\dot m_{bathers}) c_p (t_w - t_{mains})

    Evaporated water is replaced as it goes (level control), so its make-up
    heating is counted with the loss.

    References
    ----------
    .. [1] ASHRAE Handbook - HVAC Applications (2019), ch. 6, Natatoriums.
    .. [2] F. P. Incropera et al., Fundamentals of Heat and Mass Transfer,
       6th ed., eqs. 1.7 (radiation) and 9.30-9.32 (convection).
    .. [3] DIN 19643-1:2012, Treatment of water of swimming pools and baths.
    """
    water = _arr(water_temp_c)
    air = _arr(air_temp_c)
    area = float(area_m2)
    surface = air if surface_temp_c is None else _arr(surface_temp_c)
    length = np.sqrt(area) / 4.0 if characteristic_length_m is None else characteristic_length_m

    cover_factor = np.where(
        np.asarray(cover_on, dtype=bool), 1.0 - cover_evaporation_reduction_fraction, 1.0
    )
    evaporation = (
        evaporation_ashrae_kg_per_s(area, water, air, relative_humidity_fraction, activity_factor)
        * cover_factor
    )
    evaporation_w = evaporation * latent_heat_vaporisation_j_per_kg(water)
    convection_w = convection_coefficient_w_per_m2_k(water, air, length) * area * (water - air)
    radiation_w = (
        emissivity
        * Stefan_Boltzmann
        * area
        * ((water + _KELVIN_OFFSET) ** 4 - (surface + _KELVIN_OFFSET) ** 4)
    )
    conduction_w = ground_ua_w_per_k * (water - _arr(ground_temp_c))
    mains = _arr(mains_temp_c)
    bather_kg_per_s = (
        _arr(bathers_per_day) * fresh_water_per_bather_m3 * density_kg_per_m3(mains) / 86_400.0
    )
    makeup_kg_per_s = np.maximum(evaporation, 0.0) + bather_kg_per_s
    makeup_w = makeup_kg_per_s * specific_heat_j_per_kg_k(0.5 * (water + mains)) * (water - mains)
    shape = np.broadcast_shapes(
        np.shape(evaporation_w), np.shape(convection_w), np.shape(conduction_w), np.shape(makeup_w)
    )
    return PoolHeatLoss(
        evaporation_w=np.broadcast_to(evaporation_w, shape),
        convection_w=np.broadcast_to(convection_w, shape),
        radiation_w=np.broadcast_to(radiation_w, shape),
        conduction_w=np.broadcast_to(conduction_w, shape),
        makeup_water_w=np.broadcast_to(makeup_w, shape),
        evaporation_kg_per_s=np.broadcast_to(evaporation, shape),
        makeup_water_kg_per_s=np.broadcast_to(makeup_kg_per_s, shape),
    )


def pool_heat_loss_w(
    water_temp_c: FloatOrArray,
    air_temp_c: FloatOrArray,
    relative_humidity_fraction: FloatOrArray,
    area_m2: float,
    **kwargs: Any,
) -> npt.NDArray[np.float64]:
    """Total heat loss of an indoor pool [W].

    Parameters
    ----------
    water_temp_c, air_temp_c, relative_humidity_fraction, area_m2
        As for :func:`pool_heat_loss_breakdown` ([°C], [°C], [-], [m²]).
    **kwargs
        Keyword options of :func:`pool_heat_loss_breakdown` (``cover_on``,
        ``activity_factor``, ``ground_ua_w_per_k``, ...).

    Returns
    -------
    numpy.ndarray
        Sum of evaporation, convection, radiation, conduction and make-up
        water heating [W].

    Notes
    -----
    See :func:`pool_heat_loss_breakdown`.

    References
    ----------
    .. [1] ASHRAE Handbook - HVAC Applications (2019), ch. 6, Natatoriums.

    Examples
    --------
    >>> round(float(pool_heat_loss_w(28.0, 30.0, 0.6, 312.5)) / 1e3, 1)
    21.3
    """
    return pool_heat_loss_breakdown(
        water_temp_c, air_temp_c, relative_humidity_fraction, area_m2, **kwargs
    ).total_w


def pool_temp_derivative_k_per_s(
    water_temp_c: FloatOrArray,
    heat_in_w: FloatOrArray,
    volume_m3: float,
    heat_loss_w: FloatOrArray,
) -> npt.NDArray[np.float64]:
    """Rate of change of a well-mixed pool's temperature.

    Parameters
    ----------
    water_temp_c : float or array-like
        Pool water temperature [°C].
    heat_in_w : float or array-like
        Heat delivered to the water (heat exchanger, solar, ...) [W].
    volume_m3 : float
        Water volume [m³].
    heat_loss_w : float or array-like
        Heat loss, e.g. from :func:`pool_heat_loss_w` [W].

    Returns
    -------
    numpy.ndarray
        :math:`dT/dt` [K/s].

    Notes
    -----
    .. math:: \\frac{dT}{dt} = \\frac{\\dot Q_{in} - \\dot Q_{loss}}{\\rho(T) c_p(T) V}

    References
    ----------
    .. [1] F. P. Incropera et al., 6th ed., eq. 1.11b (lumped energy balance).

    Examples
    --------
    >>> round(float(pool_temp_derivative_k_per_s(28.0, 50e3, 600.0, 20e3)) * 86400, 2)
    1.04
    """
    temp = _arr(water_temp_c)
    capacity_j_per_k = density_kg_per_m3(temp) * specific_heat_j_per_kg_k(temp) * volume_m3
    return (_arr(heat_in_w) - _arr(heat_loss_w)) / capacity_j_per_k


def linearised_heat_loss_w(
    ref_temp_c: float,
    air_temp_c: float,
    relative_humidity_fraction: float,
    area_m2: float,
    *,
    delta_k: float = 0.1,
    **kwargs: Any,
) -> tuple[float, float]:
    """Pool heat loss linearised around a water temperature, for planners and fast simulators.

    Parameters
    ----------
    ref_temp_c : float
        Water temperature the line touches the model at [°C].
    air_temp_c, relative_humidity_fraction, area_m2
        As in :func:`pool_heat_loss_w` [°C], [-], [m²].
    delta_k : float, default 0.1
        Step of the forward difference for the slope [K].
    **kwargs
        Passed to :func:`pool_heat_loss_w`.

    Returns
    -------
    (intercept_w, slope_w_per_k) : tuple of float
        ``loss(T) ≈ intercept_w + slope_w_per_k * T`` near ``ref_temp_c`` [W], [W/K].

    Notes
    -----
    A forward difference of :func:`pool_heat_loss_w`; evaporation is convex in the
    water temperature, so the line lies slightly below the model away from the
    reference point (0.1 K steps keep the error well under 0.1 %).

    Examples
    --------
    >>> b, m = linearised_heat_loss_w(28.0, 30.0, 0.6, 312.5)
    >>> m > 0
    True
    """
    losses = pool_heat_loss_w(
        np.array([ref_temp_c, ref_temp_c + delta_k]),
        air_temp_c,
        relative_humidity_fraction,
        area_m2,
        **kwargs,
    )
    slope = float(losses[1] - losses[0]) / delta_k
    return float(losses[0]) - slope * ref_temp_c, slope
