"""The clock every phase reads, and how a list of samples is summed up."""

from __future__ import annotations

import math
import statistics
import time

now = time.perf_counter


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

