#!/usr/bin/env python3
"""Intake side by side with the seed's own stack (nginx + lua-resty-kafka) and the physical floor.

    scripts/bench.sh peer              full run (about 8 min on 2 cores): builds Release, then this
    python3 bench/peer/run.py --smoke --out-dir DIR --intake BIN --bare-producer BIN --topic-tool BIN
                                       smoke (~1 min, tiny load): the test suite's check that the
                                       harness still works; never judges performance

Systems, each started alone, one after the other, under the same wrk load (bench/peer/post_record.lua,
loopback, fixed connections, bounded duration, warm-up into a separate topic and not counted):
  intake_async        Intake, POST /v1/topics/{t}                  one record per request, 202 at enqueue
  seed_async          nginx + lua-resty-kafka, POST /async/{t}     one record, 202 once in the ring buffer
  nginx_bare          nginx `return 202`, no Lua, no Kafka         the cost of HTTP on this machine
  intake_sync         Intake, POST /v1/topics/{t}?sync=true        200 once Kafka acknowledged
  seed_sync           nginx + lua-resty-kafka, POST /sync/{t}      200 once Kafka answered
  intake_ndjson_100   Intake, POST /v1/topics/{t}/records          100 records per request
  intake_ndjson_1000  the same, 1,000 records per request
  bare_producer       bench/peer/bare_producer.cc: librdkafka alone, Intake's producer settings
Every round runs every system (the order rotates from round to round); the report gives the median
over rounds and the spread. Per system and round: requests and records per second, server
CPU-seconds from /proc/<pid>/stat (all threads; nginx master + workers), requests per CPU-second,
wrk's p50/p90/p99/p99.9 latency, non-2xx, RSS idle / under load (peak) / after, and the records
found in Kafka afterwards (read back with topic_tool; an answered-OK record that is not there is
lost). Besides: the CPU wrk, the broker and everything else on the machine used in the same window,
and the load average sampled every second. After the rounds: perf record -g of Intake under the
async load (top costs by library and by function).

Output: <out-dir>/<date>-peer.json (everything), <date>-peer.png (chart), <date>-peer.perf.txt
(perf report); with --benchmarks FILE the peer section of that Markdown file is rewritten
(bench/peer/report.py). Exit code: 0 unless the harness itself broke (a server did not start, wrk
did not run or got no 2xx at all, Kafka could not be read, the JSON was not written) -- never
because of a performance figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PEER_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(PEER_DIR))
sys.path.insert(1, str(PEER_DIR.parent))  # bench/: the common package
import report  # noqa: E402  (bench/peer/report.py)
from common.errors import BenchError  # noqa: E402
from common.lifecycle import RunOutcome, exit_with, interrupt_on_stop_signals  # noqa: E402
from common.log import logger  # noqa: E402
from common.machine import cpu_model, mem_total_kb  # noqa: E402
from common.paths import REPO_ROOT as ROOT  # noqa: E402
from common.peers import PeerScript, intake_run_dir, read_env_file  # noqa: E402
from common.process import CLK_TCK, free_port, proc_cpu_s, run_cmd, wait_until_ready  # noqa: E402

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
RECORD_BYTES = 175
ID_WIDTH = 13  # "<thread 2>-<counter 10>", as post_record.lua and bare_producer.cc write it
now = time.monotonic
log = logger("bench peer")


def http_json(url: str, timeout: float = 5.0) -> dict:
    import urllib.request
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


def record_template() -> tuple[str, str]:
    """A 175-byte JSON record around a fixed-width id: (text before the id, text after it)."""
    head = '{"event":"page_view","user_id":421337,"session":"7c9e6679-7425-40de-944b-e07fc1f90ae7",' \
           '"page":"/products/42?ref=home","ua":"'
    tail = '","id":"'
    suffix = '"}'
    ua_room = RECORD_BYTES - len(head) - len(tail) - ID_WIDTH - len(suffix)
    ua = ("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0 " * 3)[:ua_room]
    prefix = head + ua + tail
    assert len(prefix) + ID_WIDTH + len(suffix) == RECORD_BYTES
    return prefix, suffix


# --- /proc readings ------------------------------------------------------------------------------

def proc_rss_kb(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB
    except OSError:
        return 0


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def machine_busy_s() -> float:
    """CPU-seconds the whole machine spent busy since boot (all cores; /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


class LoadSampler:
    """Samples /proc/loadavg every second for the whole run: (time, 1-min load, runnable)."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            parts = Path("/proc/loadavg").read_text().split()
            self.samples.append((now(), float(parts[0]), int(parts[3].split("/")[0])))
            self._stop.wait(1.0)

    def start(self) -> "LoadSampler":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def window(self, t0: float, t1: float) -> dict:
        inside = [s for s in self.samples if t0 <= s[0] <= t1]
        if not inside:
            return {"n": 0}
        loads = [s[1] for s in inside]
        return {"n": len(inside), "load1_mean": round(statistics.fmean(loads), 2), "load1_max": max(loads),
                "runnable_mean": round(statistics.fmean(s[2] for s in inside), 1)}


class RssSampler:
    """Peak RSS of a server's processes while the load runs (every 0.25 s)."""

    def __init__(self, pids_fn) -> None:
        self.pids_fn = pids_fn
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, sum(proc_rss_kb(p) for p in self.pids_fn()))
            self._stop.wait(0.25)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)


