"""The peers (Kafka, Consul, etcd, ZooKeeper) as the project's scripts run them: a peer is
started through scripts/peers/<name>.sh only if its status says it is not running, and stopped
at the end only if this run started it. Their addresses are in $INTAKE_RUN/<peer>.env."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

from common.paths import REPO_ROOT
from common.process import run_cmd


def intake_run_dir() -> Path:
    """$INTAKE_RUN as scripts/lib/common.sh sets it (default ~/.cache/intake/run)."""
    common_sh = shlex.quote(str(REPO_ROOT / "scripts/lib/common.sh"))
    out = run_cmd(["bash", "-c", f'source {common_sh} && printf %s "$INTAKE_RUN"'], timeout=30)
    return Path(out.stdout.strip())


def read_env_file(path: Path) -> dict[str, str]:
    """The KEY=VALUE lines of a peer's env file."""
    env = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            env[k.strip()] = v.strip()
    return env


class PeerScript:
    """scripts/peers/<name>.sh, run with env added to the environment (instance, ports)."""

    def __init__(self, name: str, env: dict | None = None) -> None:
        self.name = name
        self.env = env or {}
        self.path = str(REPO_ROOT / "scripts" / "peers" / f"{name}.sh")
        self.started = False

    def status(self, timeout: float = 60) -> subprocess.CompletedProcess:
        """Exit code 0 iff the peer runs and answers."""
        return run_cmd(["bash", self.path, "status"], timeout=timeout, env=self.env, check=False)

    def start(self, timeout: float) -> None:
        """Starts it (BenchError when that fails) and remembers that this run did."""
        run_cmd(["bash", self.path, "start"], timeout=timeout, env=self.env)
        self.started = True

    def stop_if_started(self, timeout: float = 120) -> None:
        """Stops it only if start() started it; a failed stop is not an error."""
        if self.started:
            run_cmd(["bash", self.path, "stop"], timeout=timeout, env=self.env, check=False)
            self.started = False
