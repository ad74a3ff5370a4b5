"""Reading Google Benchmark's JSON and the load samples scripts/bench.sh takes beside it, for the
micro-benchmarks' report.py scripts (bench/key_lookup, bench/http_parse)."""
import statistics


def aggregates(data):
    """{(name, arg): {"median": row, "cv": row, ...}} from the JSON's aggregate rows."""
    rows = {}
    for b in data["benchmarks"]:
        kind = b.get("aggregate_name")
        if kind is None:
            continue
        name, _, arg = b["run_name"].partition("/")
        rows.setdefault((name, arg), {})[kind] = b
    return rows


def read_loads(path):
    """The 1-minute load averages sampled during the run, one per line; [] if there are none."""
    try:
        with open(path) as f:
            return [float(line) for line in f if line.strip()]
    except OSError:
        return []


def load_text(loads):
    """One sentence on the machine's load during the run."""
    if not loads:
        return "load average during the run: not sampled"
    return (f"load average during the run: min {min(loads):.2f}, median {statistics.median(loads):.2f}, "
            f"max {max(loads):.2f} ({len(loads)} samples, 1 s apart)")
