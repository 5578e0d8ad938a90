"""Serve a site's simulated devices over Modbus TCP on the profile's own ports, in real time.

Lets you try ``thermalctl run`` (or mbpoll, or a BMS) against a plant that behaves
like the real site:

    .venv/bin/python tools/serve_sim.py --site site_profiles/exmouth_pool.yaml &
    .venv/bin/thermalctl run --site site_profiles/exmouth_pool.yaml

``--speed`` runs the plant faster than the wall clock. Stop with Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import time
from pathlib import Path

from thermalctl.config import load_site
from thermalctl.runtime.app import ScaledClock
from thermalctl.sim.site import SimulatedSite

REPO = Path(__file__).resolve().parents[1]


async def serve(site_path: Path, speed: float, period_s: float) -> None:
    site = load_site(site_path)
    clock = ScaledClock(time.time(), speed)
    sim = SimulatedSite(site, clock)
    await sim.start()
    sim.initialise_actuators()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    ports = sorted({d.port for d in site.profile.devices})
    logging.info("simulated %s on 127.0.0.1 ports %s at %gx", site.profile.site.id, ports, speed)
    try:
        while not stop.is_set():
            sim.sync()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=period_s)
    finally:
        await sim.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=REPO / "site_profiles" / "exmouth_pool.yaml")
    parser.add_argument("--speed", type=float, default=1.0, help="simulated s per wall s")
    parser.add_argument("--period", type=float, default=0.5, help="plant update period [s]")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    asyncio.run(serve(args.site, args.speed, args.period))


if __name__ == "__main__":
    main()
