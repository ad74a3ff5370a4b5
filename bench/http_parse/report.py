#!/usr/bin/env python3
"""Turns Google Benchmark's JSON for http_parse_bench into bench/results/http_parse.md.

Medians of the repetitions, CPU time per request (wall time beside it: the machine may be shared),
with the coefficient of variation; allocations and allocated bytes per request come from the
bench's replaced operator new. "Parse only" subtracts the copy of the request into the read buffer
(BM_CopyOnly of the same request), which every candidate pays alike. The load figures are the
1-minute load average sampled every second during the run (scripts/bench.sh).
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # bench/
from common.google_benchmark import aggregates, load_text, read_loads  # noqa: E402

CANDIDATES = [
    ("BM_BeastStringBody", "(a) Beast request_parser<string_body>, put() (today)"),
    ("BM_BeastViews", "(b) Beast basic_parser, views, reused by move-assign"),
    ("BM_BeastViewsOnStack", "(b) Beast basic_parser, views, new on the stack"),
    ("BM_Pico", "(c) picohttpparser + framing checks"),
    ("BM_CopyOnly", "copy of the request alone (in every row)"),
]
SHAPES = [("typical", "typical"), ("headers20", "20 headers"), ("chunked", "chunked")]



def to_ns(row, field):
    scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[row["time_unit"]]
    return row[field] * scale


def main(json_path, md_path, command, loads_path):
    with open(json_path) as f:
        data = json.load(f)
    loads = read_loads(loads_path)
    rows = aggregates(data)
    ctx = data["context"]
    reps = next(iter(rows.values()))["median"].get("repetitions", "?") if rows else "?"
    summary = load_text(loads)
    commit = subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip() or "?"
    out = [f"# HTTP/1.1 request parsing — Release build (-O3) of {commit}, g++ 12, Boost 1.74, "
           f"{ctx.get('date', '')[:10]}", "",
           f"{ctx.get('date', '')} on {ctx.get('num_cpus')} CPUs ({ctx.get('mhz_per_cpu', '?')} MHz); {summary}. "
           f"Medians of {reps} repetitions.", "", f"Command: `{command}`", "",
           "| candidate | request | CPU ns/req | parse only ns/req | wall ns/req | cv | allocs/req | bytes alloc/req |",
           "|---|---|---|---|---|---|---|---|"]
    for name, label in CANDIDATES:
        for shape, shape_label in SHAPES:
            row = rows.get((name, shape))
            if not row:
                continue
            b = row["median"]
            cpu = to_ns(b, "cpu_time")
            copy = rows.get(("BM_CopyOnly", shape))
            parse_only = cpu - to_ns(copy["median"], "cpu_time") if copy and name != "BM_CopyOnly" else None
            cv = row.get("cv", {}).get("cpu_time", 0.0)
            out.append(f"| {label} | {shape_label} ({int(b['request_bytes'])} B) | {cpu:,.0f} | "
                       f"{'—' if parse_only is None else f'{parse_only:,.0f}'} | {to_ns(b, 'real_time'):,.0f} | "
                       f"{cv * 100:.1f}% | {b['allocs_per_req']:.0f} | {b['alloc_bytes_per_req']:,.0f} |")
    out += ["", "typical = POST /v1/topics/events with Host, User-Agent, Accept, Content-Type, Authorization (Bearer,",
            "40 characters), Content-Length and a 200-byte JSON body; 20 headers = the same plus 14 proxy/tracing",
            "headers; chunked = the typical request with Transfer-Encoding: chunked, the body in 3 chunks.",
            "(b) and (c) produce views into the read buffer; (a) copies every header into basic_fields and the body",
            "into a std::string. (c) includes the Content-Length / Transfer-Encoding checks the caller must write",
            "around picohttpparser. Debian builds picohttpparser without SSE4.2 (its fast path is compiled out).",
            "Google Benchmark's own library reports itself as a debug build (Debian's package); the code",
            "timed is this Release build's.",
            "Decision and reading: docs/decisions/0008-http-parser.md."]
    with open(md_path, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "")
