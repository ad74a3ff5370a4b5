#!/usr/bin/env python3
"""Config propagation benchmark for Intake: Consul KV write -> first gateway request that sees it.

Run by hand (not by CI), from anywhere:

    python3 bench/config_propagation/run.py            # full run, a few minutes at most

Phases (all against one Intake process started here, on a free port, watching a fresh prefix):
  a) small tree (a few dozen keys): N adds (PUT keys/<id> -> first 202) and N deletes
     (DELETE -> first 401). t0 = just before the PUT/DELETE is sent; the end is the arrival of the
     first matching answer from a tight keep-alive POST loop (no sleep).
  b) 100k-key tree: written with Consul's /v1/txn (128 ops per transaction, checked by trying 129),
     then (i) time from the last write's answer until the gateway logs a version with all keys,
     plus the gateway's own "built in X ms"; RSS before/after; (ii) single-key changes on top of the
     big tree, measured as in a); (iii) controls: the same changes timed from the gateway's log line
     without polling, a raw GET of the prefix (curl), a cold start of a second gateway on the tree.

Results: bench/results/config_propagation.json and .md (overwritten), plus the gateway's log in
bench/results/config_propagation.gateway.log. Stdlib only. Starts Consul/Kafka through
scripts/peers/*.sh only if they are not running, and stops only what it started.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import http.client
import json
import math
import os
import queue
import random
import re
import secrets
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = ROOT / "bench" / "results"
SCRATCH_DIR = BENCH_DIR / ".run"  # config + binary copy for this run; removed at the end
TOPIC = "bench.x"
now = time.perf_counter


def log(message: str) -> None:
    print(f"[config_propagation {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class BenchError(RuntimeError):
    pass


# --- small helpers ---------------------------------------------------------------------------

def ms(seconds: float) -> float:
    return round(seconds * 1000.0, 3)


def percentile(sorted_values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), p in [0, 100]."""
    if not sorted_values:
        return float("nan")
    k = (len(sorted_values) - 1) * p / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (k - lo)


def summarize(values_ms: list[float]) -> dict:
    v = sorted(values_ms)
    if not v:
        return {"n": 0}
    return {
        "n": len(v),
        "p50_ms": round(percentile(v, 50), 3),
        "p90_ms": round(percentile(v, 90), 3),
        "p99_ms": round(percentile(v, 99), 3),
        "max_ms": round(v[-1], 3),
        "min_ms": round(v[0], 3),
        "mean_ms": round(statistics.fmean(v), 3),
    }


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def run_cmd(args: list[str], timeout: float, check: bool = False, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=check, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- peers (Consul, Kafka) via the project's scripts ---------------------------------------------

class Peers:
    def __init__(self) -> None:
        self.started: list[str] = []

    @staticmethod
    def script(name: str) -> str:
        return str(ROOT / "scripts" / "peers" / f"{name}.sh")

    def ensure(self, name: str, start_timeout: float) -> None:
        status = run_cmd(["bash", self.script(name), "status"], timeout=60)
        if status.returncode == 0:
            log(f"{name}: already running (left running at the end)")
            return
        log(f"{name}: not running; starting it with scripts/peers/{name}.sh start")
        started = run_cmd(["bash", self.script(name), "start"], timeout=start_timeout)
        if started.returncode != 0:
            raise BenchError(f"{name}.sh start failed:\n{started.stderr[-3000:]}")
        self.started.append(name)

    def stop_started(self) -> None:
        for name in reversed(self.started):
            log(f"{name}: stopping (this run started it)")
            try:
                run_cmd(["bash", self.script(name), "stop"], timeout=120)
            except Exception as e:  # keep cleaning up
                log(f"{name}: stop failed: {e}")
        self.started.clear()


def intake_run_dir() -> Path:
    out = run_cmd(["bash", "-c", f'source {shlex.quote(str(ROOT / "scripts/lib/common.sh"))} && printf %s "$INTAKE_RUN"'],
                  timeout=30, check=True)
    return Path(out.stdout.strip())


def read_env_file(path: Path) -> dict[str, str]:
    env = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            env[k.strip()] = v.strip()
    return env


# --- HTTP clients --------------------------------------------------------------------------------

class Http:
    """One keep-alive connection; reconnects once on a broken connection."""

    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.conn.connect()
            self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, http.client.HTTPMessage, bytes]:
        for attempt in (0, 1):
            try:
                conn = self._connect()
                conn.request(method, path, body=body, headers=headers or {})
                response = conn.getresponse()
                data = response.read()
                if response.will_close:
                    self.close()
                return response.status, response.headers, data
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")


class Consul:
    def __init__(self, addr: str) -> None:
        rest = addr.split("://", 1)[-1].rstrip("/")
        host, port = rest.rsplit(":", 1)
        self.addr = addr.rstrip("/")
        self.http = Http(host, int(port), timeout=60)

    def put(self, key: str, value: str) -> None:
        status, _, body = self.http.request("PUT", "/v1/kv/" + key, value.encode())
        if status != 200 or body.strip() != b"true":
            raise BenchError(f"Consul PUT {key}: HTTP {status} {body[:200]!r}")

    def delete(self, key: str, recurse: bool = False) -> None:
        status, _, body = self.http.request("DELETE", "/v1/kv/" + key + ("?recurse=true" if recurse else ""))
        if status != 200:
            raise BenchError(f"Consul DELETE {key}: HTTP {status} {body[:200]!r}")

    def txn(self, body: bytes, conn: Http | None = None) -> tuple[int, bytes]:
        status, _, data = (conn or self.http).request("PUT", "/v1/txn", body, {"Content-Type": "application/json"})
        return status, data

    def agent_limits(self) -> dict:
        try:
            status, _, body = self.http.request("GET", "/v1/agent/self")
            cfg = json.loads(body).get("DebugConfig", {}) if status == 200 else {}
            return {k: cfg.get(k) for k in ("KVMaxValueSize", "TxnMaxReqLen")}
        except Exception as e:
            return {"error": str(e)}


