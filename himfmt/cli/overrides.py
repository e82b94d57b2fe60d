"""A command's ``key=value`` arguments, checked against its typed schema before Hydra runs.

Hydra would print a multi-line error for a typed value it cannot convert,
and for an unknown key it advises ``+key=value``, which adds a key nobody
reads (``+dryrun=true`` then ran a real conversion). Here every argument is
set on the command's typed options (:mod:`himfmt.options`, with the chosen
recipe's and mask preset's parameters, and the chosen dataset config) without
composing anything: an unknown key gets the closest valid name, a bad value
the reason, a new key (``+key``) is refused, and a group that needs a choice
names its choices. Hydra then composes the config itself, once for its
run-mode probe and once for the run.
"""

from __future__ import annotations

import difflib
from importlib.resources import files
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import OverrideParseException
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from himfmt.composition import GROUPS, group_options
from himfmt.options import MASK_PRESETS, SCHEMAS
from himfmt.synthesis.registry import RECIPES


def keys_of(cfg: Any, prefix: str = "") -> list[str]:
    """Every dotted key of a config; a list's items are ``KEY.*``."""
    out = []
    if isinstance(cfg, DictConfig):
        for key in cfg.keys():
            full = f"{prefix}{key!s}"
            out.append(full)
            if not OmegaConf.is_missing(cfg, str(key)):
                out += keys_of(cfg._get_node(key), full + ".")
    elif isinstance(cfg, ListConfig):
        out.append(prefix + "*")
    return out


def is_known(key: str, known: list[str]) -> bool:
    parts = key.split(".")
    return key in known or any(".".join(parts[:i]) + ".*" in known for i in range(1, len(parts)))


def unknown_choice(group: str, value: str) -> str | None:
    options = group_options(group)
    if value in options or value in ("null", "None"):
        return None
    close = difflib.get_close_matches(value, options, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"{group}={value} is not a known {group}{hint} (known: {', '.join(options)})"


def unknown_key(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}=?" if close else ""
    return f"{key} is not an option of this command{hint} (--help lists them)"


def default_choices(command: str) -> dict[str, str | None]:
    """The group choices of ``conf/<command>.yaml``'s defaults list (``???``: the user must choose)."""
    node = OmegaConf.to_container(OmegaConf.load(str(files("himfmt.conf").joinpath(f"{command}.yaml"))), resolve=False)
    out: dict[str, str | None] = {}
    for entry in (node.get("defaults") if isinstance(node, dict) else None) or []:
        if isinstance(entry, dict):
            out.update((str(k), None if v is None else str(v)) for k, v in entry.items() if str(k) in GROUPS)
    return out


def precheck(command: str, args: list[str]) -> str | None:
    """The first problem with ``args`` (``key=value`` overrides) as one line, or None."""
    own = _own_overrides(args)
    if isinstance(own, str):
        return own
    chosen = {o.key_or_group: o for o in own if o.key_or_group in GROUPS}
    bad_choice = next(filter(None, (unknown_choice(g, str(o.value())) for g, o in chosen.items() if not o.is_sweep_override())), None)
    if bad_choice:
        return bad_choice
    choices = default_choices(command)
    given = {g: None if o.is_delete() else "sweep" if o.is_sweep_override() else str(o.value()) for g, o in chosen.items()}
    schedule = _shipped("schedule", given.get("schedule") or "")
    for entry in schedule.pop("defaults", None) or []:  # a schedule picks its recipe; the command line still wins
        choices.update((str(k).split("/")[-1], str(v)) for k, v in entry.items() if str(k).startswith("override /"))
    choices.update(given)
    missing = next((g for g, v in choices.items() if v == "???"), None)
    if missing:
        extra = " or a YAML file" if missing == "dataset" else ""
        return f"{missing}= is required: one of {', '.join(group_options(missing))}{extra}"
    typed = _typed(command, choices)
    for key, value in schedule.items():  # what the schedule sets (its runs), which arguments may then change
        OmegaConf.update(typed, str(key), value, merge=False)
    known = keys_of(typed)
    if choices.get("dataset") not in (None, "???") and not isinstance(typed.get("dataset"), DictConfig):
        known.append("dataset.*")  # a dataset config from another search path: its keys are its own
    return next(filter(None, (_problem(o, typed, known) for o in own if o.key_or_group not in GROUPS)), None)


def _typed(command: str, choices: dict[str, str | None]) -> DictConfig:
    """The command's options as a typed config, with the parameters of the groups chosen."""
    cfg = OmegaConf.structured(SCHEMAS[command])
    OmegaConf.set_struct(cfg, True)
    with_group = {
        "recipe": lambda name: RECIPES[name].config(name=name) if name in RECIPES else None,
        "mask": lambda name: MASK_PRESETS.get(name),
        "dataset": _shipped_dataset,
    }
    for group, name in choices.items():
        node = with_group[group](name) if group in with_group and name not in (None, "sweep") else None
        if node is not None and group in cfg.keys():  # `in cfg` is False for a field still ??? (missing)
            OmegaConf.set_struct(cfg, False)
            cfg[group] = node
            OmegaConf.set_struct(cfg, True)
    return cfg


def _shipped(group: str, name: str) -> dict[str, Any]:
    """A group option's YAML shipped in ``conf/<group>/``, as plain data ({} for one found elsewhere)."""
    path = files("himfmt.conf").joinpath(group, f"{name}.yaml")
    node = OmegaConf.to_container(OmegaConf.load(str(path)), resolve=False) if name and path.is_file() else None
    return {str(k): v for k, v in node.items()} if isinstance(node, dict) else {}


def _shipped_dataset(name: str) -> DictConfig | None:
    """A dataset config shipped in ``conf/dataset/`` (None for one found on another search path)."""
    node = _shipped("dataset", name)
    return OmegaConf.create(node) if node else None


def _problem(o: Any, typed: DictConfig, known: list[str]) -> str | None:
    """What is wrong with one override of a key: an unknown key, or a value its type refuses."""
    key = o.key_or_group
    if o.is_add() or o.is_force_add() or not is_known(key, known):
        return unknown_key(key, known)
    if o.is_delete() or o.is_sweep_override():
        return None
    try:
        OmegaConf.update(typed, key, o.value(), merge=True)
    except OmegaConfBaseException as exc:
        return f"{o.input_line}: {str(exc).splitlines()[0]}"
    return None


def _own_overrides(args: list[str]) -> list[Any] | str:
    """The overrides of the command's own keys (not ``hydra.*``), or why the arguments cannot be read."""
    try:
        parsed = OverridesParser.create().parse_overrides([a for a in args if "=" in a or a.startswith("~")])
    except OverrideParseException as exc:
        return f"cannot read the arguments: {str(exc).splitlines()[0]}"
    return [o for o in parsed if not o.key_or_group.startswith("hydra")]
