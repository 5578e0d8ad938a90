"""``thermalctl registers``: print the BMS Modbus server's register map (Markdown or CSV)."""

from __future__ import annotations

import argparse
import csv
import sys

from thermalctl.adapters.bms import bms_register_map
from thermalctl.adapters.bms_protocol import SUPPORTED_FUNCTIONS
from thermalctl.config.loader import DEFAULT_SITE, load_site_profile

__all__ = ["add_arguments", "run"]

COLUMNS = ("table", "address", "name", "data_type", "registers", "scale", "unit", "access",
           "min", "max", "description")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", default=str(DEFAULT_SITE),
                        help="site profile (default: %(default)s)")
    parser.add_argument("--format", choices=("md", "csv"), default="md",
                        help="Markdown table (default) or CSV")


def _rows(site: str) -> list[dict[str, str]]:
    profile = load_site_profile(site)
    rows = []
    for p in bms_register_map(profile):
        r = p.register
        rows.append({
            "table": r.table.value, "address": str(r.address), "name": r.name,
            "data_type": r.data_type.value, "registers": str(r.register_count),
            "scale": f"{r.scale:g}", "unit": r.unit, "access": r.access,
            "min": "" if r.min is None else f"{r.min:g}",
            "max": "" if r.max is None else f"{r.max:g}",
            "description": r.description,
        })
    return rows


def _functions() -> str:
    return ", ".join(str(fc) for fc in sorted(SUPPORTED_FUNCTIONS))


def run(args: argparse.Namespace) -> int:
    rows = _rows(args.site)
    if args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return 0
    print("Addresses are zero-based protocol addresses. Multi-register values: high word first.")
    print("Engineering value = raw * scale. Only holding registers are writable.")
    print(f"Functions served: {_functions()} (no coils: 1, 5 and 15 get exception 02); any "
          "other function gets exception 01, another unit id exception 0B.\n")
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "|".join("---" for _ in COLUMNS) + "|")
    for row in rows:
        print("| " + " | ".join(row[c].replace("|", "\\|") for c in COLUMNS) + " |")
    return 0
