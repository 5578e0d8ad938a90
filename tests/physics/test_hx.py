"""Effectiveness-NTU relations against Incropera Table 11.3 and their limits."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from thermalctl.physics.hx import (
    effectiveness,
    effectiveness_counterflow,
    effectiveness_crossflow_unmixed,
    effectiveness_parallel_flow,
    ntu_from_ua,
    plate_hx_duty_w,
    plate_hx_outlet_temps_c,
)

ARRANGEMENTS = ["counterflow", "parallel", "crossflow_unmixed"]


def _counterflow_by_hand(ntu: float, cr: float) -> float:
    """Incropera eq. 11.29a written out independently with math.exp."""
    e = math.exp(-ntu * (1.0 - cr))
    return (1.0 - e) / (1.0 - cr * e)


# Reference values computed from Incropera Table 11.3 eq. 11.29a; the first is the
# often-quoted 0.5647 (NTU = 1, Cr = 0.5). Same closed form, so 1e-12.
@pytest.mark.parametrize(
    ("ntu", "cr", "expected"),
    [(1.0, 0.5, 0.5647334016), (2.0, 0.25, 0.8227658064), (0.5, 0.75, 0.3475113941)],
)
def test_counterflow_values(ntu: float, cr: float, expected: float) -> None:
    assert effectiveness_counterflow(ntu, cr) == pytest.approx(_counterflow_by_hand(ntu, cr))
    assert effectiveness_counterflow(ntu, cr) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("ntu", [0.1, 1.0, 3.0, 10.0])
def test_counterflow_balanced_limit(ntu: float) -> None:
    # Eq. 11.29b: eps = NTU / (1 + NTU) at Cr = 1; the general formula is 0/0 there, so also
    # check continuity from just below (difference is O(1 - Cr)).
    assert effectiveness_counterflow(ntu, 1.0) == pytest.approx(ntu / (1.0 + ntu), rel=1e-12)
    assert effectiveness_counterflow(ntu, 1.0 - 1e-6) == pytest.approx(ntu / (1 + ntu), rel=1e-5)


@pytest.mark.parametrize("arrangement", ARRANGEMENTS)
@pytest.mark.parametrize("ntu", [0.2, 1.0, 2.5, 8.0])
def test_zero_capacity_ratio_gives_one_minus_exp(arrangement: str, ntu: float) -> None:
    # Table 11.3, eq. 11.35a: with Cr = 0 (condensing/evaporating or huge C_max) every
    # arrangement reduces to 1 - exp(-NTU).
    eps = effectiveness(ntu, 0.0, arrangement)  # type: ignore[arg-type]
    assert eps == pytest.approx(1.0 - math.exp(-ntu), rel=1e-12)


def test_parallel_flow_values() -> None:
    # Eq. 11.28a at NTU = 1, Cr = 1: (1 - e^-2) / 2.
    assert effectiveness_parallel_flow(1.0, 1.0) == pytest.approx((1 - math.exp(-2)) / 2)
    # Large NTU tends to 1 / (1 + Cr).
    assert effectiveness_parallel_flow(50.0, 0.5) == pytest.approx(1 / 1.5, rel=1e-12)


def test_crossflow_value() -> None:
    # Eq. 11.32 evaluated by hand at NTU = 2, Cr = 0.5.
    ntu, cr = 2.0, 0.5
    expected = 1.0 - math.exp(ntu**0.22 / cr * (math.exp(-cr * ntu**0.78) - 1.0))
    assert effectiveness_crossflow_unmixed(ntu, cr) == pytest.approx(expected, rel=1e-12)


@given(
    ntu=st.floats(0.01, 20.0),
    cr=st.floats(0.0, 1.0),
    step=st.floats(0.01, 5.0),
)
def test_monotonic_in_ntu_and_ordered(ntu: float, cr: float, step: float) -> None:
    # Adding area never lowers effectiveness, counterflow is the best and parallel flow the
    # worst arrangement at equal NTU and Cr (Incropera Fig. 11.10-11.15). The crossflow
    # formula is an approximation that reads up to about 4 % low at small NTU with Cr near 1
    # (0.191 vs parallel 0.197 at NTU = 0.25, Cr = 1), hence a 5 % allowance on that bound.
    for arrangement in ARRANGEMENTS:
        lo = effectiveness(ntu, cr, arrangement)  # type: ignore[arg-type]
        hi = effectiveness(ntu + step, cr, arrangement)  # type: ignore[arg-type]
        assert hi >= lo - 1e-12
        assert 0.0 <= lo <= 1.0
    counter = effectiveness_counterflow(ntu, cr)
    cross = effectiveness_crossflow_unmixed(ntu, cr)
    parallel = effectiveness_parallel_flow(ntu, cr)
    assert parallel <= cross * 1.05
    assert cross <= counter + 1e-9


@given(ntu=st.floats(0.01, 20.0), cr=st.floats(0.0, 0.95), d_cr=st.floats(0.01, 0.05))
def test_monotonic_decreasing_in_capacity_ratio(ntu: float, cr: float, d_cr: float) -> None:
    for arrangement in ARRANGEMENTS:
        lower = effectiveness(ntu, cr + d_cr, arrangement)  # type: ignore[arg-type]
        higher = effectiveness(ntu, cr, arrangement)  # type: ignore[arg-type]
        assert lower <= higher + 1e-12


def test_duty_and_energy_balance() -> None:
    # 2 kW/K plate HX, hot 45 C at 2 kW/K, cold 25 C at 4 kW/K: NTU = 1, Cr = 0.5.
    q = plate_hx_duty_w(2000.0, 45.0, 25.0, 2000.0, 4000.0)
    assert q == pytest.approx(0.5647334016 * 2000.0 * 20.0, rel=1e-9)
    hot_out, cold_out = plate_hx_outlet_temps_c(2000.0, 45.0, 25.0, 2000.0, 4000.0)
    # First law: what the hot side loses the cold side gains.
    assert 2000.0 * (45.0 - hot_out) == pytest.approx(4000.0 * (cold_out - 25.0), rel=1e-12)
    assert hot_out == pytest.approx(45.0 - q / 2000.0)
    # Second law: counterflow outlet temperatures stay inside the inlet range.
    assert 25.0 < cold_out < 45.0 and 25.0 < hot_out < 45.0


def test_duty_symmetric_in_which_side_is_c_min() -> None:
    q1 = plate_hx_duty_w(3000.0, 60.0, 30.0, 5000.0, 2500.0)
    ntu, cr = 3000.0 / 2500.0, 0.5
    assert q1 == pytest.approx(effectiveness_counterflow(ntu, cr) * 2500.0 * 30.0, rel=1e-12)


def test_no_flow_gives_zero_duty_and_vectorises() -> None:
    q = plate_hx_duty_w(2000.0, 45.0, 25.0, np.array([0.0, 2000.0, 2000.0]), [4000.0, 0.0, 4000])
    assert q[0] == 0.0 and q[1] == 0.0 and q[2] > 0.0
    hot_out, cold_out = plate_hx_outlet_temps_c(2000.0, 45.0, 25.0, 0.0, 4000.0)
    assert hot_out == 45.0 and cold_out == 25.0
    assert np.isinf(ntu_from_ua(100.0, 0.0))


def test_unknown_arrangement_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown arrangement"):
        effectiveness(1.0, 0.5, "shell_and_tube")  # type: ignore[arg-type]
