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
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = ROOT / "bench" / "results"
SCRATCH_DIR = BENCH_DIR / ".run"  # config + binary copy for this run; removed at the end
TOPIC = "bench.x"
ALL_BACKENDS = ("consul", "etcd", "zookeeper", "file")
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


class ConsulReg:
    """Small-tree adapter: keys relative to the prefix (keys/<id>)."""
    name = "consul"

    def __init__(self, consul: Consul, prefix: str) -> None:
        self.consul, self.prefix = consul, prefix

    def source_yaml(self) -> str:
        return f'  consul: {{address: "{self.consul.addr}", prefix: "{self.prefix}", wait_ms: 300000}}\n'

    def load(self, entries: list[tuple[str, str]]) -> None:
        if entries:
            status, body = self.consul.txn(txn_body([(self.prefix + k, v) for k, v in entries]))
            if status != 200:
                raise BenchError(f"writing filler keys failed: HTTP {status} {body[:200]!r}")

    def put(self, rel: str, value: str) -> None:
        self.consul.put(self.prefix + rel, value)

    def delete(self, rel: str) -> None:
        self.consul.delete(self.prefix + rel)

    def cleanup(self) -> None:
        self.consul.delete(self.prefix, recurse=True)

    def version(self) -> str | None:
        return None  # reported from the consul binary in versions()


class EtcdReg:
    """etcd v3 JSON gateway over one keep-alive connection."""
    name = "etcd"

    def __init__(self, addr: str, prefix: str) -> None:
        rest = addr.split("://", 1)[-1].rstrip("/")
        host, port = rest.rsplit(":", 1)
        self.addr, self.prefix = addr.rstrip("/"), prefix
        self.http = Http(host, int(port), timeout=60)

    @staticmethod
    def _b64(s: str) -> str:
        return base64.b64encode(s.encode()).decode()

    def _post(self, path: str, body: dict) -> dict:
        status, _, data = self.http.request("POST", path, json.dumps(body).encode(), {"Content-Type": "application/json"})
        if status != 200:
            raise BenchError(f"etcd {path}: HTTP {status} {data[:200]!r}")
        return json.loads(data)

    def source_yaml(self) -> str:
        return f'  etcd: {{address: "{self.addr}", prefix: "{self.prefix}"}}\n'

    def load(self, entries: list[tuple[str, str]]) -> None:
        for k, v in entries:
            self.put(k, v)

    def put(self, rel: str, value: str) -> None:
        self._post("/v3/kv/put", {"key": self._b64(self.prefix + rel), "value": self._b64(value)})

    def delete(self, rel: str) -> None:
        self._post("/v3/kv/deleterange", {"key": self._b64(self.prefix + rel)})

    def cleanup(self) -> None:
        end = self.prefix[:-1] + chr(ord(self.prefix[-1]) + 1)
        self._post("/v3/kv/deleterange", {"key": self._b64(self.prefix), "range_end": self._b64(end)})
        self.http.close()

    def version(self) -> str | None:
        status, _, data = self.http.request("GET", "/version")
        return "etcd " + json.loads(data).get("etcdserver", "?") if status == 200 else None


