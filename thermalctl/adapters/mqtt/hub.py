"""One broker connection per site: :class:`MqttHub` and its :class:`Topics`.

The hub owns the paho-mqtt 2.x client (its network thread, ``loop_start``), the
credentials, TLS, the last will, the reconnect back-off and the subscriptions. Every
callback paho runs on its thread goes through the hub's dispatch boundary: an exception
from a handler is logged (once per handler, its traceback the first time) and counted
in :attr:`MqttHub.handler_errors`; it never reaches paho, whose network thread would
otherwise die (no more messages, no reconnect, the broker still showing ``online``).

Each process gets its own client id, ``<client_id or thermalctl-<site>>-<instance>``,
so two instances of one site never take over each other's session (the broker drops
the older connection of a client id that connects again).
"""

from __future__ import annotations

import logging
import os
import secrets
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from thermalctl.adapters.errors import AdapterError
from thermalctl.adapters.mqtt.instance import InstanceWatch
from thermalctl.adapters.mqtt.payload import clip
from thermalctl.config.services import MqttEndpoint

__all__ = ["Handler", "Inbound", "MqttError", "MqttHub", "Topics", "new_instance_id"]

log = logging.getLogger(__name__)


class MqttError(AdapterError):
    """The broker could not be reached or refused the connection."""


def new_instance_id() -> str:
    """A short id for this process's connection: pid and random bits (``12345-9f3a``)."""
    return f"{os.getpid()}-{secrets.token_hex(2)}"


@dataclass(frozen=True)
class Topics:
    base_topic: str
    site_id: str
    discovery_prefix: str = "homeassistant"

    @property
    def root(self) -> str:
        return f"{self.base_topic}/{self.site_id}"

    @property
    def status(self) -> str:
        return f"{self.root}/status"

    @property
    def ack(self) -> str:
        return f"{self.root}/ack"

    @property
    def instance(self) -> str:
        return f"{self.root}/instance"

    def state(self, name: str) -> str:
        return f"{self.root}/state/{name.replace('.', '/')}"

    def cmd(self, key: str) -> str:
        return f"{self.root}/cmd/{key}"

    def discovery(self, component: str, object_id: str) -> str:
        return f"{self.discovery_prefix}/{component}/{self.site_id}/{object_id}/config"


@dataclass(frozen=True, slots=True)
class Inbound:
    """A message as a handler sees it; ``retained``: the broker's copy of an old message,
    sent because we (re)subscribed, not a message published now."""

    topic: str
    payload: bytes
    retained: bool = False


Handler = Callable[[Inbound], None]


