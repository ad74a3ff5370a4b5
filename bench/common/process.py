"""Commands, free ports and the /proc readings of one process."""

from __future__ import annotations

import http.client
import os
import shlex
import socket
import subprocess
import time
from pathlib import Path

from common.errors import BenchError

CLK_TCK = os.sysconf("SC_CLK_TCK")


def run_cmd(args: list[str], timeout: float, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Runs args with its output captured as text; env is added to this process's environment.
    Raises BenchError when it takes longer than timeout, or (check) exits non-zero."""
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, **(env or {})})
    except subprocess.TimeoutExpired as e:
        raise BenchError(f"{shlex.join(args)} took longer than {timeout}s") from e
    if check and done.returncode != 0:
        raise BenchError(f"{shlex.join(args)} exited {done.returncode}:\n{(done.stderr or done.stdout)[-3000:]}")
    return done


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(port: int, path: str, timeout: float = 2.0) -> int | None:
    """The status of GET http://127.0.0.1:<port><path> on a fresh connection; None when nothing answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    except (http.client.HTTPException, OSError):
        return None
    finally:
        conn.close()


def wait_until_ready(port: int, proc: subprocess.Popen, timeout: float, interval: float,
                     path: str = "/readyz") -> str:
    """Polls GET <path> on the port every interval seconds: "ready" once it answers 200,
    "exited" when proc ends first, "timeout" after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            return "exited"
        if http_status(port, path) == 200:
            return "ready"
        if time.monotonic() > deadline:
            return "timeout"
        time.sleep(interval)


def proc_cpu_s(pid: int) -> float:
    """utime + stime of every thread of pid, in seconds (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK
