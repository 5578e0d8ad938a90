"""Tell systemd how the service is doing: the ``sd_notify`` datagram protocol, no library.

Under a unit with ``Type=notify`` systemd passes ``$NOTIFY_SOCKET``, a Unix datagram
socket (a path, or ``@name`` in the abstract namespace), and, with ``WatchdogSec=``,
``$WATCHDOG_USEC`` and ``$WATCHDOG_PID``. A message is newline-separated ``KEY=value``
lines (sd_notify(3)):

* ``READY=1`` once the controller has completed its first tick (start-up is done);
* ``WATCHDOG=1`` after every completed tick: if ticks stop for ``WatchdogSec``, systemd
  kills the process and ``Restart=on-failure`` starts it again;
* ``STATUS=...`` a line ``systemctl status`` shows (mode, active alarms);
* ``STOPPING=1`` when the service begins to shut down.

Without ``$NOTIFY_SOCKET`` (a terminal, the demo, the tests) every call does nothing.
A send that fails is logged once and never raises: telling systemd must not stop a tick.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping, Sequence
from typing import Protocol

from thermalctl.points import Alarm, Decision

__all__ = ["SystemdNotifier", "TickNotifier"]

log = logging.getLogger(__name__)


class _Tick(Protocol):
    """What :class:`TickNotifier` reads of a tick (the runtime's TickResult)."""

    @property
    def decision(self) -> Decision: ...

    @property
    def alarms(self) -> Sequence[Alarm]: ...


class SystemdNotifier:
    """Sends ``sd_notify`` messages to ``address`` (None: not under systemd, a no-op)."""

    def __init__(self, address: str | None, watchdog_usec: int | None = None) -> None:
        self.address = address
        #: The watchdog interval systemd expects pings within [us], or None.
        self.watchdog_usec = watchdog_usec
        self._failed = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> SystemdNotifier:
        """The notifier systemd asked for; a no-op one outside systemd."""
        address = env.get("NOTIFY_SOCKET") or None
        if address is not None and not address.startswith(("/", "@")):
            log.warning("NOTIFY_SOCKET %r is not a Unix socket path: not notifying systemd",
                        address)  # e.g. vsock:, which this process has no use for
            address = None
        return cls(address, _watchdog_usec(env))

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, *assignments: str) -> bool:
        """Send ``KEY=value`` lines in one datagram; True when systemd got it."""
        if self.address is None or not assignments:
            return False
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.connect(target)
                sock.sendall("\n".join(assignments).encode("utf-8"))
        except OSError as exc:
            if not self._failed:
                log.warning("cannot notify systemd at %s: %s", self.address, exc)
                self._failed = True
            return False
        if self._failed:
            log.info("notifying systemd at %s again", self.address)
            self._failed = False
        return True

    def ready(self, status: str = "") -> bool:
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def watchdog(self, status: str = "") -> bool:
        return self.notify("WATCHDOG=1", *([f"STATUS={status}"] if status else []))

    def stopping(self) -> bool:
        return self.notify("STOPPING=1", "STATUS=stopping")


def _watchdog_usec(env: Mapping[str, str]) -> int | None:
    """``$WATCHDOG_USEC`` when it is meant for this process (``$WATCHDOG_PID``)."""
    pid = env.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec if usec > 0 else None


class TickNotifier:
    """A controller observer: ``READY=1`` after the first tick, ``WATCHDOG=1`` after each.

    Append it to ``Controller.observers``; it sees every completed tick.
    """

    def __init__(self, notifier: SystemdNotifier, fast_period_s: float) -> None:
        self.notifier = notifier
        self.ticks = 0
        wd = notifier.watchdog_usec
        if wd is not None and wd / 1e6 < 2.0 * fast_period_s:
            log.warning("systemd watchdog %.0f s is shorter than two control ticks (%.0f s): "
                        "raise WatchdogSec in the unit", wd / 1e6, 2.0 * fast_period_s)

    @classmethod
    def from_env(cls, fast_period_s: float, env: Mapping[str, str] = os.environ
                 ) -> TickNotifier:
        return cls(SystemdNotifier.from_env(env), fast_period_s)

    def on_tick(self, result: _Tick) -> None:
        if not self.notifier.enabled:
            return
        first = ["READY=1"] if self.ticks == 0 else []
        self.notifier.notify(*first, "WATCHDOG=1", f"STATUS={_status(result)}")
        self.ticks += 1

    def stopping(self) -> None:
        self.notifier.stopping()


def _status(result: _Tick) -> str:
    active = [a for a in result.alarms if a.active]
    text = f"mode {result.decision.mode.value}, {len(active)} alarm(s)"
    if active:
        text += ": " + ", ".join(a.code for a in active[:3]) + (", ..." if len(active) > 3 else "")
    return text
