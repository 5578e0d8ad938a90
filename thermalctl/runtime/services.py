"""Start the site-facing services a profile or the environment configures.

``start_services(controller)`` starts, each only when configured:

* the Influx outbox shipper (a periodic asyncio task; writes run in a worker thread);
* the MQTT hub with state publisher (a controller observer), Home Assistant discovery,
  the command handler (commands are applied on the controller's event loop) and the
  MQTT sensor ingestion;
* the BMS Modbus server (a controller observer too), with its heartbeat watchdog;
* the MQTT GPU-cap actuator when ``gpu_cap_actuation: mqtt``.

With nothing configured it starts nothing and needs no service. ``Services.stop()``
flushes what it can; the outbox keeps the rest for the next start.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from thermalctl.adapters.bms import BmsServer
from thermalctl.adapters.gpu_mqtt import MqttGpuCapActuator
from thermalctl.adapters.influx import OutboxShipper
from thermalctl.adapters.mqtt import (
    CommandHandler,
    MqttHub,
    MqttIngest,
    StatePublisher,
    Topics,
    discovery_messages,
    publish_discovery,
)
from thermalctl.config.services import (
    SettingValue,
    operator_settings,
    resolve_bms,
    resolve_influx,
    resolve_mqtt,
)
from thermalctl.points import Alarm, Mode
from thermalctl.runtime.controller import Controller

__all__ = ["ControllerOperator", "Services", "start_services"]

log = logging.getLogger(__name__)

#: How long start-up waits for the first MQTT connection before going on without it [s].
MQTT_CONNECT_WAIT_S = 3.0


class ControllerOperator:
    """The controller as an :class:`~thermalctl.config.services.OperatorPort`.

    Every setting becomes part of the controller's :class:`OperatorSettings`, an input
    to the control core on the next tick (and to the planner, the forecaster and the
    thermostat through it); nothing patches the profile. The controller keeps the
    settings in its store, so they survive a restart.
    """

    def __init__(self, controller: Controller) -> None:
        self.controller = controller

    def refuse_setting(self, key: str, raw: str, *, source: str, reason: str) -> None:
        # The adapters log refusals rate-limited; here only at debug level.
        log.debug("refused %s = %.80s from %s: %s", key, raw, source or "?", reason)
        self.controller.audit_change(key, None, raw, source=source, accepted=False,
                                     reason=reason)

    def apply_setting(self, key: str, value: SettingValue, *, source: str = "") -> None:
        c = self.controller
        old = self.setting_value(key) if key == "mode" or "/" in key else None
        self._apply(key, value)
        log.info("accepted %s = %s from %s", key, _text(value), source or "?")
        c.audit_change(key, _text(old), _text(value), source=source, accepted=True)

    def _apply(self, key: str, value: SettingValue) -> None:
        c = self.controller
        kind, _, ident = key.partition("/")
        if kind == "mode" and isinstance(value, Mode):
            c.set_mode(value)
        elif kind == "gpu_cap" and (value is None or isinstance(value, float | int)):
            c.set_gpu_cap(ident, None if value is None else float(value))
        elif kind == "setpoint" and isinstance(value, float | int):
            c.set_sink_setpoint(ident, float(value))
        else:
            raise ValueError(f"unknown setting {key!r} = {value!r}")

    def setting_value(self, key: str) -> SettingValue:
        c = self.controller
        kind, _, ident = key.partition("/")
        if kind == "mode":
            return c.mode
        if kind == "gpu_cap":
            return c.settings.gpu_cap_w.get(ident)
        return float(c.settings.setpoint_c(c.profile.sink(ident)))


def _text(value: SettingValue) -> str | float | None:
    return value.value if isinstance(value, Mode) else value


@dataclass
class Services:
    """What :func:`start_services` started; :meth:`stop` stops it all."""

    controller: Controller
    shipper: OutboxShipper | None = None
    hub: MqttHub | None = None
    publisher: StatePublisher | None = None
    commands: CommandHandler | None = None
    ingest: MqttIngest | None = None
    bms: BmsServer | None = None
    gpu: MqttGpuCapActuator | None = None
    _observers: list[Any] = field(default_factory=list)
    _alarm_sources: list[Callable[[float], Sequence[Alarm]]] = field(default_factory=list)

    @property
    def started(self) -> list[str]:
        names = {"influx": self.shipper, "mqtt": self.hub, "bms": self.bms, "gpu_mqtt": self.gpu}
        return [name for name, obj in names.items() if obj is not None]

    async def stop(self, *, flush_timeout_s: float = 5.0) -> None:
        for obs in self._observers:
            if obs in self.controller.observers:
                self.controller.observers.remove(obs)
        for source in self._alarm_sources:
            if source in self.controller.alarm_sources:
                self.controller.alarm_sources.remove(source)
        if self.bms is not None:
            await self.bms.stop()
        if self.hub is not None:
            await asyncio.to_thread(self.hub.stop)
        if self.shipper is not None:
            await self.shipper.stop(flush_timeout_s=flush_timeout_s)
            self.shipper.close()


async def start_services(
    controller: Controller, *, env: Mapping[str, str] = os.environ
) -> Services:
    """Start every service the profile or ``env`` configures (see the module docstring)."""
    profile = controller.profile
    site_id = profile.site.id
    services = Services(controller)
    operator = ControllerOperator(controller)
    settings = operator_settings(profile)
    loop = asyncio.get_running_loop()

    influx = resolve_influx(profile.influx, env)
    if influx is not None:
        services.shipper = OutboxShipper.for_target(controller.store, influx, site_id)
        services.shipper.start()
        services._alarm_sources.append(services.shipper.alarms)
        log.info("telemetry: shipping the outbox to %s (%s API, bucket %s)",
                 services.shipper.target.label, influx.api, influx.bucket)

    bms = resolve_bms(profile.bms, env)
    if bms is not None:
        services.bms = BmsServer(profile, bms, operator)
        await services.bms.start()
        services._observers.append(services.bms)

    endpoint = resolve_mqtt(profile.mqtt, env)
    if endpoint is not None:
        topics = Topics(endpoint.base_topic, site_id, endpoint.discovery_prefix)
        hub = MqttHub(endpoint, topics)
        services.hub = hub
        services._alarm_sources.append(hub.instance_watch.alarms)  # a second instance
        services.publisher = StatePublisher(
            hub, operator, settings,
            backlog=services.shipper.backlog if services.shipper is not None else None)
        services._observers.append(services.publisher)

        def in_loop(fn: Callable[[], None]) -> None:
            loop.call_soon_threadsafe(fn)

        services.commands = CommandHandler(hub, operator, settings, run_in_loop=in_loop)
        services.commands.attach()
        if profile.mqtt_sensors:
            services.ingest = MqttIngest(profile.mqtt_sensors, controller.clock)
            services.ingest.attach(hub)
            controller.add_source(services.ingest)
        signals = set(controller.bound_signals)
        if services.ingest is not None:
            signals |= set(services.ingest.point_signals.values())
        messages = discovery_messages(profile, topics, signals,
                                      telemetry=services.shipper is not None)
        hub.on_connected(lambda: publish_discovery(hub, messages))
        if profile.gpu_cap_actuation == "mqtt":
            services.gpu = MqttGpuCapActuator(
                hub, tuple(g.id for g in profile.rack_groups),
                refresh_s=endpoint.gpu_cap_refresh_s)
            services._observers.append(services.gpu)
        hub.start()
        if not await asyncio.to_thread(hub.wait_connected, MQTT_CONNECT_WAIT_S):
            log.warning("MQTT %s:%d not connected yet (%s); carrying on, paho keeps trying",
                        endpoint.host, endpoint.port, hub.refused or "no answer")

    controller.observers.extend(services._observers)
    controller.alarm_sources.extend(services._alarm_sources)
    if services.started:
        log.info("services started for %s: %s", site_id, ", ".join(services.started))
    return services


