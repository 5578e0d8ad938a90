"""What a simulated run cost, what it did, and whether it kept the contest's invariants.

* :class:`Ledger` books money and CO2 as the plant runs, each decision interval at its
  own time-of-use price (:func:`thermalctl.control.forecast.time_of_use_price`);
* :func:`plant_figures` reads the plant's energy counters into the figures ``simulate``
  reports (per sink too);
* :func:`invariant_violations` checks a run's figures against the invariants of
  issue 9, each with its tolerance (:data:`TOLERANCES`), for the test over every
  shipped site and the benchmark alike.

Prices (``prices`` of the profile):

* electricity: the facility's electricity (ISO/IEC 30134-2 boundary: IT, UPS loss,
  pumps, fans, room cooling, overhead) plus heat-pump electricity, at the time-of-use
  price;
* fuel: each sink's backup heat divided by its efficiency (or COP), at the price of its
  fuel (``gas``: ``gas_eur_per_kwh``; ``electricity``: the time-of-use price);
* CO2: electricity at ``grid_co2_kg_per_kwh``, gas at ``gas_co2_kg_per_kwh``;
* work still queued at the end: the facility electricity it will take at the off-peak
  price (:func:`thermalctl.control.bound.backlog_eur_per_kwh`; ``backlog_cost_eur``),
  the same for every policy and for the bound.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from thermalctl.config.site import SiteProfile
from thermalctl.control.bound import COMFORT_KH_PER_DAY, backlog_eur_per_kwh
from thermalctl.control.forecast import time_of_use_price
from thermalctl.sim.plant import Plant

__all__ = [
    "SHIFT_AFTER_S",
    "TOLERANCES",
    "Ledger",
    "backlog_eur_per_kwh",
    "fuel_price_eur_per_kwh",
    "invariant_violations",
    "plant_figures",
]

#: Deferred work counts as shifted when it runs at least this long after it arrived [s]
#: (one planning step: work run within its own quarter hour was not moved).
SHIFT_AFTER_S = 900.0

#: Tolerances of the invariants (what "beyond a small stated tolerance" means):
#:
#: * ``dumped_while_backup``: heat dumped while a backup fired and that sink's exchanger
#:   had headroom, at most 0.5 % of the IT energy (a few decision intervals a day in
#:   which the loop swings past the switching points);
#: * ``space_heating_above_limit``: heat sent to space heating at or above its heating
#:   limit, at most 0.1 % of the IT energy;
#: * ``comfort``: time below a sink's comfort band in force, at most 0.1 K h per simulated
#:   day per sink (a few minutes one kelvin out after a draw peak); above the band the
#:   policy's part is the heat it still sends there (``overheating``, at most 0.1 % of
#:   the IT energy): a building that its own gains warm above its band in summer, with
#:   no heat from the loop, breaks neither (no heating policy can cool it; the time
#:   above the band is reported as ``sink_above_band_kh``);
#: * ``energy_balance``: the plant's residual at most 0.1 % of the IT energy;
#: * ``late_work``: deferred work done late or still waiting past its deadline, at most
#:   1 Wh (rounding);
#: * ``rack_coolant_limits``: no interval with a rack's coolant past its limits.
TOLERANCES: dict[str, float] = {
    "dumped_while_backup_fraction_of_it": 0.005,
    "space_heating_above_limit_fraction_of_it": 0.001,
    "comfort_kh_per_sink_day": COMFORT_KH_PER_DAY,
    "overheating_fraction_of_it": 0.001,
    "energy_balance_fraction_of_it": 0.001,
    "late_work_kwh": 0.001,
}


def fuel_price_eur_per_kwh(
    fuel: str, profile: SiteProfile, electricity_eur_per_kwh: float
) -> float:
    """Price of one kWh of backup fuel [EUR/kWh] (electricity at the price given)."""
    return profile.prices.gas_eur_per_kwh if fuel == "gas" else electricity_eur_per_kwh


def _co2_kg_per_kwh(fuel: str, profile: SiteProfile) -> float:
    p = profile.prices
    return p.gas_co2_kg_per_kwh if fuel == "gas" else p.grid_co2_kg_per_kwh


def _hp_kwh(plant: Plant) -> float:
    return float(getattr(plant.totals, "heat_pump_electricity_kwh", 0.0))


class Ledger:
    """Money, CO2 and shifted work, booked interval by interval (see the module)."""

    def __init__(self, plant: Plant) -> None:
        self.plant = plant
        profile = plant.profile
        self.profile = profile
        self.electricity_kwh = 0.0
        self.electricity_eur = 0.0
        self.fuel_eur = 0.0
        self.co2_kg = 0.0
        self.shifted_kwh = 0.0
        self._price_cache: dict[int, float] = {}
        self._facility = 0.0
        self._hp = 0.0
        self._backup: dict[str, float] = {}
        self._old_jobs: dict[str, list[tuple[object, float]]] = {}
        #: Time below / above each sink's band in force, sampled once an interval [K h].
        self.below_band_kh = {sink.id: 0.0 for sink in profile.sinks}
        self.above_band_kh = {sink.id: 0.0 for sink in profile.sinks}

    def _price(self, time_s: float) -> float:
        key = math.floor(time_s / 900.0)  # tariffs change on the quarter hour
        price = self._price_cache.get(key)
        if price is None:
            p = self.profile
            price = float(time_of_use_price(p.prices, np.array([key * 900.0]), p.site.timezone)[0])
            if len(self._price_cache) > 100_000:
                self._price_cache.clear()
            self._price_cache[key] = price
        return price

    def before_step(self) -> None:
        t = self.plant.totals
        self._facility = t.facility_kwh
        self._hp = _hp_kwh(self.plant)
        self._backup = dict(t.backup_kwh)
        now = self.plant.time_s
        self._old_jobs = {
            gid: [(job, job.remaining_kwh) for job in queue if now - job.arrived_s >= SHIFT_AFTER_S]
            for gid, queue in self.plant.queues.items()
        }

    def after_step(self, dt_s: float) -> None:
        plant = self.plant
        p = self.profile
        t = plant.totals
        price = self._price(plant.time_s - dt_s / 2.0)
        electricity = (t.facility_kwh - self._facility) + (_hp_kwh(plant) - self._hp)
        self.electricity_kwh += electricity
        self.electricity_eur += electricity * price
        self.co2_kg += electricity * p.prices.grid_co2_kg_per_kwh
        for sink in p.sinks:
            heat = t.backup_kwh[sink.id] - self._backup.get(sink.id, 0.0)
            if heat <= 0.0:
                continue
            fuel_kwh = heat / sink.backup.efficiency
            self.fuel_eur += fuel_kwh * fuel_price_eur_per_kwh(sink.backup.fuel, p, price)
            self.co2_kg += fuel_kwh * _co2_kg_per_kwh(sink.backup.fuel, p)
        for sink_id, model in plant.sink_models.items():
            low, high = model.band_c(plant.time_s)
            temp = plant.sink_temp_c[sink_id]
            self.below_band_kh[sink_id] += max(0.0, low - temp) * dt_s / 3600.0
            self.above_band_kh[sink_id] += max(0.0, temp - high) * dt_s / 3600.0
        for gid, jobs in self._old_jobs.items():
            live = {id(j) for j in plant.queues[gid]}
            for job, before in jobs:
                after = getattr(job, "remaining_kwh", 0.0) if id(job) in live else 0.0
                self.shifted_kwh += max(0.0, before - after)

    def figures(self) -> dict[str, Any]:
        plant = self.plant
        p = self.profile
        queued = sum(plant.queued_kwh(g.id) for g in p.rack_groups)
        backlog_eur = queued * backlog_eur_per_kwh(p)
        return {
            "electricity_kwh": self.electricity_kwh,
            "electricity_cost_eur": self.electricity_eur,
            "fuel_cost_eur": self.fuel_eur,
            "backlog_cost_eur": backlog_eur,
            "total_cost_eur": self.electricity_eur + self.fuel_eur + backlog_eur,
            "co2_kg": self.co2_kg,
            "deferred_shifted_kwh": self.shifted_kwh,
            "sink_below_band_kh": dict(self.below_band_kh),
            "sink_above_band_kh": dict(self.above_band_kh),
        }


def _per_sink(totals: object, name: str, sink_ids: list[str]) -> dict[str, float] | None:
    """A per-sink counter of the plant's totals (``None`` while the plant has none)."""
    value = getattr(totals, name, None)
    if isinstance(value, Mapping):
        return {s: float(value.get(s, 0.0)) for s in sink_ids}
    return None


