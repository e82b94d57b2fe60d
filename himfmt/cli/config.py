"""The CLI's side of the typed options: Hydra's ConfigStore entries and the checks that turn a
composed config into the command's options object (:mod:`himfmt.options`) before any work starts."""

from __future__ import annotations

import math
from typing import Any

from omegaconf import DictConfig, OmegaConf

from himfmt.errors import HimfmtError

# Keys that must not be empty when given.
REQUIRED_PATHS = ("root", "src", "dst", "out", "archive")


def finite(node: Any, where: str = "") -> None:
    """Refuse NaN and infinities anywhere in a config (``max_ratio=nan`` would switch a limit off: every
    comparison with NaN is false)."""
    if isinstance(node, DictConfig):
        node = OmegaConf.to_container(node, resolve=False, throw_on_missing=False)
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        name = f"{where}.{key}" if where else str(key)
        if isinstance(value, (dict, list)):
            finite(value, name)
        elif isinstance(value, float) and not math.isfinite(value):
            raise HimfmtError(f"{name} must be a finite number, not {value}")


def checked(command: str, cfg: DictConfig) -> Any:
    """The composed config as its schema's objects: runs every range check; paths must not be empty.

    Untyped sections (a fill's dataset config) are the command's own to check:
    they may hold values that are filled in later (``root: ???``).
    """
    for key in REQUIRED_PATHS:
        if key in cfg and not OmegaConf.is_missing(cfg, key) and cfg[key] is not None and str(cfg[key]) == "":
            raise HimfmtError(f"{key}= is required (it was given empty)")
    finite(cfg)
    typed = cfg.copy()
    untyped = [name for name in cfg if isinstance(node := cfg._get_node(name), DictConfig) and OmegaConf.get_type(node) is dict]
    for name in untyped:
        typed[name] = {}
    options = OmegaConf.to_object(typed)
    for name in untyped:  # handed over as composed, for the command to read
        setattr(options, str(name), cfg[name])
    return options
