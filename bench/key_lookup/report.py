#!/usr/bin/env python3
"""Turns Google Benchmark's JSON for key_lookup_bench into bench/results/key_lookup.md.

The comparison is within the run: each size against the 1k-key case of the same benchmark.
"""
import json
import sys


def main(json_path: str, md_path: str, command: str) -> None:
    with open(json_path) as f:
        data = json.load(f)
    rows = {}
    for b in data["benchmarks"]:
        name, _, arg = b["name"].partition("/")
        rows.setdefault(name, []).append((arg, b))
    ctx = data["context"]
    out = ["# Key lookup and config apply (Google Benchmark)", "",
           f"{ctx.get('date', '')} on {ctx.get('num_cpus')} CPUs at {ctx.get('mhz_per_cpu')} MHz; "
           f"build type {ctx.get('library_build_type', '?')}.", "", f"Command: `{command}`", "",
           "| benchmark | keys | time | vs 1k keys |", "|---|---|---|---|"]
    for name in ("BM_Authenticate", "BM_LookupOnly", "BM_BuildConfig"):
        base = None
        for arg, b in rows.get(name, []):
            t = b["real_time"]
            unit = b["time_unit"]
            base = base or t
            out.append(f"| {name} | {int(arg):,} | {t:,.1f} {unit} | {t / base:.2f}x |")
    for arg, b in rows.get("BM_MemoryPerKey", []):
        out.append(f"| BM_MemoryPerKey (heap bytes per key, 100k keys) | 100,000 | "
                   f"{b['bytes_per_key']:,.0f} B/key | — |")
    out += ["", "Goals (issue 5): lookup flat from 1k to 100k keys; applying 100k keys <= 1 s."]
    with open(md_path, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
