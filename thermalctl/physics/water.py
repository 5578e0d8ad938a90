"""Properties of liquid water between 0 and 100 °C.

Density and isobaric specific heat come from the Gibbs free-energy equation
of region 1 of IAPWS-IF97, which reproduces the scientific formulation
IAPWS-95 to better than 0.01 % for density and 0.1 % for ``cp`` in this range.
Viscosity is the IAPWS 2008 formulation (industrial form, no critical
enhancement) evaluated at the IF97 density. Saturation pressure is the IF97
region-4 equation. All functions are pure and vectorised: they accept a float,
a numpy array or a pandas Series and return the same shape as a numpy value
(a pandas Series in gives a numpy array out).

At 100 °C and 101.325 kPa the liquid is 0.03 K above the normal boiling point
(99.97 °C), i.e. slightly metastable; the equations extrapolate smoothly there
and the result matches the saturated-liquid tables to within their rounding.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "ATMOSPHERIC_PRESSURE_PA",
    "SPECIFIC_GAS_CONSTANT_WATER_J_PER_KG_K",
    "density_kg_per_m3",
    "dynamic_viscosity_pa_s",
    "latent_heat_vaporisation_j_per_kg",
    "saturation_vapour_pressure_pa",
    "specific_heat_j_per_kg_k",
    "volumetric_heat_capacity_j_per_m3_k",
]

FloatOrArray = Any  # float | numpy array | pandas Series; kept loose for pandas compatibility

ATMOSPHERIC_PRESSURE_PA: float = 101_325.0
"""Standard atmosphere [Pa]; default pressure of every property function."""

SPECIFIC_GAS_CONSTANT_WATER_J_PER_KG_K: float = 461.526
"""Specific gas constant of water used by IAPWS-IF97 [J/(kg K)]."""

_KELVIN_OFFSET = 273.15

# IAPWS-IF97 region 1, Table 2: exponents I, J and coefficients n of the
# dimensionless Gibbs free energy gamma(pi, tau).
_R1_I = np.array(
    [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 8, 8,
     21, 23, 29, 30, 31, 32],
    dtype=float,
)  # fmt: skip
_R1_J = np.array(
    [-2, -1, 0, 1, 2, 3, 4, 5, -9, -7, -1, 0, 1, 3, -3, 0, 1, 3, 17, -4, 0, 6, -5, -2, 10,
     -8, -11, -6, -29, -31, -38, -39, -40, -41],
    dtype=float,
)  # fmt: skip
_R1_N = np.array(
    [
        0.14632971213167, -0.84548187169114, -0.37563603672040e1, 0.33855169168385e1,
        -0.95791963387872, 0.15772038513228, -0.16616417199501e-1, 0.81214629983568e-3,
        0.28319080123804e-3, -0.60706301565874e-3, -0.18990068218419e-1,
        -0.32529748770505e-1, -0.21841717175414e-1, -0.52838357969930e-4,
        -0.47184321073267e-3, -0.30001780793026e-3, 0.47661393906987e-4,
        -0.44141845330846e-5, -0.72694996297594e-15, -0.31679644845054e-4,
        -0.28270797985312e-5, -0.85205128120103e-9, -0.22425281908000e-5,
        -0.65171222895601e-6, -0.14341729937924e-12, -0.40516996860117e-6,
        -0.12734301741641e-8, -0.17424871230634e-9, -0.68762131295531e-18,
        0.14478307828521e-19, 0.26335781662795e-22, -0.11947622640071e-22,
        0.18228094581404e-23, -0.93537087292458e-25,
    ]
)  # fmt: skip
_R1_P_STAR_PA = 16.53e6
_R1_T_STAR_K = 1386.0

# IAPWS-IF97 region 4 (saturation line), Table 34.
_R4_N = (
    0.11670521452767e4, -0.72421316703206e6, -0.17073846940092e2, 0.12020824702470e5,
    -0.32325550322333e7, 0.14915108613530e2, -0.48232657361591e4, 0.40511340542057e6,
    -0.23855557567849, 0.65017534844798e3,
)  # fmt: skip

# IAPWS 2008 viscosity: reference constants and coefficients (Tables 1 and 2).
_VISC_T_STAR_K = 647.096
_VISC_RHO_STAR_KG_PER_M3 = 322.0
_VISC_MU_STAR_PA_S = 1.0e-6
_VISC_H0 = np.array([1.67752, 2.20462, 0.6366564, -0.241605])
_VISC_I = np.array([0, 1, 2, 3, 0, 1, 2, 3, 5, 0, 1, 2, 3, 4, 0, 1, 0, 3, 4, 3, 5], dtype=float)
_VISC_J = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 4, 4, 5, 6, 6], dtype=float)
_VISC_H1 = np.array(
    [
        5.20094e-1, 8.50895e-2, -1.08374, -2.89555e-1, 2.22531e-1, 9.99115e-1, 1.88797,
        1.26613, 1.20573e-1, -2.81378e-1, -9.06851e-1, -7.72479e-1, -4.89837e-1,
        -2.57040e-1, 1.61913e-1, 2.57399e-1, -3.25372e-2, 6.98452e-2, 8.72102e-3,
        -4.35673e-3, -5.93264e-4,
    ]
)  # fmt: skip


def _as_float_array(value: FloatOrArray) -> npt.NDArray[np.float64]:
    return np.asarray(value, dtype=float)


def _region1_derivatives(
    temp_c: FloatOrArray, pressure_pa: FloatOrArray
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Return (pi, tau, gamma_pi, gamma_tautau) pieces of IF97 region 1."""
    temp_k = _as_float_array(temp_c) + _KELVIN_OFFSET
    pi = _as_float_array(pressure_pa) / _R1_P_STAR_PA
    tau = _R1_T_STAR_K / temp_k
    a = (7.1 - pi)[..., np.newaxis]
    b = (tau - 1.222)[..., np.newaxis]
    gamma_pi = -np.sum(_R1_N * _R1_I * a ** (_R1_I - 1.0) * b**_R1_J, axis=-1)
    gamma_tautau = np.sum(_R1_N * _R1_J * (_R1_J - 1.0) * a**_R1_I * b ** (_R1_J - 2.0), axis=-1)
    return tau, gamma_pi, gamma_tautau


