"""One registry change timed end to end: t0 just before the write is sent, the end the first
answer of a tight POST loop that shows it (202 after an add, 401 after a delete)."""

from __future__ import annotations

import random
import secrets
import time

from config_propagation import log
from config_propagation.gateway import Gateway
from config_propagation.keepalive import Http
from config_propagation.keys import key_value
from config_propagation.registries import Consul
from config_propagation.samples import ms, now, summarize

TOPIC = "bench.x"


class Poller:
    """Tight keep-alive POST loop against the gateway until a wanted status arrives."""

    def __init__(self, port: int) -> None:
        self.http = Http("127.0.0.1", port, timeout=10)
        self.unexpected: dict[int, int] = {}

    def until(self, secret: str, want: int, timeout: float) -> tuple[float | None, int]:
        headers = {"Authorization": f"Bearer {secret}"}
        deadline = now() + timeout
        polls = 0
        while True:
            status, _, _ = self.http.request("POST", f"/v1/topics/{TOPIC}", b"x", headers)
            t = now()
            polls += 1
            if status == want:
                return t, polls
            if status not in (202, 401):
                self.unexpected[status] = self.unexpected.get(status, 0) + 1
            if t > deadline:
                return None, polls


class _Tally:
    """The samples of one kind of change (add or delete)."""

    def __init__(self) -> None:
        self.seen_ms: list[float] = []  # write sent -> first request that shows it
        self.ack_ms: list[float] = []  # write sent -> the registry's answer
        self.polls: list[float] = []
        self.timeouts = 0


def _timed_write(write, poller: Poller, secret: str, want: int, timeout: float, tally: _Tally,
                 label: str) -> float:
    """Sends write() and polls until the gateway answers want; returns t0 (just before the write)."""
    t0 = now()
    write()
    t_ack = now()
    t_seen, polls = poller.until(secret, want, timeout)
    if t_seen is None:
        tally.timeouts += 1
        log(f"{label} not seen within {timeout}s")
    else:
        tally.seen_ms.append(ms(t_seen - t0))
        tally.polls.append(float(polls))
    tally.ack_ms.append(ms(t_ack - t0))
    return t0


def measure_changes(reg, gw: Gateway, poller: Poller, count: int, tag: str,
                    timeout: float, settle: float, measure_deletes: int) -> dict:
    """count adds (PUT -> first 202), each followed by a delete (DELETE -> first 401)."""
    adds, deletes = _Tally(), _Tally()
    log_add, builds = [], []
    cpu0, t_start = gw.cpu_seconds(), now()
    for i in range(count):
        key = f"keys/{tag}-{i:04d}-{secrets.token_hex(4)}"
        secret = secrets.token_hex(24)
        value = key_value(secret)
        n_applied = len(gw.applied)
        t0 = _timed_write(lambda: reg.put(key, value), poller, secret, 202, timeout, adds, f"{tag}: add {i}")
        event = gw.wait_applied(lambda e: True, 2.0, n_applied)
        if event:
            log_add.append(ms(event["t"] - t0))
            builds.append(event["build_ms"])
        time.sleep(settle * random.uniform(0.5, 1.5))

        n_applied = len(gw.applied)
        if i < measure_deletes:
            _timed_write(lambda: reg.delete(key), poller, secret, 401, timeout, deletes, f"{tag}: delete {i}")
        else:  # not measured, but never start the next change while this one is in flight
            reg.delete(key)
            gw.wait_applied(lambda e: True, timeout, n_applied)
        time.sleep(settle * random.uniform(0.5, 1.5))
        if (i + 1) % 50 == 0:
            log(f"{tag}: {i + 1}/{count} changes; add p50 so far {summarize(adds.seen_ms).get('p50_ms')} ms")
    wall = now() - t_start
    return {
        "add": {**summarize(adds.seen_ms), "samples_ms": adds.seen_ms},
        "delete": {**summarize(deletes.seen_ms), "samples_ms": deletes.seen_ms},
        "registry_put_ack": summarize(adds.ack_ms),
        "registry_delete_ack": summarize(deletes.ack_ms),
        "add_seen_in_gateway_log": summarize(log_add),
        "gateway_build_ms_from_log": summarize(builds),
        "polls_per_add": summarize(adds.polls),
        "polls_per_delete": summarize(deletes.polls),
        "timeouts": {"add": adds.timeouts, "delete": deletes.timeouts},
        "unexpected_statuses": dict(poller.unexpected),
        "gateway_cpu_s_during_phase": round(gw.cpu_seconds() - cpu0, 3),
        "wall_s": round(wall, 3),
    }


def measure_changes_log_only(consul: Consul, gw: Gateway, prefix: str, count: int, timeout: float,
                             settle: float) -> dict:
    """Control without client polling: PUT, then wait for the gateway's 'applied' log line."""
    lat, builds, cpu = [], [], []
    for i in range(count):
        key_id = f"logonly-{i:04d}-{secrets.token_hex(4)}"
        n_applied, c0 = len(gw.applied), gw.cpu_seconds()
        t0 = now()
        consul.put(f"{prefix}keys/{key_id}", key_value(secrets.token_hex(24)))
        event = gw.wait_applied(lambda e: True, timeout, n_applied)
        if event:
            lat.append(ms(event["t"] - t0))
            builds.append(event["build_ms"])
        time.sleep(settle)
        cpu.append(ms(gw.cpu_seconds() - c0))  # 10 ms tick resolution
        n_applied = len(gw.applied)
        consul.delete(f"{prefix}keys/{key_id}")
        gw.wait_applied(lambda e: True, timeout, n_applied)
        time.sleep(settle)
    return {"add_seen_in_gateway_log": {**summarize(lat), "samples_ms": lat},
            "gateway_build_ms_from_log": summarize(builds),
            "gateway_cpu_ms_per_change": summarize(cpu)}