# --- peers and servers ---------------------------------------------------------------------------

class Kafka:
    """A Kafka 3.9.2 instance of our own, through scripts/peers/kafka.sh; stopped at the end only
    if this run started it."""

    def __init__(self, instance: str, port: int, controller_port: int, version: str) -> None:
        self.peer = PeerScript("kafka", {"KAFKA_VERSION": version, "KAFKA_INSTANCE": instance,
                                         "KAFKA_PORT": str(port), "KAFKA_CONTROLLER_PORT": str(controller_port)})
        self.instance, self.version = instance, version
        self.bootstrap = f"127.0.0.1:{port}"

    def ensure(self) -> None:
        status = self.peer.status()
        if status.returncode == 0 and f"kafka {self.version}" in status.stdout:
            log(f"kafka: {self.instance} already running ({status.stdout.strip()}); left running at the end")
        else:
            if status.returncode == 0:
                raise BenchError(f"{self.instance} runs another Kafka version: {status.stdout.strip()}")
            log(f"kafka: starting {self.instance} ({self.version}) on {self.bootstrap}")
            self.peer.start(timeout=180)
        self.pid = int((intake_run_dir() / self.instance / f"{self.instance}.pid").read_text())

    def cpu_s(self) -> float:
        return proc_cpu_s(self.pid)

    def stop_if_started(self) -> None:
        if self.peer.started:
            log(f"kafka: stopping {self.instance} (this run started it)")
            self.peer.stop_if_started()


