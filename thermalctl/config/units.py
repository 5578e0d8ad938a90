"""Engineering units accepted in maps and bindings, and their conversion to SI.

Control and KPI code work in W, J-based kWh, degC, m3/s, fraction. An adapter
converts a register's or topic's unit once, with :func:`to_canonical`.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["CANONICAL", "Unit", "to_canonical"]

Unit = Literal[
    "1",
    "%",
    "W",
    "kW",
    "MW",
    "Wh",
    "kWh",
    "MWh",
    "GJ",
    "degC",
    "K",
    "delta_K",
    "m3/s",
    "m3/h",
    "l/h",
    "l/s",
    "m3",
    "l",
    "V",
    "A",
    "Hz",
    "bar",
    "Pa",
    "s",
]

#: unit -> (canonical unit, factor, offset): canonical = value * factor + offset
CANONICAL: dict[str, tuple[str, float, float]] = {
    "1": ("1", 1.0, 0.0),
    "%": ("1", 0.01, 0.0),
    "W": ("W", 1.0, 0.0),
    "kW": ("W", 1e3, 0.0),
    "MW": ("W", 1e6, 0.0),
    "Wh": ("kWh", 1e-3, 0.0),
    "kWh": ("kWh", 1.0, 0.0),
    "MWh": ("kWh", 1e3, 0.0),
    "GJ": ("kWh", 1e9 / 3.6e6, 0.0),
    "degC": ("degC", 1.0, 0.0),
    "K": ("degC", 1.0, -273.15),  # an absolute temperature in kelvin
    "delta_K": ("delta_K", 1.0, 0.0),  # a temperature difference (heat meters' delta T)
    "m3/s": ("m3/s", 1.0, 0.0),
    "m3/h": ("m3/s", 1.0 / 3600.0, 0.0),
    "l/h": ("m3/s", 1e-3 / 3600.0, 0.0),
    "l/s": ("m3/s", 1e-3, 0.0),
    "m3": ("m3", 1.0, 0.0),
    "l": ("m3", 1e-3, 0.0),
    "V": ("V", 1.0, 0.0),
    "A": ("A", 1.0, 0.0),
    "Hz": ("Hz", 1.0, 0.0),
    "bar": ("Pa", 1e5, 0.0),
    "Pa": ("Pa", 1.0, 0.0),
    "s": ("s", 1.0, 0.0),
}


def to_canonical(value: float, unit: str) -> tuple[float, str]:
    """Convert ``value`` in ``unit`` to the canonical unit of its dimension.

    >>> to_canonical(2.5, "kW")
    (2500.0, 'W')
    """
    try:
        canonical, factor, offset = CANONICAL[unit]
    except KeyError:
        raise ValueError(f"unknown unit {unit!r}") from None
    return value * factor + offset, canonical
