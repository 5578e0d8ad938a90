"""Calibration recovers known parameters from synthetic noisy logs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from thermalctl.physics.calibration import fit_pool_loss, fit_tank_loss
from thermalctl.physics.pool import pool_heat_loss_w, pool_temp_derivative_k_per_s
from thermalctl.physics.tank import TankParams, step_tank

AREA_M2 = 312.5
VOLUME_M3 = 600.0


def _synthetic_pool(
    loss_scale: float, extra_ua: float, noise_k: float, seed: int
) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    hours = 24 * 14
    dt = 3600.0
    t = np.arange(hours + 1)
    air = 30.0 + 1.0 * np.sin(2 * np.pi * t / 24)
    rh = 0.55 + 0.05 * np.cos(2 * np.pi * t / 24)
    heat = np.where((t // 6) % 2 == 0, 60e3, 5e3) + rng.uniform(0, 10e3, t.size)
    water = np.empty(t.size)
    water[0] = 27.5
    for k in range(hours):
        loss = loss_scale * pool_heat_loss_w(water[k], air[k], rh[k], AREA_M2) + extra_ua * (
            water[k] - air[k]
        )
        water[k + 1] = water[k] + dt * pool_temp_derivative_k_per_s(
            water[k], heat[k], VOLUME_M3, loss
        )
    measured = water + rng.normal(0.0, noise_k, water.size)
    return measured, air, rh, heat, dt


def test_pool_fit_recovers_known_parameters() -> None:
    measured, air, rh, heat, dt = _synthetic_pool(1.3, 200.0, noise_k=0.002, seed=1)
    fit = fit_pool_loss(measured, air, rh, heat, dt, AREA_M2, VOLUME_M3)
    assert fit.success
    assert fit.n_points == measured.size - 1
    # Both within 3 standard errors. The loss scale is well identified (sigma ~0.5 %), so it
    # must also be within 2 %; the extra UA is strongly correlated with it over a hall only
    # 1-3 K warmer than the water (sigma ~100 W/K), so only the 3-sigma check applies to it.
    for name, true in (("loss_scale", 1.3), ("extra_ua_w_per_k", 200.0)):
        assert abs(fit.params[name] - true) <= 3 * fit.std_errors[name], name
    assert fit.params["loss_scale"] == pytest.approx(1.3, rel=0.02)
    assert fit.std_errors["loss_scale"] < 0.02
    # Residual RMS is about sqrt(2) x the measurement noise for one-step residuals.
    assert fit.rmse == pytest.approx(np.sqrt(2) * 0.002, rel=0.3)


def test_pool_fit_without_noise_is_exact_and_scale_only_option() -> None:
    measured, air, rh, heat, dt = _synthetic_pool(0.8, 0.0, noise_k=0.0, seed=2)
    fit = fit_pool_loss(measured, air, rh, heat, dt, AREA_M2, VOLUME_M3, fit_extra_ua=False)
    assert list(fit.params) == ["loss_scale"]
    assert fit.params["loss_scale"] == pytest.approx(0.8, rel=1e-6)
    assert fit.rmse < 1e-9


def test_pool_fit_rejects_short_series() -> None:
    with pytest.raises(ValueError, match="3 samples"):
        fit_pool_loss([28.0, 28.1], [30.0, 30.0], [0.5, 0.5], [0.0, 0.0], 3600.0, 1.0, 1.0)


def test_tank_fit_recovers_loss_ua() -> None:
    rng = np.random.default_rng(3)
    true_params = TankParams(volume_m3=0.3, height_m=1.6, node_count=6, loss_ua_w_per_k=2.5)
    steps = 24 * 5
    dt = 3600.0
    hour = np.arange(steps) % 24
    draw = np.where(np.isin(hour, [7, 8, 19]), 20e-3 / 3600.0, 0.0)  # 20 L per draw hour
    heat = np.where(np.isin(hour, [2, 3, 4, 14]), 2500.0, 0.0)
    ambient = 18.0 + 2.0 * np.sin(2 * np.pi * np.arange(steps) / 24)
    temps = np.empty((steps + 1, 6))
    temps[0] = np.linspace(60.0, 30.0, 6)
    for k in range(steps):
        temps[k + 1], _ = step_tank(temps[k], dt, draw[k], 12.0, heat[k], ambient[k], true_params)
    measured = temps + rng.normal(0.0, 0.01, temps.shape)
    guess = dataclasses.replace(true_params, loss_ua_w_per_k=0.5)
    fit = fit_tank_loss(measured, dt, np.append(draw, 0), 12.0, np.append(heat, 0),
                        np.append(ambient, 18.0), guess)  # fmt: skip
    assert fit.success
    assert fit.n_points == steps * 6
    ua = fit.params["loss_ua_w_per_k"]
    assert abs(ua - 2.5) <= 3 * fit.std_errors["loss_ua_w_per_k"]
    assert ua == pytest.approx(2.5, rel=0.15)


def test_tank_fit_rejects_wrong_shape() -> None:
    params = TankParams(volume_m3=0.3, height_m=1.6, node_count=6)
    with pytest.raises(ValueError, match="shape"):
        fit_tank_loss(np.zeros((10, 5)), 3600.0, 0.0, 12.0, 0.0, 18.0, params)
