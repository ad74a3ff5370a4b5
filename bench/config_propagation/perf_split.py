"""Where a big-tree change spends its time, from `perf` on the gateway."""

from __future__ import annotations

import re
import secrets
import shutil
import signal
import statistics
import subprocess
import time
from pathlib import Path

from common.process import run_cmd
from config_propagation.gateway import Gateway
from config_propagation.keys import key_value
from config_propagation.registries import Consul
from config_propagation.samples import ms, now

READ_RE = re.compile(r"recvmsg|recvfrom|read_some_op|transfer_op|epoll_wait|timerfd|tcp_recvmsg")
BUILD_RE = re.compile(r"build_config|parse_key|parse_sha256_hex|content_hash|rebuild_locked")


def profile_changes(consul: Consul, gw: Gateway, prefix: str, count: int, timeout: float, work: Path) -> dict:
    """Where a big-tree change spends its time, from `perf` on the gateway (separate changes, so the
    measured ones are unaffected). perf's clock is CLOCK_MONOTONIC, the same as time.perf_counter, so
    its samples line up with t0 (PUT sent) and the log line. Per change, on the gateway's busiest
    thread (the control thread that fetches and builds):
      consul  = t0 -> first sample reading Consul's answer (raft apply, blocking-query wake-up, Consul
                running the query and encoding the JSON: the gateway is idle meanwhile)
      read    = first -> last sample in socket reads / Beast / asio before the build starts
      decode  = end of read -> log line minus the logged build time (simdjson of the answer, base64,
                std::map; also the publish + log line, which take well under a millisecond)
      build   = the gateway's own 'built in X ms' (build_config + content hash + compare)
    plus recvmsg() calls per fetch from `perf stat` (answer bytes / calls = bytes per read)."""
    perf = shutil.which("perf")
    if not perf:
        return {"skipped": "perf not found"}
    data = work / "perf.data"
    rec = subprocess.Popen([perf, "record", "-k", "monotonic", "-F", "999", "-g", "-o", str(data), "-p",
                            str(gw.proc.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stat = subprocess.Popen([perf, "stat", "-x,", "-e", "syscalls:sys_enter_recvmsg,syscalls:sys_enter_recvfrom",
                             "-p", str(gw.proc.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)
    changes = []
    try:
        for i in range(count):
            for verb in ("add", "delete"):
                n_applied = len(gw.applied)
                t0 = now()
                if verb == "add":
                    consul.put(f"{prefix}keys/prof-{i}", key_value(secrets.token_hex(24)))
                else:
                    consul.delete(f"{prefix}keys/prof-{i}")
                event = gw.wait_applied(lambda e: True, timeout, n_applied)
                if event:
                    changes.append({"t0": t0, "t_log": event["t"], "build_ms": event["build_ms"]})
                time.sleep(0.2)
    finally:
        for p in (rec, stat):
            p.send_signal(signal.SIGINT)
        try:
            _, rec_err = rec.communicate(timeout=120)
            _, stat_err = stat.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            rec.kill(), stat.kill()
            return {"skipped": "perf did not stop"}
    counts = {}
    for line in stat_err.decode("utf-8", "replace").splitlines():
        parts = line.split(",")
        if len(parts) > 2 and parts[0].isdigit():
            counts[parts[2].split(":")[-1]] = int(parts[0])
    script = run_cmd([perf, "script", "-i", str(data), "-F", "tid,time,ip,sym"], timeout=300, check=False)
    data.unlink(missing_ok=True)
    samples, cur = [], None
    for line in script.stdout.splitlines():
        if not line.strip():
            if cur:
                samples.append(cur)
            cur = None
        elif not line.startswith("\t") and (m := re.match(r"\s*(\d+)\s+([\d.]+):", line)):
            cur = {"tid": int(m[1]), "t": float(m[2]), "stack": ""}
        elif cur is not None:
            cur["stack"] += line.strip() + "|"
    if cur:
        samples.append(cur)
    if not samples or not changes:
        return {"skipped": f"no perf samples ({rec_err.decode('utf-8', 'replace')[-300:]})"}
    tids: dict[int, int] = {}
    for s in samples:
        tids[s["tid"]] = tids.get(s["tid"], 0) + 1
    control = max(tids, key=tids.get)
    phases: dict[str, list[float]] = {k: [] for k in ("consul", "read", "decode", "build", "total", "cpu_control_thread", "cpu_all_threads")}
    for c in changes:
        window = [s for s in samples if c["t0"] <= s["t"] <= c["t_log"]]
        ctl = [s for s in window if s["tid"] == control]
        builds = [s["t"] for s in ctl if BUILD_RE.search(s["stack"])]
        if not ctl or not builds:
            continue
        build_start = builds[0]
        reads = [s["t"] for s in ctl if READ_RE.search(s["stack"]) and s["t"] < build_start]
        if not reads:
            continue
        phases["consul"].append(ms(reads[0] - c["t0"]))
        phases["read"].append(ms(reads[-1] - reads[0]))
        phases["decode"].append(ms(build_start - reads[-1]))
        phases["build"].append(c["build_ms"])
        # The build's first samples may not show build_config on the stack (no frame pointers in
        # the libraries it calls), so decode is what lies between the reads and the logged build.
        phases["decode"][-1] = round(ms(c["t_log"] - reads[-1]) - c["build_ms"], 3)
        phases["total"].append(ms(c["t_log"] - c["t0"]))
        phases["cpu_control_thread"].append(float(len(ctl)))  # one sample per ms at 999 Hz
        phases["cpu_all_threads"].append(float(len(window)))
    fetches = len(changes)
    recv_calls = counts.get("sys_enter_recvmsg", 0) + counts.get("sys_enter_recvfrom", 0)
    return {"changes_profiled": fetches, "sampling_hz": 999,
            "median_ms": {k: round(statistics.median(v), 1) if v else None for k, v in phases.items()},
            "samples_ms": phases,
            "recv_syscalls_total": counts, "recv_syscalls_per_fetch": round(recv_calls / fetches) if fetches else None}

