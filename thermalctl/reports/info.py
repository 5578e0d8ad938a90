"""What a report says about the site: identity, boundary, meters, set points, prices.

Facts only, no sentences: the text is written in the report's language by
:mod:`thermalctl.reports.content`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from thermalctl.config.site import SiteProfile

__all__ = [
    "CATEGORIES",
    "LIQUID_COOLING",
    "MeterInfo",
    "ReportInfo",
    "SetPointInfo",
    "report_info_from_profile",
]

#: ISO/IEC 30134-2 PUE measurement categories.
CATEGORIES = (1, 2, 3)

#: Cooling types whose racks give their heat to the coolant loop; their set point is the
#: coolant supply temperature, an air-cooled room's is the air inlet temperature.
LIQUID_COOLING = frozenset({"immersion", "direct_to_chip", "rear_door"})


@dataclass(frozen=True)
class MeterInfo:
    """A meter or sensor the report's figures come from."""

    device_id: str
    model: str  # hardware map stem, or "mqtt"
    connection: str  # "Modbus unit 1" / the MQTT topic
    signals: tuple[str, ...] = ()
    serial: str | None = None
    calibrated: dt.date | None = None


@dataclass(frozen=True)
class SetPointInfo:
    """The temperature set point of one rack group, by its cooling type.

    ``setpoint_c`` [degC] is the coolant supply set point for liquid-cooled racks, or
    None for air-cooled racks (the room's air set point is kept by its cooling units
    and is not in the site profile).
    """

    group_id: str
    cooling: str
    setpoint_c: float | None

    @property
    def liquid(self) -> bool:
        return self.cooling in LIQUID_COOLING


@dataclass(frozen=True)
class ReportInfo:
    """Site facts printed in the report; energies come from the meters, not from here.

    ``backup_efficiency`` [fraction, or COP], ``fuel_price_eur_per_kwh`` and
    ``fuel_co2_kg_per_kwh`` describe the heater the reused heat replaces; they
    give the avoided energy, cost and CO2. ``renewable_fraction`` [0-1] is the
    contracted renewable share of the electricity when no renewable meter exists.
    ``boundary``, when given, is printed as it is instead of the sentence built from
    ``rack_groups`` and ``sinks`` ((kind, name) pairs).
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
    meters: tuple[MeterInfo, ...] = ()
    set_points: tuple[SetPointInfo, ...] = ()
    backup_efficiency: float | None = None
    backup_kind: str = ""
    backup_fuel: str = ""
    fuel_price_eur_per_kwh: float | None = None
    fuel_co2_kg_per_kwh: float | None = None
    waste_heat_temp_c: float | None = None
    timezone: str = "UTC"
    rack_groups: tuple[str, ...] = ()
    sinks: tuple[tuple[str, str], ...] = ()
    boundary: str = ""

    def __post_init__(self) -> None:
        if self.measurement_category not in CATEGORIES:
            raise ValueError(
                f"measurement_category must be 1, 2 or 3, not {self.measurement_category}"
            )
        if self.installed_it_power_kw <= 0:
            raise ValueError("installed_it_power_kw must be positive")
        if self.renewable_fraction is not None and not 0 <= self.renewable_fraction <= 1:
            raise ValueError("renewable_fraction must lie in 0..1")
        if self.backup_efficiency is not None and self.backup_efficiency <= 0:
            raise ValueError("backup_efficiency must be positive")
        for name in ("meters", "set_points", "rack_groups", "sinks"):
            object.__setattr__(self, name, tuple(getattr(self, name)))


def _set_points(profile: SiteProfile) -> tuple[SetPointInfo, ...]:
    supply = profile.heat_loop.supply_temp_setpoint_c
    return tuple(
        SetPointInfo(g.id, g.cooling, supply if g.cooling in LIQUID_COOLING else None)
        for g in profile.rack_groups
    )


def report_info_from_profile(profile: SiteProfile) -> ReportInfo:
    """Build the report's site facts from a site profile.

    The backup heater is the first sink's; its fuel selects the price and
    emission factor (gas, or grid electricity for heat pumps and electric heaters).
    Meters are the profile's devices (with their optional ``serial`` and ``calibrated``)
    and its MQTT sensors.
    """
    reporting = profile.reporting
    backup = profile.sinks[0].backup
    if backup.fuel == "gas":
        price, co2 = profile.prices.gas_eur_per_kwh, profile.prices.gas_co2_kg_per_kwh
    else:
        price, co2 = profile.prices.electricity_eur_per_kwh, profile.prices.grid_co2_kg_per_kwh
    meters = [
        MeterInfo(d.id, d.map, f"Modbus unit {d.unit_id}", tuple(sorted(d.signals)),
                  d.serial, d.calibrated)
        for d in profile.devices
    ]
    meters += [MeterInfo(m.name, "mqtt", m.topic, (m.signal,)) for m in profile.mqtt_sensors]
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
        set_points=_set_points(profile),
        backup_efficiency=backup.efficiency,
        backup_kind=backup.kind,
        backup_fuel=backup.fuel,
        fuel_price_eur_per_kwh=price,
        fuel_co2_kg_per_kwh=co2,
        timezone=profile.site.timezone,
        rack_groups=tuple(g.id for g in profile.rack_groups),
        sinks=tuple((s.kind, s.name or s.id) for s in profile.sinks),
    )
