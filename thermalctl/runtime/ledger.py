"""The energy ledger's values for one tick, from the snapshot's meter counters."""

from __future__ import annotations

from collections.abc import Sequence

from thermalctl.config.site import SiteProfile
from thermalctl.control.state import SiteState
from thermalctl.models.signals import (
    DUMP_ENERGY_KWH,
    FACILITY_ENERGY_KWH,
    IT_ENERGY_KWH,
    sink_signal,
)

__all__ = ["CounterSum", "EnergyLedger"]


class CounterSum:
    """A sum of several meters' cumulative counters that one meter's reset cannot break.

    When one meter drops (replaced, or reset) and the next reading confirms the drop,
    the sum goes on from where it was, as if the new meter had started at zero; a
    single low sample that the next reading contradicts is ignored (a gateway answering
    0 while it reboots). The sum is None while any meter is missing or a drop is
    unconfirmed.
    """

    def __init__(self) -> None:
        self.last: dict[str, float] = {}
        self.offset: dict[str, float] = {}
        self.suspect: dict[str, float] = {}

    def update(self, values: Sequence[tuple[str, float | None]]) -> float | None:
        if not values or any(v is None for _, v in values):
            return None
        total = 0.0
        unconfirmed = False
        for signal, value in values:
            assert value is not None
            last = self.last.get(signal)
            if last is not None and value < last:
                if signal not in self.suspect:
                    self.suspect[signal] = value
                    unconfirmed = True
                    continue
                # the drop held for two readings: a new meter (or a reset) from zero
                self.offset[signal] = self.offset.get(signal, 0.0) + last
            self.suspect.pop(signal, None)
            self.last[signal] = value
            total += value + self.offset.get(signal, 0.0)
        return None if unconfirmed else total


class EnergyLedger:
    """The counters recorded each tick: facility, IT, reused, dumped and backup heat.

    A counter older than ``limits.stale_after_s`` is recorded as missing, so a dead
    meter shows as a gap (and lowers the completeness) instead of a flat line followed
    by a jump. Sums over several meters go through :class:`CounterSum`.
    """

    def __init__(self, profile: SiteProfile) -> None:
        self.stale_after_s = profile.limits.stale_after_s
        sinks = [s.id for s in profile.sinks]
        self.energy = [sink_signal(s, "energy_kwh") for s in sinks]
        self.backup = [sink_signal(s, "backup_energy_kwh") for s in sinks]
        self.sums = {"reused": CounterSum(), "backup": CounterSum()}

    def values(self, state: SiteState, bound: frozenset[str]) -> dict[str, float | None]:
        """This tick's counter values [kWh] (None where a meter is not fresh)."""
        fresh = self.stale_after_s
        return {
            "facility_kwh": state.value(FACILITY_ENERGY_KWH, fresh),
            "it_kwh": state.value(IT_ENERGY_KWH, fresh),
            "reused_heat_kwh": self.sums["reused"].update(
                [(sig, state.value(sig, fresh)) for sig in self.energy]
            ),
            "dumped_heat_kwh": state.value(DUMP_ENERGY_KWH, fresh),
            "backup_heat_kwh": self.sums["backup"].update(
                [(sig, state.value(sig, fresh)) for sig in self.backup if sig in bound]
            ),
        }
