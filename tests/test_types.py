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


def test_no_function_is_above_complexity_15():
    """Small functions: radon's cyclomatic complexity of every function and method of the package is at most 15."""
    from radon.complexity import cc_visit

    root = Path(__file__).parents[1] / "himfmt"
    over = []
    for path in sorted(root.rglob("*.py")):
        for block in cc_visit(path.read_text()):
            for b in [block, *getattr(block, "methods", [])]:
                if b.complexity > 15:
                    over.append(f"{path.relative_to(root.parent)}:{b.lineno} {b.name} ({b.complexity})")
    assert over == []
