"""Layouts and recipes other packages add, found through entry-point groups.

A package names an object in its metadata (``himfmt.layouts``,
``himfmt.recipes``) and himfmt loads it beside the built-ins; nothing inside
himfmt is edited. A plugin that fails to load, or that takes a name already
in use, is left out with one line on stderr: a broken plugin never stops
the tool (or the built-ins) from working.
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points
from typing import Any, TypeVar

T = TypeVar("T")


def discover(group: str, kind: type[T], taken: set[str]) -> list[T]:
    """Objects of type ``kind`` (a class of it is instantiated) named in entry-point ``group``, sorted by name."""
    found: list[T] = []
    names = set(taken)
    for ep in sorted(entry_points(group=group), key=lambda ep: ep.name):
        try:
            obj: Any = ep.load()
            if isinstance(obj, type) and issubclass(obj, kind):
                obj = obj()
            name = getattr(obj, "name", None) if isinstance(obj, kind) else None
        except PLUGIN_FAULTS as exc:  # a plugin's own bug (an exit or an interrupt raised in it too): never fatal
            skip(group, ep.value, f"{type(exc).__name__}: {exc}")
            continue
        if not isinstance(obj, kind):
            skip(group, ep.value, f"it is a {type(obj).__name__}, not a {kind.__name__}")
        elif not isinstance(name, str) or not name:
            skip(group, ep.value, f"its name is {name!r}, not a non-empty string")
        elif name in names:
            skip(group, ep.value, f"the name {name!r} is taken")
        else:
            names.add(name)
            found.append(obj)
    return found


# What a plugin's code may raise that must not end himfmt: its own SystemExit or KeyboardInterrupt too.
PLUGIN_FAULTS = (Exception, SystemExit, KeyboardInterrupt)


def disable(group: str, name: str, where: str, exc: BaseException) -> None:
    """Say once that a plugin failed while in use and is left out from now on."""
    skip(group, where, f"{type(exc).__name__} in {name}: {exc}; disabled")


def skip(group: str, value: str, why: str) -> None:
    print(f"himfmt: {group} plugin {value} not loaded: {why}", file=sys.stderr)