def txn_body(ops: list[tuple[str, str]]) -> bytes:
    return json.dumps([{"KV": {"Verb": "set", "Key": k, "Value": base64.b64encode(v.encode()).decode()}}
                       for k, v in ops], separators=(",", ":")).encode()


# --- the gateway process -------------------------------------------------------------------------

APPLIED_RE = re.compile(r"config: applied version (\d+) from (\S+) at revision (\S+): (\d+) keys.*built in ([\d.]+) ms")


class Gateway:
    def __init__(self, binary: Path, config: dict, work: Path, name: str, log_path: Path) -> None:
        self.port = config["port"]
        self.name = name
        self.admin_token = config["admin_token"]
        cfg_path = work / f"{name}.yaml"
        cfg_path.write_text(
            f'server: {{listen: "127.0.0.1:{self.port}", threads: {config["threads"]}}}\n'
            f'kafka: {{bootstrap_servers: "{config["bootstrap"]}"}}\n'
            "config:\n"
            "  source: consul\n"
            "  on_unreachable_at_start: wait\n"
            f'  consul: {{address: "{config["consul_addr"]}", prefix: "{config["prefix"]}", wait_ms: 300000}}\n'
            f"admin: {{token_sha256: {sha256_hex(self.admin_token)}}}\n")
        self.applied: list[dict] = []  # one per "config: applied" log line, with arrival time
        self.cond = threading.Condition()
        self.log_file = open(log_path, "a", encoding="utf-8")
        self.log_file.write(f"=== {dt.datetime.now(dt.timezone.utc).isoformat()} {name}: {binary} run --config {cfg_path}\n")
        self.spawned_at = now()
        self.proc = subprocess.Popen([str(binary), "run", "--config", str(cfg_path)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.http = Http("127.0.0.1", self.port, timeout=30)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            t = now()
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.log_file.write(line + "\n")
            m = APPLIED_RE.search(line)
            if m:
                with self.cond:
                    self.applied.append({"t": t, "version": int(m[1]), "revision": m[3], "keys": int(m[4]),
                                         "build_ms": float(m[5])})
                    self.cond.notify_all()
        self.log_file.flush()

    def wait_applied(self, predicate, timeout: float, start_index: int = 0) -> dict | None:
        deadline = now() + timeout
        with self.cond:
            while True:
                for event in self.applied[start_index:]:
                    if predicate(event):
                        return event
                left = deadline - now()
                if left <= 0 or self.proc.poll() is not None:
                    return None
                self.cond.wait(min(left, 0.5))

    def wait_ready(self, timeout: float) -> float:
        deadline = now() + timeout
        while now() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"gateway {self.name} exited with {self.proc.returncode}; see its log")
            try:
                status, _, _ = Http("127.0.0.1", self.port, timeout=2).request("GET", "/readyz")
                if status == 200:
                    return now()
            except OSError:
                pass
            time.sleep(0.01)
        raise BenchError(f"gateway {self.name} not ready on port {self.port} after {timeout}s")

    def admin_config(self) -> tuple[dict, int, float]:
        t = now()
        status, _, body = self.http.request("GET", "/admin/config", headers={"Authorization": f"Bearer {self.admin_token}"})
        elapsed = now() - t
        if status != 200:
            raise BenchError(f"/admin/config: HTTP {status} {body[:200]!r}")
        return json.loads(body), len(body), elapsed

    def memory(self) -> dict:
        out = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k + "_kB"] = int(v.split()[0])
        return out

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout: float = 30) -> None:
        self.http.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"gateway {self.name} did not stop in {timeout}s; killing pid {self.proc.pid}")
                self.proc.kill()
                self.proc.wait(10)
        self.reader.join(5)
        self.log_file.close()


# --- measuring one change ------------------------------------------------------------------------

class Poller:
    """Tight keep-alive POST loop against the gateway until a wanted status arrives."""

    def __init__(self, port: int) -> None:
        self.http = Http("127.0.0.1", port, timeout=10)
        self.unexpected: dict[int, int] = {}

    def until(self, secret: str, want: int, timeout: float) -> tuple[float | None, int]:
        headers = {"Authorization": f"Bearer {secret}"}
        deadline = now() + timeout
        polls = 0
        while True:
            status, _, _ = self.http.request("POST", f"/v1/topics/{TOPIC}", b"x", headers)
            t = now()
            polls += 1
            if status == want:
                return t, polls
            if status not in (202, 401):
                self.unexpected[status] = self.unexpected.get(status, 0) + 1
            if t > deadline:
                return None, polls


def key_value(secret: str) -> str:
    return json.dumps({"secret_sha256": sha256_hex(secret), "topics": ["bench.*"]}, separators=(",", ":"))


