"""``thermalctl signals``: the signal catalogue, or the concrete signals of one site.

Without ``--site`` every template of :mod:`thermalctl.models.signals` is listed; with
``--site`` the names valid for that site, whether it requires them and what binds
them (a device's register or an MQTT sensor's topic).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from thermalctl.config.loader import load_site
from thermalctl.config.site import SiteProfile
from thermalctl.models.signals import CATALOGUE, SignalSpec, required_signals, signals_for

__all__ = ["add_arguments", "rows", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", help="site profile: list its concrete signals and bindings")
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def _spec_row(name: str, s: SignalSpec) -> dict[str, Any]:
    return {
        "name": name, "unit": s.unit, "kind": s.kind.value, "actuator": s.actuator,
        "safety": s.safety.value, "plausible_min": s.plausible[0],
        "plausible_max": s.plausible[1], "device_class": s.device_class,
        "state_class": s.state_class, "description": s.description,
    }


def _bindings(profile: SiteProfile) -> dict[str, str]:
    out: dict[str, str] = {}
    for d in profile.devices:
        for sig, reg in (*d.signals.items(), *d.actuators.items()):
            out[sig] = f"device {d.id} register {reg}"
    for m in profile.mqtt_sensors:
        out[m.signal] = f"MQTT sensor {m.name} ({m.topic})"
    return out


def rows(profile: SiteProfile | None) -> list[dict[str, Any]]:
    """One row per catalogue template, or per concrete signal of ``profile``."""
    if profile is None:
        return [_spec_row(s.template, s) for s in CATALOGUE]
    required = required_signals(profile)
    bound = _bindings(profile)
    out = []
    for name, s in signals_for(profile).items():
        row = _spec_row(name, s)
        row["required"] = required.get(name, "")
        row["bound_by"] = bound.get(name, "")
        out.append(row)
    return out


def run(args: argparse.Namespace) -> int:
    profile = load_site(args.site).profile if args.site else None
    table = rows(profile)
    if args.json:
        print(json.dumps({"site": profile.site.id if profile else None, "signals": table},
                         indent=2))
        return 0
    headers = ["name", "unit", "kind", "safety", "range", "description"]
    if profile is not None:
        headers[4:4] = ["required", "bound by"]
    lines = []
    for r in table:
        kind = r["kind"] + (" (actuator)" if r["actuator"] else "")
        cells = [r["name"], r["unit"], kind, r["safety"] or "-",
                 f"{r['plausible_min']:g}..{r['plausible_max']:g}", r["description"]]
        if profile is not None:
            cells[4:4] = ["yes" if r["required"] else "-", r["bound_by"] or "-"]
        lines.append(cells)
    widths = [max(len(h), *(len(c[i]) for c in lines)) for i, h in enumerate(headers[:-1])]
    for cells in [headers, *lines]:
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=False)) + "  " + cells[-1])
    return 0
