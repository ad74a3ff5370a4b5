"""The results file: numbers kept from the previous run for what was not run now, the goal
rows, the notes, and the Markdown table (config_propagation.md)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from config_propagation.registries import ALL_BACKENDS


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