def measure_changes(consul: Consul, gw: Gateway, poller: Poller, prefix: str, count: int, tag: str,
                    timeout: float, settle: float, measure_deletes: int) -> dict:
    """count adds (PUT -> first 202), each followed by a delete (DELETE -> first 401)."""
    adds, deletes, put_ms, del_ms, log_add, builds = [], [], [], [], [], []
    polls_add, polls_del = [], []
    timeouts = {"add": 0, "delete": 0}
    cpu0, t_start = gw.cpu_seconds(), now()
    for i in range(count):
        key_id = f"{tag}-{i:04d}-{secrets.token_hex(4)}"
        secret = secrets.token_hex(24)
        value = key_value(secret)
        n_applied = len(gw.applied)
        t0 = now()
        consul.put(f"{prefix}keys/{key_id}", value)
        t_put = now()
        t_seen, polls = poller.until(secret, 202, timeout)
        if t_seen is None:
            timeouts["add"] += 1
            log(f"{tag}: add {i} not seen within {timeout}s")
        else:
            adds.append(ms(t_seen - t0))
            polls_add.append(polls)
        put_ms.append(ms(t_put - t0))
        event = gw.wait_applied(lambda e: True, 2.0, n_applied)
        if event:
            log_add.append(ms(event["t"] - t0))
            builds.append(event["build_ms"])
        time.sleep(settle * random.uniform(0.5, 1.5))

        n_applied = len(gw.applied)
        t0 = now()
        consul.delete(f"{prefix}keys/{key_id}")
        t_del = now()
        if i < measure_deletes:
            t_seen, polls = poller.until(secret, 401, timeout)
            if t_seen is None:
                timeouts["delete"] += 1
                log(f"{tag}: delete {i} not seen within {timeout}s")
            else:
                deletes.append(ms(t_seen - t0))
                polls_del.append(polls)
            del_ms.append(ms(t_del - t0))
        else:  # not measured, but never start the next change while this one is in flight
            gw.wait_applied(lambda e: True, timeout, n_applied)
        time.sleep(settle * random.uniform(0.5, 1.5))
        if (i + 1) % 50 == 0:
            log(f"{tag}: {i + 1}/{count} changes; add p50 so far {summarize(adds).get('p50_ms')} ms")
    wall = now() - t_start
    return {
        "add": {**summarize(adds), "samples_ms": adds},
        "delete": {**summarize(deletes), "samples_ms": deletes},
        "consul_put_ack": summarize(put_ms),
        "consul_delete_ack": summarize(del_ms),
        "add_seen_in_gateway_log": summarize(log_add),
        "gateway_build_ms_from_log": summarize(builds),
        "polls_per_add": summarize([float(p) for p in polls_add]),
        "polls_per_delete": summarize([float(p) for p in polls_del]),
        "timeouts": timeouts,
        "unexpected_statuses": dict(poller.unexpected),
        "gateway_cpu_s_during_phase": round(gw.cpu_seconds() - cpu0, 3),
        "wall_s": round(wall, 3),
    }


def measure_changes_log_only(consul: Consul, gw: Gateway, prefix: str, count: int, timeout: float,
                             settle: float) -> dict:
    """Control without client polling: PUT, then wait for the gateway's 'applied' log line."""
    lat, builds, cpu = [], [], []
    for i in range(count):
        key_id = f"logonly-{i:04d}-{secrets.token_hex(4)}"
        n_applied, c0 = len(gw.applied), gw.cpu_seconds()
        t0 = now()
        consul.put(f"{prefix}keys/{key_id}", key_value(secrets.token_hex(24)))
        event = gw.wait_applied(lambda e: True, timeout, n_applied)
        if event:
            lat.append(ms(event["t"] - t0))
            builds.append(event["build_ms"])
        time.sleep(settle)
        cpu.append(ms(gw.cpu_seconds() - c0))  # 10 ms tick resolution
        n_applied = len(gw.applied)
        consul.delete(f"{prefix}keys/{key_id}")
        gw.wait_applied(lambda e: True, timeout, n_applied)
        time.sleep(settle)
    return {"add_seen_in_gateway_log": {**summarize(lat), "samples_ms": lat},
            "gateway_build_ms_from_log": summarize(builds),
            "gateway_cpu_ms_per_change": summarize(cpu)}


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
    script = run_cmd([perf, "script", "-i", str(data), "-F", "tid,time,ip,sym"], timeout=300)
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


# --- the 100k-key tree ---------------------------------------------------------------------------

def probe_txn_limit(consul: Consul, ops: list[tuple[str, str]]) -> dict:
    """Sends 129 and then 128 operations; the 128 are real keys of the tree (rewritten later)."""
    result = {}
    for n in (129, 128):
        status, body = consul.txn(txn_body(ops[:n]))
        result[f"ops_{n}"] = {"http_status": status, "answer": body[:160].decode("utf-8", "replace") if status != 200 else "ok"}
    result["limit"] = 128 if result["ops_128"]["http_status"] == 200 and result["ops_129"]["http_status"] != 200 else None
    return result


