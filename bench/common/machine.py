"""Facts about the machine a run is on, from /proc."""

from __future__ import annotations

import re
from pathlib import Path


def cpu_model() -> str | None:
    """The first CPU's model name."""
    m = re.search(r"^model name\s*:\s*(.*)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
    return m[1].strip() if m else None


def mem_total_kb() -> int | None:
    m = re.search(r"^MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text(), re.MULTILINE)
    return int(m[1]) if m else None
