"""One module per command; each exposes ``run(cfg) -> exit code`` and ``SUMMARY``."""
from __future__ import annotations

import importlib
from types import ModuleType

# Command name -> module name in this package, in the order `himfmt` lists them.
COMMANDS = {
    "layouts": "layouts_cmd",
    "demo": "demo_cmd",
    "detect": "detect_cmd",
    "validate": "validate_cmd",
    "explain": "explain_cmd",
    "convert": "convert_cmd",
    "synth": "synth_cmd",
    "masks": "masks_cmd",
    "fill": "fill_cmd",
    "merge": "merge_cmd",
    "preview": "preview_cmd",
    "stats": "stats_cmd",
    "unpack": "unpack_cmd",
}


def load(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{COMMANDS[name]}")
