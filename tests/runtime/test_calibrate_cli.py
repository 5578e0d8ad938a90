"""``thermalctl calibrate`` on a store filled from the simulated plant."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import POOL_SITE
from thermalctl.adapters.store import LocalStore
from thermalctl.cli import main
from thermalctl.config.loader import load_site
from thermalctl.points import Quality, Reading
from thermalctl.runtime.calibrate_cli import CalibrationError, calibrate
from thermalctl.sim.inputs import SyntheticWeather
from thermalctl.sim.plant import Plant


def _log_pool(path: Path, hours: float) -> None:
    profile = load_site(POOL_SITE).profile
    plant = Plant(profile, 0.0)
    weather = SyntheticWeather(profile.simulation)
    signals = ("sink.pool.temp_c", "sink.pool.heat_w", "sink.pool.backup_heat_w")
    with LocalStore(path) as store:
        for _ in range(int(hours * 12)):
            plant.step(300.0, weather(plant.time_s))
            values = (
                plant.sink_temp_c["pool"],
                plant.sink_heat_w["pool"],
                plant.backup_heat_w["pool"],
            )
            readings = [
                Reading(s, v, "", Quality.GOOD, plant.time_s)
                for s, v in zip(signals, values, strict=True)
            ]
            store.add_readings(readings, {s: s for s in signals})


def test_pool_loss_scale_recovered_from_simulated_log(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    _log_pool(path, 24.0)
    with LocalStore(path) as store:
        fit = calibrate(load_site(POOL_SITE).profile, store)["pool"]
    # The plant uses the same loss model; 15-min averaging of heat and temperature
    # leaves a few per cent of bias between loss scale and extra conductance.
    assert fit["params"]["loss_scale"] == pytest.approx(1.0, abs=0.1)
    assert fit["n_points"] >= 90


def test_too_little_data_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "store.sqlite"
    _log_pool(path, 2.0)
    with LocalStore(path) as store, pytest.raises(CalibrationError, match="too little data"):
        calibrate(load_site(POOL_SITE).profile, store)
    assert main(["calibrate", "--site", str(POOL_SITE), "--store", str(path)]) == 1
    assert "too little data" in capsys.readouterr().err


def test_missing_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["calibrate", "--site", str(POOL_SITE), "--store", str(tmp_path / "none.sqlite")]) == 1
    )
    assert "no local store" in capsys.readouterr().err
