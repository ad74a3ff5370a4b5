#!/usr/bin/env python3
"""Soak: Intake for minutes at about 70% of its maximum rate, with its config changing every second
and its Kafka broker restarted halfway, then every record answered 2xx looked for in Kafka.

    scripts/bench.sh soak [--minutes N]     builds Release, then this (default 10 minutes)

1. Starts a Kafka 3.9.2 instance of its own (`kafka-soak`, 127.0.0.1:19114/19115, through bench/peer's
   Kafka helper and scripts/peers/kafka.sh; never the test peers on 19092) and the Release gateway
   with `config.source: file` (a YAML registry tree in a scratch folder) and a disk spool.
2. Finds the maximum: --probe-s (10) of wrk at full rate (bench/peer/post_record.lua, -t2 -c64, async
   single records) into a topic of its own. Then --minutes of wrk paced to --load-share (0.7) of it
   (bench/soak/paced_record.lua: wrk2 is not packaged; wrk with a Lua clock pacing each thread)
   into the soak topic. Meanwhile, every second: the registry file is replaced (the load's key's
   rate limit alternates, a second key comes and goes; the load's key stays valid throughout) and
   the gateway's VmRSS is read; every --metrics-every-s (10) /metrics is read. At half time the
   broker is stopped, left down --broker-down-s (10) and started again on its data.
3. After the load: waits until the spool is empty (at most 120 s), SIGTERMs the gateway (it
   drains), reads the soak topic back with bench/peer's topic_tool and compares: lost = answered 2xx
   minus distinct records found (never below 0), duplicates = records found minus distinct values.
4. Writes <out-dir>/<date>-soak.json and <date>-soak.md. Warm-up = the first --warmup-s (60) seconds
   of the soak: the RSS figures (min, max, first, last, band around the median) leave it out.

A benchmark, not a test: exit 0 unless the harness itself broke (a server did not start, wrk did not
run, Kafka could not be read) -- never because of a figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.util
import json
import os
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

SOAK_DIR = Path(__file__).resolve().parent
BENCH_DIR = SOAK_DIR.parent
sys.path.insert(0, str(BENCH_DIR))  # bench/: the common package


def _load_peer():
    """bench/peer/run.py as the module `peer_run` (its Kafka helper, record template, load sampler,
    machine facts); loaded by path, since this file is called run.py too."""
    spec = importlib.util.spec_from_file_location("peer_run", BENCH_DIR / "peer" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


peer = _load_peer()
from common.errors import BenchError  # noqa: E402
from common.lifecycle import RunOutcome, exit_with, interrupt_on_stop_signals  # noqa: E402
from common.log import logger  # noqa: E402
from common.paths import REPO_ROOT as ROOT  # noqa: E402
from common.process import free_port, run_cmd, wait_until_ready  # noqa: E402

log = logger("bench soak")
now = time.monotonic
SECRET = "bench-soak-secret"
KEY_ID = "soak"
# Families read from /metrics (summed over their labels).
METRICS = ("intake_config_version", "intake_config_published_total", "intake_config_rejected_total",
           "intake_config_keys", "intake_ready", "intake_records_produced_total", "intake_records_delivered_total",
           "intake_records_failed_total", "intake_records_spooled_total", "intake_records_replayed_total",
           "intake_records_respooled_total", "intake_records_lost_total", "intake_spool_waiting_records",
           "intake_spool_bytes", "intake_http_connections_open")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def vm_rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def uptime_now() -> dict:
    out = run_cmd(["uptime"], timeout=10, check=False).stdout.strip()
    return {"uptime": out, "loadavg": Path("/proc/loadavg").read_text().strip(),
            "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}


# --- the registry file ---------------------------------------------------------------------------

class Registry:
    """The file source's tree: one YAML file, replaced atomically (write, then rename over it)."""

    def __init__(self, path: Path, topic_glob: str) -> None:
        self.path, self.topic_glob = path, topic_glob
        self.changes = 0

    def text(self, n: int) -> str:
        # The load's key stays valid in every version; its rate limit alternates far above the
        # load (the limiter runs, never refuses), and a second key is added and removed.
        per_sec = 2_000_000 if n % 2 == 0 else 3_000_000
        lines = [f"# version {n}, written by bench/soak/run.py",
                 f'keys/{KEY_ID}: {{secret_sha256: "{sha256(SECRET)}", topics: ["{self.topic_glob}"], '
                 f"rate: {{per_sec: {per_sec}, burst: {per_sec}}}}}"]
        if n % 2 == 1:
            lines.append(f'keys/churn-{n}: {{secret_sha256: "{sha256(f"churn-{n}")}", topics: ["churn.*"]}}')
        return "\n".join(lines) + "\n"

    def write(self, n: int) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(self.text(n))
        os.replace(tmp, self.path)

    def change(self) -> None:
        self.changes += 1
        self.write(self.changes)