def density_kg_per_m3(
    temp_c: FloatOrArray, pressure_pa: FloatOrArray = ATMOSPHERIC_PRESSURE_PA
) -> npt.NDArray[np.float64]:
    """Density of liquid water.

    Parameters
    ----------
    temp_c : float or array-like
        Water temperature, 0 to 100 [°C].
    pressure_pa : float or array-like, default 101325
        Absolute pressure [Pa].

    Returns
    -------
    numpy.ndarray
        Density [kg/m³].

    Notes
    -----
    IAPWS-IF97 region 1, with :math:`\\pi = p / 16.53\\,\\mathrm{MPa}` and
    :math:`\\tau = 1386\\,\\mathrm{K} / T`:

    .. math:: \\rho = \\frac{p}{R T \\pi \\gamma_\\pi}

    References
    ----------
    .. [1] IAPWS, Revised Release on the IAPWS Industrial Formulation 1997 for
       the Thermodynamic Properties of Water and Steam, IAPWS R7-97(2012), eq. 7
       and Table 3.
    .. [2] W. Wagner, A. Pruss, The IAPWS formulation 1995 ..., J. Phys. Chem.
       Ref. Data 31 (2002) 387-535, doi:10.1063/1.1461829 (reference values).

    Examples
    --------
    >>> round(float(density_kg_per_m3(20.0)), 2)
    998.21
    """
    temp_k = _as_float_array(temp_c) + _KELVIN_OFFSET
    _, gamma_pi, _ = _region1_derivatives(temp_c, pressure_pa)
    pi = _as_float_array(pressure_pa) / _R1_P_STAR_PA
    return _as_float_array(pressure_pa) / (
        SPECIFIC_GAS_CONSTANT_WATER_J_PER_KG_K * temp_k * pi * gamma_pi
    )


