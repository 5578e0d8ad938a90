"""Stratified hot-water tank as a stack of fully mixed nodes.

Node 0 is the top of the tank (hot draw-off), node ``N-1`` the bottom (cold
mains inlet). During a draw, mains water enters the bottom node and the same
volume leaves the top node (plug flow, first-order upwind finite volumes).
Heat from a coil or heat exchanger enters the nodes the coil occupies;
standing losses leave each node through its share of the tank's UA;
conduction couples neighbouring nodes; a temperature inversion is removed
at once by mixing the inverted nodes (buoyancy).

Energy is conserved exactly by construction: the model is written in energy
form, every flux between nodes is subtracted from one node and added to the
other, mixing preserves the sum of node energies, and the returned energy
terms are accumulated from the very fluxes that were applied. The stored
energy change therefore equals ``heat_in - draw_out + mains_in - loss`` to
floating-point rounding. The price is a constant volumetric heat capacity
(``rho * cp`` at 45 °C by default), which is within 1.5 % of the true
value between 10 and 80 °C.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from thermalctl.physics.water import volumetric_heat_capacity_j_per_m3_k

__all__ = [
    "DEFAULT_TANK_VOLUMETRIC_HEAT_CAPACITY_J_PER_M3_K",
    "WATER_THERMAL_CONDUCTIVITY_W_PER_M_K",
    "TankParams",
    "TankStepEnergy",
    "mix_inversions",
    "step_tank",
    "tank_energy_j",
]

FloatOrArray = Any  # float | numpy array | pandas Series

DEFAULT_TANK_VOLUMETRIC_HEAT_CAPACITY_J_PER_M3_K: float = float(
    volumetric_heat_capacity_j_per_m3_k(45.0)
)
"""``rho * cp`` of water at 45 °C, 101.325 kPa (IAPWS-IF97), about 4.14e6 [J/(m³ K)]."""

WATER_THERMAL_CONDUCTIVITY_W_PER_M_K: float = 0.64
"""Thermal conductivity of water near 50 °C [W/(m K)] (Incropera et al., Table A.6)."""

_MAX_LOSS_COURANT = 0.25  # explicit stability: dt * (UA + 2 G) / C <= this per sub-step


@dataclass(frozen=True)
class TankParams:
    """Geometry and heat-transfer parameters of a stratified tank.

    Attributes
    ----------
    volume_m3 : float
        Water volume [m³].
    height_m : float
        Water height [m].
    node_count : int, default 10
        Number of equal-volume nodes.
    loss_ua_w_per_k : float, default 1.8
        Total standing-loss conductance to ambient [W/K] (about 80 W at a
        45 K difference: a well-insulated 300 L tank).
    loss_node_fractions : tuple of float, optional
        Share of ``loss_ua_w_per_k`` per node, top first; default even.
    heat_in_node_fractions : tuple of float, optional
        Share of the heat input per node, top first; default the lower third
        of the nodes in equal parts (a preheat coil at the bottom).
    effective_conductivity_w_per_m_k : float, default 0.64
        Conductivity for node-to-node conduction [W/(m K)]; raise it to model
        wall conduction and plume mixing.
    volumetric_heat_capacity_j_per_m3_k : float
        ``rho * cp`` used throughout [J/(m³ K)].
    """

    volume_m3: float
    height_m: float
    node_count: int = 10
    loss_ua_w_per_k: float = 1.8
    loss_node_fractions: tuple[float, ...] | None = None
    heat_in_node_fractions: tuple[float, ...] | None = None
    effective_conductivity_w_per_m_k: float = WATER_THERMAL_CONDUCTIVITY_W_PER_M_K
    volumetric_heat_capacity_j_per_m3_k: float = DEFAULT_TANK_VOLUMETRIC_HEAT_CAPACITY_J_PER_M3_K
    _loss_ua_per_node: npt.NDArray[np.float64] = field(init=False, repr=False, compare=False)
    _heat_fractions: npt.NDArray[np.float64] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.volume_m3 <= 0 or self.height_m <= 0:
            raise ValueError("volume_m3 and height_m must be positive")
        if self.node_count < 1:
            raise ValueError("node_count must be at least 1")
        if self.loss_ua_w_per_k < 0 or self.effective_conductivity_w_per_m_k < 0:
            raise ValueError("loss_ua_w_per_k and effective_conductivity_w_per_m_k must be >= 0")
        n = self.node_count
        loss = self._fractions(self.loss_node_fractions, np.full(n, 1.0 / n), "loss")
        bottom = max(1, math.ceil(n / 3))
        default_heat = np.zeros(n)
        default_heat[n - bottom :] = 1.0 / bottom
        heat = self._fractions(self.heat_in_node_fractions, default_heat, "heat_in")
        object.__setattr__(self, "_loss_ua_per_node", self.loss_ua_w_per_k * loss)
        object.__setattr__(self, "_heat_fractions", heat)

    def _fractions(
        self, given: tuple[float, ...] | None, default: npt.NDArray[np.float64], name: str
    ) -> npt.NDArray[np.float64]:
        if given is None:
            return default
        values = np.asarray(given, dtype=float)
        if values.shape != (self.node_count,):
            raise ValueError(f"{name}_node_fractions needs {self.node_count} values")
        if np.any(values < 0) or not math.isclose(values.sum(), 1.0, rel_tol=1e-9):
            raise ValueError(f"{name}_node_fractions must be >= 0 and sum to 1")
        return values

    @property
    def node_volume_m3(self) -> float:
        """Volume of one node [m³]."""
        return self.volume_m3 / self.node_count

    @property
    def node_capacity_j_per_k(self) -> float:
        """Heat capacity of one node [J/K]."""
        return self.volumetric_heat_capacity_j_per_m3_k * self.node_volume_m3

    @property
    def inter_node_conductance_w_per_k(self) -> float:
        """Conductance between neighbouring nodes, ``k A / dz`` [W/K]."""
        area_m2 = self.volume_m3 / self.height_m
        dz_m = self.height_m / self.node_count
        return self.effective_conductivity_w_per_m_k * area_m2 / dz_m

    @property
    def loss_ua_per_node_w_per_k(self) -> npt.NDArray[np.float64]:
        """Standing-loss conductance of each node, top first [W/K]."""
        return self._loss_ua_per_node.copy()

    @property
    def heat_in_fractions(self) -> npt.NDArray[np.float64]:
        """Share of the heat input received by each node, top first [-]."""
        return self._heat_fractions.copy()


@dataclass(frozen=True)
class TankStepEnergy:
    """Energy terms of one tank step, each [J].

    Draw and mains terms are enthalpy flows relative to ``reference_temp_c``;
    their difference, :attr:`delivered_heat_j`, does not depend on it.
    """

    heat_in_j: float
    draw_out_j: float
    mains_in_j: float
    loss_j: float
    stored_change_j: float

    @property
    def delivered_heat_j(self) -> float:
        """Heat carried away by the draw above mains temperature [J]."""
        return self.draw_out_j - self.mains_in_j

    @property
    def balance_residual_j(self) -> float:
        """``stored_change - (heat_in - draw_out + mains_in - loss)`` [J]; ~0."""
        return self.stored_change_j - (
            self.heat_in_j - self.draw_out_j + self.mains_in_j - self.loss_j
        )


def tank_energy_j(
    node_temps_c: FloatOrArray,
    volume_m3: float,
    reference_temp_c: float = 0.0,
    volumetric_heat_capacity_j_per_m3_k: float = DEFAULT_TANK_VOLUMETRIC_HEAT_CAPACITY_J_PER_M3_K,
) -> npt.NDArray[np.float64]:
    """Heat stored in a tank of equal-volume nodes above a reference temperature.

    Parameters
    ----------
    node_temps_c : array-like
        Node temperatures [°C]; the last axis runs over nodes (so a
        ``(time, node)`` array gives one value per time).
    volume_m3 : float
        Total water volume [m³].
    reference_temp_c : float, default 0.0
        Temperature of zero stored energy [°C], e.g. the mains temperature.
    volumetric_heat_capacity_j_per_m3_k : float
        ``rho * cp`` [J/(m³ K)].

    Returns
    -------
    numpy.ndarray
        Stored energy [J].

    Notes
    -----
    .. math:: E = \\rho c_p \\frac{V}{N} \\sum_i (T_i - T_{ref})

    References
    ----------
    .. [1] J. A. Duffie, W. A. Beckman, Solar Engineering of Thermal
       Processes, 4th ed., Wiley, 2013, section 8.4 (stratified storage).

    Examples
    --------
    >>> round(float(tank_energy_j([60.0, 40.0], 0.3, 10.0)) / 3.6e6, 2)
    13.79
    """
    temps = np.asarray(node_temps_c, dtype=float)
    node_volume = volume_m3 / temps.shape[-1]
    return (
        volumetric_heat_capacity_j_per_m3_k
        * node_volume
        * np.sum(temps - reference_temp_c, axis=-1)
    )


def mix_inversions(node_temps_c: FloatOrArray) -> npt.NDArray[np.float64]:
    """Mix temperature inversions in a stack of equal-volume nodes (top first).

    Parameters
    ----------
    node_temps_c : array-like
        Node temperatures, top first [°C].

    Returns
    -------
    numpy.ndarray
        Temperatures that never increase downwards [°C]; each run of inverted
        nodes is replaced by its mean, so the sum (energy) is unchanged.

    Notes
    -----
    The pool-adjacent-violators algorithm: the result is the closest
    non-increasing profile in the least-squares sense, i.e. the profile after
    buoyancy has fully mixed every unstable layer with the layers it overturns.

    References
    ----------
    .. [1] M. Ayer et al., An empirical distribution function for sampling
       with incomplete information, Ann. Math. Statist. 26 (1955) 641-647.
    .. [2] M. Kleinbach, W. Beckman, S. Klein, Performance study of
       one-dimensional models for stratified thermal storage tanks, Solar
       Energy 50 (1993) 155-166 (mixing of inversions in multi-node tanks).

    Examples
    --------
    >>> mix_inversions([50.0, 60.0, 40.0]).tolist()
    [55.0, 55.0, 40.0]
    """
    temps = np.asarray(node_temps_c, dtype=float)
    if temps.size < 2 or np.all(np.diff(temps) <= 0.0):
        return temps.copy()
    sums: list[float] = []
    counts: list[int] = []
    for value in temps:
        sums.append(float(value))
        counts.append(1)
        while len(sums) > 1 and sums[-1] / counts[-1] > sums[-2] / counts[-2]:
            top_sum, top_count = sums.pop(), counts.pop()
            sums[-1] += top_sum
            counts[-1] += top_count
    return np.repeat([s / c for s, c in zip(sums, counts, strict=True)], counts)


def step_tank(
    node_temps_c: FloatOrArray,
    dt_s: float,
    draw_m3_per_s: float,
    mains_temp_c: float,
    heat_in_w: float,
    ambient_temp_c: float,
    params: TankParams,
    reference_temp_c: float = 0.0,
) -> tuple[npt.NDArray[np.float64], TankStepEnergy]:
    """Advance a stratified tank by one time step.

    Parameters
    ----------
    node_temps_c : array-like
        Node temperatures, top first, length ``params.node_count`` [°C].
    dt_s : float
        Time step [s], >= 0.
    draw_m3_per_s : float
        Hot-water draw, replaced by mains water at the bottom [m³/s], >= 0.
    mains_temp_c : float
        Temperature of the incoming mains water [°C].
    heat_in_w : float
        Heat from the coil or heat exchanger, spread over the nodes by
        ``params.heat_in_node_fractions`` [W].
    ambient_temp_c : float
        Temperature around the tank [°C].
    params : TankParams
        Tank description.
    reference_temp_c : float, default 0.0
        Reference temperature of the draw and mains enthalpy terms [°C].

    Returns
    -------
    tuple
        ``(new_node_temps_c, energy)`` with the new temperatures [°C] and a
        :class:`TankStepEnergy` of the step [J].

    Notes
    -----
    Explicit finite volumes in energy form, for node :math:`i` with
    capacity :math:`C`, draw :math:`\\dot V`, neighbour conductance :math:`G`:

    .. math::

        C \\frac{dT_i}{dt} = \\rho c_p \\dot V (T_{i+1} - T_i) + f_i \\dot Q_{in}
            - UA_i (T_i - T_{amb}) + G (T_{i-1} - T_i) + G (T_{i+1} - T_i)

    with :math:`T_{N} = T_{mains}`. The standing loss of a sub-step is taken
    as :math:`C (T_i - T_{amb})(1 - e^{-UA_i \\Delta t / C})`, its exact value
    for a node on its own. The step is split into sub-steps so that
    no more than one node volume is displaced and
    :math:`\\Delta t (UA_i + 2G) / C \\le 0.25` in each; inversions are mixed
    after every sub-step (:func:`mix_inversions`).

    References
    ----------
    .. [1] J. A. Duffie, W. A. Beckman, Solar Engineering of Thermal
       Processes, 4th ed., Wiley, 2013, section 8.4, eq. 8.4.2 (multi-node tank).
    .. [2] M. Kleinbach et al., Solar Energy 50 (1993) 155-166.

    Examples
    --------
    >>> params = TankParams(volume_m3=0.3, height_m=1.5, node_count=3)
    >>> temps, energy = step_tank([60.0, 50.0, 40.0], 60.0, 0.0, 10.0, 3000.0, 20.0, params)
    >>> round(energy.stored_change_j / 1e3, 1)
    176.8
    """
    temps = np.array(node_temps_c, dtype=float)
    n = params.node_count
    if temps.shape != (n,):
        raise ValueError(f"node_temps_c must have {n} values")
    if dt_s < 0 or draw_m3_per_s < 0:
        raise ValueError("dt_s and draw_m3_per_s must be >= 0")
    capacity = params.node_capacity_j_per_k
    vhc = params.volumetric_heat_capacity_j_per_m3_k
    ua = params._loss_ua_per_node
    heat_share = params._heat_fractions
    conductance = params.inter_node_conductance_w_per_k if n > 1 else 0.0

    # A hair below whole numbers so that exactly one node volume is one sub-step.
    displaced_nodes = draw_m3_per_s * dt_s / params.node_volume_m3 - 1e-9
    loss_courant = dt_s * (float(ua.max()) + 2.0 * conductance) / capacity
    n_sub = max(1, math.ceil(displaced_nodes), math.ceil(loss_courant / _MAX_LOSS_COURANT))
    dt_sub = dt_s / n_sub
    flow_capacity_j_per_k = vhc * draw_m3_per_s * dt_sub
    loss_decay = -np.expm1(-ua * dt_sub / capacity)

    energy = capacity * (temps - reference_temp_c)
    start_j = float(energy.sum())
    heat_in_j = draw_out_j = mains_in_j = loss_j = 0.0
    mains_rel = mains_temp_c - reference_temp_c
    for _ in range(n_sub):
        rel = energy / capacity  # T - T_ref for every node
        # Advection: each node receives from the node below (bottom: mains) and sends up.
        from_below = np.append(rel[1:], mains_rel)
        advection = flow_capacity_j_per_k * (from_below - rel)
        # Conduction between neighbours: flux_down[i] leaves node i for node i + 1.
        flux_down = conductance * dt_sub * (rel[:-1] - rel[1:])
        conduction = np.zeros(n)
        conduction[:-1] -= flux_down
        conduction[1:] += flux_down
        heat = heat_share * (heat_in_w * dt_sub)
        # Standing loss integrated exactly over the sub-step for each node on its own.
        loss = capacity * (rel + reference_temp_c - ambient_temp_c) * loss_decay
        energy = energy + advection + conduction + heat - loss
        energy = mix_inversions(energy)
        draw_out_j += flow_capacity_j_per_k * float(rel[0])
        mains_in_j += flow_capacity_j_per_k * mains_rel
        heat_in_j += float(heat.sum())
        loss_j += float(loss.sum())
    new_temps = energy / capacity + reference_temp_c
    return new_temps, TankStepEnergy(
        heat_in_j=heat_in_j,
        draw_out_j=draw_out_j,
        mains_in_j=mains_in_j,
        loss_j=loss_j,
        stored_change_j=float(energy.sum()) - start_j,
    )