class IntakeServer:
    SECRET = "bench-peer-secret"

    def __init__(self, binary: Path, scratch: Path, bootstrap: str, threads: int, name: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config_text = (
            "# Written by bench/peer/run.py for one measurement.\n"
            f'server: {{listen: "127.0.0.1:{self.port}", threads: {threads}}}\n'
            f'kafka: {{bootstrap_servers: "{bootstrap}"}}   # defaults: idempotent, acks=all, lz4, linger 5 ms\n'
            "config: {source: none}\n"
            "keys:\n"
            f"  bench: {{secret_sha256: {hashlib.sha256(self.SECRET.encode()).hexdigest()}, topics: [\"peer.*\"]}}\n")
        config = scratch / f"{name}.yaml"
        config.write_text(self.config_text)
        self.log_path = scratch / f"{name}.log"
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen([str(binary), "run", "--config", str(config)], stdin=subprocess.DEVNULL,
                                     stdout=self.log_file, stderr=subprocess.STDOUT)
        state = wait_until_ready(self.port, self.proc, 60, 0.05)
        if state == "exited":
            raise BenchError(f"intake exited with {self.proc.returncode} during start; log {self.log_path}:\n"
                             + self.log_path.read_text(errors="replace")[-2000:])
        if state == "timeout":
            self.stop()
            raise BenchError(f"intake not ready (GET /readyz) within 60 s; log {self.log_path}")
        self.authorization = f"Bearer {self.SECRET}"

    def pids(self) -> list[int]:
        return [self.proc.pid]

    def stats(self) -> dict:
        return {}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # drains: queued records are flushed first
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                log(f"intake pid {self.proc.pid} did not stop in 40 s; killing it")
                self.proc.kill()
                self.proc.wait(10)
        self.log_file.close()


class SeedServer:
    """nginx (+ lua-resty-kafka in kafka mode) through bench/peer/seed_stack.sh."""

    def __init__(self, mode: str, instance: str, port: int, bootstrap: str, workers: int, knobs: dict) -> None:
        self.script = str(PEER_DIR / "seed_stack.sh")
        self.mode = mode
        self.env = {"SEED_MODE": mode, "SEED_INSTANCE": instance, "SEED_PORT": str(port), "SEED_KAFKA": bootstrap,
                    "SEED_WORKERS": str(workers), **{k: str(v) for k, v in knobs.items()}}
        run_cmd(["bash", self.script, "start"], timeout=60, env=self.env)
        env = read_env_file(intake_run_dir() / f"{instance}.env")
        prefix = "INTAKE_" + instance.upper().replace("-", "_")
        self.url = env[prefix + "_URL"]
        self.master = int(Path(env[prefix + "_PIDFILE"]).read_text())
        self.run_dir = intake_run_dir() / instance
        self.authorization = ""

    def pids(self) -> list[int]:
        return [self.master] + children(self.master)

    def stats(self) -> dict:
        if self.mode != "kafka":
            return {}
        try:
            return http_json(self.url + "/stats")
        except OSError as e:
            return {"error": str(e)}

    def error_log_tail(self) -> list[str]:
        try:
            lines = (self.run_dir / "error.log").read_text(errors="replace").splitlines()
        except OSError:
            return []
        return lines[-5:]

    def stop(self) -> None:
        run_cmd(["bash", self.script, "stop"], timeout=60, env=self.env, check=False)


# --- one measurement -----------------------------------------------------------------------------

SYSTEMS = {
    # key: (label, server kind, url path template, wrk mode, records per request)
    "intake_async": ("Intake async", "intake", "/v1/topics/{t}", "single", 1),
    "seed_async": ("nginx+lua-resty-kafka async", "seed", "/async/{t}", "single", 1),
    "nginx_bare": ("nginx return 202 (no Lua, no Kafka)", "bare", "/floor/{t}", "single", 1),
    "intake_sync": ("Intake sync", "intake", "/v1/topics/{t}?sync=true", "single", 1),
    "seed_sync": ("nginx+lua-resty-kafka sync", "seed", "/sync/{t}", "single", 1),
    "intake_ndjson_100": ("Intake NDJSON x100", "intake", "/v1/topics/{t}/records", "ndjson", 100),
    "intake_ndjson_1000": ("Intake NDJSON x1000", "intake", "/v1/topics/{t}/records", "ndjson", 1000),
    "bare_producer": ("bare librdkafka producer", "producer", "", "", 1),
}


class Bench:
    def __init__(self, args: argparse.Namespace, kafka: Kafka, scratch: Path, loads: LoadSampler) -> None:
        self.args, self.kafka, self.scratch, self.loads = args, kafka, scratch, loads
        self.prefix, self.suffix = record_template()
        self.run_id = time.strftime("%Y%m%d%H%M%S")
        self.suffix_instance = "-smoke" if args.smoke else ""
        self.seed_knobs = {"SEED_FLUSH_MS": args.seed_flush_ms, "SEED_BATCH_NUM": args.seed_batch_num,
                           "SEED_MAX_BUFFERING": args.seed_max_buffering}

    def topic(self, system: str, round_no: int | str) -> str:
        return f"peer.{self.run_id}.{round_no}.{system}"

    def start_server(self, kind: str, name: str):
        a = self.args
        if kind == "intake":
            return IntakeServer(a.intake, self.scratch, self.kafka.bootstrap, a.threads, name)
        if kind == "seed":
            return SeedServer("kafka", "seed-kafka" + self.suffix_instance, a.seed_port, self.kafka.bootstrap,
                              a.threads, self.seed_knobs)
        return SeedServer("bare", "seed-bare" + self.suffix_instance, a.seed_port + 1, self.kafka.bootstrap,
                          a.threads, {})

    def wrk(self, url: str, seconds: int, mode: str, records: int, authorization: str) -> tuple[dict, dict]:
        a = self.args
        cmd = ["wrk", "-t", str(a.wrk_threads), "-c", str(a.connections), "-d", f"{seconds}s", "--timeout", "10s",
               "-s", str(PEER_DIR / "post_record.lua"), url, "--", mode, str(records), self.prefix, self.suffix,
               authorization]
        t0 = now()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        stdout, stderr = proc.communicate(timeout=seconds + 60)
        # proc has been reaped; its CPU is in this process's children's rusage, read as a delta.
        wall = now() - t0
        line = next((l for l in reversed(stdout.splitlines()) if l.startswith("{")), None)
        if proc.returncode != 0 or line is None:
            raise BenchError(f"wrk failed (exit {proc.returncode}): {stderr[-1000:]} {stdout[-1000:]}")
        return json.loads(line), {"wall_s": round(wall, 3)}

    def count(self, topic: str) -> dict:
        out = run_cmd([str(self.args.topic_tool), "--bootstrap", self.kafka.bootstrap, "--timeout-s", "120",
                       "count", topic], timeout=180)
        return json.loads(out.stdout)

    def measure(self, system: str, round_no: int, order: int) -> dict:
        label, kind, path, mode, records = SYSTEMS[system]
        a = self.args
        topic = self.topic(system, f"r{round_no}")
        warm_topic = self.topic(system, "warm")
        row: dict = {"system": system, "round": round_no, "order": order, "topic": topic}
        if kind == "producer":
            return self.measure_producer(row, topic, warm_topic)
        server = self.start_server(kind, f"{system}-r{round_no}")
        try:
            time.sleep(0.5)
            row["rss_idle_kb"] = sum(proc_rss_kb(p) for p in server.pids())
            row["processes"] = len(server.pids())
            warm, _ = self.wrk(server.url + path.format(t=warm_topic), a.warmup_s, mode, records, server.authorization)
            row["warmup"] = {"requests": warm["requests"], "non_2xx": warm["errors"]["status"]}
            stats_before = server.stats()
            cpu0, kafka0, busy0 = sum(proc_cpu_s(p) for p in server.pids()), self.kafka.cpu_s(), machine_busy_s()
            children0 = os.times()
            t0 = now()
            with RssSampler(server.pids) as rss:
                result, extra = self.wrk(server.url + path.format(t=topic), a.duration_s, mode, records,
                                         server.authorization)
            t1 = now()
            children1 = os.times()
            cpu1, kafka1, busy1 = sum(proc_cpu_s(p) for p in server.pids()), self.kafka.cpu_s(), machine_busy_s()
            row["rss_load_kb"] = rss.peak_kb
            time.sleep(a.settle_s)
            row["rss_after_kb"] = sum(proc_rss_kb(p) for p in server.pids())
            stats_after = server.stats()
            if stats_after:
                row["seed_stats"] = {k: stats_after.get(k, 0) - stats_before.get(k, 0) for k in stats_after
                                     if isinstance(stats_after.get(k), (int, float))}
            if kind != "intake":
                row["error_log_tail"] = server.error_log_tail()
        finally:
            server.stop()
        duration_s = result["duration_us"] / 1e6
        errors = result["errors"]
        ok = result["requests"] - errors["status"]
        cpu_s = cpu1 - cpu0
        wrk_cpu = (children1.children_user + children1.children_system) - (children0.children_user + children0.children_system)
        row.update({
            "duration_s": round(duration_s, 3), "requests": result["requests"], "ok": ok,
            "non_2xx": errors["status"], "socket_errors": {k: errors[k] for k in ("connect", "read", "write", "timeout")},
            "req_per_s": round(result["requests"] / duration_s, 1), "ok_per_s": round(ok / duration_s, 1),
            "records_per_request": records, "records_per_s": round(ok * records / duration_s, 1),
            "cpu_s": round(cpu_s, 3), "req_per_cpu_s": round(ok / cpu_s, 1) if cpu_s > 0 else None,
            "records_per_cpu_s": round(ok * records / cpu_s, 1) if cpu_s > 0 else None,
            "latency_us": result["latency_us"], "wrk_cpu_s": round(wrk_cpu, 3),
            "kafka_cpu_s": round(kafka1 - kafka0, 3), "machine_busy_cpu_s": round(busy1 - busy0, 3),
            "load": self.loads.window(t0, t1), **extra,
        })
        row["other_cpu_s"] = round(row["machine_busy_cpu_s"] - cpu_s - wrk_cpu - row["kafka_cpu_s"], 3)
        if ok == 0:
            raise BenchError(f"{system}: no 2xx answer at all ({result['requests']} requests, "
                             f"{errors['status']} non-2xx): the server or the harness is misconfigured")
        self.add_kafka_count(row, topic, ok * records, unique_ids=(mode == "single"))
        return row

    def measure_producer(self, row: dict, topic: str, warm_topic: str) -> dict:
        a = self.args
        busy0, kafka0 = machine_busy_s(), self.kafka.cpu_s()
        t0 = now()
        out = run_cmd([str(a.bare_producer), "--bootstrap", self.kafka.bootstrap, "--topic", topic,
                       "--warmup-topic", warm_topic, "--prefix", self.prefix, "--suffix", self.suffix,
                       "--warmup-s", str(a.warmup_s), "--duration-s", str(a.duration_s)],
                      timeout=a.warmup_s + a.duration_s + 180, check=False)
        t1 = now()
        try:
            result = json.loads(out.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError) as e:
            raise BenchError(f"bare_producer printed no result (exit {out.returncode}): {out.stderr[-1500:]}") from e
        busy1, kafka1 = machine_busy_s(), self.kafka.cpu_s()
        delivered = result["delivered"]
        row.update({
            "duration_s": round(result["until_acked_s"], 3), "requests": None, "ok": delivered,
            "produced": result["produced"], "failed": result["failed"], "records_per_request": None,
            "records_per_s": round(result["records_per_s"], 1), "cpu_s": round(result["cpu_s"], 3),
            "records_per_cpu_s": round(delivered / result["cpu_s"], 1) if result["cpu_s"] > 0 else None,
            "rss_idle_kb": result["rss_idle_kb"], "rss_load_kb": result["rss_load_kb"],
            "kafka_cpu_s": round(kafka1 - kafka0, 3), "load": self.loads.window(t0, t1),
            "producer": result,
        })
        if delivered == 0:
            raise BenchError(f"bare_producer delivered nothing: {result.get('first_error')}")
        self.add_kafka_count(row, topic, delivered, unique_ids=True)
        return row

    def add_kafka_count(self, row: dict, topic: str, acknowledged: int, unique_ids: bool) -> None:
        found = self.count(topic)
        row["kafka"] = found
        row["acknowledged_records"] = acknowledged
        distinct = found["distinct_values"] if unique_ids else found["records"]
        # Requests still in flight when wrk stopped may reach Kafka without being counted as
        # answered: a surplus of at most `connections` requests is expected, never a loss.
        row["records_found"] = found["records"]
        row["records_lost"] = max(0, acknowledged - distinct)
        row["records_surplus"] = max(0, distinct - acknowledged)
        row["duplicates"] = found["records"] - found["distinct_values"] if unique_ids else None

    def warm_broker(self) -> None:
        """A fresh broker is a cold JVM. In the first two full runs the first measurement after the
        broker started (Intake async both times) saw twice the broker CPU of later rounds and about
        a third fewer requests per CPU-second. Both gateways' produce paths (librdkafka's Produce v7
        and lua-resty-kafka's v2 message format) now run for a few seconds first, into topics of
        their own. It did not remove the effect in the run of 2026-12-02 (round 1 still had the
        hungrier broker, at a load average of 7), and a 20 s warm-up in a shorter trial could not
        tell it apart from the noise; the rotation of the order between rounds remains the defence."""
        a = self.args
        for kind, path in (("intake", "/v1/topics/{t}"), ("seed", "/async/{t}")):
            server = self.start_server(kind, f"broker-warmup-{kind}")
            try:
                self.wrk(server.url + path.format(t=self.topic("brokerwarm", kind)), a.broker_warmup_s, "single", 1,
                         server.authorization)
            finally:
                server.stop()

    # --- profile ---------------------------------------------------------------------------------
    def profile(self) -> dict:
        a = self.args
        if not shutil.which("perf"):
            return {"error": "perf not installed"}
        server = self.start_server("intake", "intake-profile")
        data = self.scratch / "perf.data"
        topic, warm = self.topic("profile", "r0"), self.topic("profile", "warm")
        try:
            self.wrk(server.url + f"/v1/topics/{warm}", a.warmup_s, "single", 1, server.authorization)
            perf = subprocess.Popen(["perf", "record", "-F", "999", "-g", "-p", str(server.proc.pid), "-o", str(data),
                                     "--", "sleep", str(max(1, a.profile_s))],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(0.3)
            result, _ = self.wrk(server.url + f"/v1/topics/{topic}", a.profile_s + 1, "single", 1,
                                 server.authorization)
            _, perf_err = perf.communicate(timeout=60)
        finally:
            server.stop()
        if perf.returncode != 0 or not data.exists():
            return {"error": f"perf record failed (exit {perf.returncode}): {perf_err[-500:]}"}
        out: dict = {"command": f"perf record -F 999 -g -p <intake pid> -- sleep {a.profile_s}",
                     "load": f"wrk -t{a.wrk_threads} -c{a.connections}, async single records",
                     "req_per_s_while_profiled": round(result["requests"] / (result["duration_us"] / 1e6), 1),
                     "perf_record_stderr": perf_err.strip().splitlines()[-2:]}
        texts = []
        for sort, key in (("dso", "by_library"), ("comm", "by_thread"), ("dso,sym", "by_function")):
            rep = run_cmd(["perf", "report", "-i", str(data), "--stdio", "--no-children", "-g", "none",
                           "--percent-limit", "0.01", "--sort", sort], timeout=300, check=False)
            # The file keeps the rows of 0.1% and more (the parse below sees them all).
            kept = [l for l in rep.stdout.splitlines()
                    if not re.match(r"\s+[\d.]+%", l) or float(l.split("%")[0]) >= 0.1]
            texts.append(f"### perf report --no-children --sort {sort}\n" + "\n".join(kept) + "\n")
            out[key] = parse_perf_report(rep.stdout, with_symbol=(sort == "dso,sym"))
        script = run_cmd(["perf", "script", "-i", str(data), "-F", "comm,tid,ip,sym,dso"], timeout=300, check=False)
        out["kernel_by_syscall"] = kernel_time_by_syscall(script.stdout)
        texts.append("### kernel time by system call (from perf script; % of all samples)\n"
                     + "\n".join(f"{r['percent']:6.2f}%  {r['syscall']}" for r in out["kernel_by_syscall"]))
        event = re.search(r"of event '([^']+)'", texts[0])
        out["event"] = event[1] if event else None
        out["text"] = "\n".join(texts)
        return out


SYSCALL_PREFIXES = ("__x64_sys_", "__do_sys_", "__se_sys_", "__sys_", "ksys_", "do_")


def kernel_time_by_syscall(script_text: str) -> list[dict]:
    """From `perf script` with call chains: the share of all samples spent in the kernel, per
    system call that led there (kernel stacks are whole even where user stacks are not: the
    Release build has no frame pointers). Kernel samples outside any system call (interrupts,
    softirqs, the return to user mode) are one line."""
    total, counts = 0, {}
    for block in script_text.split("\n\n"):
        lines = [l.strip() for l in block.strip().splitlines()]
        if len(lines) < 2:
            continue
        total += 1
        frames = lines[1:]
        if "[kernel.kallsyms]" not in frames[0]:
            continue
        symbols = [f.split()[1].split("+", 1)[0] if len(f.split()) > 1 else "?" for f in frames]
        name = "(no system call: interrupts, softirqs, return to user mode)"
        if "do_syscall_64" in symbols:
            i = symbols.index("do_syscall_64") - 1
            if i > 0 and symbols[i] == "x64_sys_call":  # the dispatcher of newer kernels
                i -= 1
            if i >= 0:
                name = symbols[i]
                if name in ("syscall_exit_to_user_mode", "exit_to_user_mode_loop", "exit_to_user_mode_prepare"):
                    name = "(leaving a system call: rescheduled, signals)"
                for prefix in SYSCALL_PREFIXES:
                    if name.startswith(prefix):
                        name = name[len(prefix):]
                        break
        counts[name] = counts.get(name, 0) + 1
    rows = [{"syscall": k, "percent": round(100.0 * v / total, 2)} for k, v in counts.items()] if total else []
    rows.sort(key=lambda r: -r["percent"])
    return rows[:15]


def parse_perf_report(text: str, with_symbol: bool) -> list[dict]:
    """Rows of `perf report --stdio --no-children -g none`. Functions perf could not name (static
    functions of stripped Debian libraries, e.g. most of librdkafka) are added up per library."""
    rows: list[dict] = []
    unnamed: dict[str, dict] = {}
    for line in text.splitlines():
        m = re.match(r"\s+([\d.]+)%\s+(\S+)(?:\s+\[([.k])\]\s+(.*))?$", line.rstrip())
        if not m:
            continue
        row = {"percent": float(m[1]), "library": m[2]}  # with --sort comm: the thread's name
        if with_symbol:
            row["function"] = (m[4] or "").strip()
            if re.fullmatch(r"0x[0-9a-f]+", row["function"]):
                u = unnamed.setdefault(row["library"], {"percent": 0.0, "library": row["library"], "addresses": 0})
                u["percent"] += row["percent"]
                u["addresses"] += 1
                continue
        rows.append(row)
    for u in unnamed.values():
        u["percent"] = round(u["percent"], 2)
        u["function"] = f"({u['addresses']} addresses without a symbol: static functions of a stripped library)"
        rows.append(u)
    rows.sort(key=lambda r: -r["percent"])
    return rows[:40]


# --- summary -------------------------------------------------------------------------------------

METRICS = ("req_per_s", "ok_per_s", "records_per_s", "cpu_s", "req_per_cpu_s", "records_per_cpu_s", "non_2xx",
           "records_lost", "duplicates", "rss_idle_kb", "rss_load_kb", "rss_after_kb", "wrk_cpu_s", "kafka_cpu_s",
           "other_cpu_s")
LATENCIES = ("p50", "p90", "p99", "p99_9", "max")


def stat(values: list[float]) -> dict | None:
    values = [v for v in values if v is not None]
    if not values:
        return None
    med = statistics.median(values)
    return {"median": round(med, 3), "min": min(values), "max": max(values), "n": len(values),
            "spread_pct": round(100.0 * (max(values) - min(values)) / med, 1) if med else None}


def summarize(runs: list[dict]) -> dict:
    out = {}
    for system in SYSTEMS:
        rows = [r for r in runs if r["system"] == system]
        if not rows:
            continue
        s = {m: stat([r.get(m) for r in rows]) for m in METRICS}
        s["latency_us"] = {p: stat([r["latency_us"][p] for r in rows if "latency_us" in r]) for p in LATENCIES}
        s["records_lost_total"] = sum(r.get("records_lost") or 0 for r in rows)
        s["acknowledged_total"] = sum(r.get("acknowledged_records") or 0 for r in rows)
        s["non_2xx_total"] = sum(r.get("non_2xx") or 0 for r in rows)
        s["duplicates_total"] = sum(r.get("duplicates") or 0 for r in rows)
        s["seed_async_dropped_total"] = sum((r.get("seed_stats") or {}).get("async_dropped", 0) for r in rows)
        out[system] = s
    return out


def ratio(runs: list[dict], summary: dict, num: str, den: str, metric: str) -> dict | None:
    if num not in summary or den not in summary:
        return None
    a, b = (summary[num].get(metric) or {}).get("median"), (summary[den].get(metric) or {}).get("median")
    per_round = []
    for r in sorted({x["round"] for x in runs}):
        x = next((x.get(metric) for x in runs if x["system"] == num and x["round"] == r), None)
        y = next((y.get(metric) for y in runs if y["system"] == den and y["round"] == r), None)
        if x and y:
            per_round.append(round(x / y, 3))
    if not a or not b:
        return None
    return {"of_medians": round(a / b, 3), "per_round": per_round,
            # The rounds disagree on which is ahead: the difference is inside this machine's noise.
            "inside_noise": bool(per_round) and min(per_round) < 1.0 < max(per_round)}


RATIOS = [
    ("async_req_per_cpu_s", "intake_async", "seed_async", "req_per_cpu_s"),
    ("async_req_per_s", "intake_async", "seed_async", "ok_per_s"),
    ("sync_req_per_cpu_s", "intake_sync", "seed_sync", "req_per_cpu_s"),
    ("sync_req_per_s", "intake_sync", "seed_sync", "ok_per_s"),
    ("async_vs_http_floor_req_per_cpu_s", "intake_async", "nginx_bare", "req_per_cpu_s"),
    ("seed_async_vs_http_floor_req_per_cpu_s", "seed_async", "nginx_bare", "req_per_cpu_s"),
    ("async_vs_producer_floor_records_per_s", "intake_async", "bare_producer", "records_per_s"),
    ("ndjson_100_vs_producer_floor_records_per_s", "intake_ndjson_100", "bare_producer", "records_per_s"),
    ("ndjson_1000_vs_producer_floor_records_per_s", "intake_ndjson_1000", "bare_producer", "records_per_s"),
    ("ndjson_100_vs_producer_floor_records_per_cpu_s", "intake_ndjson_100", "bare_producer", "records_per_cpu_s"),
    ("ndjson_1000_vs_producer_floor_records_per_cpu_s", "intake_ndjson_1000", "bare_producer", "records_per_cpu_s"),
]


def mark_disturbed(res: dict, args: argparse.Namespace) -> None:
    """A measurement is disturbed when processes outside the benchmark (the other engineer's
    builds and tests) used more than a tenth of the machine in its window. Kept in the medians, as
    the issue asks for all rounds, but named in a note and marked in the table."""
    capacity = (os.cpu_count() or 1) * args.duration_s
    for row in res["runs"]:
        other = row.get("other_cpu_s")
        row["disturbed"] = other is not None and other > 0.1 * capacity
        if row["disturbed"]:
            res["notes"].append(f"round {row['round']}, {row['system']}: other processes used {other:.1f} of the "
                                f"machine's {capacity} CPU-seconds in the measured window (disturbed)")


# --- environment facts ---------------------------------------------------------------------------

def pkg_version(name: str) -> str | None:
    r = run_cmd(["dpkg-query", "-W", "-f", "${Version}", name], timeout=30, check=False)
    return r.stdout.strip() or None if r.returncode == 0 else None


def versions(intake: Path, kafka: Kafka) -> dict:
    git = run_cmd(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], timeout=30, check=False).stdout.strip()
    gxx = run_cmd(["g++", "--version"], timeout=30, check=False).stdout.splitlines()
    nginx = run_cmd(["nginx", "-v"], timeout=30, check=False).stderr.strip()
    luajit = pkg_version("libluajit2-5.1-2") or pkg_version("libluajit-5.1-2")
    return {"intake": git, "intake_binary": str(intake), "kafka": kafka.version, "nginx": nginx,
            "libnginx-mod-http-lua": pkg_version("libnginx-mod-http-lua"),
            "lua-nginx-kafka (lua-resty-kafka)": pkg_version("lua-nginx-kafka"),
            "lua-resty-core": pkg_version("lua-resty-core"), "lua-cjson": pkg_version("lua-cjson"),
            "luajit": luajit, "librdkafka": pkg_version("librdkafka1"), "wrk": pkg_version("wrk"),
            "linux-perf": pkg_version("linux-perf"), "g++": gxx[0] if gxx else None,
            "python": platform.python_version()}


def machine() -> dict:
    mem_kb = mem_total_kb()
    return {"cpu": cpu_model() or platform.processor(), "cores": os.cpu_count(),
            "memory_gib": round(mem_kb / 1024 / 1024, 1) if mem_kb else None, "kernel": platform.release(),
            "os": platform.freedesktop_os_release().get("PRETTY_NAME") if hasattr(platform, "freedesktop_os_release") else None}


# --- main ----------------------------------------------------------------------------------------

def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--smoke", action="store_true", help="a few seconds of tiny load per system (the test suite's check)")
    p.add_argument("--intake", type=Path, default=ROOT / "build/release/src/intake")
    p.add_argument("--bare-producer", type=Path, default=ROOT / "build/release/bench/peer/bare_producer")
    p.add_argument("--topic-tool", type=Path, default=ROOT / "build/release/bench/peer/topic_tool")
    p.add_argument("--out-dir", type=Path, help="default bench/results; with --smoke build/bench-peer-smoke")
    p.add_argument("--benchmarks", type=Path, help="Markdown file whose peer section is rewritten (BENCHMARKS.md)")
    p.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated subset of: " + ",".join(SYSTEMS))
    p.add_argument("--rounds", type=int)
    p.add_argument("--duration-s", type=int, help="measured seconds per system and round")
    p.add_argument("--warmup-s", type=int, help="warm-up seconds before each measurement (not counted)")
    p.add_argument("--connections", type=int)
    p.add_argument("--wrk-threads", type=int)
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="Intake's server.threads = nginx's worker_processes")
    p.add_argument("--settle-s", type=float, default=1.0, help="pause after the load before 'RSS after'")
    p.add_argument("--profile-s", type=int, help="seconds of perf record (0: no profile)")
    p.add_argument("--broker-warmup-s", type=int, help="seconds of each gateway's load before round 1 (0: none)")
    p.add_argument("--seed-flush-ms", type=int, default=5)
    p.add_argument("--seed-batch-num", type=int, default=200)
    p.add_argument("--seed-max-buffering", type=int, default=500000)
    p.add_argument("--kafka-version", default="3.9.2")
    p.add_argument("--keep-kafka", action="store_true", help="leave the Kafka instance running at the end")
    p.add_argument("--command", help="the command line to record (scripts/bench.sh passes its own)")
    args = p.parse_args()
    full = {"rounds": 3, "duration_s": 10, "warmup_s": 2, "connections": 64, "wrk_threads": 2, "profile_s": 10,
            "broker_warmup_s": 5}
    smoke = {"rounds": 1, "duration_s": 1, "warmup_s": 1, "connections": 4, "wrk_threads": 1, "profile_s": 1,
             "broker_warmup_s": 1}
    for k, v in (smoke if args.smoke else full).items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    # Ports: the full run's Kafka on 19110/19111 and nginx on 18480/18481; the smoke its own, so
    # a smoke run in the test suite never meets a full run.
    if args.out_dir is None:
        args.out_dir = ROOT / ("build/bench-peer-smoke" if args.smoke else "bench/results")
    if args.smoke and args.benchmarks:
        log(f"--smoke: {args.benchmarks} is left alone (a smoke run's figures mean nothing)")
        args.benchmarks = None
    args.kafka_instance = "kafka-bench-smoke" if args.smoke else "kafka-bench"
    args.kafka_port = 19112 if args.smoke else 19110
    args.seed_port = 18482 if args.smoke else 18480
    args.systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in args.systems if s not in SYSTEMS]
    if unknown:
        p.error(f"unknown systems {unknown}")
    return args


