"""The findings catalog (``schemas/findings.json``): every code, documented once."""
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
    return json.loads(files("himfmt.schemas").joinpath("findings.json").read_text())["codes"]


def finding(code: str, path: str, sample: str | None, message: str) -> Finding:
    """A finding with its catalog severity (unknown codes are a programming error); never without a path."""
    return Finding(code, catalog()[code]["severity"], path or ".", sample, message)