# --- the gateway ---------------------------------------------------------------------------------

class Gateway:
    def __init__(self, binary: Path, scratch: Path, bootstrap: str, threads: int, registry: Registry) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        registry.write(0)
        (scratch / "spool").mkdir(exist_ok=True)
        config = scratch / "intake.yaml"
        config.write_text(
            "# Written by bench/soak/run.py.\n"
            f'server: {{listen: "127.0.0.1:{self.port}", threads: {threads}}}\n'
            f'kafka: {{bootstrap_servers: "{bootstrap}"}}   # defaults: idempotent, acks=all, lz4, linger 5 ms\n'
            f'config: {{source: file, file: {{path: "{registry.path}"}}}}\n'
            f'spool: {{dir: "{scratch / "spool"}"}}   # fallback mode: only what Kafka cannot take now\n')
        self.log_path = scratch / "intake.log"
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen([str(binary), "run", "--config", str(config)], stdin=subprocess.DEVNULL,
                                     stdout=self.log_file, stderr=subprocess.STDOUT)
        state = wait_until_ready(self.port, self.proc, 60, 0.05)
        if state != "ready":
            self.stop()
            raise BenchError(f"intake {state} during start; log {self.log_path}:\n"
                             + self.log_path.read_text(errors="replace")[-2000:])

    def metrics(self) -> dict:
        try:
            with urllib.request.urlopen(self.url + "/metrics", timeout=5) as r:
                text = r.read().decode()
        except OSError as e:
            return {"error": str(e)}
        out: dict = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            name = line.split("{", 1)[0].split(" ", 1)[0]
            if name in METRICS:
                out[name] = out.get(name, 0) + float(line.rsplit(" ", 1)[1])
        return {k: int(v) if float(v).is_integer() else v for k, v in out.items()}

    def stop(self) -> dict:
        """SIGTERM (the gateway drains: queued records are flushed first); how long it took, its exit code."""
        t0 = now()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                log(f"intake pid {self.proc.pid} did not stop in 60 s; killing it")
                self.proc.kill()
                self.proc.wait(10)
        self.log_file.close()
        return {"drain_s": round(now() - t0, 2), "exit_code": self.proc.returncode}


# --- the broker restart --------------------------------------------------------------------------

def restart_broker(kafka, down_s: float, epoch: float, window: dict) -> None:
    """Stops the bench's broker gracefully, leaves it down down_s, starts it on its data. Times in
    window are seconds since epoch (the soak's start)."""
    try:
        window["stop_begin_s"] = round(time.time() - epoch, 2)
        run_cmd(["bash", kafka.peer.path, "stop"], timeout=120, env=kafka.peer.env)
        window["stopped_s"] = round(time.time() - epoch, 2)
        time.sleep(down_s)
        window["start_begin_s"] = round(time.time() - epoch, 2)
        run_cmd(["bash", kafka.peer.path, "start"], timeout=180, env={**kafka.peer.env, "KAFKA_KEEP_DATA": "1"})
        kafka.peer.started = True  # this run started the broker that now runs: it stops it at the end
        window["ready_s"] = round(time.time() - epoch, 2)
    except BenchError as e:
        window["error"] = str(e)


# --- one run -------------------------------------------------------------------------------------