def load_tree(consul: Consul, ops: list[tuple[str, str]], batch: int, workers: int, timeout: float) -> dict:
    bodies = [txn_body(ops[i:i + batch]) for i in range(0, len(ops), batch)]
    work: queue.Queue = queue.Queue()
    for b in bodies:
        work.put(b)
    errors: list[str] = []
    max_index = [0]
    last_done = [0.0]
    lock = threading.Lock()
    host, port = consul.http.host, consul.http.port
    deadline = now() + timeout

    def worker() -> None:
        conn = Http(host, port, timeout=60)
        try:
            while now() < deadline and not errors:
                try:
                    body = work.get_nowait()
                except queue.Empty:
                    return
                status, data = consul.txn(body, conn)
                t = now()
                if status != 200:
                    errors.append(f"HTTP {status}: {data[:200]!r}")
                    return
                idx = max(r["KV"]["ModifyIndex"] for r in json.loads(data)["Results"])
                with lock:
                    max_index[0] = max(max_index[0], idx)
                    last_done[0] = max(last_done[0], t)
        finally:
            conn.close()

    t0 = now()
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(1.0, deadline - now()))
    if errors:
        raise BenchError("txn load failed: " + errors[0])
    if not work.empty() or any(t.is_alive() for t in threads):
        raise BenchError(f"txn load did not finish within {timeout}s")
    return {"transactions": len(bodies), "ops_per_txn": batch, "workers": workers,
            "payload_bytes": sum(len(b) for b in bodies), "seconds": round(last_done[0] - t0, 3),
            "keys_per_s": round(len(ops) / (last_done[0] - t0)), "last_index": max_index[0],
            "t_start": t0, "t_last_answer": last_done[0]}


def curl_get(addr: str, path: str, runs: int) -> dict:
    """Raw Consul GET of the prefix with curl: what one gateway fetch costs on the Consul side."""
    samples = []
    for _ in range(runs):
        out = run_cmd(["curl", "-s", "-o", "/dev/null", "--max-time", "60", "-w",
                       "%{http_code} %{time_starttransfer} %{time_total} %{size_download}", addr + path], timeout=70)
        code, ttfb, total, size = out.stdout.split()
        samples.append({"http": int(code), "ttfb_ms": round(float(ttfb) * 1000, 1),
                        "total_ms": round(float(total) * 1000, 1), "bytes": int(size)})
    return {"runs": samples, "total_ms": summarize([s["total_ms"] for s in samples]),
            "ttfb_ms": summarize([s["ttfb_ms"] for s in samples]), "bytes": samples[-1]["bytes"]}


def python_decode_cost(addr: str, prefix: str) -> dict:
    """For scale only: fetch once and decode JSON + base64 in Python (the gateway uses simdjson)."""
    consul = Consul(addr)
    t0 = now()
    status, _, body = consul.http.request("GET", f"/v1/kv/{prefix}?recurse=true")
    t1 = now()
    items = json.loads(body)
    t2 = now()
    for item in items:
        base64.b64decode(item["Value"] or "")
    t3 = now()
    consul.http.close()
    return {"http": status, "get_ms": ms(t1 - t0), "json_parse_ms": ms(t2 - t1), "base64_ms": ms(t3 - t2),
            "entries": len(items), "bytes": len(body)}


# --- machine / versions --------------------------------------------------------------------------

def machine_info() -> dict:
    model = None
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem = next((l.split()[1] for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")), None)
    return {"nproc": os.cpu_count(), "cpu_model": model, "mem_total_kB": int(mem) if mem else None,
            "kernel": os.uname().release, "hostname": socket.gethostname(),
            "python": sys.version.split()[0], "loadavg_at_start": os.getloadavg()}


def versions(consul_bin: str | None, binary: Path) -> dict:
    def git(*args: str) -> str:
        r = run_cmd(["git", "-C", str(ROOT), *args], timeout=30)
        return r.stdout.strip()
    out = {"git_head": git("rev-parse", "HEAD"), "git_head_subject": git("log", "-1", "--format=%s"),
           "git_dirty_paths": [l[3:] for l in git("status", "--porcelain", "--", "src").splitlines()]}
    if consul_bin:
        try:
            out["consul"] = run_cmd([consul_bin, "version"], timeout=30).stdout.splitlines()[0]
        except Exception as e:
            out["consul"] = f"unknown ({e})"
    st = binary.stat()
    out["intake_binary"] = {"path": str(binary), "sha256": hashlib.sha256(binary.read_bytes()).hexdigest(),
                            "mtime": dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc).isoformat()}
    try:  # "kafka running: pid N, 127.0.0.1:19092, kafka 4.4.0"
        status = run_cmd(["bash", Peers.script("kafka"), "status"], timeout=60)
        m = re.search(r"kafka (\S+)\s*$", (status.stdout + status.stderr).strip())
        out["kafka"] = m[1] if m else None
    except Exception as e:
        out["kafka"] = f"unknown ({e})"
    return out


# --- report --------------------------------------------------------------------------------------

def fmt(v, unit="ms") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:,.1f} {unit}" if isinstance(v, float) else f"{v:,} {unit}"


