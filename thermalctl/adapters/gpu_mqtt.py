"""GPU power caps by MQTT: the planner's ``gpu_power_cap_w`` per rack group, published as a
command to a workload-scheduler agent (``tools/gpu_agent.py`` is an example for NVIDIA GPUs).

Topics (``<root>`` = ``<base_topic>/<site>``)::

    <root>/gpu/<group>/cap/set     {"cap_w": 42000.0, "ts": 1767571200.0, "mode": "auto"}
                                   retained, QoS 1: an agent that (re)starts gets the cap in force
    <root>/gpu/<group>/cap/state   the agent's answer: {"requested_w", "applied_w", "gpus": [...],
                                   "dry_run"} (read back into :attr:`MqttGpuCapActuator.applied`)

A cap is published when it changes and again every ``refresh_s`` (an agent may have
missed it). Nothing is published in manual mode: operators drive the plant. An agent's
answer is read with the same limits as every other message (size, JSON depth, finite
numbers, :mod:`thermalctl.adapters.mqtt.payload`): an unusable one is logged once per
group until a usable one arrives, and never reaches paho's thread as an exception.
"""

from __future__ import annotations

import json
import logging
import math
import threading
from typing import Any

from thermalctl.adapters.mqtt import Handler, Inbound, MqttHub, TickLike, Topics
from thermalctl.adapters.mqtt.payload import PayloadError, check_size, parse_json
from thermalctl.points import Mode

__all__ = ["MqttGpuCapActuator", "cap_set_topic", "cap_state_topic"]

log = logging.getLogger(__name__)


def cap_set_topic(topics: Topics, group_id: str) -> str:
    return f"{topics.root}/gpu/{group_id}/cap/set"


def cap_state_topic(topics: Topics, group_id: str) -> str:
    return f"{topics.root}/gpu/{group_id}/cap/state"


class MqttGpuCapActuator:
    """Controller observer that publishes each rack group's GPU power cap."""

    def __init__(self, hub: MqttHub, group_ids: tuple[str, ...], *, refresh_s: float = 60.0):
        self.hub = hub
        self.group_ids = group_ids
        self.refresh_s = refresh_s
        self.applied: dict[str, dict[str, Any]] = {}
        self._sent: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self._warned: set[str] = set()
        for gid in group_ids:
            hub.subscribe(cap_state_topic(hub.topics, gid), self._state_handler(gid))

    def _state_handler(self, gid: str) -> Handler:
        def handle(msg: Inbound) -> None:
            if not msg.payload:
                return  # a retained answer deleted
            try:
                check_size(msg.payload)
                body = parse_json(msg.payload.decode("utf-8", errors="replace"))
                if not isinstance(body, dict):
                    raise PayloadError("not a JSON object")
            except PayloadError as exc:
                if gid not in self._warned:
                    log.warning("GPU agent state for %s unusable: %s", gid, exc)
                    self._warned.add(gid)
                return
            self._warned.discard(gid)
            with self._lock:
                self.applied[gid] = body

        return handle

    def on_tick(self, result: TickLike) -> None:
        d = result.decision
        if d.mode is Mode.MANUAL:
            return
        for gid in self.group_ids:
            cap = d.gpu_power_cap_w.get(gid)
            if cap is None or not math.isfinite(cap):
                continue
            prev = self._sent.get(gid)
            if prev is not None and abs(prev[0] - cap) < 1e-6 and (
                result.now_s - prev[1] < self.refresh_s
            ):
                continue
            payload = json.dumps({"cap_w": round(cap, 1), "ts": round(result.now_s, 3),
                                  "mode": d.mode.value})
            self.hub.publish(cap_set_topic(self.hub.topics, gid), payload, retain=True, qos=1)
            self._sent[gid] = (cap, result.now_s)