def wrk_json(proc: subprocess.Popen, timeout: float) -> dict:
    stdout, stderr = proc.communicate(timeout=timeout)
    line = next((l for l in reversed(stdout.splitlines()) if l.startswith("{")), None)
    if proc.returncode != 0 or line is None:
        raise BenchError(f"wrk failed (exit {proc.returncode}): {stderr[-1000:]} {stdout[-1000:]}")
    return json.loads(line)


def count_topic(args, bootstrap: str, topic: str) -> dict:
    out = run_cmd([str(args.topic_tool), "--bootstrap", bootstrap, "--timeout-s", "300", "count", topic], timeout=900)
    return json.loads(out.stdout)


def rss_summary(samples: list[tuple[float, int]], warmup_s: float) -> dict:
    after = [kb for t, kb in samples if t >= warmup_s]
    if not after:
        return {"n": 0}
    med = statistics.median(after)
    return {"n_after_warmup": len(after), "warmup_s": warmup_s,
            "first_kb": after[0], "last_kb": after[-1], "min_kb": min(after), "max_kb": max(after),
            "median_kb": med, "band_pct": [round(100.0 * (min(after) - med) / med, 1),
                                           round(100.0 * (max(after) - med) / med, 1)],
            "last_minus_first_kb": after[-1] - after[0],
            "during_warmup_max_kb": max((kb for t, kb in samples if t < warmup_s), default=None)}


def rss_segments(samples: list[tuple[float, int]], warmup_s: float, window: dict) -> dict:
    """RSS before the broker restart (after the warm-up) and after it (from 30 s past the broker's
    return): whether each stretch is flat, apart from the step the outage's queue leaves."""
    if "stop_begin_s" not in window or "ready_s" not in window:
        return {}
    out = {}
    for name, lo, hi in (("before_restart", warmup_s, window["stop_begin_s"]),
                         ("after_restart", window["ready_s"] + 30, float("inf"))):
        part = [kb for t, kb in samples if lo <= t < hi]
        if part:
            out[name] = {"from_s": lo, "n": len(part), "first_kb": part[0], "last_kb": part[-1],
                         "min_kb": min(part), "max_kb": max(part),
                         "band_pct": round(100.0 * (max(part) - min(part)) / statistics.median(part), 1)}
    return out


def answers_by_second(result: dict) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {}
    for thread in result["threads"]:
        for key, n in thread["answers"].items():
            sec, status = key.split(":")
            row = out.setdefault(int(sec), {})
            row[status] = row.get(status, 0) + n
    return out


def by_status(per_second: dict[int, dict[str, int]], lo: float = -1e9, hi: float = 1e9) -> dict[str, int]:
    out: dict[str, int] = {}
    for sec, row in per_second.items():
        if lo <= sec <= hi:
            for status, n in row.items():
                out[status] = out.get(status, 0) + n
    return dict(sorted(out.items()))


