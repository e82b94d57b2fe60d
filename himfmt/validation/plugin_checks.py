"""Checks from other packages: the ``himfmt.checks`` entry-point group.

An entry point names a module's ``FINDINGS`` (a dict of catalog entries,
code -> severity, meaning, breaks, fix); loading it imports the module, whose
``@check`` functions register as any built-in check does. A plugin that
fails to load is left out with one line on stderr.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any

from himfmt.entry_points import PLUGIN_FAULTS, skip


@lru_cache(maxsize=None)
def plugin_findings() -> tuple[dict[str, Any], ...]:
    """The catalog entries of every ``himfmt.checks`` plugin (loaded once; their checks register then)."""
    out = []
    for ep in sorted(entry_points(group="himfmt.checks"), key=lambda ep: ep.name):
        try:
            entries = ep.load()
        except PLUGIN_FAULTS as exc:
            skip("himfmt.checks", ep.value, f"{type(exc).__name__}: {exc}")
            continue
        if isinstance(entries, dict):
            out.append(entries)
        else:
            skip("himfmt.checks", ep.value, f"it is a {type(entries).__name__}, not a dict of finding codes")
    return tuple(out)