def plant_figures(plant: Plant) -> dict[str, Any]:
    """The energy figures of a run from the plant's counters."""
    t = plant.totals
    p = plant.profile
    ids = [s.id for s in p.sinks]
    backup = sum(t.backup_kwh.values())
    it = t.it_kwh
    facility = t.facility_kwh
    residual = plant.balance_residual_kwh()
    overheating = _per_sink(t, "overheating_kwh", ids)
    useful = _per_sink(t, "heat_kwh", ids) or dict(t.sink_kwh)
    reused = sum(useful.values())
    sinks = {
        s: {
            "heat_kwh": useful[s],
            "backup_heat_kwh": t.backup_kwh[s],
            "overheating_kwh": None if overheating is None else overheating[s],
            "comfort_violation_kh": t.sink_comfort_violation_kh[s],
        }
        for s in ids
    }
    out: dict[str, Any] = {
        "it_energy_kwh": it,
        "facility_energy_kwh": facility,
        "reused_heat_kwh": reused,
        "delivered_heat_kwh": sum(t.sink_kwh.values()),
        "dumped_heat_kwh": t.dumped_kwh,
        "backup_heat_kwh": backup,
        "overheating_kwh": None if overheating is None else sum(overheating.values()),
        "heat_pump_electricity_kwh": _hp_kwh(plant),
        "energy_balance_residual_kwh": residual,
        "energy_balance_residual_fraction": abs(residual) / it if it > 0 else 0.0,
        "pue": facility / it if it > 0 else None,
        "erf": reused / facility if facility > 0 else None,
        "ere": (facility - reused) / it if it > 0 else None,
        "comfort_violation_kh": t.comfort_violation_kh,
        "sink_comfort_violation_kh": dict(t.sink_comfort_violation_kh),
        "sinks": sinks,
        "deferred_work_late_kwh": t.deferred_late_kwh + plant.late_kwh(),
        "deferred_work_queued_kwh": sum(plant.queued_kwh(g.id) for g in p.rack_groups),
        "rack_limit_violations": t.rack_limit_violations,
    }
    for name in (
        "dumped_while_backup_kwh",
        "space_heating_above_limit_kwh",
        "rack_coolant_limit_violations",
        "legionella_cycles_done",
        "legionella_cycles_due",
    ):
        value = getattr(t, name, None)
        out[name] = value if value is None or isinstance(value, (int, float)) else dict(value)
    return out