def soak(args, kafka, scratch: Path, res: dict) -> None:
    run_id = time.strftime("%Y%m%d%H%M%S")
    topic, probe_topic = f"soak.{run_id}.load", f"soak.{run_id}.probe"
    log(f"creating {topic} and {probe_topic} (3 partitions each)")
    run_cmd([str(args.topic_tool), "--bootstrap", kafka.bootstrap, "--timeout-s", "60", "create", "--partitions", "3",
             topic, probe_topic], timeout=120)
    registry = Registry(scratch / "registry.yaml", "soak.*")
    gateway = Gateway(args.intake, scratch, kafka.bootstrap, args.threads, registry)
    prefix, suffix = peer.record_template()
    auth = f"Bearer {SECRET}"
    stopped = False
    try:
        res["rss_idle_kb"] = vm_rss_kb(gateway.proc.pid)
        log(f"probing the maximum: {args.probe_s} s of wrk -t2 -c{args.connections} at full rate")
        probe = wrk_json(subprocess.Popen(
            ["wrk", "-t", "2", "-c", str(args.connections), "-d", f"{args.probe_s}s", "--timeout", "10s",
             "-s", str(BENCH_DIR / "peer" / "post_record.lua"), gateway.url + f"/v1/topics/{probe_topic}", "--",
             "single", "1", prefix, suffix, auth], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
            args.probe_s + 60)
        probe_ok = probe["requests"] - probe["errors"]["status"]
        max_rate = probe_ok / (probe["duration_us"] / 1e6)
        target = int(max_rate * args.load_share)
        res["probe"] = {"duration_s": round(probe["duration_us"] / 1e6, 2), "requests": probe["requests"],
                        "non_2xx": probe["errors"]["status"], "ok_per_s": round(max_rate, 1),
                        "latency_us": probe["latency_us"]}
        res["rate"] = {"max_ok_per_s": round(max_rate, 1), "load_share": args.load_share, "target_per_s": target}
        log(f"maximum {max_rate:,.0f} ok/s; soaking at {target:,}/s for {args.minutes} min")

        duration_s = int(args.minutes * 60)
        rss: list[tuple[float, int]] = []
        metric_samples: list[dict] = []
        window: dict = {}
        metrics0 = gateway.metrics()
        epoch = float(int(time.time()) + 1)
        while time.time() < epoch:
            time.sleep(0.01)
        wrk = subprocess.Popen(
            ["wrk", "-t", "2", "-c", str(args.connections), "-d", f"{duration_s}s", "--timeout", "10s",
             "-s", str(SOAK_DIR / "paced_record.lua"), gateway.url + f"/v1/topics/{topic}", "--",
             str(target / 2), prefix, suffix, auth, str(int(epoch))],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        restart_at = duration_s / 2 - args.broker_down_s / 2
        restarter = None
        tick = 0
        while wrk.poll() is None:
            tick += 1
            while time.time() < epoch + tick and wrk.poll() is None:
                time.sleep(0.02)
            if wrk.poll() is not None:
                break
            t = time.time() - epoch
            kb = vm_rss_kb(gateway.proc.pid)
            if kb is None or gateway.proc.poll() is not None:
                raise BenchError(f"intake exited during the soak (code {gateway.proc.poll()}); log {gateway.log_path}:\n"
                                 + gateway.log_path.read_text(errors="replace")[-2000:])
            rss.append((round(t, 2), kb))
            registry.change()
            # Every second around the restart (when the gateway saw the broker go and come back),
            # else every metrics_every_s.
            around_restart = restarter is not None and ("ready_s" not in window or t < window["ready_s"] + 30)
            if around_restart or tick % args.metrics_every_s == 0:
                metric_samples.append({"t_s": round(t, 1), **gateway.metrics()})
            if restarter is None and t >= restart_at:
                log(f"t={t:.0f} s: restarting the broker ({args.broker_down_s} s down)")
                restarter = threading.Thread(target=restart_broker, args=(kafka, args.broker_down_s, epoch, window),
                                             daemon=True)
                restarter.start()
            if tick % 60 == 0:
                log(f"t={t:.0f} s: RSS {kb / 1024:.1f} MiB, {registry.changes} config changes, "
                    f"metrics {metric_samples[-1] if metric_samples else {}}")
        result = wrk_json(wrk, 120)
        if restarter is not None:
            restarter.join(200)
        res["broker_restart"] = window
        log(f"load done: {result['requests']:,} answers; waiting for the spool to empty")
        t_wait = now()
        while now() - t_wait < 120:
            m = gateway.metrics()
            if m.get("intake_spool_waiting_records", 0) == 0 and m.get("intake_ready") == 1:
                break
            time.sleep(1)
        metrics_end = gateway.metrics()
        rss_end = vm_rss_kb(gateway.proc.pid)
        res["stop"] = gateway.stop()
        stopped = True
        res["stop"]["spool_wait_s"] = round(now() - t_wait, 1)
        res["stop"]["log_tail"] = gateway.log_path.read_text(errors="replace").splitlines()[-15:]
    finally:
        if not stopped:
            gateway.stop()

    per_second = answers_by_second(result)
    statuses = by_status(per_second)
    ok = sum(n for s, n in statuses.items() if s.startswith("2"))
    duration = result["duration_us"] / 1e6
    rates = [sum(row.values()) for sec, row in sorted(per_second.items()) if 0 < sec < int(duration)]
    res["rate"].update({"achieved_per_s": round(result["requests"] / duration, 1),
                        "achieved_ok_per_s": round(ok / duration, 1),
                        "achieved_share_of_target": round(result["requests"] / duration / target, 3) if target else None,
                        "per_second": {"min": min(rates, default=None), "median": statistics.median(rates) if rates else None,
                                       "max": max(rates, default=None)}})
    sent = sum(t["sent"] for t in result["threads"])
    res["requests"] = {"sent": sent, "answered": result["requests"], "by_status": statuses, "ok_2xx": ok,
                       "socket_errors": {k: result["errors"][k] for k in ("connect", "read", "write", "timeout")},
                       "unanswered": sent - sum(statuses.values()), "latency_us": result["latency_us"],
                       "duration_s": round(duration, 2)}
    if "ready_s" in window:
        lo, hi = int(window["stop_begin_s"]), int(window["ready_s"]) + 1
        res["broker_restart"]["by_status_in_window"] = by_status(per_second, lo, hi)
        res["broker_restart"]["by_status_next_30_s"] = by_status(per_second, hi + 1, hi + 30)
        res["broker_restart"]["per_second_in_window"] = {s: per_second.get(s, {}) for s in range(lo, hi + 1)}
    # The gateway's own view of the outage: intake_ready (1 while Kafka is reachable) in /metrics.
    not_ready = [m["t_s"] for m in metric_samples if m.get("intake_ready") == 0]
    if not_ready:
        back = [m["t_s"] for m in metric_samples if m["t_s"] > not_ready[0] and m.get("intake_ready") == 1]
        res["broker_restart"]["gateway_not_ready_first_s"] = not_ready[0]
        res["broker_restart"]["gateway_ready_again_s"] = back[0] if back else None
    spooled = [m.get("intake_spool_waiting_records", 0) for m in metric_samples]
    res["broker_restart"]["spool_waiting_max_records"] = max(spooled, default=0)
    res["per_second_answers"] = [{"t_s": s, **row} for s, row in sorted(per_second.items())]
    res["rss"] = {"samples_kb": [kb for _, kb in rss], "sample_times_s": [t for t, _ in rss],
                  "end_kb": rss_end, **rss_summary(rss, args.warmup_s),
                  "segments": rss_segments(rss, args.warmup_s, window)}
    res["metrics"] = {"start": metrics0, "samples": metric_samples, "end": metrics_end}
    res["config_changes"] = {
        "written": registry.changes,
        "published": (metrics_end.get("intake_config_published_total", 0) - metrics0.get("intake_config_published_total", 0)),
        "rejected": (metrics_end.get("intake_config_rejected_total", 0) - metrics0.get("intake_config_rejected_total", 0)),
        "version_start": metrics0.get("intake_config_version"), "version_end": metrics_end.get("intake_config_version")}
    log("reading the soak topic back (topic_tool count)")
    found = count_topic(args, kafka.bootstrap, topic)
    res["kafka"] = found
    res["lost"] = max(0, ok - found["distinct_values"])
    res["surplus"] = max(0, found["distinct_values"] - ok)
    res["duplicates"] = found["records"] - found["distinct_values"]


def markdown(res: dict) -> str:
    def n(x):
        return f"{x:,}" if isinstance(x, (int, float)) else str(x)
    r, q, rss, cc, br = res.get("rate", {}), res.get("requests", {}), res.get("rss", {}), \
        res.get("config_changes", {}), res.get("broker_restart", {})
    mib = lambda kb: f"{kb / 1024:.1f}" if isinstance(kb, (int, float)) else "–"  # noqa: E731
    rows = [
        ("duration", f"{res['settings']['minutes']} min of load (warm-up: the first {res['settings']['warmup_s']} s)"),
        (f"max rate (probe: wrk -t2 -c{res['settings']['connections']}, {res['settings']['probe_s']} s, full rate)",
         f"{n(r.get('max_ok_per_s'))} req/s"),
        ("target rate", f"{n(r.get('target_per_s'))} req/s ({r.get('load_share')} of the max)"),
        ("achieved rate", f"{n(r.get('achieved_per_s'))} req/s ({r.get('achieved_share_of_target')} of target); "
                          f"per second min / median / max {n((r.get('per_second') or {}).get('min'))} / "
                          f"{n((r.get('per_second') or {}).get('median'))} / {n((r.get('per_second') or {}).get('max'))}"),
        ("requests sent / answered", f"{n(q.get('sent'))} / {n(q.get('answered'))}"),
        ("answers by status", ", ".join(f"{k}: {n(v)}" for k, v in (q.get("by_status") or {}).items())),
        ("socket errors", ", ".join(f"{k} {v}" for k, v in (q.get("socket_errors") or {}).items())),
        ("latency p50 / p99 / p99.9 / max (ms)", " / ".join(
            f"{(q.get('latency_us') or {}).get(p, 0) / 1000:.2f}" for p in ("p50", "p99", "p99_9", "max"))),
        ("records answered 2xx / found / distinct", f"{n(q.get('ok_2xx'))} / {n((res.get('kafka') or {}).get('records'))} / "
                                                    f"{n((res.get('kafka') or {}).get('distinct_values'))}"),
        ("**lost** (2xx, not in Kafka)", f"**{n(res.get('lost'))}**"),
        ("duplicates", n(res.get("duplicates"))),
        ("broker restart (s since the soak's start)",
         f"stop begun {br.get('stop_begin_s')}, stopped {br.get('stopped_s')}, start begun {br.get('start_begin_s')}, "
         f"answering kafka.sh's check {br.get('ready_s')}; the gateway's intake_ready 0 from "
         f"{br.get('gateway_not_ready_first_s')} to {br.get('gateway_ready_again_s')}; "
         f"spool peak {n(br.get('spool_waiting_max_records'))} records"),
        ("answers during the restart window", ", ".join(f"{k}: {n(v)}" for k, v in (br.get("by_status_in_window") or {}).items())),
        ("spooled / replayed (whole run)", f"{n((res.get('metrics') or {}).get('end', {}).get('intake_records_spooled_total'))} / "
                                           f"{n((res.get('metrics') or {}).get('end', {}).get('intake_records_replayed_total'))}"),
        ("config changes written / published / rejected", f"{n(cc.get('written'))} / {n(cc.get('published'))} / "
                                                          f"{n(cc.get('rejected'))} (version {cc.get('version_start')} → "
                                                          f"{cc.get('version_end')})"),
        ("RSS after warm-up: first / last / min / max / median (MiB)",
         " / ".join(mib(rss.get(k)) for k in ("first_kb", "last_kb", "min_kb", "max_kb", "median_kb"))),
        ("RSS band around the median", f"{(rss.get('band_pct') or ['–', '–'])[0]}% … +{(rss.get('band_pct') or ['–', '–'])[1]}%"),
        *[(f"RSS {name.replace('_', ' ')} (from {seg['from_s']} s): first / last / min / max (MiB), max−min",
            " / ".join(mib(seg[k]) for k in ("first_kb", "last_kb", "min_kb", "max_kb")) + f", {seg['band_pct']}%")
          for name, seg in (rss.get("segments") or {}).items()],
        ("drain on SIGTERM", f"{(res.get('stop') or {}).get('drain_s')} s, exit {(res.get('stop') or {}).get('exit_code')}"),
        ("load at start / end", f"{res['machine_load']['start']['loadavg']} / {(res['machine_load'].get('end') or {}).get('loadavg')}"),
    ]
    lines = [f"### Soak of {res['date']}", "", f"- Command: `{res['command']}`",
             f"- Intake {res.get('versions', {}).get('intake')}, Kafka {res['settings']['kafka']['version']} "
             f"(own instance {res['settings']['kafka']['instance']}, {res['settings']['kafka']['bootstrap']}), "
             f"{res['machine'].get('cores')} cores shared with other work (load averages below).", "",
             "| | |", "|---|---|"] + [f"| {a} | {b} |" for a, b in rows]
    if res.get("error"):
        lines += ["", f"**Harness error**: {res['error']}"]
    return "\n".join(lines) + "\n"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--load-share", type=float, default=0.7, help="share of the probed maximum to soak at")
    p.add_argument("--probe-s", type=int, default=10)
    p.add_argument("--warmup-s", type=float, default=60, help="first seconds of the soak left out of the RSS figures")
    p.add_argument("--broker-down-s", type=float, default=10)
    p.add_argument("--metrics-every-s", type=int, default=10)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="Intake's server.threads")
    p.add_argument("--intake", type=Path, default=ROOT / "build/release/src/intake")
    p.add_argument("--topic-tool", type=Path, default=ROOT / "build/release/bench/peer/topic_tool")
    p.add_argument("--out-dir", type=Path, default=ROOT / "bench/results")
    p.add_argument("--kafka-version", default="3.9.2")
    p.add_argument("--command", help="the command line to record (scripts/bench.sh passes its own)")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    started = dt.datetime.now(dt.timezone.utc)
    interrupt_on_stop_signals()
    for tool in (args.intake, args.topic_tool):
        if not tool.is_file():
            raise BenchError(f"{tool} missing: build first (bash scripts/build.sh release)")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="intake-bench-soak-"))
    intake_source = args.intake
    for attr in ("intake", "topic_tool"):  # private copies: a rebuild during the run must not swap them
        copy = scratch / getattr(args, attr).name
        subprocess.run(["cp", "-p", str(getattr(args, attr)), str(copy)], check=True)
        setattr(args, attr, copy)
    kafka = peer.Kafka("kafka-soak", 19114, 19115, args.kafka_version)
    loads = peer.LoadSampler().start()
    res: dict = {
        "benchmark": "soak", "date": started.isoformat(timespec="seconds"),
        "command": args.command or shlex.join([Path(sys.executable).name, *sys.argv]),
        "machine": peer.machine(), "machine_load": {"start": uptime_now()}, "notes": [],
        "settings": {"minutes": args.minutes, "load_share": args.load_share, "probe_s": args.probe_s,
                     "warmup_s": args.warmup_s, "broker_down_s": args.broker_down_s, "connections": args.connections,
                     "wrk_threads": 2, "intake_threads": args.threads, "record_bytes": peer.RECORD_BYTES,
                     "config_change_every_s": 1, "metrics_every_s": args.metrics_every_s,
                     "spool": {"mode": "fallback"},
                     "kafka": {"version": args.kafka_version, "instance": "kafka-soak", "bootstrap": kafka.bootstrap,
                               "partitions": 3}},
    }
    outcome = RunOutcome(res, log)
    try:
        with outcome:
            kafka.ensure()
            git = run_cmd(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], timeout=30, check=False)
            res["versions"] = {"intake": git.stdout.strip(), "intake_binary": str(intake_source),
                               "kafka": args.kafka_version, "wrk": peer.pkg_version("wrk"),
                               "librdkafka": peer.pkg_version("librdkafka1")}
            soak(args, kafka, scratch, res)
    finally:
        loads.stop()
        kafka.stop_if_started()
        subprocess.run(["rm", "-rf", str(scratch)], check=False)
    res["machine_load"]["end"] = uptime_now()
    res["machine_load"]["samples_1min"] = [s[1] for s in loads.samples]
    res["machine_load"].update(loads.window(0, float("inf")))
    res["finished"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    stem = f"{started.strftime('%Y-%m-%d')}-soak"
    out_json = args.out_dir / f"{stem}.json"
    out_json.write_text(json.dumps(res, indent=1) + "\n")
    md = markdown(res)
    (args.out_dir / f"{stem}.md").write_text(md)
    log(f"wrote {out_json} and {stem}.md")
    print(md)
    return outcome.rc


if __name__ == "__main__":
    exit_with(main, log)