class ZooKeeperReg:
    """kazoo (pip install kazoo). <root>, <root>/keys and the first key are created in one transaction:
    an empty childless znode would be an entry, which the gateway rejects."""
    name = "zookeeper"

    def __init__(self, hosts: str, root: str) -> None:
        try:
            from kazoo.client import KazooClient
        except ImportError:
            log("kazoo missing; installing it with pip (python3 -m pip install --quiet kazoo)")
            run_cmd([sys.executable, "-m", "pip", "install", "--quiet", "kazoo"], timeout=300, check=True)
            from kazoo.client import KazooClient
        self.hosts, self.root = hosts, root.rstrip("/")
        self.zk = KazooClient(hosts=hosts, timeout=15)
        self.zk.start(timeout=30)

    def source_yaml(self) -> str:
        return f'  zookeeper: {{hosts: "{self.hosts}", root: "{self.root}"}}\n'

    def load(self, entries: list[tuple[str, str]]) -> None:
        if not entries:
            raise BenchError("zookeeper needs at least one background key (--tree-keys >= 1)")
        txn = self.zk.transaction()
        txn.create(self.root, b"")
        txn.create(self.root + "/keys", b"")
        txn.create(f"{self.root}/{entries[0][0]}", entries[0][1].encode())
        results = txn.commit()
        if any(isinstance(r, Exception) for r in results):
            raise BenchError(f"zookeeper: creating {self.root} failed: {results}")
        for k, v in entries[1:]:
            self.put(k, v)

    def put(self, rel: str, value: str) -> None:
        self.zk.create(f"{self.root}/{rel}", value.encode())

    def delete(self, rel: str) -> None:
        self.zk.delete(f"{self.root}/{rel}")

    def cleanup(self) -> None:
        try:
            self.zk.delete(self.root, recursive=True)
        finally:
            self.zk.stop()
            self.zk.close()

    def version(self) -> str | None:
        try:
            return "ZooKeeper " + ".".join(str(x) for x in self.zk.server_version())
        except Exception:  # 'envi' four-letter word not whitelisted: the installed package's version
            r = run_cmd(["dpkg-query", "-W", "-f", "${Version}", "zookeeper"], timeout=30)
            return f"ZooKeeper {r.stdout.strip()} (package)" if r.returncode == 0 and r.stdout.strip() else None


class FileReg:
    """A YAML file (relative key -> JSON string), rewritten whole and replaced atomically (temp + rename)."""
    name = "file"

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.path = directory / "registry.yaml"
        self.entries: dict[str, str] = {}

    def _write(self) -> None:
        tmp = self.dir / ".registry.yaml.tmp"
        # json.dumps of a string is a valid YAML double-quoted scalar, so the value stays a string.
        tmp.write_text("".join(f"{json.dumps(k)}: {json.dumps(v)}\n" for k, v in self.entries.items()) or "{}\n")
        os.replace(tmp, self.path)

    def source_yaml(self) -> str:
        return f'  file: {{path: "{self.path}"}}\n'

    def load(self, entries: list[tuple[str, str]]) -> None:
        self.entries.update(entries)
        self._write()

    def put(self, rel: str, value: str) -> None:
        self.entries[rel] = value
        self._write()

    def delete(self, rel: str) -> None:
        del self.entries[rel]
        self._write()

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def version(self) -> str | None:
        return None


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
            f"  source: {config['source']}\n"
            "  on_unreachable_at_start: wait\n"
            + config["source_yaml"] +
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


