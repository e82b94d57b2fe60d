"""A command's config composed by Hydra from ``key=value`` overrides: the config layer.

The options schemas (:mod:`himfmt.options`), the recipes' parameters and the
mask presets are stored in Hydra's ConfigStore; the YAML files of
``himfmt.conf`` add the dataset configs and schedules. The command line
composes through here, and so does the core where a config names another
(a dataset config's recipe split, with its own overrides and schedule): one
grammar for both. Composing installs nothing in the caller's process beyond
these ConfigStore entries.
"""

from __future__ import annotations

import re

from hydra import compose, initialize_config_module
from hydra.core.config_store import ConfigStore
from hydra.core.global_hydra import GlobalHydra
from omegaconf import DictConfig

from himfmt.options import MASK_PRESETS, SCHEMAS
from himfmt.synthesis.registry import RECIPES

# Keys whose values are paths: taken literally (see overrides.normalize).
PATH_KEYS = frozenset(
    {"root", "src", "dst", "out", "report", "html", "hhm", "bg", "clips", "source", "pairs", "skip_list", "archive", "dataset_file"}
)
# How the command line spells an option whose field name is a Python keyword.
ALIASES = {"from": "from_layout"}
# First bare argument of these commands is taken as this key.
BARE_KEY = {"convert": "src", "fill": "dataset", "explain": "code"}
DEFAULT_BARE_KEY = "root"


def quote(value: str) -> str:
    """``value`` as a literal in Hydra's override grammar: quoted, no interpolation, no sweep.

    Inside quotes, Hydra treats ``,`` ``=`` ``~`` and spaces as text; a quote
    and the backslashes right before a quote are escaped, and ``${`` is
    escaped so that neither Hydra nor OmegaConf interpolates it.
    """
    escaped = re.sub(r"(\\*)'", lambda m: m.group(1) * 2 + "\\'", value)
    escaped = re.sub(r"(\\+)$", lambda m: m.group(1) * 2, escaped)
    return "'" + escaped.replace("${", "\\${") + "'"


def normalize(command: str, args: list[str]) -> list[str]:
    """Bare first path -> ``root=``; path values made literal; ``-m`` moved to the front;
    ``fill dataset=FILE.yaml`` -> ``dataset_file=``; ``from=`` -> ``from_layout=``."""
    flags = [a for a in args if a in ("-m", "--multirun")]
    rest = [a for a in args if a not in ("-m", "--multirun")]
    out: list[str] = []
    for i, a in enumerate(rest):
        if i == 0 and "=" not in a and not a.startswith("-"):
            a = f"{BARE_KEY.get(command, DEFAULT_BARE_KEY)}={a}"
        out += _literal(command, a)
    return flags + out


def _literal(command: str, a: str) -> list[str]:
    """One ``key=value`` as Hydra must read it (a path literally)."""
    key, eq, value = a.partition("=")
    if not eq:
        return [a]
    key = ALIASES.get(key, key)
    pre = []
    if command == "fill" and key == "dataset" and value.endswith((".yaml", ".yml")):
        key = "dataset_file"  # a user's file, not a conf/dataset/ name
        pre = ["~dataset"]  # and no config of the dataset group
    return [*pre, f"{key}={quote(value)}" if key in PATH_KEYS and value else f"{key}={value}"]


GROUPS = ("recipe", "mask", "schedule", "dataset")


def register() -> None:
    """Put every schema and group option into Hydra's ConfigStore (idempotent)."""
    cs = ConfigStore.instance()
    for command, schema in SCHEMAS.items():
        cs.store(name=f"{command}_schema", node=schema)
    for name, entry in RECIPES.items():
        cs.store(group="recipe", name=name, node=entry.config(name=name))  # the name is written once: in the entry
    for name, params in MASK_PRESETS.items():
        cs.store(group="mask", name=name, node=params)


def compose_config(command: str, overrides: list[str]) -> DictConfig:
    """``command``'s config with ``overrides`` (already normalized), also from inside a running Hydra app."""
    register()
    if GlobalHydra.instance().is_initialized():
        return compose(command, overrides)
    with initialize_config_module("himfmt.conf", version_base="1.3"):
        return compose(command, overrides)


def group_options(group: str) -> list[str]:
    """The names ``group=`` takes (config files and stored schemas alike)."""
    register()
    if not GlobalHydra.instance().is_initialized():
        with initialize_config_module("himfmt.conf", version_base="1.3"):
            return group_options(group)
    return sorted(GlobalHydra.instance().config_loader().get_group_options(group))
