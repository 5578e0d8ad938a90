#!/usr/bin/env python3
"""Example workload-scheduler agent: applies thermalctl's GPU power cap to NVIDIA GPUs.

It subscribes to ``<base>/<site>/gpu/<group>/cap/set`` (retained, so a restarted agent
gets the cap in force), shares the group's cap among this node's GPUs, clamps each
card's cap to the limits the card reports (NVML power-management limit
constraints), applies it with ``nvmlDeviceSetPowerManagementLimit`` (needs root) and
answers on ``.../cap/state``. With ``--dry-run`` it computes and reports but changes
nothing; with ``--fake-gpus`` it needs no GPU and no NVML at all (tests, CI).

    python tools/gpu_agent.py --mqtt-url mqtt://agent:pw@broker:1883 --site exmouth_pool \\
        --group pod --share 0.25 --reserve-w 800

``--share`` is this node's part of the group cap (four equal nodes: 0.25);
``--reserve-w`` is the node's non-GPU power (CPUs, fans, NICs) taken off first.
nvidia-ml-py (``pip install nvidia-ml-py``) is imported only when real GPUs are used.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger("gpu_agent")


class Gpu(Protocol):
    index: int
    name: str
    min_w: float
    max_w: float

    def set_limit_w(self, watts: float) -> None: ...


@dataclass
class FakeGpu:
    """A GPU that only remembers its limit (dry runs without NVML, tests)."""

    index: int
    name: str
    min_w: float
    max_w: float
    limit_w: float | None = None

    def set_limit_w(self, watts: float) -> None:
        self.limit_w = watts


class NvmlGpu:
    """One NVIDIA GPU through NVML (nvidia-ml-py)."""

    def __init__(self, nvml: Any, index: int) -> None:
        self._nvml = nvml
        self.index = index
        self._handle = nvml.nvmlDeviceGetHandleByIndex(index)
        name = nvml.nvmlDeviceGetName(self._handle)
        self.name = name.decode() if isinstance(name, bytes) else str(name)
        low_mw, high_mw = nvml.nvmlDeviceGetPowerManagementLimitConstraints(self._handle)
        self.min_w = low_mw / 1000.0
        self.max_w = high_mw / 1000.0

    def set_limit_w(self, watts: float) -> None:
        self._nvml.nvmlDeviceSetPowerManagementLimit(self._handle, round(watts * 1000.0))


def nvml_gpus(indices: Sequence[int] | None) -> list[NvmlGpu]:
    try:
        import pynvml  # nvidia-ml-py; lazily, so --fake-gpus needs none
    except ImportError as exc:
        raise SystemExit(f"nvidia-ml-py is not installed ({exc}); use --fake-gpus") from exc
    pynvml.nvmlInit()
    count = pynvml.nvmlDeviceGetCount()
    return [NvmlGpu(pynvml, i) for i in (indices if indices is not None else range(count))]


def parse_fake_gpus(spec: str) -> list[FakeGpu]:
    """``"4:100:400"`` -> four fake GPUs with limits 100..400 W."""
    count, low, high = spec.split(":")
    return [FakeGpu(i, "fake", float(low), float(high)) for i in range(int(count))]


@dataclass(frozen=True)
class CapPlan:
    index: int
    requested_w: float
    cap_w: float
    clamped: bool


def plan_caps(group_cap_w: float, gpus: Sequence[Gpu], *, share: float = 1.0,
              reserve_w: float = 0.0) -> list[CapPlan]:
    """Per-GPU caps: (group cap * share - reserve) split evenly, clamped to each card.

    >>> [p.cap_w for p in plan_caps(1000.0, parse_fake_gpus("4:100:400"))]
    [250.0, 250.0, 250.0, 250.0]
    >>> [p.cap_w for p in plan_caps(100.0, parse_fake_gpus("2:100:400"))]
    [100.0, 100.0]
    """
    if not gpus:
        return []
    each = max(0.0, group_cap_w * share - reserve_w) / len(gpus)
    plans = []
    for gpu in gpus:
        cap = min(max(each, gpu.min_w), gpu.max_w)
        plans.append(CapPlan(gpu.index, each, cap, clamped=cap != each))
    return plans


class Agent:
    def __init__(self, gpus: Sequence[Gpu], *, share: float, reserve_w: float,
                 dry_run: bool) -> None:
        self.gpus = list(gpus)
        self.share = share
        self.reserve_w = reserve_w
        self.dry_run = dry_run

    def handle(self, payload: bytes) -> dict[str, Any]:
        """Apply one ``cap/set`` message; return the ``cap/state`` answer."""
        try:
            body = json.loads(payload)
            cap_w = float(body["cap_w"])
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring cap command %r: %s", payload[:80], exc)
            return {"ok": False, "reason": f"bad command: {exc}"}
        plans = plan_caps(cap_w, self.gpus, share=self.share, reserve_w=self.reserve_w)
        by_index = {g.index: g for g in self.gpus}
        for plan in plans:
            if plan.clamped:
                log.info("GPU %d: %.0f W clamped to %.0f W (card limits)", plan.index,
                         plan.requested_w, plan.cap_w)
            if not self.dry_run:
                by_index[plan.index].set_limit_w(plan.cap_w)
        applied = sum(p.cap_w for p in plans)
        log.info("group cap %.0f W -> %d GPUs, %.0f W in total%s", cap_w, len(plans), applied,
                 " (dry run)" if self.dry_run else "")
        return {"ok": True, "requested_w": cap_w, "applied_w": applied, "dry_run": self.dry_run,
                "ts": body.get("ts"),
                "gpus": [{"index": p.index, "cap_w": p.cap_w, "clamped": p.clamped,
                          "min_w": by_index[p.index].min_w, "max_w": by_index[p.index].max_w}
                         for p in plans]}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mqtt-url", required=True, help="mqtt://user:pass@host:port or mqtts://")
    p.add_argument("--site", required=True, help="site id")
    p.add_argument("--group", required=True, help="rack group id")
    p.add_argument("--base-topic", default="thermalctl")
    p.add_argument("--share", type=float, default=1.0, help="this node's share of the group cap")
    p.add_argument("--reserve-w", type=float, default=0.0, help="non-GPU power of this node [W]")
    p.add_argument("--gpus", help="comma-separated GPU indices (default: all)")
    p.add_argument("--fake-gpus", help="COUNT:MIN_W:MAX_W, no NVML (implies --dry-run)")
    p.add_argument("--dry-run", action="store_true", help="compute and report, change nothing")
    p.add_argument("--once", action="store_true", help="exit after the first command")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    from thermalctl.config.services import parse_mqtt_url

    if args.fake_gpus:
        gpus: list[Any] = parse_fake_gpus(args.fake_gpus)
        dry_run = True
    else:
        indices = [int(i) for i in args.gpus.split(",")] if args.gpus else None
        gpus = nvml_gpus(indices)
        dry_run = args.dry_run
    agent = Agent(gpus, share=args.share, reserve_w=args.reserve_w, dry_run=dry_run)
    root = f"{args.base_topic}/{args.site}/gpu/{args.group}/cap"
    host, port, user, password, tls = parse_mqtt_url(args.mqtt_url)
    client = paho.Client(CallbackAPIVersion.VERSION2,
                         client_id=f"gpu-agent-{args.site}-{args.group}-{id(agent):x}")
    if user is not None:
        client.username_pw_set(user, password)
    if tls:
        client.tls_set()
    done = threading.Event()

    def on_connect(c: paho.Client, _u: object, _f: object, rc: Any, _p: object) -> None:
        if rc.is_failure:
            log.error("broker refused the connection: %s", rc)
            return
        c.subscribe(f"{root}/set", qos=1)
        log.info("listening on %s/set (%d GPUs%s)", root, len(gpus),
                 ", dry run" if dry_run else "")

    def on_message(c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        state = agent.handle(msg.payload)
        c.publish(f"{root}/state", json.dumps(state), qos=1, retain=True)
        if args.once:
            done.set()

    client.on_connect = on_connect
    client.on_message = on_message
    client.connect_async(host, port)
    client.loop_start()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    time.sleep(0.2)  # let the last state go out
    client.disconnect()
    client.loop_stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
