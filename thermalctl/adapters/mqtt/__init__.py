"""MQTT: sensor ingestion, retained state, Home Assistant discovery and operator commands.

One :class:`MqttHub` owns the paho-mqtt 2.x client of a site (its network thread,
``loop_start``), the last will, the reconnect back-off and the dispatch boundary that
keeps any handler's exception off paho's thread. On it sit:

* :class:`MqttIngest` (:mod:`.ingest`) - the profile's ``mqtt_sensors``: topic, JSON
  field, unit, staleness -> :class:`~thermalctl.points.Reading` in canonical units;
  any payload gives a reading (``BAD`` with the reason when unusable);
* :class:`StatePublisher` (:mod:`.state`) - a controller observer: retained state under
  ``<base>/<site>/state/...``, and :func:`discovery_messages` for Home Assistant (HA's
  current schema: ``default_entity_id``, devices per site, rack group and sink);
* :class:`CommandHandler` (:mod:`.commands`) - ``<base>/<site>/cmd/<setting>``: bounded,
  optionally signed (:mod:`.security`), validated against the profile's bounds, applied
  through an :class:`~thermalctl.config.services.OperatorPort`, every command answered
  on ``<base>/<site>/ack``;
* :class:`InstanceWatch` (:mod:`.instance`, ``hub.instance_watch``) - announces this
  process on ``<root>/instance`` and raises ``mqtt.second_instance`` when another
  instance of the same site is on the broker.

Payload limits, shared by every handler, are in :mod:`.payload`.

Topics (``<root>`` = ``<base_topic>/<site>``)::

    <root>/status                        online | offline (retained, last will)
    <root>/instance                      this process: {"instance", "host", "pid",
                                         "started_s", "ts"} (retained)
    <root>/state/<signal with / for .>   {"value", "unit", "quality", "ts"} (retained)
    <root>/state/mode                    auto | manual | safe (retained)
    <root>/state/decision/<field>[/<id>] planner's targets (retained)
    <root>/state/alarms                  JSON list of active alarms (retained)
    <root>/state/alarm_active | alarm_critical | safe_mode    ON | OFF (retained)
    <root>/state/diag/<what>             tick_time, readings, bad_readings,
                                         store_failure, telemetry_backlog, instance
    <root>/state/setting/<setting>       the setting in force (retained)
    <root>/cmd/<setting>                 commands: mode, setpoint/<sink>, gpu_cap/<group>
    <root>/ack                           {"topic", "ok", "value" | "reason", "id"}
"""

from __future__ import annotations

from thermalctl.adapters.mqtt.commands import UNSIGNED_SOURCE, Ack, CommandHandler
from thermalctl.adapters.mqtt.hub import Handler, Inbound, MqttError, MqttHub, Topics
from thermalctl.adapters.mqtt.ingest import MqttIngest
from thermalctl.adapters.mqtt.instance import InstanceWatch
from thermalctl.adapters.mqtt.payload import ECHO_CHARS, MAX_PAYLOAD_BYTES
from thermalctl.adapters.mqtt.security import CommandKeyError, sign_command
from thermalctl.adapters.mqtt.state import (
    REPUBLISH_S,
    StatePublisher,
    TickLike,
    discovery_messages,
    ha_unit,
    publish_discovery,
)

__all__ = [
    "ECHO_CHARS",
    "MAX_PAYLOAD_BYTES",
    "REPUBLISH_S",
    "UNSIGNED_SOURCE",
    "Ack",
    "CommandHandler",
    "CommandKeyError",
    "Handler",
    "Inbound",
    "InstanceWatch",
    "MqttError",
    "MqttHub",
    "MqttIngest",
    "StatePublisher",
    "TickLike",
    "Topics",
    "discovery_messages",
    "ha_unit",
    "publish_discovery",
    "sign_command",
]
