"""thermalctl.physics.

Pure, vectorised physics in SI units, each function citing its source:
:mod:`~thermalctl.physics.water` (IAPWS water properties),
:mod:`~thermalctl.physics.hx` (effectiveness-NTU),
:mod:`~thermalctl.physics.rack` (captured heat, coolant temperatures),
:mod:`~thermalctl.physics.pool` (indoor pool heat balance),
:mod:`~thermalctl.physics.tank` (stratified hot-water tank),
:mod:`~thermalctl.physics.drycooler` (heat dump and fans),
:mod:`~thermalctl.physics.backup` (boilers, heat pumps, CO2),
:mod:`~thermalctl.physics.building` (heating curve, gains, mains water) and
:mod:`~thermalctl.physics.calibration` (least-squares fits to logged data).
Imports numpy and scipy only.
"""

from thermalctl.physics import (
    backup,
    building,
    calibration,
    drycooler,
    hx,
    pool,
    rack,
    tank,
    water,
)

__all__ = ["backup", "building", "calibration", "drycooler", "hx", "pool", "rack", "tank", "water"]
