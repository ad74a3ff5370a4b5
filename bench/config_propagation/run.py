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
import datetime as dt
import json
import os
import secrets
import shlex
import shutil
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR.parent))  # bench/: the common and config_propagation packages

from common.errors import BenchError  # noqa: E402
from common.lifecycle import RunOutcome, exit_with, interrupt_on_stop_signals  # noqa: E402
from common.paths import REPO_ROOT  # noqa: E402
from common.peers import PeerScript, intake_run_dir, read_env_file  # noqa: E402
from common.process import free_port, run_cmd  # noqa: E402
from config_propagation import log  # noqa: E402
from config_propagation.big_tree import run_big  # noqa: E402
from config_propagation.facts import machine_info, versions  # noqa: E402
from config_propagation.gateway import Gateway  # noqa: E402
from config_propagation.keys import key_value  # noqa: E402
from config_propagation.registries import ALL_BACKENDS, Consul, ConsulReg, EtcdReg, FileReg, ZooKeeperReg  # noqa: E402
from config_propagation.report import build_goal_rows, keep_previous, load_previous, make_notes, write_markdown  # noqa: E402
from config_propagation.timing import Poller, measure_changes  # noqa: E402

RESULTS_DIR = REPO_ROOT / "bench" / "results"
SCRATCH_DIR = BENCH_DIR / ".run"  # config + binary copy for this run; removed at the end


class Peers:
    """The peers this run needs, started only if not running; stop_started() stops only those."""

    def __init__(self) -> None:
        self.started: list[PeerScript] = []

    def ensure(self, name: str, start_timeout: float) -> None:
        peer = PeerScript(name)
        if peer.status().returncode == 0:
            log(f"{name}: already running (left running at the end)")
            return
        log(f"{name}: not running; starting it with scripts/peers/{name}.sh start")
        peer.start(start_timeout)
        self.started.append(peer)

    def names_started(self) -> list[str]:
        return [peer.name for peer in self.started]

    def stop_started(self) -> None:
        for peer in reversed(self.started):
            log(f"{peer.name}: stopping (this run started it)")
            try:
                peer.stop_if_started()
            except Exception as e:  # keep cleaning up
                log(f"{peer.name}: stop failed: {e}")
        self.started.clear()


def stop_gateways(gateways: list[Gateway]) -> None:
    """Stops every gateway in the list and empties it; a failed stop is logged, not raised."""
    for g in list(gateways):
        try:
            g.stop()
        except Exception as e:
            log(f"stopping gateway {g.name}: {e}")
        gateways.remove(g)


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
    ap.add_argument("--binary", default=str(REPO_ROOT / "build/release/src/intake"))
    ap.add_argument("--skip-big", action="store_true",
                    help="no 100k-key part (the previous run's numbers are kept, marked with their run)")
    ap.add_argument("--backends", default=",".join(ALL_BACKENDS),
                    help="comma-separated subset of consul,etcd,zookeeper,file (default: all). Backends not run "
                         "keep their previous results, marked with their run; the 100k part is Consul only")
    ap.add_argument("--goal-p99-ms", type=float, default=25.0)
    ap.add_argument("--goal-apply-s", type=float, default=1.0)
    args = ap.parse_args()
    command = " ".join(shlex.quote(a) for a in [Path(sys.executable).name, *sys.argv])

    interrupt_on_stop_signals()

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
                    section["version"] = run_cmd([env["INTAKE_CONSUL_BIN"], "version"], timeout=30, check=False).stdout.splitlines()[0]
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
            run_big(args, res, consul, gw, dict(gw_cfg), prefix, poller, binary, gateways, SCRATCH_DIR, gateway_log)
            res["big_tree"]["from_run"] = "this run"
        poller.http.close()
        gw.stop()
        gateways.remove(gw)
        reg.cleanup()
        regs.remove(reg)
        log(f"[{name}] done; removed its keys")

    outcome = RunOutcome(res, log)
    try:
        with outcome:
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
                    outcome.rc = 1
                finally:
                    stop_gateways(gateways)  # a failed backend's gateway must not outlive it
            res["peers"]["started_by_this_run"] = peers.names_started()
    finally:
        stop_gateways(gateways)
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
    log(f"wrote {out_json.relative_to(REPO_ROOT)} and config_propagation.md")
    print((RESULTS_DIR / "config_propagation.md").read_text())
    return outcome.rc


if __name__ == "__main__":
    exit_with(main, log)
