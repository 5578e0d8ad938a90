"""Indoor pool heat balance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.constants import Stefan_Boltzmann

from tests.physics.conftest import read_reference_csv
from thermalctl.physics import pool
from thermalctl.physics.water import latent_heat_vaporisation_j_per_kg, specific_heat_j_per_kg_k

LSBU_ROWS = [r for r in read_reference_csv("water_0_100c_lsbu.csv") if r["temp_c"] <= 50.0]


@pytest.mark.parametrize("row", LSBU_ROWS, ids=lambda r: f"{r['temp_c']:g}C")
def test_magnus_against_published_vapour_pressure(row: dict[str, float]) -> None:
    # Published IAPWS-95 vapour pressures (LSBU table, e.g. 4.247 kPa at 30 C). Alduchov &
    # Eskridge's Magnus fit is documented as within 0.26 % of IAPWS over 0-50 C; the table's
    # own rounding is <= 0.1 %, so 0.4 %.
    expected_pa = row["vapour_pressure_kpa"] * 1e3
    assert pool.saturation_vapour_pressure_magnus_pa(row["temp_c"]) == pytest.approx(
        expected_pa, rel=4e-3
    )
    # The IAPWS-IF97 function re-exported here matches to the table's rounding.
    assert pool.saturation_vapour_pressure_pa(row["temp_c"]) == pytest.approx(expected_pa, rel=1e-3)


def test_ashrae_si_coefficient_equals_inch_pound_form() -> None:
    # The I-P Handbook form is w = 0.1 A (pw - pa) Fa in lb/h, ft2, inHg. Converting with
    # exact unit definitions (1 lb = 0.45359237 kg, 1 ft = 0.3048 m, 1 inHg = 3386.389 Pa)
    # gives 4.005e-8 kg/(s m2 Pa); the SI edition rounds it to 4.0e-5 kg/(s m2 kPa), so 0.2 %.
    inch_pound = 0.1 * 0.45359237 / 3600.0 / 0.3048**2 / 3386.389
    assert pytest.approx(inch_pound, rel=2e-3) == pool.ASHRAE_EVAPORATION_COEFFICIENT_KG_PER_S_M2_PA


def test_ashrae_evaporation_by_hand() -> None:
    # Water 30 C, hall 30 C at 50 % RH, public pool (Fa = 1). With the published vapour
    # pressure 4.247 kPa at 30 C: pw - pa = 0.5 * 4247 = 2123.5 Pa and
    # w = 4.0e-8 * 2123.5 = 8.49e-5 kg/(s m2) = 0.306 kg/(h m2). 0.1 % tolerance = rounding
    # of the published 4.247 kPa.
    per_m2 = pool.evaporation_ashrae_kg_per_s(1.0, 30.0, 30.0, 0.5, 1.0)
    assert per_m2 == pytest.approx(4.0e-8 * 0.5 * 4247.0, rel=1e-3)
    # Scales with area and activity factor.
    assert pool.evaporation_ashrae_kg_per_s(312.5, 30.0, 30.0, 0.5, 0.5) == pytest.approx(
        312.5 * 0.5 * per_m2, rel=1e-12
    )


def test_activity_factors_match_handbook_table() -> None:
    # ASHRAE HVAC Applications 2019 ch. 6 Table 2.
    factors = pool.ACTIVITY_FACTOR_BY_POOL_TYPE
    assert factors["residential"] == 0.5
    assert factors["hotel"] == 0.8
    assert factors["public_school"] == 1.0
    assert factors["wave_pool_water_slide"] == 1.5


def test_cover_cuts_evaporation_by_ninety_percent() -> None:
    open_ = pool.pool_heat_loss_breakdown(28.0, 30.0, 0.6, 312.5)
    covered = pool.pool_heat_loss_breakdown(28.0, 30.0, 0.6, 312.5, cover_on=True)
    assert covered.evaporation_kg_per_s == pytest.approx(0.1 * open_.evaporation_kg_per_s)
    assert covered.evaporation_w == pytest.approx(0.1 * open_.evaporation_w)
    assert covered.radiation_w == open_.radiation_w
    mixed = pool.pool_heat_loss_w(28.0, 30.0, 0.6, 312.5, cover_on=np.array([False, True]))
    np.testing.assert_allclose(mixed, [open_.total_w, covered.total_w])


def test_radiation_by_hand() -> None:
    # eps sigma A (Tw^4 - Ts^4) with Tw = 301.15 K and surfaces at 293.15 K.
    loss = pool.pool_heat_loss_breakdown(28.0, 30.0, 0.6, 100.0, surface_temp_c=20.0)
    expected = 0.95 * Stefan_Boltzmann * 100.0 * (301.15**4 - 293.15**4)
    assert loss.radiation_w == pytest.approx(expected, rel=1e-12)
    # Linearised radiative coefficient near 300 K is about 4 eps sigma T^3 = 5.8 W/(m2 K).
    assert loss.radiation_w / (100.0 * 8.0) == pytest.approx(5.8, rel=0.05)


def test_convection_coefficient_by_hand() -> None:
    # Hot surface up, turbulent branch: h = 0.15 k (g beta dT / (nu alpha))^(1/3), with air at
    # 300 K (k = 0.0263, nu = 15.89e-6, alpha = 22.5e-6) and beta = 1/T_film, T_film = 301.15 K.
    beta = 1.0 / 301.15
    expected = 0.15 * 0.0263 * (9.80665 * beta * 4.0 / (15.89e-6 * 22.5e-6)) ** (1 / 3)
    h = pool.convection_coefficient_w_per_m2_k(30.0, 26.0, 4.0)
    assert h == pytest.approx(expected, rel=1e-9)
    # Stable case (air warmer) transfers much less than the unstable one at the same |dT|.
    assert pool.convection_coefficient_w_per_m2_k(26.0, 30.0, 4.0) < 0.3 * h
    assert pool.pool_heat_loss_breakdown(28.0, 30.0, 0.6, 312.5).convection_w < 0.0


def test_makeup_water_by_hand() -> None:
    # 500 bathers/day x 30 L (DIN 19643-1) = 15 m3/day of 10 C water heated to 28 C, on top of
    # replacing the evaporated water. Density at 10 C 999.70 kg/m3; cp at the mean 19 C.
    loss = pool.pool_heat_loss_breakdown(28.0, 30.0, 0.6, 312.5, bathers_per_day=500.0)
    bathers_kg_per_s = 15.0 * 999.70 / 86400.0
    makeup = (loss.evaporation_kg_per_s + bathers_kg_per_s) * specific_heat_j_per_kg_k(19.0) * 18
    assert loss.makeup_water_w == pytest.approx(makeup, rel=1e-4)


def test_evaporation_heat_uses_latent_heat() -> None:
    loss = pool.pool_heat_loss_breakdown(28.0, 30.0, 0.6, 312.5)
    assert loss.evaporation_w == pytest.approx(
        loss.evaporation_kg_per_s * latent_heat_vaporisation_j_per_kg(28.0), rel=1e-12
    )


def test_condensation_when_dew_point_above_water() -> None:
    # Hall 30 C at 90 % RH has a dew point of 28.2 C, above 26 C water: vapour condenses,
    # the evaporation term turns negative and no make-up water is needed for it.
    loss = pool.pool_heat_loss_breakdown(26.0, 30.0, 0.9, 100.0)
    assert loss.evaporation_kg_per_s < 0.0
    assert loss.makeup_water_kg_per_s == 0.0


def test_total_is_sum_and_accepts_series() -> None:
    water = pd.Series([26.0, 28.0, 30.0])
    loss = pool.pool_heat_loss_breakdown(water, 30.0, 0.55, 250.0, ground_ua_w_per_k=150.0)
    total = pool.pool_heat_loss_w(water, 30.0, 0.55, 250.0, ground_ua_w_per_k=150.0)
    assert total.shape == (3,)
    np.testing.assert_allclose(
        total,
        loss.evaporation_w + loss.convection_w + loss.radiation_w + loss.conduction_w
        + loss.makeup_water_w,
    )  # fmt: skip
    np.testing.assert_allclose(loss.conduction_w, 150.0 * (water.to_numpy() - 10.0))
    # Warmer water loses more.
    assert np.all(np.diff(total) > 0)


def test_temperature_derivative_by_hand() -> None:
    # 600 m3 at 28 C (rho 996.2, cp 4180), 30 kW net gain: 30e3 / (996.2*4180*600) K/s.
    rate = pool.pool_temp_derivative_k_per_s(28.0, 50e3, 600.0, 20e3)
    assert rate == pytest.approx(30e3 / (996.23 * 4180.0 * 600.0), rel=1e-3)
    assert pool.pool_temp_derivative_k_per_s(28.0, 10e3, 600.0, 20e3) < 0.0
