"""Benchmark: the controller's memory and CPU at steady state, as it runs on a site.

Starts ``tools/serve_sim.py`` (the plant on real Modbus TCP ports on 127.0.0.1, in real
time) and ``thermalctl run`` (a separate process, the planner on, the site's own tick,
``--tick`` overrides it) on a temporary copy of the profile with free ports, lets the
controller warm up, then samples its resident memory (``/proc/<pid>/status`` VmRSS) and
its CPU time (``/proc/<pid>/stat`` utime + stime) over ``--seconds``:

    .venv/bin/python tools/bench_steady.py --tick 5 --seconds 120

Prints RSS (mean and peak), CPU as a share of one core, and ticks counted in the store.
Targets (issue 11): RSS <= 200 MB, CPU <= 5 % of one core at a 5 s tick on the pool site.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_WAIT_S = 30.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def _decisions(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        with sqlite3.connect(f"{store.as_uri()}?mode=ro", uri=True) as db:
            return int(db.execute("SELECT COUNT(*) FROM decisions").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=REPO / "site_profiles" / "exmouth_pool.yaml")
    parser.add_argument("--tick", type=float, default=5.0, help="fast period [s]")
    parser.add_argument("--seconds", type=float, default=120.0, help="measured span [s]")
    parser.add_argument("--warmup", type=float, default=20.0, help="before measuring [s]")
    parser.add_argument("--policy", default="mpc")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        profile = yaml.safe_load(args.site.read_text())
        ports = {p: _free_port() for p in sorted({d["port"] for d in profile["devices"]})}
        for dev in profile["devices"]:
            dev["port"] = ports[dev["port"]]
            dev["map"] = str(args.site.parent.parent / "hardware_maps" / f"{dev['map']}.yaml")
        profile["fast_period_s"] = args.tick
        site = work / "site.yaml"
        site.write_text(yaml.safe_dump(profile, sort_keys=False))
        env = {k: v for k, v in os.environ.items() if not k.startswith("THERMALCTL_")}
        sim = subprocess.Popen([sys.executable, str(REPO / "tools" / "serve_sim.py"),
                                "--site", str(site)], cwd=work, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        store = work / "var" / "bench.sqlite"
        ctl = None
        try:
            time.sleep(2.0)
            ctl = subprocess.Popen([sys.executable, "-m", "thermalctl", "run", "--site", str(site),
                                    "--store", str(store), "--policy", args.policy],
                                   cwd=work, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, text=True)
            time.sleep(args.warmup)
            if ctl.poll() is not None:
                why = ctl.stderr.read() if ctl.stderr else ""
                raise SystemExit(f"thermalctl run exited: {why}")
            cpu0, wall0, ticks0 = _cpu_s(ctl.pid), time.monotonic(), _decisions(store)
            rss: list[float] = []
            end = wall0 + args.seconds
            while time.monotonic() < end:
                rss.append(_rss_mb(ctl.pid))
                time.sleep(1.0)
            cpu1, wall1, ticks1 = _cpu_s(ctl.pid), time.monotonic(), _decisions(store)
        finally:
            for proc in (ctl, sim):
                if proc is not None and proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    try:
                        proc.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        proc.kill()
    share = (cpu1 - cpu0) / (wall1 - wall0)
    print(f"site {args.site.stem}, policy {args.policy}, tick {args.tick:g} s, "
          f"{wall1 - wall0:.0f} s measured after {args.warmup:g} s warm-up, "
          f"{ticks1 - ticks0} ticks")
    print(f"RSS mean {sum(rss) / len(rss):.0f} MB, peak {max(rss):.0f} MB; "
          f"CPU {100 * share:.2f} % of one core")


if __name__ == "__main__":
    main()