def specific_heat_j_per_kg_k(
    temp_c: FloatOrArray, pressure_pa: FloatOrArray = ATMOSPHERIC_PRESSURE_PA
) -> npt.NDArray[np.float64]:
    """Isobaric specific heat capacity of liquid water.

    Parameters
    ----------
    temp_c : float or array-like
        Water temperature, 0 to 100 [°C].
    pressure_pa : float or array-like, default 101325
        Absolute pressure [Pa].

    Returns
    -------
    numpy.ndarray
        Specific heat capacity ``cp`` [J/(kg K)].

    Notes
    -----
    IAPWS-IF97 region 1: :math:`c_p = -R \\tau^2 \\gamma_{\\tau\\tau}`.

    References
    ----------
    .. [1] IAPWS R7-97(2012), IAPWS-IF97, Table 3.

    Examples
    --------
    >>> round(float(specific_heat_j_per_kg_k(40.0)))
    4179
    """
    tau, _, gamma_tautau = _region1_derivatives(temp_c, pressure_pa)
    return -SPECIFIC_GAS_CONSTANT_WATER_J_PER_KG_K * tau**2 * gamma_tautau


def volumetric_heat_capacity_j_per_m3_k(
    temp_c: FloatOrArray, pressure_pa: FloatOrArray = ATMOSPHERIC_PRESSURE_PA
) -> npt.NDArray[np.float64]:
    """Heat capacity per unit volume, ``rho * cp`` [J/(m³ K)].

    Parameters
    ----------
    temp_c : float or array-like
        Water temperature [°C].
    pressure_pa : float or array-like, default 101325
        Absolute pressure [Pa].

    Returns
    -------
    numpy.ndarray
        :math:`\\rho c_p` [J/(m³ K)].

    Notes
    -----
    Product of :func:`density_kg_per_m3` and :func:`specific_heat_j_per_kg_k`.

    References
    ----------
    .. [1] IAPWS R7-97(2012), IAPWS-IF97.
    """
    return density_kg_per_m3(temp_c, pressure_pa) * specific_heat_j_per_kg_k(temp_c, pressure_pa)


def dynamic_viscosity_pa_s(
    temp_c: FloatOrArray, pressure_pa: FloatOrArray = ATMOSPHERIC_PRESSURE_PA
) -> npt.NDArray[np.float64]:
    """Dynamic viscosity of liquid water.

    Parameters
    ----------
    temp_c : float or array-like
        Water temperature, 0 to 100 [°C].
    pressure_pa : float or array-like, default 101325
        Absolute pressure [Pa].

    Returns
    -------
    numpy.ndarray
        Dynamic viscosity [Pa s].

    Notes
    -----
    IAPWS 2008, industrial use (critical enhancement :math:`\\bar\\mu_2 = 1`),
    with :math:`\\bar T = T/647.096\\,\\mathrm{K}`,
    :math:`\\bar\\rho = \\rho/322\\,\\mathrm{kg\\,m^{-3}}` and the IF97 density:

    .. math::

        \\bar\\mu_0 = \\frac{100 \\sqrt{\\bar T}}{\\sum_{i=0}^{3} H_i / \\bar T^i},\\qquad
        \\bar\\mu_1 = \\exp\\Big[\\bar\\rho \\sum_i \\sum_j
            (1/\\bar T - 1)^i H_{ij} (\\bar\\rho - 1)^j\\Big],\\qquad
        \\mu = 10^{-6}\\,\\mathrm{Pa\\,s}\\;\\bar\\mu_0 \\bar\\mu_1

    References
    ----------
    .. [1] M. L. Huber et al., New international formulation for the viscosity
       of H2O, J. Phys. Chem. Ref. Data 38 (2009) 101-125,
       doi:10.1063/1.3088050 (IAPWS R12-08).

    Examples
    --------
    >>> round(float(dynamic_viscosity_pa_s(20.0)) * 1e6, 1)
    1001.6
    """
    temp_k = _as_float_array(temp_c) + _KELVIN_OFFSET
    return _viscosity_from_density_pa_s(temp_k, density_kg_per_m3(temp_c, pressure_pa))


