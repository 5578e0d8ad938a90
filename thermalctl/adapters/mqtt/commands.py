"""Operator commands on ``<root>/cmd/<setting>``: check, apply, acknowledge.

Every message on a command topic is answered on ``<root>/ack`` with ``ok`` and the
value in force, or a refusal with its reason, except an empty payload: zero bytes is
how MQTT deletes a retained message, not a command, so it is ignored without an ack
(it never clears a GPU cap; ``none`` does). In order:

1. over :data:`~thermalctl.adapters.mqtt.payload.MAX_PAYLOAD_BYTES`: refused unread;
2. JSON (a payload starting with ``{``): ``{"value": ..., "id": ...}`` or the signed
   envelope (:mod:`~thermalctl.adapters.mqtt.security`); any other field is refused,
   and so is an object without ``value``; otherwise the bare text is the value;
3. retained (the broker replaying an old command because we subscribed, e.g. after a
   restart): refused, so that a command acts once, when it is sent; the operator
   deletes it (``mosquitto_pub -r -n -t <topic>``). thermalctl does not delete it
   itself: the ACL gives the controller read-only access to its command topics;
4. unknown setting; then the signature when signing is configured (``required``:
   unsigned commands are refused; ``optional``: they are applied as ``mqtt:unsigned``);
5. the value against the setting's bounds (:func:`~thermalctl.config.services.validate_setting`).

Accepted values go to ``operator.apply_setting(key, value, source=...)``, refusals to
``operator.refuse_setting(key, raw, source=..., reason=...)`` (``raw`` and ``reason``
at most :data:`ECHO_CHARS` characters; an ack never echoes more). ``source`` is
``mqtt:<key id>`` for a signed command and ``mqtt:unsigned`` otherwise: MQTT 3.1.1
does not say who published.

:meth:`CommandHandler.handle` is total: an exception from a bug is caught there,
answered with a refusal (``internal error``), logged once with its traceback.
Refusals are logged at WARNING, at most :class:`LogLimiter` ``budget`` a minute.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from thermalctl.adapters.mqtt.hub import Inbound, MqttHub
from thermalctl.adapters.mqtt.payload import (
    ECHO_CHARS,
    LogLimiter,
    PayloadError,
    check_size,
    clip,
    parse_json,
)
from thermalctl.adapters.mqtt.security import (
    SIGNED_FIELDS,
    CommandVerifier,
    SignatureRefused,
    load_command_keys,
)
from thermalctl.adapters.mqtt.state import setting_state, setting_text
from thermalctl.config.services import (
    OperatorPort,
    OperatorSetting,
    SettingValue,
    validate_setting,
)

__all__ = ["UNSIGNED_SOURCE", "Ack", "CommandHandler"]

log = logging.getLogger(__name__)

UNSIGNED_SOURCE = "mqtt:unsigned"
_PLAIN_FIELDS = frozenset({"value", "id"})


@dataclass
class Ack:
    topic: str
    ok: bool
    value: str | None = None
    reason: str | None = None
    id: str | None = None

    def payload(self) -> str:
        body: dict[str, object] = {"topic": clip(self.topic), "ok": self.ok}
        body.update({k: clip(v) for k, v in (("value", self.value), ("reason", self.reason),
                                             ("id", self.id)) if v is not None})
        return json.dumps(body)


class _Refused(Exception):  # noqa: N818 - internal control flow
    def __init__(self, reason: str, raw: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.raw = raw


@dataclass
class CommandHandler:
    """``<root>/cmd/<setting>``: validate, apply, acknowledge (see the module docstring).

    ``run_in_loop`` moves the handling onto the controller's thread
    (``loop.call_soon_threadsafe``). ``verifier`` checks signed commands; by default it
    is built from the endpoint's ``command_keys_file`` (``CommandKeyError`` if that
    file cannot be used) and ``command_signing``.
    """

    hub: MqttHub
    operator: OperatorPort
    settings: tuple[OperatorSetting, ...]
    run_in_loop: Callable[[Callable[[], None]], None] = field(default=lambda fn: fn())
    on_applied: Callable[[str, SettingValue], None] | None = None
    verifier: CommandVerifier | None = None
    signing: str | None = None  # "off" | "optional" | "required"; None: the endpoint's
    log_limit: LogLimiter = field(default_factory=LogLimiter)
    #: Commands answered (ack or refusal) and bugs caught, for tests and diagnostics.
    answered: int = 0
    failures: int = 0

    def __post_init__(self) -> None:
        endpoint = self.hub.endpoint
        if self.signing is None:
            self.signing = endpoint.command_signing
        if self.signing != "off" and self.verifier is None:
            if endpoint.command_keys_file is None:
                raise ValueError(f"command signing {self.signing!r} needs a key file")
            self.verifier = CommandVerifier(load_command_keys(endpoint.command_keys_file))
        self._by_key = {s.key: s for s in self.settings}

    def attach(self) -> None:
        self.hub.subscribe(self.hub.topics.cmd("#"), self._receive)

    def _receive(self, msg: Inbound) -> None:
        def apply() -> None:
            self.handle(msg.topic, msg.payload, retained=msg.retained)

        self.run_in_loop(apply)

    def handle(self, topic: str, payload: bytes, *, retained: bool = False) -> Ack | None:
        """Answer one command (None for an empty payload, which is not one)."""
        try:
            return self._handle(topic, payload, retained)
        except Exception as exc:  # dispatch boundary: every command is answered
            self.failures += 1
            if self.failures == 1:
                log.error("MQTT command on %s: handler failed (%s); answered as refused, "
                          "further failures counted, not logged", clip(topic),
                          type(exc).__name__, exc_info=True)
            ack = Ack(topic, False, reason=f"internal error ({type(exc).__name__}); "
                      "nothing changed")
            self._answer(ack)
            return ack

    def _handle(self, topic: str, payload: bytes, retained: bool) -> Ack | None:
        prefix = self.hub.topics.cmd("")
        key = clip(topic[len(prefix):] if topic.startswith(prefix) else topic)
        if not payload:
            log.debug("empty message on %s ignored (a retained command deleted)", key)
            return None
        ident: str | None = None
        source = UNSIGNED_SOURCE
        try:
            text = _size_checked(payload)
            body = _json_body(text)
            ident = _ident(body)
            raw = _value(text, body)
            if retained:
                raise _Refused("retained command ignored: a command acts once, when it is "
                               f"sent; delete it with mosquitto_pub -r -n -t '{clip(topic)}'",
                               _raw_text(raw))
            setting = self._by_key.get(key)
            if setting is None:
                raise _Refused(f"unknown setting {key!r}; known: {', '.join(self._by_key)}",
                               _raw_text(raw))
            source = self._source(topic, body, raw)
            try:
                value = validate_setting(setting, raw)
            except ValueError as exc:
                raise _Refused(clip(str(exc)), _raw_text(raw)) from None
        except _Refused as refused:
            return self._refuse(topic, key, refused.raw, refused.reason, source, ident)
        except PayloadError as exc:
            return self._refuse(topic, key, clip(payload.decode("utf-8", "replace")),
                                str(exc), source, ident)
        self.operator.apply_setting(key, value, source=source)
        if self.on_applied is not None:
            self.on_applied(key, value)
        ack = Ack(topic, True, value=setting_text(value), id=ident)
        self.hub.publish(self.hub.topics.state(f"setting/{key}"),
                         setting_state(setting, value), retain=True)
        log.debug("MQTT command %s = %s from %s applied", key, ack.value, source)
        self._answer(ack)
        return ack

    def _source(self, topic: str, body: dict[str, object] | None, raw: object) -> str:
        signed = body is not None and "key_id" in body
        if self.signing == "off":
            if signed:
                raise _Refused("signed command, but this site has no command keys",
                               _raw_text(raw))
            return UNSIGNED_SOURCE
        if not signed:
            if self.signing == "required":
                raise _Refused("unsigned command refused: this site requires commands "
                               "signed with an operator key (see docs/facilities.md)",
                               _raw_text(raw))
            return UNSIGNED_SOURCE
        assert self.verifier is not None and body is not None
        try:
            return f"mqtt:{self.verifier.verify(topic, body)}"
        except SignatureRefused as exc:
            raise _Refused(str(exc), _raw_text(raw)) from None

    def _refuse(self, topic: str, key: str, raw: str, reason: str, source: str,
                ident: str | None) -> Ack:
        reason = clip(reason)
        self.operator.refuse_setting(key, clip(raw), source=source, reason=reason)
        ack = Ack(topic, False, reason=reason, id=ident)
        if self.log_limit.allow():
            if self.log_limit.suppressed_last:
                log.warning("%d more refused MQTT commands were not logged",
                            self.log_limit.suppressed_last)
            log.warning("MQTT command on %s refused: %s", clip(topic), reason)
        self._answer(ack)
        return ack

    def _answer(self, ack: Ack) -> None:
        self.answered += 1
        self.hub.publish(self.hub.topics.ack, ack.payload(), qos=1)


def _size_checked(payload: bytes) -> str:
    check_size(payload)
    return payload.decode("utf-8", errors="replace").strip()


def _json_body(text: str) -> dict[str, object] | None:
    """The JSON object of a command that starts with ``{``; None for a bare value."""
    if not text.startswith("{"):
        return None
    body = parse_json(text)
    if not isinstance(body, dict):
        raise PayloadError("a JSON command must be an object")
    return body


def _ident(body: dict[str, object] | None) -> str | None:
    raw_id = None if body is None else body.get("id")
    if raw_id is None:
        return None
    return clip(raw_id if isinstance(raw_id, str) else json.dumps(raw_id), 64)


def _value(text: str, body: dict[str, object] | None) -> object:
    """The value a command carries: the bare text, or the JSON body's ``value``."""
    if body is None:
        return text
    allowed = SIGNED_FIELDS if "key_id" in body else _PLAIN_FIELDS
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise _Refused(f"unknown field(s) {clip(', '.join(unknown), 80)}; a command has "
                       f"{', '.join(sorted(allowed))}", clip(text))
    if "value" not in body:
        raise _Refused("a JSON command needs a 'value' (null clears a GPU cap)", clip(text))
    return body["value"]


def _raw_text(raw: object) -> str:
    return clip(raw if isinstance(raw, str) else json.dumps(raw), ECHO_CHARS)