def measure_changes(reg, gw: Gateway, poller: Poller, count: int, tag: str,
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
        reg.put(f"keys/{key_id}", value)
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
        reg.delete(f"keys/{key_id}")
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
        "registry_put_ack": summarize(put_ms),
        "registry_delete_ack": summarize(del_ms),
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


def load_previous(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except Exception:
        return {}


def keep_previous(res: dict, prev: dict) -> None:
    """Backends not run now (and the 100k part, if not run now) keep the previous file's numbers,
    each marked with the run they come from. Understands the older Consul-only layout too."""
    if not prev:
        return
    origin = {"date": prev.get("date"), "command": prev.get("command"),
              "loadavg_at_start": (prev.get("machine") or {}).get("loadavg_at_start"),
              "intake_git_head": (prev.get("versions") or {}).get("git_head")}
    old_backends = dict(prev.get("backends") or {})
    if not old_backends and prev.get("small_tree"):  # the Consul-only layout
        old_backends["consul"] = {"small_tree": prev["small_tree"], "version": (prev.get("versions") or {}).get("consul"),
                                  "loadavg_at_start": origin["loadavg_at_start"], "gateway": prev.get("gateway")}
    for name, section in old_backends.items():
        if name in res["backends"] or not section.get("small_tree"):
            continue
        section = dict(section)
        if section.get("from_run") in (None, "this run"):
            section["from_run"] = origin
        res["backends"][name] = section
    if not res.get("big_tree") and prev.get("big_tree"):
        big = dict(prev["big_tree"])
        if big.get("from_run") in (None, "this run"):
            big["from_run"] = origin
        res["big_tree"] = big
        if "consul_limits" not in res and prev.get("consul_limits"):
            res["consul_limits"] = prev["consul_limits"]


def run_label(from_run) -> str:
    if from_run in (None, "this run"):
        return "this run"
    return f"kept from {from_run.get('date')}"


# --- report --------------------------------------------------------------------------------------

def fmt(v, unit="ms") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:,.1f} {unit}" if isinstance(v, float) else f"{v:,} {unit}"


def write_markdown(res: dict, path: Path, goal_p99: float) -> None:
    m, v = res["machine"], res.get("versions", {})
    load_end = m.get("loadavg_at_end") or [float("nan")]
    lines = [
        "# Config propagation (registry -> Intake)",
        "",
        f"{res['date']} on {m['nproc']} x {m['cpu_model']}; intake at {v.get('git_head', '?')[:10]}"
        f"{' (src/ modified)' if v.get('git_dirty_paths') else ''}; Kafka {v.get('kafka')}; "
        f"load average (1 min) at start / end {m['loadavg_at_start'][0]:.2f} / {load_end[0]:.2f} "
        "(2 cores; other work, e.g. CI, may run concurrently: numbers are noisy).",
        "",
        f"Command: `{res['command']}` (backends run: {', '.join(res.get('backends_run', []))})",
        "",
        "## Small tree: registry write -> first gateway request that sees it",
        "",
        "| backend | version | operation | n | p50 | p90 | p99 | max | p99 goal | met? | timeouts | load avg at start | run |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in ALL_BACKENDS:
        sec = res.get("backends", {}).get(name)
        if not sec:
            continue
        if not sec.get("small_tree"):
            lines.append(f"| {name} | {sec.get('version') or '—'} | — | — | — | — | — | — | — | — | — | — | "
                         f"failed: {sec.get('error', '?')[:120]} |")
            continue
        ch, load = sec["small_tree"]["changes"], sec.get("loadavg_at_start")
        load_s = f"{load[0]:.2f}" if load else "—"
        for kind, what in (("add", "add -> first 202"), ("delete", "delete -> first 401")):
            s = ch[kind]
            if not s.get("n"):
                continue
            lines.append(
                f"| {name} | {sec.get('version') or '—'} | {what} ({sec['small_tree']['tree_keys']}-key tree) | {s['n']} | "
                + " | ".join(f"{s[k]:.1f} ms" for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms"))
                + f" | <= {goal_p99:g} ms | {'yes' if s['p99_ms'] <= goal_p99 else '**no**'} | {ch['timeouts'][kind]} | "
                f"{load_s} | {run_label(sec.get('from_run'))} |")
    big = res.get("big_tree")
    if res["goals"]:
        lines += ["", f"## Consul, 100k-key tree ({run_label(big.get('from_run') if big else None)}"
                      + (f", command `{big['from_run'].get('command')}`, load average at start "
                         f"{(big['from_run'].get('loadavg_at_start') or [float('nan')])[0]:.2f}"
                         if big and isinstance(big.get("from_run"), dict) else "") + ")",
                  "", "| metric | value | goal | met? |", "|---|---|---|---|"]
        for r in res["goals"]:
            met = "—" if r["met"] is None else ("yes" if r["met"] else "**no**")
            lines.append(f"| {r['metric']} | {r['value']} | {r['goal'] or '—'} | {met} |")
    if res.get("notes"):
        lines += ["", "Notes:", ""] + [f"- {n}" for n in res["notes"]]
    lines += ["", "All numbers and raw samples (per backend under `backends`): `config_propagation.json`. "
              "Gateway log of this run: `config_propagation.gateway.log`.", ""]
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
    if big and isinstance(big.get("from_run"), dict):
        notes.append(f"The 100k-key numbers (and the notes on them below) are from the run of {big['from_run']['date']} "
                     f"(`{big['from_run']['command']}`), not this one.")
    if "file" in res.get("backends", {}):
        notes.append("file: the gateway re-reads the file 10 ms after the last inotify event (its documented "
                     "debounce, src/sources/file.h), so ~10 ms is the floor for that source.")
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


def run_big(args, res: dict, consul: Consul, gw: "Gateway", gw_cfg: dict, prefix: str, poller: "Poller",
            binary: Path, gateways: list) -> None:
    """Phase b (Consul only): the 100k-key tree."""
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
    big["consul_raw_get"] = curl_get(consul.addr, f"/v1/kv/{prefix}?recurse=true", 5)
    big["python_decode_for_scale"] = python_decode_cost(consul.addr, prefix)

    log(f"phase b: {args.big_changes} single-key adds + deletes on the big tree")
    poller.unexpected.clear()
    big["changes"] = measure_changes(ConsulReg(consul, prefix), gw, poller, args.big_changes, "bigchg",
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
    gw2 = Gateway(binary, gw2_cfg, SCRATCH_DIR, "gateway-cold", RESULTS_DIR / "config_propagation.gateway.log")
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
    ap.add_argument("--skip-big", action="store_true",
                    help="no 100k-key part (the previous run's numbers are kept, marked with their run)")
    ap.add_argument("--backends", default=",".join(ALL_BACKENDS),
                    help="comma-separated subset of consul,etcd,zookeeper,file (default: all). Backends not run "
                         "keep their previous results, marked with their run; the 100k part is Consul only")
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

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = [b for b in backends if b not in ALL_BACKENDS]
    if unknown or not backends:
        raise BenchError(f"--backends: unknown {unknown}; choose from {','.join(ALL_BACKENDS)}")
    previous = load_previous(RESULTS_DIR / "config_propagation.json")

    peers = Peers()
    gateways: list[Gateway] = []
    regs: list = []  # registries with something of ours in them, cleaned up at the end
    run_id = f"bench-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
    prefix = run_id + "/"
    res: dict = {"benchmark": "config_propagation",
                 "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                 "command": command, "cwd": os.getcwd(), "machine": machine_info(), "prefix": prefix,
                 "backends_run": backends,
                 "settings": {k: v for k, v in vars(args).items()},
                 "method": {
                     "t0": "just before the registry write is sent (Consul PUT/DELETE, etcd /v3/kv/put|deleterange, "
                           "ZooKeeper create/delete via kazoo, file: temp file written + rename) (time.perf_counter)",
                     "end": "arrival of the first POST /v1/topics/bench.x answering 202 (add) or 401 (delete); "
                            "one keep-alive connection, tight loop, no sleep",
                     "percentiles": "linear interpolation between closest ranks",
                     "apply_after_load": "from the answer to the last /v1/txn of the load to the arrival (on the "
                                         "gateway's stdout pipe) of its 'config: applied ... N keys' line",
                 },
                 "backends": {},
                 "notes": []}
    rc = 0
    run_dir: Path | None = None
    bootstrap = ""

    def run_backend(name: str) -> None:
        """Phase a for one backend (and phase b on Consul): its own registry namespace and gateway."""
        section: dict = {"from_run": "this run", "loadavg_at_start": os.getloadavg(),
                         "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        res["backends"][name] = section
        consul = None
        if name == "file":
            reg = FileReg(Path(tempfile.mkdtemp(prefix="intake-bench-file-")))
            section["registry"] = {"path": str(reg.path), "write": "whole YAML rewritten, temp file + rename"}
        else:
            peers.ensure(name, start_timeout=1200)
            env = read_env_file(run_dir / f"{name}.env")
            if name == "consul":
                consul = Consul(env["INTAKE_CONSUL_ADDR"])
                reg = ConsulReg(consul, prefix)
                res["consul_limits"] = consul.agent_limits()
                section["registry"] = {"address": consul.addr, "prefix": prefix}
                try:
                    section["version"] = run_cmd([env["INTAKE_CONSUL_BIN"], "version"], timeout=30).stdout.splitlines()[0]
                except Exception as e:
                    section["version"] = f"unknown ({e})"
            elif name == "etcd":
                reg = EtcdReg(env["INTAKE_ETCD_ENDPOINT"], prefix)
                section["registry"] = {"address": reg.addr, "prefix": prefix}
            else:
                reg = ZooKeeperReg(env["INTAKE_ZK_HOSTS"], "/" + run_id)
                section["registry"] = {"hosts": reg.hosts, "root": reg.root, "client": "kazoo"}
        regs.append(reg)
        section.setdefault("version", reg.version())
        log(f"[{name}] registry {section['registry']}; kafka {bootstrap}")

        # Background keys, written before the gateway starts so its first answer has them.
        fillers = [(f"keys/filler-{i:03d}", key_value(f"filler-{run_id}-{i}")) for i in range(args.tree_keys)]
        reg.load(fillers)

        gw_cfg = {"port": free_port(), "threads": args.threads, "bootstrap": bootstrap, "source": name,
                  "source_yaml": reg.source_yaml(), "admin_token": secrets.token_hex(16)}
        gw = Gateway(binary, gw_cfg, SCRATCH_DIR, f"gateway-{name}", gateway_log)
        gateways.append(gw)
        gw.wait_ready(60)
        section["gateway"] = {"port": gw.port, "threads": args.threads, "pid": gw.proc.pid}
        log(f"[{name}] gateway ready on port {gw.port} (pid {gw.proc.pid})")

        poller = Poller(gw.port)
        # Sanity: a filler key is accepted (Kafka reachable).
        if fillers:
            t, _ = poller.until(f"filler-{run_id}-0", 202, 30)
            if t is None:
                raise BenchError(f"[{name}] a known key never got 202 (statuses seen: {poller.unexpected}); is Kafka up?")
        # Warm-up: a few unmeasured changes (connections, topic creation, first allocations).
        measure_changes(reg, gw, poller, 5, "warmup", args.sample_timeout, args.settle_ms / 1000, 5)
        poller.unexpected.clear()

        log(f"[{name}] phase a: {args.changes} adds + deletes on a {args.tree_keys}-key tree")
        section["small_tree"] = {"tree_keys": args.tree_keys,
                                 "changes": measure_changes(reg, gw, poller, args.changes, "small",
                                                            args.sample_timeout, args.settle_ms / 1000, args.deletes)}
        section["loadavg_at_end"] = os.getloadavg()
        s = section["small_tree"]["changes"]
        log(f"[{name}] phase a: add p50 {s['add'].get('p50_ms')} p99 {s['add'].get('p99_ms')} ms; "
            f"delete p50 {s['delete'].get('p50_ms')} p99 {s['delete'].get('p99_ms')} ms")

        if name == "consul" and not args.skip_big:
            run_big(args, res, consul, gw, dict(gw_cfg), prefix, poller, binary, gateways)
            res["big_tree"]["from_run"] = "this run"
        poller.http.close()
        gw.stop()
        gateways.remove(gw)
        reg.cleanup()
        regs.remove(reg)
        log(f"[{name}] done; removed its keys")

    try:
        peers.ensure("kafka", start_timeout=600)
        run_dir = intake_run_dir()
        bootstrap = read_env_file(run_dir / "kafka.env")["INTAKE_KAFKA_BOOTSTRAP"]
        consul_env = run_dir / "consul.env"
        res["versions"] = versions(read_env_file(consul_env).get("INTAKE_CONSUL_BIN")
                                   if "consul" in backends and consul_env.exists() else None, src_binary)
        res["peers"] = {"kafka": bootstrap}
        log(f"backends {backends}; prefix/root {run_id}; kafka {bootstrap}; binary {src_binary}")
        for name in backends:
            try:
                run_backend(name)
            except BenchError as e:
                log(f"[{name}] ERROR: {e}")
                res["backends"][name]["error"] = str(e)
                res["notes"].append(f"{name}: run failed: {e}")
                rc = 1
            finally:
                for g in list(gateways):  # a failed backend's gateway must not outlive it
                    try:
                        g.stop()
                    except Exception as e:
                        log(f"stopping gateway {g.name}: {e}")
                    gateways.remove(g)
        res["peers"]["started_by_this_run"] = list(peers.started)
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
        for reg in regs:
            try:
                reg.cleanup()
                log(f"removed this run's keys from {reg.name}")
            except Exception as e:
                log(f"could not remove this run's keys from {reg.name}: {e}")
        peers.stop_started()
        shutil.rmtree(SCRATCH_DIR, ignore_errors=True)

    keep_previous(res, previous)
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
    write_markdown(res, RESULTS_DIR / "config_propagation.md", args.goal_p99_ms)
    log(f"wrote {out_json.relative_to(ROOT)} and config_propagation.md")
    print((RESULTS_DIR / "config_propagation.md").read_text())
    return rc


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        log(f"ERROR: {e}")
        sys.exit(1)
