"""Job records: JSON lines appended as work finishes, read back by resuming runs and merges.

A kill can cut the last line of a record; it is skipped, so the work it
recorded is done again rather than trusted.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every whole JSON object line of a record, in order (cut or foreign lines are skipped)."""
    out = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # a line cut by a kill
        if isinstance(entry, dict):
            out.append(entry)
    return out
