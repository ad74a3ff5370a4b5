"""One Intake gateway process under test: its config, its log (every 'config: applied' line
timestamped on arrival), readiness, memory and CPU, and a clean stop."""

from __future__ import annotations

import datetime as dt
import json
import re
import signal
import subprocess
import threading
from pathlib import Path

from common.errors import BenchError
from common.process import proc_cpu_s, wait_until_ready
from config_propagation import log
from config_propagation.keepalive import Http
from config_propagation.keys import sha256_hex
from config_propagation.samples import now

APPLIED_RE = re.compile(r"config: applied version (\d+) from (\S+) at revision (\S+): (\d+) keys.*built in ([\d.]+) ms")


class Gateway:
    """Started by the constructor with its output read on a thread; stop() ends it (SIGTERM, then KILL)."""

    def __init__(self, binary: Path, config: dict, work: Path, name: str, log_path: Path) -> None:
        self.port = config["port"]
        self.name = name
        self.admin_token = config["admin_token"]
        cfg_path = work / f"{name}.yaml"
        cfg_path.write_text(
            f'server: {{listen: "127.0.0.1:{self.port}", threads: {config["threads"]}}}\n'
            f'kafka: {{bootstrap_servers: "{config["bootstrap"]}"}}\n'
            "config:\n"
            f"  source: {config['source']}\n"
            "  on_unreachable_at_start: wait\n"
            + config["source_yaml"] +
            f"admin: {{token_sha256: {sha256_hex(self.admin_token)}}}\n")
        self.applied: list[dict] = []  # one per "config: applied" log line, with arrival time
        self.cond = threading.Condition()
        self.log_file = open(log_path, "a", encoding="utf-8")
        self.log_file.write(f"=== {dt.datetime.now(dt.timezone.utc).isoformat()} {name}: {binary} run --config {cfg_path}\n")
        self.spawned_at = now()
        self.proc = subprocess.Popen([str(binary), "run", "--config", str(cfg_path)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.http = Http("127.0.0.1", self.port, timeout=30)

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            t = now()
            line = raw.decode("utf-8", "replace").rstrip("\n")
            self.log_file.write(line + "\n")
            m = APPLIED_RE.search(line)
            if m:
                with self.cond:
                    self.applied.append({"t": t, "version": int(m[1]), "revision": m[3], "keys": int(m[4]),
                                         "build_ms": float(m[5])})
                    self.cond.notify_all()
        self.log_file.flush()

    def wait_applied(self, predicate, timeout: float, start_index: int = 0) -> dict | None:
        deadline = now() + timeout
        with self.cond:
            while True:
                for event in self.applied[start_index:]:
                    if predicate(event):
                        return event
                left = deadline - now()
                if left <= 0 or self.proc.poll() is not None:
                    return None
                self.cond.wait(min(left, 0.5))

    def wait_ready(self, timeout: float) -> float:
        """The time GET /readyz first answered 200."""
        state = wait_until_ready(self.port, self.proc, timeout, 0.01)
        ready_at = now()
        if state == "exited":
            raise BenchError(f"gateway {self.name} exited with {self.proc.returncode}; see its log")
        if state == "timeout":
            raise BenchError(f"gateway {self.name} not ready on port {self.port} after {timeout}s")
        return ready_at

    def admin_config(self) -> tuple[dict, int, float]:
        t = now()
        status, _, body = self.http.request("GET", "/admin/config", headers={"Authorization": f"Bearer {self.admin_token}"})
        elapsed = now() - t
        if status != 200:
            raise BenchError(f"/admin/config: HTTP {status} {body[:200]!r}")
        return json.loads(body), len(body), elapsed

    def memory(self) -> dict:
        out = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                out[k + "_kB"] = int(v.split()[0])
        return out

    def cpu_seconds(self) -> float:
        return proc_cpu_s(self.proc.pid)

    def stop(self, timeout: float = 30) -> None:
        self.http.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"gateway {self.name} did not stop in {timeout}s; killing pid {self.proc.pid}")
                self.proc.kill()
                self.proc.wait(10)
        self.reader.join(5)
        self.log_file.close()

