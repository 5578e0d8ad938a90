"""``thermalctl run``: the long-running controller for a real site (wall-clock time).

The store (default ``<state dir>/<site>.sqlite``, see :mod:`thermalctl.runtime.paths`) is
opened for this process alone (a lock beside it;
a second ``run`` on it stops with an error naming the first one's pid) and
marked ``measured``. A store the demo wrote is used, with a warning, and marked
``mixed`` from then on (so no demo deletes it later): refusing it would gain nothing,
since ``run`` never deletes anything, but its reports would mix simulated energy into
the site's. The audit trail is ``<store stem>.audit.jsonl`` beside the store.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from collections.abc import Callable

from thermalctl import __version__
from thermalctl.adapters.audit import AuditTrail, audit_path_for
from thermalctl.adapters.sdnotify import TickNotifier
from thermalctl.adapters.store import MEASURED, LocalStore
from thermalctl.config.loader import Site
from thermalctl.config.site import SiteProfile
from thermalctl.runtime.app import WallClock, make_policy, run_scheduler
from thermalctl.runtime.controller import Controller
from thermalctl.runtime.paths import store_path as default_store_path
from thermalctl.runtime.reporting import MonthlyReporter
from thermalctl.runtime.services import start_services

__all__ = ["StoreUpkeep", "run_site"]

log = logging.getLogger(__name__)

#: How often the monthly report job looks whether a month has ended [s].
REPORT_CHECK_PERIOD_S = 3600.0
#: How often the audit trail looks for a completed day to seal [s].
SEAL_CHECK_PERIOD_S = 3600.0
#: How often old readings and decisions are dropped from the store [s].
RETENTION_PERIOD_S = 86400.0


class StoreUpkeep:
    """The store's daily jobs: seal completed ledger days into the audit trail, and drop
    readings and decisions older than ``profile.store.readings_retention_days`` (once
    shipped, when ``shipped()`` says telemetry is configured). Both are scheduler jobs
    (plain functions run on the event loop); the deletes run in a worker thread."""

    def __init__(
        self,
        profile: SiteProfile,
        store: LocalStore,
        audit: AuditTrail,
        clock: Callable[[], float],
        shipped: Callable[[], bool],
    ) -> None:
        self.profile = profile
        self.store = store
        self.audit = audit
        self.clock = clock
        self.shipped = shipped
        self.deleted_rows = 0
        self._retaining: asyncio.Future[dict[str, int]] | None = None

    def seal(self) -> list[str]:
        return self.audit.seal_ledger(self.profile.site.timezone, self.clock())

    def retain_now(self) -> dict[str, int]:
        age_s = self.profile.store.readings_retention_days * 86400.0
        deleted = self.store.drop_old_rows(self.clock() - age_s, shipped_only=self.shipped())
        if any(deleted.values()):
            log.info("retention: deleted %s older than %g days from %s", deleted,
                     self.profile.store.readings_retention_days, self.store.path)
        self.deleted_rows += sum(deleted.values())
        return deleted

    def retain(self) -> None:
        """Start :meth:`retain_now` in a worker thread (unless one still runs)."""
        if self._retaining is None or self._retaining.done():
            self._retaining = asyncio.get_running_loop().run_in_executor(None, self.retain_now)

    async def finish(self, timeout_s: float = 10.0) -> None:
        if self._retaining is not None and not self._retaining.done():
            await asyncio.wait([self._retaining], timeout=timeout_s)

    def jobs(self) -> list[tuple[Callable[[], object], float]]:
        return [(self.seal, SEAL_CHECK_PERIOD_S), (self.retain, RETENTION_PERIOD_S)]


async def run_site(site: Site, args: argparse.Namespace, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set (SIGINT / SIGTERM)."""
    profile = site.profile
    store_path = default_store_path(profile.site.id, store=args.store,
                                    given_state_dir=getattr(args, "state_dir", None))
    store = LocalStore(store_path, origin=MEASURED, exclusive=True)
    try:
        audit = AuditTrail(audit_path_for(store_path), store=store)
    except OSError as exc:
        store.close()
        raise OSError(f"audit trail beside {store_path}: {exc}") from exc
    clock = WallClock()
    controller = Controller(site, store, make_policy(args.policy, site), clock)
    controller.audit = audit
    notifier = TickNotifier.from_env(profile.fast_period_s)  # systemd: READY=1, WATCHDOG=1
    controller.observers.append(notifier)
    reporter = MonthlyReporter(profile, store, clock)
    services = await start_services(controller)
    upkeep = StoreUpkeep(profile, store, audit, clock, lambda: services.shipper is not None)
    audit.record("start", source="cli", site=profile.site.id, policy=args.policy,
                 pid=os.getpid(), version=__version__, store=str(store_path),
                 origin=store.origin)
    log.info(
        "thermalctl running site %s, store %s, policy %s", profile.site.id, store_path, args.policy
    )
    try:
        upkeep.seal()
        upkeep.retain()
        await run_scheduler(
            controller,
            speed=1.0,
            fast_period_s=profile.fast_period_s,
            plan_period_s=profile.plan_period_s,
            until=stop.is_set,
            extra_jobs=[(reporter, REPORT_CHECK_PERIOD_S), *upkeep.jobs()],
        )
    finally:
        notifier.stopping()
        await services.stop()
        await controller.close()
        await upkeep.finish()
        audit.record("stop", source="cli", site=profile.site.id, pid=os.getpid())
        audit.close()
        store.close()
    log.info("thermalctl stopped")
