"""Racks as heat sources: captured heat and coolant temperatures.

All electricity drawn by IT equipment ends up as heat (the energy leaving as
light, sound or network signals is negligible). Only part of it reaches the
liquid loop; the rest goes to room air. The share caught by the liquid, the
*capture fraction*, depends on the cooling type; :data:`CAPTURE_FRACTION_BY_COOLING_TYPE`
holds typical design values, and a site profile should override them with
measured ones (heat meter on the loop divided by metered IT power).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from thermalctl.physics.water import density_kg_per_m3, specific_heat_j_per_kg_k

__all__ = [
    "CAPTURE_FRACTION_BY_COOLING_TYPE",
    "CAPTURE_FRACTION_RANGE_BY_COOLING_TYPE",
    "COOLANT_LIMITS_BY_COOLING_TYPE",
    "captured_heat_w",
    "coolant_outlet_temp_c",
    "flow_for_delta_t_m3_per_s",
]

FloatOrArray = Any  # float | numpy array | pandas Series

CAPTURE_FRACTION_BY_COOLING_TYPE: dict[str, float] = {
    "immersion": 0.97,
    "direct_to_chip": 0.75,
    "rear_door": 0.90,
    "air": 0.0,
}
"""Typical fraction of IT power that reaches the liquid loop, by cooling type [-].

* ``immersion``: single-phase immersion; everything is submerged, the small
  remainder leaves through tank walls and lids to room air (0.95-1.0).
* ``direct_to_chip``: cold plates on CPUs/GPUs (and often memory); fans still
  carry the heat of power supplies, drives, NICs and voltage regulators
  (0.6-0.85, higher for GPU-dense servers).
* ``rear_door``: a water-cooled rear-door heat exchanger takes the rack exhaust
  air; at design air and water temperatures it can remove essentially all rack
  heat, less with warm water or part load (0.7-1.0).
* ``air``: conventional air cooling; nothing reaches a liquid loop at the rack
  (heat recovered from chillers or CRAH coils is modelled elsewhere).

These are engineering estimates, not measurements for a given product; see
ASHRAE TC 9.9, *Liquid Cooling Guidelines for Datacom Equipment Centers*,
2nd ed. (2014) and the TC 9.9 white paper *Emergence and Expansion of Liquid
Cooling in Mainstream Data Centers* (2021), which describe the cooling types
and the split between liquid- and air-cooled heat.
"""

CAPTURE_FRACTION_RANGE_BY_COOLING_TYPE: dict[str, tuple[float, float]] = {
    "immersion": (0.95, 1.0),
    "direct_to_chip": (0.6, 0.85),
    "rear_door": (0.7, 1.0),
    "air": (0.0, 0.0),
}
"""Plausible range of the capture fraction by cooling type [-] (same sources)."""

COOLANT_LIMITS_BY_COOLING_TYPE: dict[str, tuple[float, float]] = {
    "immersion": (40.0, 50.0),
    "direct_to_chip": (45.0, 55.0),
    "rear_door": (32.0, 40.0),
    "air": (32.0, 40.0),
}
"""Highest coolant (inlet, outlet) temperature the racks accept, by cooling type [degC].

Defaults for a profile that states none (``RackGroup.max_inlet_temp_c`` /
``max_outlet_temp_c``); a site should take its figures from the equipment's data sheet.

* ``direct_to_chip``: ASHRAE liquid-cooling class W45 (facility water supply up to
  45 degC; ASHRAE TC 9.9, *Thermal Guidelines for Data Processing Environments*, 5th
  ed. 2021, ch. "Liquid cooling", classes W17-W+), with the usual design rise of about
  10 K across the cold plates (same source: "approximately 10 K") -> 55 degC outlet.
* ``immersion``: single-phase dielectric tanks are commonly specified for fluid supply
  up to about 40 degC and return about 10 K warmer (OCP *Immersion Requirements*
  rev. 2.10 gives vendor-declared fluid limits rather than one class; 40/50 degC is an
  assumption on the conservative side of published tank data sheets).
* ``rear_door``, ``air``: class W32 water (supply up to 32 degC) so that the air the
  door returns to the room stays inside ASHRAE's allowable A1 inlet envelope (15-32
  degC); an 8 K water rise is assumed for the outlet.