def _total(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return float(sum(value.values()))
    return float(value)


def invariant_violations(metrics: Mapping[str, Any]) -> dict[str, str]:
    """Each invariant a run broke, with why (empty: all held). Invariants the plant
    does not count yet are left out (see :func:`unchecked_invariants`)."""
    tol = TOLERANCES
    it = float(metrics["it_energy_kwh"])
    days = float(metrics["days"])
    out: dict[str, str] = {}
    dumped = _total(metrics.get("dumped_while_backup_kwh"))
    if dumped is not None and dumped > tol["dumped_while_backup_fraction_of_it"] * it:
        out["dumped_while_backup"] = (
            f"{dumped:.2f} kWh dumped while a backup fired with exchanger headroom "
            f"(tolerance {tol['dumped_while_backup_fraction_of_it']:.1%} of IT, "
            f"{tol['dumped_while_backup_fraction_of_it'] * it:.2f} kWh)")
    above = _total(metrics.get("space_heating_above_limit_kwh"))
    if above is not None and above > tol["space_heating_above_limit_fraction_of_it"] * it:
        out["space_heating_above_limit"] = (
            f"{above:.2f} kWh of space heating at or above the heating limit")
    cold = metrics.get("sink_below_band_kh") or metrics["sink_comfort_violation_kh"]
    for sink_id, kh in dict(cold).items():
        if kh > tol["comfort_kh_per_sink_day"] * days:
            out[f"comfort.{sink_id}"] = (
                f"{kh:.2f} K h below the comfort band (tolerance "
                f"{tol['comfort_kh_per_sink_day']:g} K h a day)")
    overheating = _total(metrics.get("overheating_kwh"))
    if overheating is not None and overheating > tol["overheating_fraction_of_it"] * it:
        out["overheating"] = (
            f"{overheating:.2f} kWh delivered to sinks above their band (tolerance "
            f"{tol['overheating_fraction_of_it']:.1%} of IT)")
    done, due = metrics.get("legionella_cycles_done"), metrics.get("legionella_cycles_due")
    if done is not None and due is not None and _total(done) < _total(due):  # type: ignore[operator]
        out["legionella"] = f"{done} legionella cycles done of {due} due"
    residual = abs(float(metrics["energy_balance_residual_kwh"]))
    if residual > tol["energy_balance_fraction_of_it"] * it:
        out["energy_balance"] = f"residual {residual:.3f} kWh > 0.1 % of IT ({it:.1f} kWh)"
    late = float(metrics["deferred_work_late_kwh"])
    if late > tol["late_work_kwh"]:
        out["late_work"] = f"{late:.3f} kWh of deferred work late"
    coolant = metrics.get("rack_coolant_limit_violations")
    if coolant is not None and _total(coolant):
        out["rack_coolant_limits"] = f"{coolant} intervals with rack coolant past its limits"
    if metrics["rack_limit_violations"]:
        out["rack_power_limits"] = f"{metrics['rack_limit_violations']} rack power limit breaches"
    return out


def unchecked_invariants(metrics: Mapping[str, Any]) -> list[str]:
    """Invariants whose counter the plant does not report (so cannot be checked)."""
    names = {
        "dumped_while_backup_kwh": "dumped_while_backup",
        "space_heating_above_limit_kwh": "space_heating_above_limit",
        "legionella_cycles_due": "legionella",
        "rack_coolant_limit_violations": "rack_coolant_limits",
    }
    return [label for key, label in names.items() if metrics.get(key) is None]
