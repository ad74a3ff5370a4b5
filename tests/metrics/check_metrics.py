#!/usr/bin/env python3
"""Checks two scrapes of the gateway's /metrics, taken before and after known traffic, with
the real Prometheus text parser (prometheus_client.parser): both must parse; every histogram
must have cumulative buckets ending in +Inf equal to its _count; and the counters the traffic
moved must have moved by exactly the expected amounts.

  check_metrics.py before.txt after.txt --topic T --accepted N --accepted-bytes B \
      --delivered N --requests 'ROUTE|CODE|N' ... --timed 'ROUTE|N' ...

Run through tests/metrics/run_check.sh (the venv with prometheus_client). Exit 0 iff all holds;
otherwise one line per failure.
"""
import argparse
import math
import sys

from prometheus_client.parser import text_string_to_metric_families


def parse(path):
    """{(sample name, sorted labels)} -> value, and {family name: type}."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    samples, types = {}, {}
    for family in text_string_to_metric_families(text):
        types[family.name] = family.type
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            if key in samples:
                raise SystemExit(f"{path}: sample {key} appears twice")
            samples[key] = sample.value
    return samples, types


def check_histograms(path, samples, types, failures):
    for name, kind in types.items():
        if kind != "histogram":
            continue
        series = {}
        for (sample, labels), value in samples.items():
            if sample != name + "_bucket":
                continue
            rest = tuple(item for item in labels if item[0] != "le")
            le = dict(labels)["le"]
            series.setdefault(rest, []).append((float(le), value))
        if not series:
            failures.append(f"{path}: histogram {name} has no buckets")
        for rest, buckets in series.items():
            buckets.sort()
            counts = [value for _, value in buckets]
            if counts != sorted(counts):
                failures.append(f"{path}: {name}{dict(rest)} buckets are not cumulative: {buckets}")
            if not math.isinf(buckets[-1][0]):
                failures.append(f"{path}: {name}{dict(rest)} has no +Inf bucket")
            count = samples.get((name + "_count", rest))
            if count is None or samples.get((name + "_sum", rest)) is None:
                failures.append(f"{path}: {name}{dict(rest)} lacks _sum or _count")
            elif count != buckets[-1][1]:
                failures.append(f"{path}: {name}{dict(rest)}: _count {count} != +Inf bucket {buckets[-1][1]}")


def delta(before, after, name, **labels):
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--topic", required=True)
    parser.add_argument("--accepted", type=int, required=True)
    parser.add_argument("--accepted-bytes", type=int, required=True)
    parser.add_argument("--delivered", type=int, required=True)
    parser.add_argument("--requests", action="append", default=[], help="ROUTE|CODE|N")
    parser.add_argument("--timed", action="append", default=[], help="ROUTE|N")
    args = parser.parse_args()

    failures = []
    before, before_types = parse(args.before)
    after, after_types = parse(args.after)
    check_histograms(args.before, before, before_types, failures)
    check_histograms(args.after, after, after_types, failures)

    # prometheus_client names a counter family without _total; its samples keep it.
    for family, kind in (("intake_http_requests", "counter"), ("intake_http_request_duration_seconds", "histogram"),
                         ("intake_records_accepted", "counter"), ("intake_record_bytes_accepted", "counter"),
                         ("intake_produce_latency_seconds", "histogram")):
        if after_types.get(family) != kind:
            failures.append(f"{args.after}: {family} is {after_types.get(family)}, expected {kind}")

    def expect(what, got, want):
        if got != want:
            failures.append(f"{what} moved by {got:g}, expected {want}")

    for spec in args.requests:
        route, code, n = spec.split("|")
        klass = code[0] + "xx" if code.isdigit() else None
        labels = {"route": route, "code": code}
        if klass:
            labels["class"] = klass
        expect(f"intake_http_requests_total{labels}", delta(before, after, "intake_http_requests_total", **labels),
               int(n))
    for spec in args.timed:
        route, n = spec.split("|")
        expect(f"intake_http_request_duration_seconds_count{{route={route}}}",
               delta(before, after, "intake_http_request_duration_seconds_count", route=route), int(n))
    expect(f"intake_records_accepted_total{{topic={args.topic}}}",
           delta(before, after, "intake_records_accepted_total", topic=args.topic), args.accepted)
    expect(f"intake_record_bytes_accepted_total{{topic={args.topic}}}",
           delta(before, after, "intake_record_bytes_accepted_total", topic=args.topic), args.accepted_bytes)
    expect("intake_records_accepted_total{topic=_other}",
           delta(before, after, "intake_records_accepted_total", topic="_other"), 0)
    expect("intake_produce_latency_seconds_count", delta(before, after, "intake_produce_latency_seconds_count"),
           args.delivered)
    expect("intake_records_delivered_total", delta(before, after, "intake_records_delivered_total"), args.delivered)

    for failure in failures:
        print(failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
