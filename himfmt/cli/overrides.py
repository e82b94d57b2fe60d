"""A command's ``key=value`` arguments: made literal where they are paths, and checked before Hydra runs.

Hydra would print a multi-line error for a typed value it cannot convert,
and for an unknown key it advises ``+key=value``, which adds a key nobody
reads (``+dryrun=true`` then ran a real conversion). Here every argument is
composed against the command's schema first; an unknown key gets the closest
valid name, a bad value the reason, and new keys (``+key``) are refused.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import ConfigCompositionException, HydraException, OverrideParseException
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from himfmt.composition import GROUPS, group_options
from himfmt.composition import compose_config as _compose


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


def _root_cause(exc: BaseException) -> BaseException:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return exc


def unknown_key(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}=?" if close else ""
    return f"{key} is not an option of this command{hint} (--help lists them)"


def precheck(command: str, args: list[str]) -> str | None:
    """The first problem with ``args`` (``key=value`` overrides) as one line, or None."""
    own = _own_overrides(args)
    if isinstance(own, str):
        return own
    chosen = [o for o in own if o.key_or_group in GROUPS and not o.is_sweep_override()]
    bad_choice = next(filter(None, (unknown_choice(o.key_or_group, str(o.value())) for o in chosen)), None)
    if bad_choice:
        return bad_choice
    plain = [str(o.input_line) for o in own if _plain(o)]
    try:
        known = keys_of(_compose(command, plain))  # one composition when the arguments are right
    except (HydraException, OmegaConfBaseException) as exc:
        return _which_argument(command, own, [str(o.input_line) for o in chosen], exc)
    return _unknown(own, known)


def _own_overrides(args: list[str]) -> list[Any] | str:
    """The overrides of the command's own keys (not ``hydra.*``), or why the arguments cannot be read."""
    try:
        parsed = OverridesParser.create().parse_overrides([a for a in args if "=" in a or a.startswith("~")])
    except OverrideParseException as exc:
        return f"cannot read the arguments: {str(exc).splitlines()[0]}"
    return [o for o in parsed if not o.key_or_group.startswith("hydra")]


def _plain(o: Any) -> bool:
    """An override that sets an existing key (not a sweep, not a new ``+key``)."""
    return not o.is_sweep_override() and not (o.is_add() or o.is_force_add())


def _which_argument(command: str, own: list[Any], groups: list[str], exc: BaseException) -> str:
    """Composition failed: name the argument that names no option (from the keys the chosen groups give), else say why."""
    try:
        known = keys_of(_compose(command, groups))
    except (HydraException, OmegaConfBaseException) as group_exc:
        return _say(group_exc)
    return _unknown(own, known) or _say(exc)


def _unknown(own: list[Any], known: list[str]) -> str | None:
    """The first argument naming no option (a new key, ``+key``, is never one), with the closest name.

    A deletion (``~key``) is not checked here: composing it already proved the key was there.
    """
    for o in own:
        key = o.key_or_group
        if key not in GROUPS and not o.is_delete() and (o.is_add() or o.is_force_add() or not is_known(key, known)):
            return unknown_key(key, known)
    return None


def _say(exc: BaseException) -> str:
    """One line for a composition error: which argument, and why."""
    cause = _root_cause(exc)
    where = str(exc).splitlines()[0]
    why = str(cause).splitlines()[0]
    group = re.match(r"You must specify '(\w+)'", why)
    if group:  # a group without a default: name its choices
        extra = " or a YAML file" if group.group(1) == "dataset" else ""
        return f"{group.group(1)}= is required: one of {', '.join(group_options(group.group(1)))}{extra}"
    if isinstance(exc, ConfigCompositionException) and where.startswith("Error merging override "):
        return f"{where[len('Error merging override ') :]}: {why}"
    if "In 'hydra/config'" in where or "Could not load" in where or "Could not find" in where:
        return why if why != where else where
    return why if where == why else f"{where}: {why}"
