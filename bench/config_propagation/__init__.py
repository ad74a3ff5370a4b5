"""The config propagation benchmark (bench/config_propagation/run.py is its entry point).

Its modules: registries (the four backends' writers), gateway (the Intake process under test),
timing (one change timed from write to first request that sees it), big_tree (the 100k-key
Consul part), perf_split (where a big-tree change spends its time), facts (machine and versions),
report (JSON kept from earlier runs, goals, Markdown). Times are time.perf_counter throughout
(samples.now)."""

from common.log import logger

log = logger("config_propagation")