class MqttHub:
    """One broker connection: auth, TLS, last will, reconnect, subscriptions.

    Subscriptions and the ``on_connect`` publications (discovery, ``online``) are
    replayed after every reconnect. Callbacks run on paho's network thread, each inside
    the dispatch boundary (see the module docstring).
    """

    def __init__(self, endpoint: MqttEndpoint, topics: Topics, *,
                 instance_id: str | None = None) -> None:
        self.endpoint = endpoint
        self.topics = topics
        self.instance_id = instance_id or new_instance_id()
        base_id = endpoint.client_id or f"thermalctl-{topics.site_id}"
        self.client_id = f"{base_id}-{self.instance_id}"
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id,
                                  protocol=paho.MQTTv311)
        self.client.suppress_exceptions = True  # the boundary catches first; never die
        if endpoint.username is not None:
            password = endpoint.password.get_secret_value() if endpoint.password else None
            self.client.username_pw_set(endpoint.username, password)
        if endpoint.tls:
            self.client.tls_set(ca_certs=endpoint.ca_file, cert_reqs=ssl.CERT_REQUIRED)
        self.client.will_set(topics.status, "offline", qos=1, retain=True)
        self.client.reconnect_delay_set(min_delay=1, max_delay=60)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_connect_fail = self._on_connect_fail
        self._subs: dict[str, Handler] = {}
        self._on_connected: list[Callable[[], None]] = []
        self._on_stopping: list[Callable[[], None]] = []
        self.connected = threading.Event()
        self.refused: str | None = None
        self._failing: str | None = None
        #: Exceptions caught at the dispatch boundary, per handler (topic filter).
        self.handler_errors: dict[str, int] = {}
        #: Connections lost since start (a flapping link or a stolen client id shows here).
        self.disconnects = 0
        #: Second-instance detection; ``instance_watch.alarms`` is an alarm source.
        self.instance_watch = InstanceWatch(self)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background; paho's thread keeps reconnecting."""
        try:
            self.client.connect_async(self.endpoint.host, self.endpoint.port,
                                      keepalive=self.endpoint.keepalive_s)
        except (OSError, ValueError) as exc:
            raise MqttError(f"MQTT {self.endpoint.host}:{self.endpoint.port}: {exc}") from exc
        self.client.loop_start()

    def wait_connected(self, timeout_s: float) -> bool:
        return self.connected.wait(timeout_s)

    def stop(self) -> None:
        """Say ``offline`` (retained), disconnect cleanly, stop the thread."""
        if self.connected.is_set():
            for callback in self._on_stopping:
                self._guarded("on_stopping", callback)
            info = self.client.publish(self.topics.status, "offline", qos=1, retain=True)
            info.wait_for_publish(timeout=2.0)
        self.client.disconnect()
        self.client.loop_stop()

    # -- subscriptions ---------------------------------------------------------------------
    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        self._subs[topic_filter] = handler

        def dispatch(_c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
            self._guarded(topic_filter, lambda: handler(
                Inbound(msg.topic, bytes(msg.payload), bool(msg.retain))))

        self.client.message_callback_add(topic_filter, dispatch)
        if self.connected.is_set():
            self.client.subscribe(topic_filter, qos=1)

    def on_connected(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on every (re)connection, on paho's thread."""
        self._on_connected.append(callback)

    def on_stopping(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` in :meth:`stop` while still connected (last words)."""
        self._on_stopping.append(callback)

    def publish(self, topic: str, payload: str | bytes, *, retain: bool = False,
                qos: int = 0) -> None:
        """Queue a message (never blocks; dropped with a debug log when offline)."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            log.debug("MQTT publish to %s not queued: %s", clip(topic),
                      paho.error_string(info.rc))

    # -- the dispatch boundary -------------------------------------------------------------
    def _guarded(self, name: str, fn: Callable[[], None]) -> None:
        """Run ``fn``; an exception is a bug in a handler: log it once, count it, go on."""
        try:
            fn()
        except Exception as exc:  # the boundary paho's thread must not cross
            count = self.handler_errors.get(name, 0) + 1
            self.handler_errors[name] = count
            if count == 1:
                log.error("MQTT handler for %s failed (%s: %s); the connection goes on, "
                          "further failures of this handler are counted, not logged",
                          clip(name), type(exc).__name__, clip(str(exc)), exc_info=True)

    # -- paho callbacks (network thread) ---------------------------------------------------
    def _on_connect(self, client: paho.Client, _u: object, _flags: object, rc: ReasonCode,
                    _props: object) -> None:
        if rc.is_failure:
            self.refused = str(rc)
            self._failed(f"broker refused the connection: {rc}")
            return
        self.refused = None
        for topic_filter in self._subs:
            client.subscribe(topic_filter, qos=1)
        client.publish(self.topics.status, "online", qos=1, retain=True)
        for callback in self._on_connected:
            self._guarded("on_connect", callback)
        self.connected.set()
        if self._failing is not None:
            log.info("MQTT %s:%d connected again", self.endpoint.host, self.endpoint.port)
            self._failing = None
        else:
            log.info("MQTT connected to %s:%d as %s", self.endpoint.host, self.endpoint.port,
                     self.client_id)

    def _on_disconnect(self, _c: paho.Client, _u: object, _flags: object, rc: ReasonCode,
                       _props: object) -> None:
        self.connected.clear()
        if rc.is_failure:
            self.disconnects += 1
            self._failed(f"connection lost: {rc}")

    def _on_connect_fail(self, _c: paho.Client, _u: object) -> None:
        self.refused = "no connection"
        self._failed("could not connect (no answer, or the TLS handshake failed: check the "
                     "address, the CA file and the broker's certificate)")

    def _failed(self, why: str) -> None:
        if self._failing is None:
            log.warning("MQTT %s:%d: %s; retrying", self.endpoint.host, self.endpoint.port, why)
        self._failing = why
