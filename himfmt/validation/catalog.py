"""The findings catalog (``schemas/findings.json``): every code, documented once.

Plugins add their own codes: a layout's ``findings`` (the codes its schema's
``x-findings`` and its reader use), and the ``FINDINGS`` a ``himfmt.checks``
entry point names (its module's ``@check`` functions register as it loads).
A built-in code is never redefined by a plugin.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from typing import Any, NamedTuple

SEVERITIES = ("info", "warning", "error")
RANK = {s: i for i, s in enumerate(SEVERITIES)}


class Finding(NamedTuple):
    code: str
    severity: str
    path: str  # relative to the validated root
    sample: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


@lru_cache(maxsize=None)
def catalog() -> dict[str, dict[str, Any]]:
    from himfmt.layouts import LAYOUTS
    from himfmt.validation.plugin_checks import plugin_findings

    codes: dict[str, dict[str, Any]] = json.loads(files("himfmt.schemas").joinpath("findings.json").read_text())["codes"]
    added = [entries for lay in LAYOUTS.values() for entries in [getattr(lay, "findings", {}) or {}]]
    for entries in [*added, *plugin_findings()]:
        for code, entry in entries.items():
            if code not in codes and isinstance(entry, dict) and entry.get("severity") in SEVERITIES:
                codes[code] = {"meaning": "", "breaks": "", "fix": "", "deep_only": False, **entry}
    return codes


def finding(code: str, path: str, sample: str | None, message: str) -> Finding:
    """A finding with its catalog severity, never without a path. A code no catalog entry documents (a
    plugin's oversight) is an error finding, not a crash."""
    entry = catalog().get(code)
    return Finding(code, entry["severity"] if entry else "error", path or ".", sample, message)
