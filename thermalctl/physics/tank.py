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
    #: Per-tank constants of :func:`step_tank`, as plain floats (built once; see there).
    _stepping: _Stepping = field(init=False, repr=False, compare=False)

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
        object.__setattr__(self, "_stepping", _Stepping(self))

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


class _Stepping:
    """What :func:`step_tank` needs of a :class:`TankParams`, computed once per tank.

    The values are the very expressions the step used to evaluate on every call (the
    same floating-point operations, in the same order), kept as Python floats: a tank
    has a handful of nodes, where a Python loop beats numpy's per-call overhead.
    """

    __slots__ = ("capacity", "conductance", "decay", "heat_share", "loss_courant_per_s",
                 "node_count", "node_volume", "ua", "vhc")

    def __init__(self, params: TankParams) -> None:
        n = params.node_count
        self.node_count = n
        self.capacity = params.node_capacity_j_per_k
        self.vhc = params.volumetric_heat_capacity_j_per_m3_k
        self.node_volume = params.node_volume_m3
        self.ua = params._loss_ua_per_node
        self.heat_share: tuple[float, ...] = tuple(params._heat_fractions.tolist())
        self.conductance = params.inter_node_conductance_w_per_k if n > 1 else 0.0
        self.loss_courant_per_s = float(self.ua.max()) + 2.0 * self.conductance
        #: Standing-loss decay per node by sub-step length (a plant steps with few).
        self.decay: dict[float, list[float]] = {}

    def loss_decay(self, dt_sub: float) -> list[float]:
        """``1 - exp(-UA_i dt / C)`` per node (numpy's ``expm1``, as before) [-]."""
        decay = self.decay.get(dt_sub)
        if decay is None:
            decay = (-np.expm1(-self.ua * dt_sub / self.capacity)).tolist()
            if len(self.decay) > 64:
                self.decay.clear()
            self.decay[dt_sub] = decay
        return decay


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
    if temps.size < 2:
        return temps.copy()
    return np.array(_mixed(temps.tolist()), dtype=float)


def _mixed(values: list[float]) -> list[float]:
    """:func:`mix_inversions` on a list (returned as is when there is no inversion)."""
    previous = values[0] if values else 0.0
    for value in values:
        if not value <= previous:  # an inversion (or NaN): pool the adjacent violators
            break
        previous = value
    else:
        return values
    sums: list[float] = []
    counts: list[int] = []
    for value in values:
        sums.append(value)
        counts.append(1)
        while len(sums) > 1 and sums[-1] / counts[-1] > sums[-2] / counts[-2]:
            top_sum, top_count = sums.pop(), counts.pop()
            sums[-1] += top_sum
            counts[-1] += top_count
    out: list[float] = []
    for total, count in zip(sums, counts, strict=True):
        out.extend([total / count] * count)
    return out


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
    if temps.shape != (params.node_count,):
        raise ValueError(f"node_temps_c must have {params.node_count} values")
    terms = [0.0, 0.0, 0.0, 0.0]
    energy = _advance(temps.tolist(), dt_s, draw_m3_per_s, mains_temp_c, heat_in_w,
                      ambient_temp_c, params, reference_temp_c, terms)
    capacity = params._stepping.capacity
    start_j = sum(capacity * (t - reference_temp_c) for t in temps.tolist())
    new_temps = np.array([e / capacity + reference_temp_c for e in energy], dtype=float)
    heat_in_j, draw_out_j, mains_in_j, loss_j = terms
    return new_temps, TankStepEnergy(
        heat_in_j=heat_in_j,
        draw_out_j=draw_out_j,
        mains_in_j=mains_in_j,
        loss_j=loss_j,
        stored_change_j=sum(energy) - start_j,
    )


