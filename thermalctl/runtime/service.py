"""``thermalctl run``: the long-running controller for a real site (wall-clock time)."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from thermalctl.adapters.store import LocalStore
from thermalctl.config.loader import Site
from thermalctl.runtime.app import WallClock, make_policy, run_scheduler
from thermalctl.runtime.controller import Controller
from thermalctl.runtime.reporting import MonthlyReporter
from thermalctl.runtime.services import start_services

__all__ = ["run_site"]

log = logging.getLogger(__name__)

#: How often the monthly report job looks whether a month has ended [s].
REPORT_CHECK_PERIOD_S = 3600.0


async def run_site(site: Site, args: argparse.Namespace, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set (SIGINT / SIGTERM)."""
    profile = site.profile
    store_path = Path(args.store) if args.store else Path("var") / f"{profile.site.id}.sqlite"
    store = LocalStore(store_path)
    clock = WallClock()
    controller = Controller(site, store, make_policy(args.policy, site), clock)
    reporter = MonthlyReporter(profile, store, clock)
    services = await start_services(controller)
    log.info(
        "thermalctl running site %s, store %s, policy %s", profile.site.id, store_path, args.policy
    )
    try:
        await run_scheduler(
            controller,
            speed=1.0,
            fast_period_s=profile.fast_period_s,
            plan_period_s=profile.plan_period_s,
            until=stop.is_set,
            extra_jobs=[(reporter, REPORT_CHECK_PERIOD_S)],
        )
    finally:
        await services.stop()
        await controller.close()
        store.close()
    log.info("thermalctl stopped")