def main() -> int:
    args = parse_args()
    started = dt.datetime.now(dt.timezone.utc)

    interrupt_on_stop_signals()

    for tool in (args.intake, args.bare_producer, args.topic_tool):
        if not tool.is_file():
            raise BenchError(f"{tool} missing: build first (bash scripts/build.sh release)")
    log("checking the benchmark's packages and the Kafka jars (bench/peer/deps.sh)")
    run_cmd(["bash", str(PEER_DIR / "deps.sh")], timeout=1800)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="intake-bench-peer-"))
    # A private copy of each binary: a rebuild during the run must not swap them under it.
    for attr in ("intake", "bare_producer", "topic_tool"):
        copy = scratch / getattr(args, attr).name
        shutil.copy2(getattr(args, attr), copy)
        setattr(args, attr + "_source", str(getattr(args, attr)))
        setattr(args, attr, copy)

    kafka = Kafka(args.kafka_instance, args.kafka_port, args.kafka_port + 1, args.kafka_version)
    loads = LoadSampler().start()
    date = started.strftime("%Y-%m-%d")
    stem = f"{date}-peer" + ("-smoke" if args.smoke else "")
    res: dict = {
        "benchmark": "peer", "mode": "smoke" if args.smoke else "full",
        "date": started.isoformat(timespec="seconds"),
        "command": args.command or shlex.join([Path(sys.executable).name, *sys.argv]),
        "machine": machine(), "runs": [], "notes": [],
        "settings": {
            "rounds": args.rounds, "duration_s": args.duration_s, "warmup_s": args.warmup_s,
            "broker_warmup_s": args.broker_warmup_s,
            "connections": args.connections, "wrk_threads": args.wrk_threads, "wrk_timeout_s": 10,
            "record_bytes": RECORD_BYTES, "record_example": "01-0000000001".join(record_template()),
            "intake_threads": args.threads, "nginx_worker_processes": args.threads,
            "kafka": {"instance": args.kafka_instance, "bootstrap": kafka.bootstrap, "partitions_per_topic": 3},
            "seed": {"flush_time_ms": args.seed_flush_ms, "batch_num": args.seed_batch_num,
                     "max_buffering_per_worker": args.seed_max_buffering, "required_acks": -1, "api_version": 2,
                     "batch_size": 1000000, "max_retry": 3, "retry_backoff_ms": 100, "request_timeout_ms": 2000},
            "systems": {k: {"label": v[0], "path": v[2], "records_per_request": v[4]} for k, v in SYSTEMS.items()
                        if k in args.systems},
        },
    }
    bench = None
    outcome = RunOutcome(res, log)
    try:
        with outcome:
            kafka.ensure()
            res["versions"] = versions(Path(args.intake_source), kafka)
            bench = Bench(args, kafka, scratch, loads)
            topics = [bench.topic(s, f"r{r}") for s in args.systems for r in range(1, args.rounds + 1)]
            topics += [bench.topic(s, "warm") for s in args.systems]
            if args.profile_s > 0:
                topics += [bench.topic("profile", "r0"), bench.topic("profile", "warm")]
            if args.broker_warmup_s > 0:
                topics += [bench.topic("brokerwarm", "intake"), bench.topic("brokerwarm", "seed")]
            log(f"creating {len(topics)} topics (3 partitions each) before any server starts")
            run_cmd([str(args.topic_tool), "--bootstrap", kafka.bootstrap, "--timeout-s", "60", "create",
                     "--partitions", "3", *topics], timeout=120)
            if args.broker_warmup_s > 0:
                log(f"warming the broker up: {args.broker_warmup_s} s of each gateway's async load, not measured")
                bench.warm_broker()
            t_start = now()
            for r in range(1, args.rounds + 1):
                shift = (r - 1) % len(args.systems)
                order = args.systems[shift:] + args.systems[:shift]
                for i, system in enumerate(order):
                    log(f"round {r}/{args.rounds}: {system} ({SYSTEMS[system][0]})")
                    row = bench.measure(system, r, i)
                    res["runs"].append(row)
                    lat = row.get("latency_us") or {}
                    log(f"  {row.get('ok_per_s') or row.get('records_per_s')}/s, {row.get('req_per_cpu_s') or row.get('records_per_cpu_s')}"
                        f" per CPU-s, p99 {lat.get('p99')} us, non-2xx {row.get('non_2xx')}, lost {row.get('records_lost')},"
                        f" load {row['load'].get('load1_mean')}")
            res["measure_wall_s"] = round(now() - t_start, 1)
            if args.profile_s > 0:
                log(f"profiling Intake under the async load for {args.profile_s} s (perf record -g)")
                try:
                    prof = bench.profile()
                except BenchError as e:
                    prof = {"error": str(e)}
                if "text" in prof:
                    (args.out_dir / f"{stem}.perf.txt").write_text(prof.pop("text"))
                    prof["report_file"] = f"{stem}.perf.txt"
                if "error" in prof:
                    res["notes"].append(f"profile: {prof['error']}")
                res["profile"] = prof
    finally:
        loads.stop()
        if not args.keep_kafka:
            kafka.stop_if_started()
        shutil.rmtree(scratch, ignore_errors=True)

    res["load"] = {"samples_1min": [s[1] for s in loads.samples], "runnable": [s[2] for s in loads.samples],
                   **loads.window(0, float("inf"))}
    mark_disturbed(res, args)
    res["summary"] = summarize(res["runs"])
    res["ratios"] = {name: ratio(res["runs"], res["summary"], a, b, m) for name, a, b, m in RATIOS}
    res["finished"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    rc = outcome.rc
    out_json = args.out_dir / f"{stem}.json"
    out_json.write_text(json.dumps(res, indent=2) + "\n")
    log(f"wrote {out_json}")
    try:
        chart = report.chart(res, args.out_dir / f"{stem}.png")
        log(f"wrote {chart}")
        if args.benchmarks:
            report.update_benchmarks(res, args.benchmarks,
                                     os.path.relpath(args.out_dir / stem, args.benchmarks.resolve().parent))
            log(f"rewrote the peer section of {args.benchmarks}")
        md = report.markdown(res, chart_path=f"{stem}.png", perf_path=f"{stem}.perf.txt")
        (args.out_dir / f"{stem}.md").write_text(md)
        print(md)
    except Exception as e:  # the JSON is written; a report failure is still a harness failure
        log(f"ERROR: report failed: {e!r}")
        rc = rc or 1
    return rc


if __name__ == "__main__":
    exit_with(main, log)