def write_markdown(res: dict, path: Path) -> None:
    rows = res["goals"]
    lines = [
        "# Config propagation (Consul KV -> Intake)",
        "",
        f"{res['date']} on {res['machine']['nproc']} x {res['machine']['cpu_model']}; "
        f"{res['versions'].get('consul', 'consul ?')}; intake at {res['versions']['git_head'][:10]}"
        f"{' (src/ modified)' if res['versions']['git_dirty_paths'] else ''}; Kafka {res['versions'].get('kafka')}; "
        f"load average at start {res['machine']['loadavg_at_start'][0]:.2f}.",
        "",
        f"Command: `{res['command']}`",
        "",
        "| metric | value | goal | met? |",
        "|---|---|---|---|",
    ]
    for r in rows:
        met = "—" if r["met"] is None else ("yes" if r["met"] else "**no**")
        lines.append(f"| {r['metric']} | {r['value']} | {r['goal'] or '—'} | {met} |")
    if res.get("notes"):
        lines += ["", "Notes:", ""] + [f"- {n}" for n in res["notes"]]
    lines += ["", "All numbers and raw samples: `config_propagation.json`. Gateway log: `config_propagation.gateway.log`.", ""]
    path.write_text("\n".join(lines))


def make_notes(res: dict) -> list[str]:
    notes = []
    big = res.get("big_tree") or {}
    a, cold, w = big.get("apply_after_load"), big.get("cold_start"), big.get("write")
    if a and w:
        notes.append(f"The after-load apply ({a['apply_ms']:.0f} ms) starts when the last txn is answered; the gateway "
                     f"was then usually still fetching an older index (it published {a['versions_published_during_load']} "
                     f"versions while the {w['seconds']:.1f} s load ran), so it includes up to one extra fetch. "
                     + (f"A cold start on the finished tree ({cold['applied_ms']:.0f} ms from spawn) is one clean fetch + build."
                        if cold and cold.get("applied_ms") else ""))
    ch, lo = big.get("changes"), big.get("changes_log_only")
    if ch and lo and ch["add"].get("n") and lo["add_seen_in_gateway_log"].get("n"):
        notes.append(f"Client polling competes for the {res['machine']['nproc']} cores with the gateway and Consul: a big-tree "
                     f"add takes p50 {ch['add']['p50_ms']:.0f} ms when a tight POST loop runs (~"
                     f"{ch['polls_per_add'].get('p50_ms', 0):,.0f} requests per change), "
                     f"{lo['add_seen_in_gateway_log']['p50_ms']:.0f} ms from the log line with no polling.")
    prof = big.get("profile")
    if prof and prof.get("median_ms") and prof.get("recv_syscalls_per_fetch"):
        m, raw = prof["median_ms"], big.get("consul_raw_get", {})
        notes.append(f"Each change refetches the whole tree ({raw.get('bytes', 0)/1e6:.1f} MB of JSON; curl gets it in "
                     f"{raw.get('total_ms', {}).get('p50_ms', float('nan')):.0f} ms, first byte at "
                     f"{raw.get('ttfb_ms', {}).get('p50_ms', float('nan')):.0f} ms). The gateway reads it with "
                     f"{prof['recv_syscalls_per_fetch']:,} recv calls of ~{prof.get('bytes_per_recv_call', 0):,} bytes "
                     f"(read phase {m.get('read')} ms), then decodes ({m.get('decode')} ms) and builds ({m.get('build')} ms).")
    return notes


