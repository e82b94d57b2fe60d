"""One module per command; each exposes ``run(options) -> exit code`` (its typed options from
:mod:`himfmt.options`) and ``SUMMARY``."""

from __future__ import annotations

import importlib
from types import ModuleType

# The commands, each a module of this package, in the order `himfmt` lists them.
COMMANDS = (
    "layouts",
    "demo",
    "detect",
    "validate",
    "explain",
    "convert",
    "fix",
    "synth",
    "masks",
    "fill",
    "merge",
    "preview",
    "stats",
    "unpack",
)


def load(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{name}")
