"""The machine a run is on and the versions it measured."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import socket
import sys
from pathlib import Path

from common.machine import cpu_model, mem_total_kb
from common.paths import REPO_ROOT
from common.peers import PeerScript
from common.process import run_cmd


def machine_info() -> dict:
    return {"nproc": os.cpu_count(), "cpu_model": cpu_model(), "mem_total_kB": mem_total_kb(),
            "kernel": os.uname().release, "hostname": socket.gethostname(),
            "python": sys.version.split()[0], "loadavg_at_start": os.getloadavg()}


def versions(consul_bin: str | None, binary: Path) -> dict:
    def git(*args: str) -> str:
        r = run_cmd(["git", "-C", str(REPO_ROOT), *args], timeout=30, check=False)
        return r.stdout.strip()
    out = {"git_head": git("rev-parse", "HEAD"), "git_head_subject": git("log", "-1", "--format=%s"),
           "git_dirty_paths": [l[3:] for l in git("status", "--porcelain", "--", "src").splitlines()]}
    if consul_bin:
        try:
            out["consul"] = run_cmd([consul_bin, "version"], timeout=30, check=False).stdout.splitlines()[0]
        except Exception as e:
            out["consul"] = f"unknown ({e})"
    st = binary.stat()
    out["intake_binary"] = {"path": str(binary), "sha256": hashlib.sha256(binary.read_bytes()).hexdigest(),
                            "mtime": dt.datetime.fromtimestamp(st.st_mtime, dt.timezone.utc).isoformat()}
    try:  # "kafka running: pid N, 127.0.0.1:19092, kafka 4.4.0"
        status = PeerScript("kafka").status()
        m = re.search(r"kafka (\S+)\s*$", (status.stdout + status.stderr).strip())
        out["kafka"] = m[1] if m else None
    except Exception as e:
        out["kafka"] = f"unknown ({e})"
    return out