def _viscosity_from_density_pa_s(
    temp_k: FloatOrArray, density: FloatOrArray
) -> npt.NDArray[np.float64]:
    """IAPWS 2008 viscosity as a function of temperature [K] and density [kg/m³]."""
    t_bar = _as_float_array(temp_k) / _VISC_T_STAR_K
    rho_bar = _as_float_array(density) / _VISC_RHO_STAR_KG_PER_M3
    powers = np.arange(4.0)
    mu0 = 100.0 * np.sqrt(t_bar) / np.sum(_VISC_H0 / t_bar[..., np.newaxis] ** powers, axis=-1)
    x = (1.0 / t_bar - 1.0)[..., np.newaxis]
    y = (rho_bar - 1.0)[..., np.newaxis]
    mu1 = np.exp(rho_bar * np.sum(x**_VISC_I * _VISC_H1 * y**_VISC_J, axis=-1))
    return _VISC_MU_STAR_PA_S * mu0 * mu1


def saturation_vapour_pressure_pa(temp_c: FloatOrArray) -> npt.NDArray[np.float64]:
    """Saturation vapour pressure of water over liquid water.

    Parameters
    ----------
    temp_c : float or array-like
        Temperature, 0 to 370 [°C].

    Returns
    -------
    numpy.ndarray
        Saturation pressure [Pa].

    Notes
    -----
    IAPWS-IF97 region 4, eq. 30, with
    :math:`\\vartheta = T + n_9/(T - n_{10})`,
    :math:`A = \\vartheta^2 + n_1\\vartheta + n_2`,
    :math:`B = n_3\\vartheta^2 + n_4\\vartheta + n_5`,
    :math:`C = n_6\\vartheta^2 + n_7\\vartheta + n_8`:

    .. math:: p_s = 1\\,\\mathrm{MPa}\\left[\\frac{2C}{-B + \\sqrt{B^2 - 4AC}}\\right]^4

    References
    ----------
    .. [1] IAPWS R7-97(2012), IAPWS-IF97, section 8.1, eq. 30.

    Examples
    --------
    >>> round(float(saturation_vapour_pressure_pa(30.0)))
    4247
    """
    n = _R4_N
    temp_k = _as_float_array(temp_c) + _KELVIN_OFFSET
    theta = temp_k + n[8] / (temp_k - n[9])
    a = theta**2 + n[0] * theta + n[1]
    b = n[2] * theta**2 + n[3] * theta + n[4]
    c = n[5] * theta**2 + n[6] * theta + n[7]
    return 1.0e6 * (2.0 * c / (-b + np.sqrt(b**2 - 4.0 * a * c))) ** 4


LATENT_HEAT_0C_J_PER_KG: float = 2.501e6
"""Latent heat of vaporisation at 0 °C used by the linear fit [J/kg]."""

LATENT_HEAT_SLOPE_J_PER_KG_K: float = 2361.0
"""Slope of the linear latent-heat fit [J/(kg K)]."""


def latent_heat_vaporisation_j_per_kg(temp_c: FloatOrArray) -> npt.NDArray[np.float64]:
    """Latent heat of vaporisation of water (linear fit, 0-100 °C).

    Parameters
    ----------
    temp_c : float or array-like
        Water surface temperature [°C].

    Returns
    -------
    numpy.ndarray
        Latent heat [J/kg].

    Notes
    -----
    .. math:: h_{fg} = 2.501\\times10^6 - 2361\\, t

    Within 0.4 % of IAPWS-95 saturation tables from 0 to 100 °C and within
    0.1 % from 0 to 60 °C (pool and tank range).

    References
    ----------
    .. [1] R. R. Rogers, M. K. Yau, A Short Course in Cloud Physics, 3rd ed.,
       Pergamon, 1989, ch. 2 (linear form of the latent heat).

    Examples
    --------
    >>> round(float(latent_heat_vaporisation_j_per_kg(28.0)) / 1e3, 1)
    2434.9
    """
    return LATENT_HEAT_0C_J_PER_KG - LATENT_HEAT_SLOPE_J_PER_KG_K * _as_float_array(temp_c)
