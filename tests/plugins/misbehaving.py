"""Layouts that misbehave in every way a plugin can: each must be left out with one line, never end himfmt."""

from __future__ import annotations

from typing import Any

from himfmt.plugin import Holds, Layout


class _Base(Layout):
    """a plugin that misbehaves"""

    holds = Holds(composites=True, instances=True, multi=True, video=False, masks=False)

    def read(self, tree: Any, match: Any) -> Any:
        return self.new_dataset(tree, match)  # an empty dataset: these layouts fail before anything is read

    def plan(self, sample: Any, split_path: str, opts: Any) -> list[Any]:
        return []


class Exits(_Base):
    name = "exits"

    def __init__(self) -> None:
        raise SystemExit(0)


class Interrupts(_Base):
    name = "interrupts"

    def __init__(self) -> None:
        raise KeyboardInterrupt


class NameRaises(_Base):
    @property  # type: ignore[override]
    def name(self) -> str:
        raise RuntimeError("no name today")


class NameNone(_Base):
    name = None  # type: ignore[assignment]


class DetectRaises(_Base):
    name = "detect_raises"

    def detect(self, tree: Any, rel: str) -> Any:
        raise RuntimeError("detection blew up")
