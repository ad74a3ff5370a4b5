"""Where the repository is, seen from bench/common."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
