#!/usr/bin/env python3
"""Turns Google Benchmark's JSON for key_lookup_bench into bench/results/key_lookup.md.

The comparison is within the run: each size against the 1k-key case of the same benchmark.
Medians of the repetitions, with their coefficient of variation (cv = stddev / mean); CPU time
is shown beside wall time because the machine may be shared (wall time then includes waiting
for a core). The load figures are the 1-minute load average sampled every second *during* the
run (scripts/bench.sh), not when this report is written. A ratio whose distance from 1.00 is
within twice the larger cv of the two sides is reported as "within noise", not as a difference.
"""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # bench/
from common.google_benchmark import aggregates, load_text, read_loads  # noqa: E402



def cv_of(row, field):
    cv = row.get("cv")
    if cv is not None and field in cv:
        return cv[field]  # Google Benchmark reports cv as a fraction in the time fields
    mean, stddev = row.get("mean"), row.get("stddev")
    if mean and stddev and mean[field]:
        return stddev[field] / mean[field]
    return 0.0


def main(json_path: str, md_path: str, command: str, loads_path: str) -> None:
    with open(json_path) as f:
        data = json.load(f)
    loads = read_loads(loads_path)
    rows = aggregates(data)
    ctx = data["context"]
    reps = next(iter(rows.values()))["median"].get("repetitions", "?") if rows else "?"
    start_load = ctx.get("load_avg", [None])[0]
    summary = load_text(loads)
    if start_load is not None:
        summary += f"; {start_load:.2f} at the start"
    out = ["# Key lookup and config apply (Google Benchmark)", "",
           f"{ctx.get('date', '')} on {ctx.get('num_cpus')} CPUs; {summary}. Medians of {reps} repetitions.",
           "", f"Command: `{command}`", "",
           "| benchmark | keys | wall time | CPU time | cv | CPU vs 1k keys |", "|---|---|---|---|---|---|"]
    for name in ("BM_Authenticate", "BM_LookupOnly", "BM_BuildConfig"):
        base = None
        for (row_name, arg), row in sorted(((k, v) for k, v in rows.items() if k[0] == name),
                                           key=lambda item: int(item[0][1])):
            b = row["median"]
            unit = b["time_unit"]
            cv = cv_of(row, "cpu_time")
            if base is None:
                base = (b["cpu_time"], cv)
            ratio = b["cpu_time"] / base[0]
            noise = 2 * max(cv, base[1])
            verdict = " (within noise)" if arg != "1000" and abs(ratio - 1) <= noise else ""
            out.append(f"| {name} | {int(arg):,} | {b['real_time']:,.1f} {unit} | {b['cpu_time']:,.1f} {unit} | "
                       f"{cv * 100:.1f}% | {ratio:.2f}x{verdict} |")
    for (name, _), row in rows.items():
        if name == "BM_MemoryPerKey":
            out.append(f"| BM_MemoryPerKey: heap bytes per key (100k keys) | 100,000 | — | — | — | "
                       f"{row['median']['bytes_per_key']:,.0f} B/key |")
    out += ["", "Goals (issue 5): lookup flat from 1k to 100k keys; applying 100k keys <= 1 s.",
            "BM_Authenticate = SHA-256 of the presented key + hash lookup (+ expiry check);",
            "BM_LookupOnly = the hash lookup alone; BM_BuildConfig = validating and building a whole",
            "registry tree (what an update costs the control thread, before Consul's own time).",
            "",
            "Reading: the lookup is one hash probe at every size (no step grows with the key count);",
            "what grows is where the probed slot lives. 1k keys fit in L1/L2, 100k keys (about 40 MiB",
            "with their entries) do not, so the probe becomes a cache miss: tens of nanoseconds, next",
            "to the ~500 ns SHA-256 that every request pays anyway. The lookup alone is not flat in",
            "nanoseconds and this table does not claim it is. A run whose load average during the run",
            "was well above the CPU count is noise: rerun it."]
    with open(md_path, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "")
