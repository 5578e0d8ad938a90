"""Where a report's data comes from: measured, simulated, projected (or mixed).

Every report says it on the cover and above every table. A report from a local store
takes the store's own mark (``meta.origin``, written by
:mod:`thermalctl.adapters.store`: ``simulated`` for the demo's store, ``measured`` for a
real controller's, ``mixed`` for a simulated store a controller later wrote into); a
report from a BMS CSV export is ``measured``; a feasibility study is ``projected``.
"""

from __future__ import annotations

__all__ = ["MEASURED", "MIXED", "ORIGINS", "PROJECTED", "SIMULATED", "check_origin"]

MEASURED = "measured"
SIMULATED = "simulated"
PROJECTED = "projected"
MIXED = "mixed"
ORIGINS: tuple[str, ...] = (MEASURED, SIMULATED, PROJECTED, MIXED)


def check_origin(origin: str) -> str:
    """``origin`` if it is one of :data:`ORIGINS`, else :class:`ValueError` naming it."""
    if origin not in ORIGINS:
        raise ValueError(
            f"data origin {origin!r} is not one of {', '.join(ORIGINS)} (the store's "
            "meta.origin or the caller's origin=)"
        )
    return origin
