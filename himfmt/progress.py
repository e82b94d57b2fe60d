"""The one progress signature every long step takes: ``progress(total, label) -> advance(n)``.

Core steps report through it and never print; the commands pass the
console's bars (``console.progress``), the API passes nothing.
"""
from __future__ import annotations

from typing import Callable

Advance = Callable[[int], None]
Progress = Callable[[int, str], Advance]


def _ignore(n: int) -> None:
    return None


def no_progress(total: int, label: str = "") -> Advance:
    return _ignore