"""


def _arr(value: FloatOrArray) -> npt.NDArray[np.float64]:
    return np.asarray(value, dtype=float)


def captured_heat_w(
    it_power_w: FloatOrArray, capture_fraction: FloatOrArray
) -> npt.NDArray[np.float64]:
    """Heat delivered by racks to the liquid loop.

    Parameters
    ----------
    it_power_w : float or array-like
        Electrical power drawn by the IT equipment [W].
    capture_fraction : float or array-like
        Fraction of that power captured by the liquid, 0 to 1 [-].

    Returns
    -------
    numpy.ndarray
        Heat into the liquid [W].

    Notes
    -----
    .. math:: \\dot Q_{liquid} = f_{capture}\\, P_{IT}

    References
    ----------
    .. [1] ASHRAE TC 9.9, Liquid Cooling Guidelines for Datacom Equipment
       Centers, 2nd ed., ASHRAE, 2014.

    Examples
    --------
    >>> float(captured_heat_w(40_000.0, 0.75))
    30000.0
    """
    fraction = _arr(capture_fraction)
    if np.any((fraction < 0.0) | (fraction > 1.0)):
        raise ValueError("capture_fraction must lie between 0 and 1")
    return _arr(it_power_w) * fraction


def coolant_outlet_temp_c(
    inlet_temp_c: FloatOrArray, heat_w: FloatOrArray, flow_m3_per_s: FloatOrArray
) -> npt.NDArray[np.float64]:
    """Coolant (water) temperature leaving the racks.

    Parameters
    ----------
    inlet_temp_c : float or array-like
        Coolant supply temperature [°C].
    heat_w : float or array-like
        Heat picked up by the coolant [W].
    flow_m3_per_s : float or array-like
        Volumetric flow, measured at the inlet [m³/s], > 0.

    Returns
    -------
    numpy.ndarray
        Outlet temperature [°C].

    Notes
    -----
    Steady-flow energy balance with water properties at the inlet
    temperature (the mass flow is set where the flow is measured):

    .. math:: T_{out} = T_{in} + \\frac{\\dot Q}{\\rho(T_{in})\\, \\dot V\\, c_p(T_{in})}

    References
    ----------
    .. [1] F. P. Incropera et al., Fundamentals of Heat and Mass Transfer,
       6th ed., Wiley, 2007, eq. 1.11e.

    Examples
    --------
    >>> round(float(coolant_outlet_temp_c(40.0, 30_000.0, 0.5e-3)), 2)
    54.47
    """
    inlet = _arr(inlet_temp_c)
    flow = _arr(flow_m3_per_s)
    if np.any(flow <= 0.0):
        raise ValueError("flow_m3_per_s must be positive")
    capacity_rate = density_kg_per_m3(inlet) * flow * specific_heat_j_per_kg_k(inlet)
    return inlet + _arr(heat_w) / capacity_rate


def flow_for_delta_t_m3_per_s(
    heat_w: FloatOrArray, delta_t_k: FloatOrArray, temp_c: FloatOrArray
) -> npt.NDArray[np.float64]:
    """Water flow that carries a heat load with a given temperature rise.

    Parameters
    ----------
    heat_w : float or array-like
        Heat to carry [W].
    delta_t_k : float or array-like
        Temperature rise across the load [K], > 0.
    temp_c : float or array-like
        Temperature at which the flow is measured (usually the inlet) [°C].

    Returns
    -------
    numpy.ndarray
        Volumetric flow [m³/s].

    Notes
    -----
    .. math:: \\dot V = \\frac{\\dot Q}{\\rho(T)\\, c_p(T)\\, \\Delta T}

    References
    ----------
    .. [1] F. P. Incropera et al., 6th ed., eq. 1.11e.

    Examples
    --------
    >>> round(float(flow_for_delta_t_m3_per_s(100_000.0, 10.0, 30.0)) * 3600, 2)
    8.65
    """
    delta = _arr(delta_t_k)
    if np.any(delta <= 0.0):
        raise ValueError("delta_t_k must be positive")
    temp = _arr(temp_c)
    return _arr(heat_w) / (density_kg_per_m3(temp) * specific_heat_j_per_kg_k(temp) * delta)
