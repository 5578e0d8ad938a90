"""``thermalctl calibrate``: fit pool and tank loss parameters from the local store.

Reads the logged sink signals each sink model asks for
(:attr:`thermalctl.models.sinks.SinkModel.calibration_signals`), averages them onto a
regular grid and lets the model fit (:meth:`~thermalctl.models.sinks.SinkModel.fit_losses`,
with :mod:`thermalctl.physics.calibration`):

* pool: ``loss_scale`` (multiplies the ASHRAE loss model) and ``extra_ua_w_per_k``,
  with heat in = heat-exchanger heat + backup heat, hall air from
  ``sink.<id>.air_temp_c`` when logged (else the profile's), cover from the profile;
* hot-water tank: ``loss_ua_w_per_k``, the tank taken as mixed at the measured top
  temperature (one sensor) and draws from the profile's daily volume and the standard
  daily shape (no draw meter is bound). Treat it as a first estimate.

Space-heating sinks have no calibration model yet and are reported as skipped.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from thermalctl.adapters.store import LocalStore
from thermalctl.config.loader import DEFAULT_SITE, load_site
from thermalctl.config.site import SiteProfile
from thermalctl.models.sinks import CalibrationData, SinkModel, models_for
from thermalctl.physics import calibration

__all__ = ["CalibrationError", "add_arguments", "calibrate", "run"]

#: Averaging interval of the fit [s]: 15 min smooths sensor noise, and a pool moves
#: ~0.02 K in it - enough above a 0.01 K sensor resolution over a few intervals.
GRID_S = 900.0
#: Fewest grid intervals a fit accepts: 24 x 15 min = 6 h, so each fitted parameter has
#: at least ~10 residuals per unknown and a pool its day/cover change at best.
MIN_INTERVALS = 24


class CalibrationError(ValueError):
    """Not enough usable data to fit."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", default=str(DEFAULT_SITE), help="site profile YAML")
    parser.add_argument("--store", help="local store path (default var/<site>.sqlite)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _series(store: LocalStore, signal: str) -> pd.Series:
    frame = store.readings_frame(signal=signal)
    if frame.empty:
        return pd.Series(dtype=float, index=pd.DatetimeIndex([], tz="UTC"))
    good = frame[frame["quality"].isin(["good", "estimated"])]
    values = pd.Series(good["value"].to_numpy(dtype=float),
                       index=pd.to_datetime(good["ts"], unit="s", utc=True))
    values = values[np.isfinite(values.to_numpy())]
    return values.resample(f"{int(GRID_S)}s").mean()


def _aligned(store: LocalStore, signals: dict[str, str], required: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame({name: _series(store, sig) for name, sig in signals.items()})
    # Intervals around a gap get a longer dt (the fits take per-interval dt).
    return frame.dropna(subset=required)


def _check(frame: pd.DataFrame, signal: str) -> None:
    if len(frame) < MIN_INTERVALS + 1:
        raise CalibrationError(
            f"too little data for {signal}: {len(frame)} usable {GRID_S / 60:.0f}-min "
            f"intervals in the store, need at least {MIN_INTERVALS + 1} "
            f"({(MIN_INTERVALS + 1) * GRID_S / 3600:.2f} h with the heat meter logged)"
        )


def _seconds(frame: pd.DataFrame) -> np.ndarray:
    return np.array([stamp.timestamp() for stamp in frame.index], dtype=float)


def _fit(store: LocalStore, model: SinkModel) -> dict[str, Any]:
    names = model.calibration_signals
    frame = _aligned(
        store,
        {name: f"sink.{model.id}.{suffix}" for name, suffix in names.items()},
        list(model.calibration_required),
    )
    required = " + ".join(f"sink.{model.id}.{names[n]}" for n in model.calibration_required)
    _check(frame, required)
    data = CalibrationData(
        times_s=_seconds(frame),
        columns={name: frame[name].to_numpy(dtype=float) for name in names},
    )
    return _report(model.fit_losses(data))


def _report(result: calibration.FitResult) -> dict[str, Any]:
    return {
        "params": dict(result.params),
        "std_errors": dict(result.std_errors),
        "rmse_k": result.rmse,
        "n_points": result.n_points,
        "converged": result.success,
    }


def calibrate(profile: SiteProfile, store: LocalStore) -> dict[str, Any]:
    """Fit every sink that has a model; raises :class:`CalibrationError` if none could."""
    out: dict[str, Any] = {}
    errors: list[str] = []
    for sink_id, model in models_for(profile).items():
        if not model.calibration_signals:
            out[sink_id] = {"skipped": f"no calibration model for {model.kind} sinks"}
            continue
        try:
            out[sink_id] = _fit(store, model)
        except CalibrationError as exc:
            errors.append(str(exc))
    if errors:
        raise CalibrationError("; ".join(errors))
    return out


def run(args: argparse.Namespace) -> int:
    profile = load_site(args.site).profile
    path = Path(args.store) if args.store else Path("var") / f"{profile.site.id}.sqlite"
    if not path.exists():
        raise CalibrationError(f"no local store at {path} (run the controller or demo first)")
    with LocalStore(path) as store:
        result = calibrate(profile, store)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for sink_id, fit in result.items():
            print(f"{sink_id}:")
            for key, value in fit.items():
                print(f"  {key}: {value}")
    return 0
