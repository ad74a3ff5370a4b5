#!/usr/bin/env python3
"""Turns Google Benchmark's JSON for key_lookup_bench into bench/results/key_lookup.md.

The comparison is within the run: each size against the 1k-key case of the same benchmark.
Medians of the repetitions; CPU time is shown beside wall time because the machine may be
shared (wall time then includes waiting for a core).
"""
import json
import os
import sys


def main(json_path: str, md_path: str, command: str) -> None:
    with open(json_path) as f:
        data = json.load(f)
    rows = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name", "median") != "median":
            continue
        name, _, arg = b["run_name"].partition("/")
        rows.setdefault(name, []).append((arg, b))
    ctx = data["context"]
    load = os.getloadavg()[0]
    out = ["# Key lookup and config apply (Google Benchmark)", "",
           f"{ctx.get('date', '')} on {ctx.get('num_cpus')} CPUs; load average {load:.1f} when written. "
           "Medians of 3 repetitions.", "", f"Command: `{command}`", "",
           "| benchmark | keys | wall time | CPU time | CPU vs 1k keys |", "|---|---|---|---|---|"]
    for name in ("BM_Authenticate", "BM_LookupOnly", "BM_BuildConfig"):
        base = None
        for arg, b in rows.get(name, []):
            unit = b["time_unit"]
            base = base or b["cpu_time"]
            out.append(f"| {name} | {int(arg):,} | {b['real_time']:,.1f} {unit} | {b['cpu_time']:,.1f} {unit} | "
                       f"{b['cpu_time'] / base:.2f}x |")
    for _, b in rows.get("BM_MemoryPerKey", []):
        out.append(f"| BM_MemoryPerKey: heap bytes per key (100k keys) | 100,000 | — | — | "
                   f"{b['bytes_per_key']:,.0f} B/key |")
    out += ["", "Goals (issue 5): lookup flat from 1k to 100k keys; applying 100k keys <= 1 s.",
            "BM_Authenticate = SHA-256 of the presented key + hash lookup (+ expiry check);",
            "BM_LookupOnly = the hash lookup alone; BM_BuildConfig = validating and building a whole",
            "registry tree (what an update costs the control thread, before Consul's own time).",
            "",
            "Reading: the lookup is one hash probe at every size (no step grows with the key count);",
            "what grows is where the probed slot lives. 1k keys fit in L1/L2, 100k keys (about 40 MiB",
            "with their entries) do not, so the probe becomes a cache miss: tens of nanoseconds, next",
            "to the ~500 ns SHA-256 that every request pays anyway. What a request costs",
            "(BM_Authenticate) therefore stays within about 1.3x from 1k to 100k keys on a quiet",
            "machine; the lookup alone is not flat in nanoseconds and this table does not claim it is.",
            "Results from a loaded machine (load average well above 2) are noise: rerun."]
    with open(md_path, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
