"""Phase b (Consul only): a 100k-key tree written with /v1/txn, the gateway's apply of it,
single-key changes on top, and the controls (log-only timing, raw GET, perf split, cold start)."""

from __future__ import annotations

import base64
import json
import queue
import secrets
import threading
import time
from pathlib import Path

from common.errors import BenchError
from common.process import free_port, run_cmd
from config_propagation import log
from config_propagation.gateway import Gateway
from config_propagation.keepalive import Http
from config_propagation.keys import key_value
from config_propagation.perf_split import profile_changes
from config_propagation.registries import Consul, ConsulReg, txn_body
from config_propagation.samples import ms, now, summarize
from config_propagation.timing import Poller, measure_changes, measure_changes_log_only


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
                       "%{http_code} %{time_starttransfer} %{time_total} %{size_download}", addr + path], timeout=70, check=False)
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



def run_big(args, res: dict, consul: Consul, gw: Gateway, gw_cfg: dict, prefix: str, poller: Poller,
            binary: Path, gateways: list, scratch: Path, gateway_log: Path) -> None:
    """Phase b (Consul only): the 100k-key tree. A second gateway started here (the cold start)
    writes its config under scratch and its output to gateway_log."""
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
        prof = profile_changes(consul, gw, prefix, args.profile_changes, args.sample_timeout * 3, scratch)
        big["profile"] = prof
        per_fetch = prof.get("recv_syscalls_per_fetch")
        if per_fetch:
            prof["bytes_per_recv_call"] = round(big["consul_raw_get"]["bytes"] / per_fetch)

    log("phase b: cold start of a second gateway on the big tree")
    gw2_cfg = dict(gw_cfg, port=free_port(), admin_token=secrets.token_hex(16))
    gw2 = Gateway(binary, gw2_cfg, scratch, "gateway-cold", gateway_log)
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

