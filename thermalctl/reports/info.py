"""What a report says about the site: identity, boundary, meters, prices."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from thermalctl.config.site import SiteProfile

__all__ = ["CATEGORY_BOUNDARY", "ReportInfo", "report_info_from_profile"]

#: Where E_IT is measured for each ISO/IEC 30134-2 PUE category.
CATEGORY_BOUNDARY: dict[int, str] = {
    1: "Category 1 (basic): E_IT measured at the UPS output",
    2: "Category 2 (intermediate): E_IT measured at the PDU output",
    3: "Category 3 (advanced): E_IT measured at the IT equipment input",
}


@dataclass(frozen=True)
class ReportInfo:
    """Site facts printed in the report; energies come from the meters, not from here.

    ``backup_efficiency`` [fraction, or COP], ``fuel_price_eur_per_kwh`` and
    ``fuel_co2_kg_per_kwh`` describe the heater the reused heat replaces; they
    give the avoided energy, cost and CO2. ``renewable_fraction`` [0-1] is the
    contracted renewable share of the electricity when no renewable meter exists.
    """

    site_id: str
    site_name: str
    operator: str
    address: str
    commissioned: dt.date
    measurement_category: int
    installed_it_power_kw: float
    floor_area_m2: float | None = None
    renewable_fraction: float | None = None
    meters: tuple[str, ...] = ()
    backup_efficiency: float | None = None
    backup_description: str = ""
    fuel_price_eur_per_kwh: float | None = None
    fuel_co2_kg_per_kwh: float | None = None
    waste_heat_temp_c: float | None = None
    timezone: str = "UTC"
    boundary: str = ""

    def __post_init__(self) -> None:
        if self.measurement_category not in CATEGORY_BOUNDARY:
            raise ValueError(
                f"measurement_category must be 1, 2 or 3, not {self.measurement_category}"
            )
        if self.installed_it_power_kw <= 0:
            raise ValueError("installed_it_power_kw must be positive")
        if self.renewable_fraction is not None and not 0 <= self.renewable_fraction <= 1:
            raise ValueError("renewable_fraction must lie in 0..1")
        if self.backup_efficiency is not None and self.backup_efficiency <= 0:
            raise ValueError("backup_efficiency must be positive")
        object.__setattr__(self, "meters", tuple(self.meters))

    @property
    def category_text(self) -> str:
        return CATEGORY_BOUNDARY[self.measurement_category]


def _meter_line(device_id: str, map_name: str, where: str, signals: list[str]) -> str:
    listed = ", ".join(signals) if signals else "no signals bound"
    return f"{device_id}: {map_name}, {where} ({listed})"


def report_info_from_profile(profile: SiteProfile) -> ReportInfo:
    """Build the report's site facts from a site profile.

    The backup heater is the first sink's; its fuel selects the price and
    emission factor (gas, or grid electricity for heat pumps and electric heaters).
    """
    reporting = profile.reporting
    backup = profile.sinks[0].backup
    if backup.fuel == "gas":
        price, co2 = profile.prices.gas_eur_per_kwh, profile.prices.gas_co2_kg_per_kwh
    else:
        price, co2 = profile.prices.electricity_eur_per_kwh, profile.prices.grid_co2_kg_per_kwh
    sinks = ", ".join(f"{s.kind} '{s.name or s.id}'" for s in profile.sinks)
    meters = [
        _meter_line(d.id, d.map, f"Modbus unit {d.unit_id}", sorted(d.signals))
        for d in profile.devices
    ]
    meters += [f"{m.name}: MQTT {m.topic} ({m.signal}, {m.unit})" for m in profile.mqtt_sensors]
    boundary = (
        f"Data-centre boundary per ISO/IEC 30134-2: rack groups "
        f"{', '.join(g.id for g in profile.rack_groups)}, coolant loop, heat exchanger and dry "
        f"cooler. Reused heat (ISO/IEC 30134-6) is the heat delivered across the boundary to: "
        f"{sinks}."
    )
    return ReportInfo(
        site_id=profile.site.id,
        site_name=profile.site.name,
        operator=reporting.operator,
        address=reporting.address,
        commissioned=profile.site.commissioned,
        measurement_category=reporting.measurement_category,
        installed_it_power_kw=reporting.installed_it_power_kw,
        floor_area_m2=reporting.floor_area_m2,
        renewable_fraction=reporting.renewable_fraction,
        meters=tuple(meters),
        backup_efficiency=backup.efficiency,
        backup_description=f"{backup.kind.replace('_', ' ')} ({backup.fuel}), "
        f"efficiency/COP {backup.efficiency:g}",
        fuel_price_eur_per_kwh=price,
        fuel_co2_kg_per_kwh=co2,
        timezone=profile.site.timezone,
        boundary=boundary,
    )
