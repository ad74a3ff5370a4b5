"""Progress lines on stderr, each tagged with the harness and the time."""

from __future__ import annotations

import sys
import time
from typing import Callable


def logger(tag: str) -> Callable[[str], None]:
    """A log(message) that prints `[<tag> HH:MM:SS] message` to stderr at once."""
    def log(message: str) -> None:
        print(f"[{tag} {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
    return log