def step_tank_nodes(
    node_temps_c: list[float],
    dt_s: float,
    draw_m3_per_s: float,
    mains_temp_c: float,
    heat_in_w: float,
    ambient_temp_c: float,
    params: TankParams,
    heat_in_node_fractions: tuple[float, ...] | None = None,
) -> list[float]:
    """:func:`step_tank` on a list of node temperatures, without the energy terms
    (the plant's fast path: the same arithmetic, the same new temperatures) [°C].

    ``heat_in_node_fractions`` (top first, >= 0, summing to 1) stands in for the
    params' own, as ``dataclasses.replace(params, heat_in_node_fractions=...)`` would,
    without building a new :class:`TankParams` (a coil whose shares follow the water).
    """
    if len(node_temps_c) != params.node_count:
        raise ValueError(f"node_temps_c must have {params.node_count} values")
    if heat_in_node_fractions is not None and len(heat_in_node_fractions) != params.node_count:
        raise ValueError(f"heat_in_node_fractions needs {params.node_count} values")
    energy = _advance(node_temps_c, dt_s, draw_m3_per_s, mains_temp_c, heat_in_w,
                      ambient_temp_c, params, 0.0, None, heat_in_node_fractions)
    capacity = params._stepping.capacity
    return [e / capacity + 0.0 for e in energy]


def _advance(
    temps: list[float],
    dt_s: float,
    draw_m3_per_s: float,
    mains_temp_c: float,
    heat_in_w: float,
    ambient_temp_c: float,
    params: TankParams,
    reference_temp_c: float,
    terms: list[float] | None,
    heat_share: tuple[float, ...] | None = None,
) -> list[float]:
    """Node energies [J] after the step of :func:`step_tank` (see its Notes); adds the
    heat in, draw out, mains in and loss [J] to ``terms`` when given."""
    if dt_s < 0 or draw_m3_per_s < 0:
        raise ValueError("dt_s and draw_m3_per_s must be >= 0")
    fast = params._stepping
    n = fast.node_count
    capacity = fast.capacity
    # A hair below whole numbers so that exactly one node volume is one sub-step.
    displaced_nodes = draw_m3_per_s * dt_s / fast.node_volume - 1e-9
    loss_courant = dt_s * fast.loss_courant_per_s / capacity
    n_sub = max(1, math.ceil(displaced_nodes), math.ceil(loss_courant / _MAX_LOSS_COURANT))
    dt_sub = dt_s / n_sub
    flow_capacity_j_per_k = fast.vhc * draw_m3_per_s * dt_sub
    loss_decay = fast.loss_decay(dt_sub)
    conductance_dt = fast.conductance * dt_sub
    heat_j = heat_in_w * dt_sub
    heat = [share * heat_j for share in (fast.heat_share if heat_share is None else heat_share)]
    last = n - 1
    energy = [capacity * (t - reference_temp_c) for t in temps]
    mains_rel = mains_temp_c - reference_temp_c
    losses: list[float] = []
    for _ in range(n_sub):
        rel = [e / capacity for e in energy]  # T - T_ref for every node
        new: list[float] = []
        flux_up = 0.0  # conduction into this node from the one above [J]
        for i in range(n):
            here = rel[i]
            below = rel[i + 1] if i < last else mains_rel
            # Advection: each node receives from the node below (bottom: mains), sends up.
            advection = flow_capacity_j_per_k * (below - here)
            # Conduction between neighbours: flux_down leaves node i for node i + 1.
            if i < last:
                flux_down = conductance_dt * (here - below)
                conduction = flux_up - flux_down if i else -flux_down
            else:
                flux_down = 0.0
                conduction = flux_up if i else 0.0
            # Standing loss integrated exactly over the sub-step for each node on its own.
            loss = capacity * (here + reference_temp_c - ambient_temp_c) * loss_decay[i]
            new.append(energy[i] + advection + conduction + heat[i] - loss)
            flux_up = flux_down
            if terms is not None:
                losses.append(loss)
        energy = _mixed(new)
        if terms is not None:
            terms[0] += sum(heat)
            terms[1] += flow_capacity_j_per_k * rel[0]
            terms[2] += flow_capacity_j_per_k * mains_rel
            terms[3] += sum(losses)
            losses.clear()
    return energy
