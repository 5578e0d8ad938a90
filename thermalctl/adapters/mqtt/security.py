"""Signed MQTT commands: HMAC-SHA256 with one key per operator.

MQTT 3.1.1 does not tell a subscriber who published a message, so the broker's ACL is
the first gate (docs/facilities.md has one). Where the broker cannot be trusted (a
shared or bridged broker, credentials many people know), thermalctl can require every
command to carry a signature made with an operator's own key:

Key file (outside the profile; path from ``mqtt.command_keys_file`` or
``THERMALCTL_MQTT_COMMAND_KEYS``), one key per line, ``#`` starts a comment::

    # key id = key (hex, at least 16 bytes)
    alice = 3f1c...64 hex digits...
    bms-night-script = 9a0b...

Signed command (the payload on ``<root>/cmd/<setting>``, a JSON object)::

    {"value": "30.5", "id": "ticket-42", "key_id": "alice", "ts": 1767571200,
     "sig": "<64 hex digits>"}

``value`` is the command as text (``"auto"``, ``"30.5"``, ``"none"``), ``ts`` integer
Unix seconds (wall clock), ``id`` optional. ``sig`` is HMAC-SHA256 with the key over
the UTF-8 bytes of these lines joined by ``\\n`` (no newline at the end)::

    thermalctl-cmd-v1
    <full topic, e.g. thermalctl/exmouth_pool/cmd/setpoint/pool>
    <key_id>
    <ts>
    <id, empty when absent>
    <value>

The topic is signed, so a command cannot be moved to another setting or site. A
command is refused when its key id is unknown, its signature does not match, its ``ts``
is more than :data:`WINDOW_S` from our clock (either way), or its signature was seen
before within the window (replay). An accepted signed command is applied with
``source="mqtt:<key id>"``. Keys never appear in a log, an ack or the audit trail.

Why not MQTT v5 user properties: they are set by the publisher like the payload, so a
``user=alice`` property authenticates nothing by itself; only the broker knows who
connected, and MQTT does not pass that on. A signature needs no broker support and
survives bridges.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import stat
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from thermalctl.adapters.errors import AdapterError

__all__ = [
    "MIN_KEY_BYTES",
    "SIGNED_FIELDS",
    "WINDOW_S",
    "CommandKeyError",
    "CommandVerifier",
    "SignatureRefused",
    "load_command_keys",
    "parse_command_keys",
    "sign_command",
    "signed_message",
]

#: Largest difference between a command's ``ts`` and our clock [s], either way.
WINDOW_S = 60.0
#: Shortest key accepted [bytes] (RFC 2104: not shorter than the hash output is best;
#: 16 bytes is the floor here, 32 recommended).
MIN_KEY_BYTES = 16
#: Most signatures remembered for replay detection (a flood past it is refused).
MAX_REMEMBERED = 10_000
#: The envelope's fields (``id`` optional).
SIGNED_FIELDS = frozenset({"value", "id", "key_id", "ts", "sig"})
_KEY_ID = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")
_VERSION = "thermalctl-cmd-v1"


class CommandKeyError(AdapterError, ValueError):
    """The key file cannot be used; the message names the file and line (never a key)."""


class SignatureRefused(ValueError):  # noqa: N818 - a refusal, not an error
    """A signed command that is refused; the message says why."""


def parse_command_keys(text: str, origin: str = "<keys>") -> dict[str, bytes]:
    """``{key id: key}`` from the key file's text; ``CommandKeyError`` names the line."""
    keys: dict[str, bytes] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        body = line.split("#", 1)[0].strip()
        if not body:
            continue
        key_id, sep, hex_key = (part.strip() for part in body.partition("="))
        where = f"{origin}:{lineno}"
        if not sep:
            raise CommandKeyError(f"{where}: expected 'key_id = hex key'")
        if not _KEY_ID.fullmatch(key_id):
            raise CommandKeyError(f"{where}: key id must be 1-64 of A-Z a-z 0-9 _ . @ -")
        if not _HEX.fullmatch(hex_key):
            raise CommandKeyError(f"{where}: key of {key_id!r} is not hexadecimal")
        key = bytes.fromhex(hex_key)
        if len(key) < MIN_KEY_BYTES:
            raise CommandKeyError(f"{where}: key of {key_id!r} has {len(key)} bytes, "
                                  f"fewer than {MIN_KEY_BYTES}")
        if key_id in keys:
            raise CommandKeyError(f"{where}: key id {key_id!r} given twice")
        keys[key_id] = key
    if not keys:
        raise CommandKeyError(f"{origin}: no keys")
    return keys


