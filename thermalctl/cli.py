"""thermalctl: turn a small data centre's waste heat into useful heat.

Every command has --help. Commands a machine reads take --json (one JSON
document on stdout); -q silences progress on stderr. Errors exit non-zero with
the reason on stderr.

Start with: thermalctl demo (a simulated site on this machine), then
thermalctl init DIR (an editable site of your own; thermalctl init --list).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import importlib
import io
import json
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any

from thermalctl import __version__
from thermalctl.config.loader import DEFAULT_SITE, ConfigError, load_site, validate_files
from thermalctl.runtime.paths import store_path

__all__ = ["main"]

log = logging.getLogger("thermalctl")

# Subcommands whose implementation lives in a feature package: name -> (module, help).
# Each module offers ``add_arguments(parser)`` and ``run(args) -> int``.
_FEATURE_COMMANDS: dict[str, tuple[str, str]] = {
    "simulate": ("thermalctl.sim.offline_cli", "fast offline simulation of a policy (no network)"),
    "kpi": ("thermalctl.runtime.kpi_cli", "KPIs (PUE, ERF, ERE, ...) from a CSV of meter counters"),
    "report": ("thermalctl.reports.cli", "energy report for permitting (HTML, PDF, CSV)"),
    "assess": ("thermalctl.runtime.assess_cli", "feasibility study of a candidate site: "
               "projected reuse, ERF, avoided fuel, cost and CO2, EnEfG/EED outlook"),
    "registers": ("thermalctl.adapters.bms_cli", "print the BMS Modbus server's register map"),
    "signals": ("thermalctl.config.signals_cli", "list the signals and actuators (with --site: "
                "a site's names, which are required and what binds them)"),
    "calibrate": (
        "thermalctl.runtime.calibrate_cli",
        "fit pool / tank loss parameters from the store",
    ),
    "audit": ("thermalctl.runtime.audit_cli", "verify or list the audit trail beside the store"),
    "init": ("thermalctl.runtime.init_cli", "write an editable starting site (profile and "
             "hardware maps) into a folder; --list shows the examples"),
}

_STATE_DIR_HELP = ("folder for the store and the audit trail (default: $STATE_DIRECTORY "
                   "under systemd, else ./var)")


def _cmd_validate(args: argparse.Namespace) -> int:
    files = args.files or [str(DEFAULT_SITE)]
    issues = validate_files(files)
    if args.json:
        print(json.dumps({"valid": not issues, "issues": [i.__dict__ for i in issues]}, indent=2))
    else:
        for issue in issues:
            print(issue, file=sys.stderr)
        if not issues:
            print(f"{len(files)} file(s) valid")
    return 1 if issues else 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from thermalctl.config.hardware import HardwareMap
    from thermalctl.config.site import SiteProfile

    model = HardwareMap if args.kind == "hardware-map" else SiteProfile
    print(json.dumps(model.model_json_schema(), indent=2))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    import datetime as dt

    from thermalctl.runtime.demo import DemoOptions, run_demo_sync

    site = load_site(args.site)
    opts = DemoOptions(
        hours=args.hours,
        speed=args.speed,
        fast_period_s=args.tick,
        policy=args.policy,
        store_path=store_path(f"demo-{site.profile.site.id}", store=args.store,
                              given_state_dir=args.state_dir),
        start=dt.datetime.fromisoformat(args.start).replace(tzinfo=dt.UTC)
        if args.start
        else DemoOptions.start,
        progress=not args.quiet,
        report=not args.no_report,
    )
    if not args.quiet:
        print(
            f"thermalctl demo: site {site.profile.site.id}, {args.hours:g} h simulated at "
            f"{args.speed:g}x, policy {args.policy}",
            file=sys.stderr,
        )
    summary = run_demo_sync(site, opts)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        _print_summary(summary)
    return 0


def _print_summary(summary: dict[str, Any]) -> None:
    rows = [
        ("IT energy", f"{summary['it_energy_kwh']:.1f} kWh"),
        ("Facility energy", f"{summary['facility_energy_kwh']:.1f} kWh"),
        ("Heat reused", f"{summary['reused_heat_kwh']:.1f} kWh"),
        ("Heat dumped", f"{summary['dumped_heat_kwh']:.1f} kWh"),
        ("Backup heat", f"{summary['backup_heat_kwh']:.1f} kWh"),
        ("PUE", f"{summary['pue']:.3f}"),
        ("ERF", f"{summary['erf']:.3f}"),
        ("ERE", f"{summary['ere']:.3f}"),
        ("Alarms raised", ", ".join(summary["alarms"]) or "none"),
        ("Control tick", f"median {summary['tick_ms_median']} ms, p99 {summary['tick_ms_p99']} ms"),
        ("Local store", summary["store"]),
        ("Report", summary.get("report", "not written")),
    ]
    for name, value in rows:
        print(f"{name:<16} {value}")


def _cmd_run(args: argparse.Namespace) -> int:
    from thermalctl.runtime.service import run_site

    site = load_site(args.site)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        loop.run_until_complete(run_site(site, args, stop))
    finally:
        loop.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="thermalctl", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"thermalctl {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-vv: debug)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("validate", help="validate site profiles and hardware maps")
    p.add_argument("files", nargs="*", help="YAML files (default: the embedded demo site)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("schema", help="print the JSON Schema of a site profile or hardware map")
    p.add_argument(
        "kind", nargs="?", choices=["site-profile", "hardware-map"], default="site-profile"
    )
    p.set_defaults(func=_cmd_schema)

    p = sub.add_parser("demo", help="simulated site + controller on loopback, no external service")
    p.add_argument("--site", default=str(DEFAULT_SITE), help="site profile (default: %(default)s)")
    p.add_argument("--hours", type=float, default=24.0, help="simulated hours (default 24)")
    p.add_argument("--speed", type=float, default=960.0, help="simulated seconds per wall second")
    p.add_argument(
        "--tick",
        type=float,
        default=60.0,
        help="simulated seconds between control ticks (default 60)",
    )
    p.add_argument(
        "--policy",
        default="mpc",
        choices=["mpc", "rules", "thermostat", "baseline"],
        help="mpc (the planner, default), rules (a commissioning engineer's rules) or "
        "thermostat (today's practice; 'baseline' is its old name)",
    )
    p.add_argument("--store", help="local store path (default <state dir>/demo-<site>.sqlite)")
    p.add_argument("--state-dir", help=_STATE_DIR_HELP)
    p.add_argument("--start", help="simulated start, ISO date (UTC), default 2026-01-05")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-report", action="store_true", help="skip the HTML/PDF/CSV report")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("run", help="the long-running controller for a real site")
    p.add_argument("--site", required=True, help="site profile")
    p.add_argument(
        "--policy",
        default="baseline",
        choices=["baseline", "thermostat", "rules", "mpc"],
        help="thermostat (today's practice, default; 'baseline' is its old name), rules, "
        "or mpc once you trust the plan",
    )
    p.add_argument("--store", help="local store path (default <state dir>/<site>.sqlite)")
    p.add_argument("--state-dir", help=_STATE_DIR_HELP)
    p.set_defaults(func=_cmd_run)

    for name, (module, help_text) in _FEATURE_COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        try:
            mod = importlib.import_module(module)
        except ImportError:
            p.set_defaults(func=_unavailable(name))
            continue
        mod.add_arguments(p)
        p.set_defaults(func=mod.run)
    for p in sub.choices.values():  # every command takes -q (a module may define its own)
        with contextlib.suppress(argparse.ArgumentError):
            p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    return parser


def _unavailable(name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        print(f"thermalctl {name}: not available in this build", file=sys.stderr)
        return 2

    return run


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        code = _run_json(args) if getattr(args, "json", False) else _run(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (``thermalctl schema | head``): a normal end, not an error.
        # As the Python docs advise (signal module, "Note on SIGPIPE"), point stdout at
        # devnull so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 0
    return code


def _run(args: argparse.Namespace) -> int:
    try:
        return int(args.func(args))
    except ConfigError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        return 1
    except BrokenPipeError:
        raise  # handled in main
    except (OSError, ValueError) as exc:
        print(f"thermalctl {args.command}: {exc}", file=sys.stderr)
        return 1


def _run_json(args: argparse.Namespace) -> int:
    """Run a ``--json`` command so that stdout carries its JSON document and nothing else.

    For the whole run, file descriptor 1 points at stderr (``os.dup2``), so whatever a C
    library or a thread writes there (HiGHS prints its banner from ``highspy.Highs()``)
    lands on stderr; Python-level prints are collected. At the end fd 1 is restored and
    only the JSON document is written to it; anything else collected goes to stderr.
    """
    out = sys.stdout
    collected = io.StringIO()
    out.flush()
    _flush_c_stdio()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        sys.stdout = collected
        try:
            code = _run(args)
        finally:
            sys.stdout = out
            _flush_c_stdio()  # what C code buffered goes to stderr, not after the JSON
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    document, other = _split_json(collected.getvalue())
    if other:
        sys.stderr.write(other)
        sys.stderr.flush()
    out.write(document)
    return code


def _flush_c_stdio() -> None:
    """``fflush(NULL)``: push out what C code buffered in its stdio streams."""
    with contextlib.suppress(OSError, AttributeError):  # no C library to ask (not POSIX)
        ctypes.CDLL(None).fflush(None)


def _split_json(text: str) -> tuple[str, str]:
    """(the JSON document that ends ``text``, everything printed before it)."""
    stripped = text.strip()
    if not stripped:
        return "", ""
    decoder = json.JSONDecoder()
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    for start in starts:
        if text[start : start + 1] not in ("{", "["):
            continue
        try:
            _, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            continue
        if not text[end:].strip():
            return text[start:], text[:start]
    return "", text


if __name__ == "__main__":
    sys.exit(main())
