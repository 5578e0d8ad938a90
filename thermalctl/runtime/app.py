"""Wires adapters, control and the simulator under one APScheduler (AsyncIOScheduler).

Jobs: ``fast`` (poll, safety, policy, actuation, record), ``plan`` (the policy's
re-plan) and, in a demo, ``plant`` (the simulated plant follows the clock). All
run on one asyncio loop; a job that overruns is skipped, not queued
(``max_instances=1, coalesce=True``). The supervisor catches whatever a tick
throws, logs it once, and puts the controller into safe mode.

The re-plan runs in a worker thread on a copy of the last snapshot, so a slow solve
never delays a tick, the BMS server or its heartbeat watchdog. A re-plan that is
still running after :data:`PLAN_TIME_LIMIT_S` is abandoned (the policy keeps its
last plan, which expires on its own) and raises the ``runtime.plan_overrun`` alarm;
no new re-plan starts until the old thread has finished.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from thermalctl.config.loader import Site
from thermalctl.control.policy import Policy
from thermalctl.points import Alarm, AlarmSeverity
from thermalctl.runtime.controller import Controller

__all__ = ["ScaledClock", "Supervisor", "WallClock", "make_policy", "run_scheduler"]

log = logging.getLogger(__name__)

#: A re-plan still running after this long is abandoned, with an alarm [s] (wall time;
#: HiGHS stops itself at its own 5 s limit, so this is a backstop).
PLAN_TIME_LIMIT_S = 30.0


class WallClock:
    """Real time, Unix seconds."""

    def __call__(self) -> float:
        return time.time()


@dataclass
class ScaledClock:
    """Simulated time running ``speed`` times faster than the wall clock."""

    start_s: float
    speed: float
    _wall0: float = field(default_factory=time.monotonic)

    def __call__(self) -> float:
        return self.start_s + (time.monotonic() - self._wall0) * self.speed


def make_policy(name: str, site: Site) -> Policy:
    """Build a controller by name (:mod:`thermalctl.control.registry`: thermostat, rules,
    mpc and their aliases)."""
    from thermalctl.control.registry import build_policy

    return build_policy(name, site.profile)


class Supervisor:
    """Runs the controller's jobs; the only place that catches every exception."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller
        self.failing: dict[str, str] = {}
        self.tick_wall_s: list[float] = []
        self.plan_time_limit_s = PLAN_TIME_LIMIT_S
        self._plan_thread: asyncio.Future[None] | None = None

    async def fast(self) -> None:
        start = time.perf_counter()
        try:
            await self.controller.tick()
        except Exception as exc:  # the supervisor boundary (STYLE.md rule 6)
            self._failed("fast", exc)
        else:
            self._recovered("fast")
        self.tick_wall_s.append(time.perf_counter() - start)

    async def plan(self) -> None:
        """Re-plan in a worker thread; give up waiting after ``plan_time_limit_s``."""
        if self._plan_thread is not None and not self._plan_thread.done():
            log.warning("previous re-plan still running; this one skipped")
            return
        c = self.controller
        work = asyncio.ensure_future(asyncio.to_thread(c.plan_on, *c.plan_inputs()))
        self._plan_thread = work
        try:
            await asyncio.wait_for(asyncio.shield(work), timeout=self.plan_time_limit_s)
        except TimeoutError:
            alarm = Alarm(
                "runtime.plan_overrun",
                f"re-plan still running after {self.plan_time_limit_s:g} s: abandoned, "
                "last plan kept",
                AlarmSeverity.WARNING,
                c.clock(),
            )
            c.runtime_alarms[alarm.code] = alarm
            c.raise_alarm(alarm)
            work.add_done_callback(lambda _f: c.runtime_alarms.pop(alarm.code, None))
        except Exception as exc:
            self._failed("plan", exc)
        else:
            self._recovered("plan")

    def _failed(self, job: str, exc: BaseException) -> None:
        c = self.controller
        if job not in self.failing:
            log.exception("%s job failed", job)
        self.failing[job] = repr(exc)
        alarm = Alarm(f"runtime.{job}", f"{job} job failed: {exc!r}", AlarmSeverity.CRITICAL,
                      c.clock())
        c.runtime_alarms[alarm.code] = alarm
        c.raise_alarm(alarm)  # now, even if no tick completes to do it
        if job == "fast":  # the tick itself broke: latch safe until ticks run clean again
            c.latch_safe(alarm.message)

    def _recovered(self, job: str) -> None:
        if job in self.failing:
            log.info("%s job recovered", job)
            del self.failing[job]
            self.controller.runtime_alarms.pop(f"runtime.{job}", None)


async def run_scheduler(
    controller: Controller,
    *,
    speed: float,
    fast_period_s: float,
    plan_period_s: float,
    until: Callable[[], bool],
    extra_jobs: list[tuple[Callable[[], Any], float]] | None = None,
    progress: Callable[[], Awaitable[None] | None] | None = None,
) -> Supervisor:
    """Run the fast and plan jobs (periods in simulated seconds) until ``until()``."""
    sup = Supervisor(controller)
    sched = AsyncIOScheduler()
    opts: dict[str, Any] = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    for func, period in extra_jobs or []:
        sched.add_job(_on_loop(func), "interval", seconds=period / speed, **opts)
    sched.add_job(sup.fast, "interval", seconds=fast_period_s / speed, id="fast", **opts)
    sched.add_job(sup.plan, "interval", seconds=plan_period_s / speed, id="plan", **opts)
    await controller.observe()  # a first snapshot, so the first plan has readings
    await sup.plan()
    await sup.fast()
    sched.start()
    try:
        while not until():
            await asyncio.sleep(min(0.2, max(0.01, fast_period_s / speed)))
            if progress is not None:
                maybe = progress()
                if maybe is not None:
                    await maybe
    finally:
        # AsyncIOExecutor.shutdown cancels job runs in flight: stop submitting, let the
        # runs already started finish, then shut down.
        sched.pause()
        await _finish_submitted_jobs()
        sched.shutdown(wait=False)
    return sup


async def _finish_submitted_jobs(timeout_s: float = 5.0) -> None:
    """Let job runs already handed to the event loop finish (bounded), so stopping never
    cuts a tick's Modbus I/O short."""
    current = asyncio.current_task()
    pending = [
        t
        for t in asyncio.all_tasks()
        if t is not current and "run_coroutine_job" in getattr(t.get_coro(), "__qualname__", "")
    ]
    if pending:
        await asyncio.wait(pending, timeout=timeout_s)


def _on_loop(func: Callable[[], Any]) -> Callable[[], Awaitable[None]]:
    """Run a plain function as a coroutine job, on the event loop, not in a worker thread.

    APScheduler's AsyncIOScheduler would hand a plain function to a thread pool; the
    simulator, the store and the controller are used from the loop only.
    """

    async def job() -> None:
        func()

    job.__name__ = getattr(func, "__name__", type(func).__name__)
    return job


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, math.ceil(q / 100.0 * len(ordered)) - 1))
    return ordered[idx]