def build_goal_rows(res: dict, goal_p99: float, goal_apply_s: float) -> list[dict]:
    rows = []

    def row(metric, value, goal=None, met=None):
        rows.append({"metric": metric, "value": value, "goal": goal, "met": met})

    small = res.get("small_tree")
    if small:
        n = small["tree_keys"]
        for kind in ("add", "delete"):
            s = small["changes"][kind]
            if s.get("n"):
                row(f"{kind} -> first request sees it, p99 ({s['n']} changes, {n}-key tree)", fmt(s["p99_ms"]),
                    f"<= {goal_p99:g} ms", s["p99_ms"] <= goal_p99)
                row(f"{kind}, p50 / p90 / max", f"{s['p50_ms']:.1f} / {s['p90_ms']:.1f} / {s['max_ms']:.1f} ms")
    big = res.get("big_tree")
    if big:
        a = big.get("apply_after_load")
        if a and a.get("apply_ms") is not None:
            row(f"{big['keys']:,}-key tree: last write answered -> gateway applied it", fmt(a["apply_ms"]),
                f"<= {goal_apply_s:g} s", a["apply_ms"] <= goal_apply_s * 1000)
            row("  gateway's own build time for that version (log)", fmt(a["build_ms"]))
        cold = big.get("cold_start")
        if cold and cold.get("applied_ms") is not None:
            row(f"{big['keys']:,}-key tree: cold start, spawn -> applied (log) / ready", 
                f"{cold['applied_ms']:,.1f} / {cold.get('ready_ms') or float('nan'):,.1f} ms",
                f"<= {goal_apply_s:g} s", cold["applied_ms"] <= goal_apply_s * 1000)
        ch = big.get("changes")
        if ch and ch["add"].get("n"):
            s, d = ch["add"], ch["delete"]
            row(f"single-key add on the big tree -> first request sees it, p99 ({s['n']} changes)", fmt(s["p99_ms"]),
                f"<= {goal_p99:g} ms (goal names no tree size)", s["p99_ms"] <= goal_p99)
            row("  add p50 / max; delete p50 / p99", f"{s['p50_ms']:.1f} / {s['max_ms']:.1f}; "
                f"{d.get('p50_ms', float('nan')):.1f} / {d.get('p99_ms', float('nan')):.1f} ms")
            row("  gateway build per change (log), p50", fmt(ch["gateway_build_ms_from_log"].get("p50_ms")))
        lo = big.get("changes_log_only")
        if lo and lo["add_seen_in_gateway_log"].get("n"):
            s = lo["add_seen_in_gateway_log"]
            row("  same, no client polling: PUT -> gateway 'applied' log line, p50 / p99",
                f"{s['p50_ms']:.1f} / {s['p99_ms']:.1f} ms")
            row("  gateway CPU per change (10 ms ticks), p50", fmt(lo["gateway_cpu_ms_per_change"].get("p50_ms")))
        prof = big.get("profile")
        if prof and prof.get("median_ms"):
            m = prof["median_ms"]
            row(f"  where a big-tree change goes (perf, median of {prof['changes_profiled']}): "
                "Consul / read answer / decode / build = total",
                " / ".join("n/a" if m.get(k) is None else f"{m[k]:.0f}" for k in ("consul", "read", "decode", "build"))
                + f" = {m.get('total') or float('nan'):.0f} ms")
            if prof.get("recv_syscalls_per_fetch"):
                row("  recv() calls per fetch of the tree", f"{prof['recv_syscalls_per_fetch']:,} "
                    f"(~{prof.get('bytes_per_recv_call', 0):,} bytes each)")
        raw = big.get("consul_raw_get")
        if raw:
            row(f"  raw Consul GET ?recurse of the tree (curl, {raw['bytes']/1e6:.1f} MB), p50",
                fmt(raw["total_ms"]["p50_ms"]))
        w = big.get("write")
        if w:
            row(f"writing {big['keys']:,} keys to Consul (txn x{w['ops_per_txn']}, {w['workers']} connections)",
                f"{w['seconds']:.2f} s ({w['keys_per_s']:,} keys/s)")
        mem = big.get("memory")
        if mem and mem.get("bytes_per_key") is not None:
            row("gateway RSS before -> after the big tree (bytes/key)",
                f"{mem['before']['VmRSS_kB']/1024:.1f} -> {mem['after']['VmRSS_kB']/1024:.1f} MiB "
                f"({mem['bytes_per_key']:,.0f} B/key; peak {mem['after']['VmHWM_kB']/1024:.0f} MiB)")
        if cold and cold.get("memory"):
            cm = cold["memory"]
            row("  cold-started gateway on the big tree: RSS (peak)",
                f"{cm['VmRSS_kB']/1024:.1f} MiB ({cm['VmHWM_kB']/1024:.0f} MiB)")
    return rows


