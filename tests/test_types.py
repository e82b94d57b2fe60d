"""The type hints are checked, not only written: mypy over the package finds nothing."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_mypy_finds_no_error(tmp_path):
    root = Path(__file__).parents[1]
    p = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), "himfmt"],
                       cwd=root, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
