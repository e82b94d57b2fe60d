"""The type hints are checked, not only written, and the code keeps the project's lint rules, import order and format."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_mypy_finds_no_error():
    """mypy keeps its cache in the checkout (.mypy_cache): a second run checks only what changed."""
    p = subprocess.run([sys.executable, "-m", "mypy", "himfmt"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr


def _ruff(*args: str) -> subprocess.CompletedProcess:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    return subprocess.run([ruff, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_finds_nothing():
    """Lint and import order as pyproject.toml configures them (complexity is advisory: not checked here)."""
    p = _ruff("check", "--no-cache", ".")
    assert p.returncode == 0, p.stdout + p.stderr


def test_the_code_is_formatted():
    p = _ruff("format", "--check", "--no-cache", ".")
    assert p.returncode == 0, p.stdout + p.stderr
