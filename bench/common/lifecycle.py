"""How a harness run ends: Ctrl-C, SIGTERM and SIGHUP all clean up the same way, and a broken
harness (BenchError) is recorded in the results instead of losing them."""

from __future__ import annotations

import signal
import sys
from typing import Callable

from common.errors import BenchError


def interrupt_on_stop_signals() -> None:
    """SIGTERM and SIGHUP raise KeyboardInterrupt, as Ctrl-C does, so `finally` blocks clean up."""
    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)


class RunOutcome:
    """Guards the measuring part of a run (`with outcome:`): an interruption or a BenchError ends
    it, is logged and noted in res, and sets rc (130 / 1); anything else propagates. Code inside
    may set rc itself (a part failed but the run went on). Wrap it in try/finally so the
    clean-up runs after the failure is logged."""

    def __init__(self, res: dict, log: Callable[[str], None]) -> None:
        self.res, self.log = res, log
        self.rc = 0

    def __enter__(self) -> "RunOutcome":
        return self

    def __exit__(self, kind, error, _tb) -> bool:
        if kind is not None and issubclass(kind, KeyboardInterrupt):
            self.log(f"interrupted ({error}); cleaning up")
            self.res["notes"].append(f"interrupted: {error}")
            self.rc = 130
            return True
        if kind is not None and issubclass(kind, BenchError):
            self.log(f"ERROR: {error}")
            self.res["error"] = str(error)
            self.rc = 1
            return True
        return False


def exit_with(main: Callable[[], int], log: Callable[[str], None]) -> None:
    """sys.exit(main()); a BenchError raised outside the guarded part exits 1 with its message."""
    try:
        sys.exit(main())
    except BenchError as e:
        log(f"ERROR: {e}")
        sys.exit(1)