def load_command_keys(path: str | os.PathLike[str]) -> dict[str, bytes]:
    """Read the key file; refused when anyone but owner and group may read it."""
    p = Path(path)
    try:
        mode = p.stat().st_mode
        if mode & (stat.S_IROTH | stat.S_IWOTH):
            raise CommandKeyError(f"{p}: readable or writable by others (chmod o-rw {p})")
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandKeyError(f"{p}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise CommandKeyError(f"{p}: not UTF-8 text") from exc
    return parse_command_keys(text, str(p))


def signed_message(topic: str, key_id: str, ts: int, ident: str, value: str) -> bytes:
    """The bytes the signature covers (see the module docstring)."""
    return "\n".join((_VERSION, topic, key_id, str(ts), ident, value)).encode("utf-8")


def sign_command(topic: str, value: str, *, key_id: str, key: bytes, ts: int,
                 ident: str | None = None) -> dict[str, object]:
    """The signed envelope for ``value`` on ``topic`` (JSON-encode it and publish it)."""
    sig = hmac.new(key, signed_message(topic, key_id, ts, ident or "", value),
                   hashlib.sha256).hexdigest()
    body: dict[str, object] = {"value": value, "key_id": key_id, "ts": ts, "sig": sig}
    if ident is not None:
        body["id"] = ident
    return body


@dataclass
class CommandVerifier:
    """Checks signed envelopes against the keys, the time window and the replay cache."""

    keys: Mapping[str, bytes]
    clock: Callable[[], float] = time.time
    window_s: float = WINDOW_S
    _seen: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def verify(self, topic: str, body: Mapping[str, object]) -> str:
        """The key id of a valid envelope, or ``SignatureRefused`` saying why."""
        key_id, ts, sig, value = (body.get(k) for k in ("key_id", "ts", "sig", "value"))
        ident = body.get("id", "")
        if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
            raise SignatureRefused("signed command: key_id must be 1-64 of A-Z a-z 0-9 _ . @ -")
        if isinstance(ts, bool) or not isinstance(ts, int):
            raise SignatureRefused("signed command: ts must be integer Unix seconds")
        if not isinstance(sig, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", sig):
            raise SignatureRefused("signed command: sig must be 64 hex digits (HMAC-SHA256)")
        if not isinstance(value, str) or not isinstance(ident, str):
            raise SignatureRefused("signed command: value and id must be strings")
        key = self.keys.get(key_id)
        if key is None:
            raise SignatureRefused(f"signed command: unknown key id {key_id!r}")
        expected = hmac.new(key, signed_message(topic, key_id, ts, ident, value),
                            hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, sig.lower()):
            raise SignatureRefused(f"signed command: bad signature for key {key_id!r}")
        now = self.clock()
        if abs(now - ts) > self.window_s:
            raise SignatureRefused(f"signed command: ts {ts} is {now - ts:+.0f} s from this "
                                   f"controller's clock, outside ±{self.window_s:.0f} s")
        with self._lock:
            for old in [s for s, t in self._seen.items() if now - t > 2 * self.window_s]:
                del self._seen[old]
            if expected in self._seen:
                raise SignatureRefused("signed command: replayed (this signature was used)")
            if len(self._seen) >= MAX_REMEMBERED:
                raise SignatureRefused("signed command: too many commands in the window")
            self._seen[expected] = now
        return key_id