# --- main ----------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--changes", type=int, default=200, help="small-tree adds (each followed by a delete)")
    ap.add_argument("--deletes", type=int, default=200, help="how many of those deletes are measured")
    ap.add_argument("--tree-keys", type=int, default=40, help="background keys during the small-tree phase")
    ap.add_argument("--big-keys", type=int, default=100_000)
    ap.add_argument("--big-changes", type=int, default=20, help="single-key adds/deletes on the big tree")
    ap.add_argument("--log-only-changes", type=int, default=10, help="big-tree changes timed from the log, no polling")
    ap.add_argument("--profile-changes", type=int, default=4,
                    help="extra big-tree adds+deletes under perf to split the time (0 = off)")
    ap.add_argument("--workers", type=int, default=4, help="parallel Consul connections for the txn load")
    ap.add_argument("--threads", type=int, default=2, help="gateway server.threads")
    ap.add_argument("--sample-timeout", type=float, default=10.0, help="seconds per change before giving up")
    ap.add_argument("--apply-timeout", type=float, default=180.0)
    ap.add_argument("--settle-ms", type=float, default=10.0, help="pause between changes (outside the clock)")
    ap.add_argument("--binary", default=str(ROOT / "build/release/src/intake"))
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--goal-p99-ms", type=float, default=25.0)
    ap.add_argument("--goal-apply-s", type=float, default=1.0)
    args = ap.parse_args()
    command = " ".join(shlex.quote(a) for a in [Path(sys.executable).name, *sys.argv])

    # SIGTERM / SIGHUP clean up like Ctrl-C.
    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    src_binary = Path(args.binary)
    if not src_binary.is_file():
        raise BenchError(f"no gateway binary at {src_binary}: run `bash scripts/build.sh release`")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    SCRATCH_DIR.mkdir(parents=True, exist_ok=True)
    gateway_log = RESULTS_DIR / "config_propagation.gateway.log"
    gateway_log.write_text("")
    # A private copy: a concurrent rebuild must not swap the binary under a running phase.
    binary = SCRATCH_DIR / "intake"
    shutil.copy2(src_binary, binary)

    peers = Peers()
    gateways: list[Gateway] = []
    consul: Consul | None = None
    prefix = f"bench-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}/"
    res: dict = {"benchmark": "config_propagation",
                 "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                 "command": command, "cwd": os.getcwd(), "machine": machine_info(), "prefix": prefix,
                 "settings": {k: v for k, v in vars(args).items()},
                 "method": {
                     "t0": "just before the Consul PUT/DELETE is sent (time.perf_counter)",
                     "end": "arrival of the first POST /v1/topics/bench.x answering 202 (add) or 401 (delete); "
                            "one keep-alive connection, tight loop, no sleep",
                     "percentiles": "linear interpolation between closest ranks",
                     "apply_after_load": "from the answer to the last /v1/txn of the load to the arrival (on the "
                                         "gateway's stdout pipe) of its 'config: applied ... N keys' line",
                 },
                 "notes": []}
    rc = 0
    try:
        peers.ensure("consul", start_timeout=1200)
        peers.ensure("kafka", start_timeout=600)
        run_dir = intake_run_dir()
        cenv, kenv = read_env_file(run_dir / "consul.env"), read_env_file(run_dir / "kafka.env")
        consul_addr, bootstrap = cenv["INTAKE_CONSUL_ADDR"], kenv["INTAKE_KAFKA_BOOTSTRAP"]
        res["versions"] = versions(cenv.get("INTAKE_CONSUL_BIN"), src_binary)
        res["peers"] = {"consul": consul_addr, "kafka": bootstrap, "started_by_this_run": list(peers.started)}
        consul = Consul(consul_addr)
        res["consul_limits"] = consul.agent_limits()
        log(f"prefix {prefix}; consul {consul_addr}; kafka {bootstrap}; binary {src_binary}")

        # Background keys, written before the gateway starts so its first answer has them.
        fillers = [(f"{prefix}keys/filler-{i:03d}", key_value(f"filler-{prefix}-{i}")) for i in range(args.tree_keys)]
        if fillers:
            status, body = consul.txn(txn_body(fillers))
            if status != 200:
                raise BenchError(f"writing filler keys failed: HTTP {status} {body[:200]!r}")

        gw_cfg = {"port": free_port(), "threads": args.threads, "bootstrap": bootstrap, "consul_addr": consul_addr,
                  "prefix": prefix, "admin_token": secrets.token_hex(16)}
        gw = Gateway(binary, gw_cfg, SCRATCH_DIR, "gateway", gateway_log)
        gateways.append(gw)
        gw.wait_ready(60)
        res["gateway"] = {"port": gw.port, "threads": args.threads, "pid": gw.proc.pid}
        log(f"gateway ready on port {gw.port} (pid {gw.proc.pid})")

        poller = Poller(gw.port)
        # Sanity: a filler key is accepted (Kafka reachable), a random secret is refused.
        if fillers:
            t, _ = poller.until(f"filler-{prefix}-0", 202, 30)
            if t is None:
                raise BenchError(f"a known key never got 202 (statuses seen: {poller.unexpected}); is Kafka up?")
        # Warm-up: a few unmeasured changes (connections, topic creation, first allocations).
        measure_changes(consul, gw, poller, prefix, 5, "warmup", args.sample_timeout, args.settle_ms / 1000, 5)
        poller.unexpected.clear()

        log(f"phase a: {args.changes} adds + deletes on a {args.tree_keys}-key tree")
        res["small_tree"] = {"tree_keys": args.tree_keys,
                             "changes": measure_changes(consul, gw, poller, prefix, args.changes, "small",
                                                        args.sample_timeout, args.settle_ms / 1000, args.deletes)}
        s = res["small_tree"]["changes"]
        log(f"phase a: add p50 {s['add'].get('p50_ms')} p99 {s['add'].get('p99_ms')} ms; "
            f"delete p50 {s['delete'].get('p50_ms')} p99 {s['delete'].get('p99_ms')} ms")

        if not args.skip_big:
            big: dict = {"keys": args.big_keys}
            res["big_tree"] = big
            # Remove the fillers so the tree is exactly the big one.
            n_applied = len(gw.applied)
            consul.delete(f"{prefix}keys/filler-", recurse=True)
            gw.wait_applied(lambda e: e["keys"] == 0, 10, n_applied)
            time.sleep(0.5)
            mem_before = gw.memory()

            tag = secrets.token_hex(4)
            log(f"phase b: generating {args.big_keys:,} keys")
            ops = [(f"{prefix}keys/big-{i:06d}", key_value(f"big-{tag}-{i}")) for i in range(args.big_keys)]
            big["value_bytes_each"] = len(ops[0][1])
            big["txn_limit_probe"] = probe_txn_limit(consul, ops)
            if big["txn_limit_probe"]["limit"] != 128:
                res["notes"].append(f"txn limit probe did not show 128: {big['txn_limit_probe']}")
            batch = big["txn_limit_probe"]["limit"] or 64
            log(f"phase b: writing {args.big_keys:,} keys with /v1/txn ({batch} ops each, {args.workers} connections)")
            n_applied = len(gw.applied)
            w = load_tree(consul, ops, batch, args.workers, timeout=300)
            t_last = w.pop("t_last_answer")
            t_load0 = w.pop("t_start")
            big["write"] = w
            log(f"phase b: written in {w['seconds']} s ({w['keys_per_s']:,} keys/s), last index {w['last_index']}")
            event = gw.wait_applied(lambda e: e["keys"] == args.big_keys, args.apply_timeout, n_applied)
            if event is None:
                raise BenchError(f"gateway did not apply {args.big_keys} keys within {args.apply_timeout}s")
            during = [e for e in gw.applied[n_applied:] if e["t"] <= event["t"]]
            big["apply_after_load"] = {
                "apply_ms": ms(event["t"] - t_last), "build_ms": event["build_ms"], "version": event["version"],
                "revision": event["revision"], "revision_matches_last_index": event["revision"] == str(w["last_index"]),
                "versions_published_during_load": len(during),
                "builds_during_load_ms": summarize([e["build_ms"] for e in during]),
                "load_start_to_applied_ms": ms(event["t"] - t_load0),
            }
            # If the apply happened at a revision below the last index, the last txn's keys were
            # already in an earlier answer (can only happen if the gateway raced ahead).
            time.sleep(1.0)
            mem_after = gw.memory()
            big["memory"] = {"before": mem_before, "after": mem_after,
                             "bytes_per_key": round((mem_after["VmRSS_kB"] - mem_before["VmRSS_kB"]) * 1024 / args.big_keys)}
            log(f"phase b: applied {ms(event['t'] - t_last)} ms after the last write (build {event['build_ms']} ms); "
                f"RSS {mem_before['VmRSS_kB']//1024} -> {mem_after['VmRSS_kB']//1024} MiB")

            cfg, size, took = gw.admin_config()
            big["admin_config"] = {"version": cfg.get("version"), "revision": cfg.get("revision"),
                                   "keys": len(cfg.get("keys", [])), "bytes": size, "get_ms": ms(took),
                                   "counters": cfg.get("counters"), "sources": cfg.get("sources")}
            if len(cfg.get("keys", [])) != args.big_keys:
                res["notes"].append(f"/admin/config lists {len(cfg.get('keys', []))} keys, expected {args.big_keys}")

            log("phase b: raw Consul GET of the tree (curl x5) and a Python decode for scale")
            big["consul_raw_get"] = curl_get(consul_addr, f"/v1/kv/{prefix}?recurse=true", 5)
            big["python_decode_for_scale"] = python_decode_cost(consul_addr, prefix)

            log(f"phase b: {args.big_changes} single-key adds + deletes on the big tree")
            poller.unexpected.clear()
            big["changes"] = measure_changes(consul, gw, poller, prefix, args.big_changes, "bigchg",
                                             args.sample_timeout * 3, 0.05, args.big_changes)
            if args.log_only_changes:
                log(f"phase b: {args.log_only_changes} changes timed from the gateway log (no polling)")
                big["changes_log_only"] = measure_changes_log_only(consul, gw, prefix, args.log_only_changes,
                                                                   args.sample_timeout * 3, 0.2)

            if args.profile_changes:
                log(f"phase b: {args.profile_changes} adds + deletes under perf (where the time goes)")
                prof = profile_changes(consul, gw, prefix, args.profile_changes, args.sample_timeout * 3, SCRATCH_DIR)
                big["profile"] = prof
                per_fetch = prof.get("recv_syscalls_per_fetch")
                if per_fetch:
                    prof["bytes_per_recv_call"] = round(big["consul_raw_get"]["bytes"] / per_fetch)

            log("phase b: cold start of a second gateway on the big tree")
            gw2_cfg = dict(gw_cfg, port=free_port(), admin_token=secrets.token_hex(16))
            gw2 = Gateway(binary, gw2_cfg, SCRATCH_DIR, "gateway-cold", gateway_log)
            gateways.append(gw2)
            ev2 = gw2.wait_applied(lambda e: e["keys"] == args.big_keys, args.apply_timeout)
            ready_at = gw2.wait_ready(args.apply_timeout) if ev2 else None
            big["cold_start"] = {
                "applied_ms": ms(ev2["t"] - gw2.spawned_at) if ev2 else None,
                "ready_ms": ms(ready_at - gw2.spawned_at) if ready_at else None,
                "build_ms": ev2["build_ms"] if ev2 else None,
                "memory": gw2.memory() if gw2.proc.poll() is None else None,
            }
            gw2.stop()
            gateways.remove(gw2)
            log(f"phase b: cold start applied in {big['cold_start']['applied_ms']} ms "
                f"(build {big['cold_start']['build_ms']} ms)")
    except KeyboardInterrupt as e:
        log(f"interrupted ({e}); cleaning up")
        res["notes"].append(f"interrupted: {e}")
        rc = 130
    except BenchError as e:
        log(f"ERROR: {e}")
        res["error"] = str(e)
        rc = 1
    finally:
        for g in gateways:
            try:
                g.stop()
            except Exception as e:
                log(f"stopping gateway {g.name}: {e}")
        if consul is not None:
            try:
                consul.delete(prefix, recurse=True)
                log(f"deleted {prefix} from Consul")
            except Exception as e:
                log(f"could not delete {prefix} from Consul: {e}")
        peers.stop_started()
        shutil.rmtree(SCRATCH_DIR, ignore_errors=True)

    res["goals"] = build_goal_rows(res, args.goal_p99_ms, args.goal_apply_s)
    try:
        res["notes"] += make_notes(res)
    except Exception as e:  # a note must never lose the results
        res["notes"].append(f"(notes failed: {e})")
    if "error" in res:
        res["notes"].append("run failed: " + res["error"])
    res["machine"]["loadavg_at_end"] = os.getloadavg()
    out_json = RESULTS_DIR / "config_propagation.json"
    out_json.write_text(json.dumps(res, indent=2) + "\n")
    write_markdown(res, RESULTS_DIR / "config_propagation.md")
    log(f"wrote {out_json.relative_to(ROOT)} and config_propagation.md")
    print((RESULTS_DIR / "config_propagation.md").read_text())
    return rc


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        log(f"ERROR: {e}")
        sys.exit(1)
