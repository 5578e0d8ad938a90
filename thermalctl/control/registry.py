"""Every policy by name, and the one place that builds them.

==================  ===========================================================
name                what it is
==================  ===========================================================
``thermostat``      today's practice (:class:`~thermalctl.control.policy.ThermostatPolicy`)
``rules``           a good commissioning engineer's rules (:mod:`thermalctl.control.rules`)
``mpc``             the planner with forecasts from the past only
``mpc_perfect``     the same receding-horizon planner with the simulator's true future
                    (perfect forecasts); **not a bound** (a receding horizon with perfect
                    forecasts can still do worse than another policy)
``bound``           not a controller: the perfect-foresight optimum of a relaxation of
                    the plant (:mod:`thermalctl.control.bound`), evaluated by
                    ``thermalctl simulate --policy bound``
==================  ===========================================================

Aliases: ``baseline`` is the thermostat; ``oracle`` is ``mpc_perfect``.
"""

from __future__ import annotations

from thermalctl.config.site import SiteProfile
from thermalctl.control import planner
from thermalctl.control.forecast import (
    Forecaster,
    FutureSource,
    HistoryForecaster,
    OracleForecaster,
)
from thermalctl.control.policy import Policy, ThermostatPolicy
from thermalctl.control.rules import RulesPolicy

__all__ = ["ALIASES", "CONTROLLERS", "POLICIES", "NotAControllerError", "build_policy", "canonical"]

#: Every name ``build_policy`` or ``simulate`` takes, with what it means.
POLICIES: dict[str, str] = {
    "thermostat": "today's practice: valves open below set point, dry cooler holds the "
    "supply temperature (off while a sink calls), GPU work runs when queued",
    "rules": "commissioning engineer's rules: sinks in priority charged to the top of "
    "their band, dry cooler last, deferrable work when heat is wanted or a deadline nears",
    "mpc": "the planner (LP, 24 h receding horizon) with forecasts from the past only",
    "mpc_perfect": "the planner with the simulator's true future (perfect forecasts; "
    "receding horizon, not a bound)",
    "bound": "perfect-foresight optimum of a relaxation of the plant: a lower bound on "
    "every policy's cost and backup (evaluated, not run as a controller)",
}
#: Old or short names and the policy they mean.
ALIASES: dict[str, str] = {"baseline": "thermostat", "oracle": "mpc_perfect"}
#: Names that run as controllers (``bound`` is evaluated only).
CONTROLLERS = ("thermostat", "rules", "mpc", "mpc_perfect")


class NotAControllerError(ValueError):
    """The policy is not a controller (``bound``): evaluate it with ``simulate``."""


def canonical(name: str) -> str:
    """The policy a name or alias means; ValueError naming the valid ones if unknown."""
    resolved = ALIASES.get(name, name)
    if resolved not in POLICIES:
        valid = ", ".join([*POLICIES, *ALIASES])
        raise ValueError(f"unknown policy {name!r} (valid: {valid})")
    return resolved


def build_policy(
    name: str,
    profile: SiteProfile,
    *,
    future: FutureSource | None = None,
    settings: planner.PlannerSettings | None = None,
    backend: str = "auto",
) -> Policy:
    """Build the controller ``name`` (or an alias) for ``profile``.

    ``future`` is the simulator's true future (``mpc_perfect`` needs it); ``settings``
    and ``backend`` configure the planner of ``mpc`` and ``mpc_perfect``.
    """
    resolved = canonical(name)
    if resolved == "thermostat":
        return ThermostatPolicy(profile)
    if resolved == "rules":
        return RulesPolicy(profile)
    # Imported here: control.policies re-exports build_policy from this module.
    from thermalctl.control.policies import PlanningPolicy

    s = settings or planner.PlannerSettings()
    if resolved == "mpc":
        forecaster: Forecaster = HistoryForecaster(profile, s.step_s, s.deadline_margin_h)
        return PlanningPolicy("mpc", profile, forecaster, s, backend)
    if resolved == "mpc_perfect":
        if future is None:
            raise ValueError(
                f"policy {name!r} needs the true future of a simulated run "
                "(use it with `thermalctl simulate`)"
            )
        oracle = OracleForecaster(profile, future, s.deadline_margin_h)
        return PlanningPolicy("mpc_perfect", profile, oracle, s, backend)
    raise NotAControllerError(
        f"policy {name!r} is a bound, not a controller: it is evaluated over a whole "
        "simulated run (`thermalctl simulate --policy bound`)"
    )
